"""PNG thumbnails of cutouts with their saliency maps overlaid (red), for ipywidgets.Image."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def _stretch(img: np.ndarray) -> np.ndarray:
    lo, hi = np.percentile(img, [1, 99.5])
    x = np.arcsinh((img - lo) / max(hi - lo, 1e-12) * 10) / np.arcsinh(10)
    return np.clip(x, 0, 1)


def thumbnail(image: np.ndarray, saliency: np.ndarray | None = None, scale: int = 2) -> bytes:
    """PNG of one cutout (first band, or the difference plane of a triplet) with saliency in red."""
    img = np.asarray(image, dtype=float)
    if img.ndim == 3:
        img = img[-1] if img.shape[0] == 3 else img[0]
    gray = _stretch(img)
    rgb = np.stack([gray, gray, gray], -1)
    if saliency is not None:
        s = np.asarray(saliency, dtype=float)
        s = s / s.max() if s.max() > 0 else s
        rgb[..., 0] = np.clip(rgb[..., 0] * (1 - 0.6 * s) + 0.9 * s, 0, 1)
        rgb[..., 1] *= 1 - 0.6 * s
        rgb[..., 2] *= 1 - 0.6 * s
    pil = Image.fromarray((rgb * 255).astype(np.uint8)).resize((img.shape[1] * scale, img.shape[0] * scale),
                                                               Image.NEAREST)
    buf = io.BytesIO()
    pil.save(buf, format="PNG")
    return buf.getvalue()
