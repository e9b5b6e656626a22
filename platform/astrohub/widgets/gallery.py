"""PNG thumbnails of cutouts and colour composites with their saliency maps overlaid (red), for ipywidgets.Image."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def _stretch(img: np.ndarray) -> np.ndarray:
    finite = np.isfinite(img)
    if not finite.any():  # a fully masked stamp: black
        return np.zeros(img.shape)
    lo, hi = np.percentile(img[finite], [1, 99.5])
    x = np.arcsinh((np.where(finite, img, lo) - lo) / max(hi - lo, 1e-12) * 10) / np.arcsinh(10)
    return np.clip(x, 0, 1)  # masked (NaN) pixels shown black


def thumbnail(image: np.ndarray, saliency: np.ndarray | None = None, scale: int = 2) -> bytes:
    """PNG of one cutout (first band, or the difference plane of a triplet; a uint8 colour image [h, w, 3] as it
    is) with saliency in red."""
    image = np.asarray(image)
    if image.dtype == np.uint8 and image.ndim == 3 and image.shape[-1] == 3:  # a colour composite, already stretched
        rgb = image / 255.0
    else:
        img = np.asarray(image, dtype=float)
        if img.ndim == 3:
            img = img[-1] if img.shape[0] == 3 else img[0]
        gray = _stretch(img)
        rgb = np.stack([gray, gray, gray], -1)
    if saliency is not None:
        s = np.nan_to_num(np.asarray(saliency, dtype=float))
        s = s / s.max() if s.max() > 0 else s
        rgb[..., 0] = np.clip(rgb[..., 0] * (1 - 0.6 * s) + 0.9 * s, 0, 1)
        rgb[..., 1] *= 1 - 0.6 * s
        rgb[..., 2] *= 1 - 0.6 * s
    h, w = rgb.shape[:2]
    pil = Image.fromarray((rgb * 255).astype(np.uint8)).resize((w * scale, h * scale), Image.NEAREST)
    buf = io.BytesIO()
    pil.save(buf, format="PNG")
    return buf.getvalue()


def series_thumbnail(x: np.ndarray, y: np.ndarray, saliency: np.ndarray | None = None, xlabel: str = "",
                     ylabel: str = "", title: str = "") -> bytes:
    """PNG of a 1-D curve (folded light curve, spectrum) with its saliency shaded in red below."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    fig = Figure(figsize=(2.8, 1.9), dpi=80)
    ax = fig.add_axes((0.2, 0.24, 0.76, 0.62))
    if saliency is not None:
        s = np.asarray(saliency, dtype=float)
        s = s / s.max() if s.max() > 0 else s
        sal = ax.twinx()
        sal.fill_between(x, 0, s, color="#d62728", alpha=0.35, linewidth=0)
        sal.set_ylim(0, 3)  # saliency in the lower third
        sal.set_yticks([])
        ax.set_zorder(sal.get_zorder() + 1)
        ax.patch.set_visible(False)
    ax.plot(x, y, color="black", linewidth=0.7)
    ax.set_xlabel(xlabel, fontsize=7)
    ax.set_ylabel(ylabel, fontsize=7)
    ax.tick_params(labelsize=6)
    ax.set_title(title, fontsize=7)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
