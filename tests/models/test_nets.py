"""Network building blocks that the shipped cards do not exercise on their own."""

import torch

from astrohub.models import nets


def test_a_cropping_resnet_reads_only_the_central_pixels():
    arch = {"net": "resnet", "in_ch": 1, "n_out": 5, "widths": [8, 16, 16, 24], "stem": 8, "crop": 8}
    net = nets.build(arch).eval()
    x = torch.randn(3, 1, 64, 64)
    y = x.clone()
    y[..., :8, :] = 1e3  # change only the border the crop drops
    y[..., :, -8:] = -1e3
    with torch.no_grad():
        assert torch.equal(net(x), net(y))
        z = x.clone()
        z[..., 8, 8] += 100.0  # the first pixel inside the crop does count
        assert not torch.allclose(net(x), net(z))
    assert nets.flops_per_image(net, (1, 64, 64)) < nets.flops_per_image(nets.build({**arch, "crop": 0}), (1, 64, 64))
