"""The zoo's networks: image classifiers and generators (:mod:`.images`), the VAE (:mod:`.vae`) and
the 1-D networks (:mod:`.series`). :func:`build` makes the one a card's ``arch`` describes.

Serving code: imports nothing from training.
"""

from __future__ import annotations

from . import images, series
from .images import PSFHead, dihedral, flops_per_image, tta_mean


def build(arch: dict):
    """Instantiate the network described by ``arch`` (a card's ``arch``; ``net`` picks the class)."""
    if arch.get("net") in series.NETS:
        return series.build(arch)
    return images.build(arch)


__all__ = ["build", "flops_per_image", "dihedral", "tta_mean", "PSFHead", "images", "series"]
