"""Class-conditional convolutional VAE for 64x64 single-band galaxy cutouts.

The encoder sees a noisy cutout in ``arcsinh(x / 3 sigma)`` units, the decoder returns the
*noiseless* image in the same units (it is trained against the simulator's truth), so
generated and reconstructed images are noise-free. Both halves take a class code: one of the
``n_classes`` morphology classes or an extra "unknown" code. Training uses the unknown code
for a fraction of the images in both halves at once, so one network is both a conditional
VAE (class given) and an unconditional one (class unknown).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _cbr(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ConvVAE(nn.Module):
    """Encoder 64 -> 32 -> 16 -> 8 -> 4 px (strided convs), Gaussian posterior over ``latent``
    dims; decoder 4 -> 8 -> 16 -> 32 px (upsample + conv), then a sub-pixel (PixelShuffle) layer
    to 64 px. ``size`` must be 64."""

    def __init__(self, latent: int = 32, n_classes: int = 5, width: int = 32, size: int = 64, **_):
        super().__init__()
        if size != 64:
            raise ValueError(f"ConvVAE is built for 64x64 cutouts, not {size}x{size}")
        w = width
        self.latent, self.n_classes = latent, n_classes
        self.n_codes = n_classes + 1  # last code = class unknown
        self.enc = nn.Sequential(_cbr(1, w, 2), _cbr(w, 2 * w, 2), _cbr(2 * w, 4 * w, 2), _cbr(4 * w, 4 * w, 2))
        self.to_post = nn.Linear(4 * w * 16 + self.n_codes, 2 * latent)
        self.from_z = nn.Linear(latent + self.n_codes, 4 * w * 16)
        self.dec = nn.Sequential(
            nn.BatchNorm2d(4 * w), nn.ReLU(inplace=True),
            nn.Upsample(scale_factor=2.0, mode="nearest"), _cbr(4 * w, 2 * w),  # 8 px
            nn.Upsample(scale_factor=2.0, mode="nearest"), _cbr(2 * w, 2 * w),  # 16 px
            nn.Upsample(scale_factor=2.0, mode="nearest"), _cbr(2 * w, w), _cbr(w, w),  # 32 px
            nn.Conv2d(w, 4, 3, 1, 1), nn.PixelShuffle(2),  # 64 px
        )
        self.w = w
        # latent prior per class code: z = prior_mean[c] + prior_chol[c] @ eps. N(0, I) until
        # fit_prior replaces it with Gaussians fitted to the encoded training set (ex-post density
        # estimation, Ghosh et al. 2020), which removes the "holes" between the posteriors
        self.register_buffer("prior_mean", torch.zeros(self.n_codes, latent))
        self.register_buffer("prior_chol", torch.eye(latent).repeat(self.n_codes, 1, 1))

    def code(self, cls: torch.Tensor) -> torch.Tensor:
        """One-hot class codes; ``cls`` holds class indices, or ``n_classes`` for unknown."""
        return F.one_hot(cls.long(), self.n_codes).float()

    def encode(self, x: torch.Tensor, cls: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.enc(x).flatten(1)
        mu, logvar = self.to_post(torch.cat([h, self.code(cls)], 1)).chunk(2, dim=1)
        return mu, logvar.clamp(-12, 6)

    def decode(self, z: torch.Tensor, cls: torch.Tensor) -> torch.Tensor:
        h = self.from_z(torch.cat([z, self.code(cls)], 1)).view(len(z), 4 * self.w, 4, 4)
        return self.dec(h)

    def sample_z(self, cls: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Latent vectors for class codes ``cls`` from standard-normal draws ``eps`` [N, latent]."""
        return self.prior_mean[cls] + torch.einsum("nij,nj->ni", self.prior_chol[cls], eps)

    def forward(self, x: torch.Tensor, cls: torch.Tensor | None = None) -> torch.Tensor:
        """Reconstruction from the posterior mean (deterministic); class unknown if not given."""
        if cls is None:
            cls = torch.full((len(x),), self.n_classes, dtype=torch.long, device=x.device)
        mu, _ = self.encode(x, cls)
        return self.decode(mu, cls)

    def loss(self, x: torch.Tensor, target: torch.Tensor, cls: torch.Tensor, sigma: float,
             gen: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Negative ELBO per image (Gaussian decoder of fixed rms ``sigma`` in arcsinh units),
        and its reconstruction and KL parts."""
        mu, logvar = self.encode(x, cls)
        eps = torch.randn(mu.shape, generator=gen).to(mu.device)
        z = mu + eps * (0.5 * logvar).exp()
        rec = self.decode(z, cls)
        nll = ((rec - target) ** 2).flatten(1).sum(1) / (2 * sigma**2)
        kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)
        return (nll + kl).mean(), nll.mean(), kl.mean()
