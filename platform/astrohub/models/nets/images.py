"""Compact PyTorch networks of the zoo, built from a card's ``arch`` dict."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def _conv(cin, cout, k=3, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class _PooledClassifier(nn.Module):
    """(central crop of ``crop`` px per side) -> ``features`` -> global average+max pooling
    (``embed``) -> dropout -> linear ``head``."""

    crop = 0

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        c = self.crop
        h = self.features(x[..., c:x.shape[-2] - c, c:x.shape[-1] - c] if c else x)
        return torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.embed(x)))


class ConvClassifier(_PooledClassifier):
    """Strided 5x5 stem, then conv stages (single, then double 3x3 convs) with max-pooling,
    global average+max pooling, dropout and a linear head. ~40-60 MFLOP per 64x64 image."""

    def __init__(self, in_ch: int, n_out: int, widths=(24, 32, 64, 96), dropout: float = 0.3, stem_stride: int = 2):
        super().__init__()
        layers = [_conv(in_ch, widths[0], 5, stem_stride)]
        cin = widths[0]
        for i, w in enumerate(widths[1:]):
            layers.append(_conv(cin, w))
            if i > 0:
                layers.append(_conv(w, w))
            if i < len(widths) - 2:
                layers.append(nn.MaxPool2d(2))
            cin = w
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * cin, n_out)


class _Block(nn.Module):
    """Basic residual block: two 3x3 convs (+BN), 1x1 projection when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        self.c2, self.b2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        self.proj = None
        if cin != cout or stride != 1:
            self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.b2(self.c2(F.relu(self.b1(self.c1(x)), inplace=True)))
        return F.relu(h + (x if self.proj is None else self.proj(x)), inplace=True)


class ResNetClassifier(_PooledClassifier):
    """Small ResNet: optional central crop (``crop`` px per side: the outskirts of a cutout carry
    little signal), strided 5x5 stem (halving the resolution), one stage of residual blocks per
    width, each later stage halving the resolution, global average+max pooling, dropout, linear
    head. Same ``embed`` / ``dropout`` / ``head`` interface as :class:`ConvClassifier`."""

    def __init__(self, in_ch: int, n_out: int, widths=(32, 64, 128, 192), blocks=(1, 1, 1, 1), stem: int = 24,
                 dropout: float = 0.3, crop: int = 0):
        super().__init__()
        self.crop = int(crop)
        layers, cin = [_conv(in_ch, stem, 5, 2)], stem
        for i, (w, b) in enumerate(zip(widths, blocks)):
            for j in range(b):
                layers.append(_Block(cin, w, 2 if (i > 0 and j == 0) else 1))
                cin = w
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * cin, n_out)


class EnsembleClassifier(_PooledClassifier):
    """Average of several pooled classifiers' logits as one pooled classifier: ``embed`` concatenates
    the members' embeddings and the single linear ``head`` holds their heads side by side, each
    divided by the number of members (so MC dropout and fine-tuning work as for one network)."""

    def __init__(self, members: list[dict], n_out: int, dropout: float = 0.3, **_):
        super().__init__()
        self.members = nn.ModuleList(build(a) for a in members)
        dim = sum(m.head.in_features for m in self.members)
        for m in self.members:
            m.head = nn.Identity()  # the merged head below replaces them
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(dim, n_out)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([m.embed(x) for m in self.members], dim=1)

    @staticmethod
    def arch(member: dict, n: int) -> dict:
        """The card ``arch`` of one network averaging ``n`` copies of the classifier ``member``."""
        return {"net": "ensemble", "members": [dict(member)] * n, "n_out": member["n_out"], "in_ch": member["in_ch"],
                "dropout": member.get("dropout", 0.3)}

    @staticmethod
    def merge(states: list[dict]) -> dict:
        """State dict of the ensemble of members with state dicts ``states`` (same head shape)."""
        out = {f"members.{i}.{k}": v for i, st in enumerate(states) for k, v in st.items() if not k.startswith("head.")}
        out["head.weight"] = torch.cat([st["head.weight"] for st in states], dim=1) / len(states)
        out["head.bias"] = torch.stack([st["head.bias"] for st in states]).mean(0)
        return out


def resize_head(state: dict, n_out: int) -> dict:
    """A pooled classifier's state dict with its linear ``head`` cut to its first ``n_out`` outputs, or widened to
    ``n_out`` with zero rows (new outputs start at logit 0): e.g. a network trained with auxiliary outputs shipped
    without them, or pretrained weights started with more. Other entries are shared, not copied."""
    w, b = state["head.weight"], state["head.bias"]
    if n_out <= len(b):
        return {**state, "head.weight": w[:n_out].clone(), "head.bias": b[:n_out].clone()}
    extra = n_out - len(b)
    return {**state, "head.weight": torch.cat([w, w.new_zeros(extra, w.shape[1])]),
            "head.bias": torch.cat([b, b.new_zeros(extra)])}


