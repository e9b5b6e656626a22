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


def test_psf_head_is_a_second_head_that_reads_the_fwhm():
    arch = {"net": "resnet", "in_ch": 1, "n_out": 5, "widths": [8, 16], "blocks": [1, 1], "stem": 8}
    torch.manual_seed(0)
    plain = nets.build(arch)
    after_plain = torch.rand(1)
    torch.manual_seed(0)
    net = nets.build({**arch, "psf_head": {"hidden": 16, "fwhm_range": [0.6, 1.0]}})
    # adding the head neither changes the network's initialisation nor the random numbers after it
    assert torch.equal(torch.rand(1), after_plain)
    for k, v in plain.state_dict().items():
        assert torch.equal(net.state_dict()[k], v), k
    net.eval()
    x = torch.randn(3, 1, 32, 32)
    e = net.embed(x)
    narrow, wide = net.psf_head(e, torch.full((3,), 0.6)), net.psf_head(e, torch.full((3,), 1.0))
    assert narrow.shape == (3, 5) and not torch.allclose(narrow, wide)
    assert torch.equal(net(x), plain.eval()(x))  # forward() is the PSF-blind head
    # MC dropout: sampling varies, the deterministic pass does not
    f = torch.full((3,), 0.8)
    assert torch.equal(net.psf_head(e, f), net.psf_head(e, f))
    assert not torch.equal(net.psf_head(e, f, sample=True), net.psf_head(e, f, sample=True))