class PSFHead(nn.Module):
    """A second head that also knows each image's PSF FWHM (arcsec), which archives record with
    every cutout: the pooled embedding, standardised with statistics stored in the weights, and
    (f, f²) of the standardised FWHM ``f`` -> hidden layer (GELU, dropout) -> logits. The PSF
    breaks the degeneracy between a small galaxy and a wide PSF that a PSF-blind head must guess."""

    def __init__(self, dim: int, n_out: int, hidden: int = 256, dropout: float = 0.2,
                 fwhm_range: tuple[float, float] = (0.6, 1.0)):
        super().__init__()
        lo, hi = fwhm_range
        self.centre, self.scale = 0.5 * (lo + hi), (hi - lo) / 12 ** 0.5  # a uniform range's mean and std
        self.register_buffer("emb_mean", torch.zeros(dim))
        self.register_buffer("emb_std", torch.ones(dim))
        self.fc1, self.fc2 = nn.Linear(dim + 2, hidden), nn.Linear(hidden, n_out)
        self.p = float(dropout)

    def forward(self, emb: torch.Tensor, fwhm: torch.Tensor, sample: bool = False) -> torch.Tensor:
        """Logits from embeddings [N, D] and FWHMs [N]; ``sample`` keeps dropout on (MC dropout)."""
        f = ((fwhm.to(emb.dtype) - self.centre) / self.scale).view(-1, 1)
        h = F.gelu(self.fc1(torch.cat([(emb - self.emb_mean) / self.emb_std, f, f * f], 1)))
        return self.fc2(F.dropout(h, self.p, training=sample or self.training))


class Denoiser(nn.Module):
    """Two-level U-Net predicting a residual correction; input channels are (image, mode flag)
    where the flag is 0 for denoising and 1 for 2x super-resolution of an upsampled image."""

    def __init__(self, width: int = 16, depth: int = 2):
        super().__init__()
        w = width
        self.e1 = nn.Sequential(_conv(2, w), _conv(w, w))
        self.e2 = nn.Sequential(_conv(w, 2 * w), _conv(2 * w, 2 * w))
        self.e3 = nn.Sequential(_conv(2 * w, 4 * w), _conv(4 * w, 4 * w))
        self.d2 = nn.Sequential(_conv(6 * w, 2 * w), _conv(2 * w, 2 * w))
        self.d1 = nn.Sequential(_conv(3 * w, w), nn.Conv2d(w, 1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h1 = self.e1(x)
        h2 = self.e2(F.max_pool2d(h1, 2))
        h3 = self.e3(F.max_pool2d(h2, 2))
        u2 = self.d2(torch.cat([F.interpolate(h3, scale_factor=2.0, mode="nearest"), h2], 1))
        u1 = self.d1(torch.cat([F.interpolate(u2, scale_factor=2.0, mode="nearest"), h1], 1))
        return x[:, :1] + u1


def build(arch: dict) -> nn.Module:
    """Instantiate the network described by ``arch`` (a card's ``arch`` entry); a ``psf_head``
    entry (:class:`PSFHead` options) adds that second head to a pooled classifier."""
    a = dict(arch)
    psf = a.pop("psf_head", None)
    net = _build(a)
    if psf is not None:
        with torch.random.fork_rng():  # the main network's training draws the same random numbers
            net.psf_head = PSFHead(net.head.in_features, a["n_out"], **psf)
    return net


def _build(a: dict) -> nn.Module:
    net = a.pop("net")
    if net == "cnn":
        return ConvClassifier(a["in_ch"], a["n_out"], tuple(a.get("widths", (24, 32, 64, 96))),
                              a.get("dropout", 0.3), a.get("stem_stride", 2))
    if net == "resnet":
        return ResNetClassifier(a["in_ch"], a["n_out"], tuple(a.get("widths", (32, 64, 128, 192))),
                                tuple(a.get("blocks", (1,) * len(a.get("widths", (32, 64, 128, 192))))),
                                a.get("stem", 24), a.get("dropout", 0.3), a.get("crop", 0))
    if net == "ensemble":
        return EnsembleClassifier(**a)
    if net == "denoiser":
        return Denoiser(a.get("width", 16))
    if net == "vae":
        from .vae import ConvVAE

        return ConvVAE(**{k: v for k, v in a.items()})
    raise ValueError(f"unknown network type {net!r} in model card "
                     "(expected 'cnn', 'resnet', 'ensemble', 'denoiser' or 'vae')")


def dihedral(x: torch.Tensor, k: int) -> torch.Tensor:
    """The ``k``-th (0..7) of the 8 rotations/reflections of the square images in ``x`` [N, C, H, W]."""
    x = torch.rot90(x, k % 4, dims=(2, 3))
    return torch.flip(x, dims=(3,)) if k >= 4 else x


def tta_mean(fn, xn, device, batch_size: int = 256, tta: bool = False, progress: bool = False, desc: str = "",
             to_cpu: bool = True) -> torch.Tensor:
    """``fn`` (a network or its ``embed``, in eval mode) on normalised images ``xn`` [N, C, H, W], in
    batches on ``device`` (channels-last on the CPU); with ``tta`` the mean over the 8 :func:`dihedral`
    views. Returned as float32 on the CPU (or on ``device`` unless ``to_cpu``)."""
    out = []
    device = torch.device(device)
    cl = device.type == "cpu"
    starts = range(0, len(xn), batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=desc, leave=False)
    with torch.inference_mode():
        for i in starts:
            x = torch.from_numpy(np.ascontiguousarray(xn[i:i + batch_size])).to(device)
            views = [dihedral(x, k) for k in range(8)] if tta else [x]
            y = torch.stack([fn(v.contiguous(memory_format=torch.channels_last) if cl else v).float()
                             for v in views]).mean(0)
            out.append(y.cpu() if to_cpu else y)
    return torch.cat(out)


def flops_per_image(model: nn.Module, shape) -> float:
    """Multiply-add FLOPs (2 per MAC) of conv and linear layers for one input of ``shape``."""
    total = 0

    def hook(mod, inp, out):
        nonlocal total
        if isinstance(mod, nn.Conv2d):
            total += 2 * out.numel() * mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
        elif isinstance(mod, nn.Linear):
            total += 2 * mod.in_features * mod.out_features * (out.numel() // mod.out_features)

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    model.train(was)
    for h in hs:
        h.remove()
    return float(total)
