"""Archive cutouts to a model's inputs: archives serve larger stamps than some models take, and
record each cutout's PSF in its FITS header."""

from __future__ import annotations

import numpy as np

from .images import InputError, as_psf_fwhm


def fit_cutouts(images: np.ndarray, inputs: dict) -> np.ndarray:
    """Centre-crop [N, (C,) H, W] cutouts to the card's input size (same pixel scale, object centred).

    Stamps smaller than the model's input, or an odd margin, raise ValueError: resample them instead.
    """
    x = np.asarray(images)
    _, want_h, want_w = inputs["shape"]
    h, w = x.shape[-2:]
    if (h, w) == (want_h, want_w):
        return x
    if h < want_h or w < want_w or (h - want_h) % 2 or (w - want_w) % 2:
        raise ValueError(f"cutouts of {h}x{w} pixels cannot be centre-cropped to the model's {want_h}x{want_w}; "
                         "fetch larger cutouts or resample them")
    dy, dx = (h - want_h) // 2, (w - want_w) // 2
    return np.ascontiguousarray(x[..., dy:dy + want_h, dx:dx + want_w])


def psf_argument(inputs: dict, cutouts) -> dict:
    """``{"psf_fwhm": [n]}`` for ``predict`` when the model takes a PSF (``inputs["psf_fwhm"]``) and
    every cutout's header records one (the card's ``fits_keyword``) within the range the model was
    trained on; else ``{}`` (the model's PSF-blind head). ``cutouts``: an ImageSet (``header_values``)."""
    spec = inputs.get("psf_fwhm")
    if spec is None:
        return {}
    f = cutouts.header_values(spec.get("fits_keyword", "PSF_FWHM"))
    try:  # the predictor's own check: finite and within the trained range
        return {"psf_fwhm": as_psf_fwhm(f, len(f), inputs)}
    except InputError:
        return {}


def is_product_set(x) -> bool:
    """True for archive products (an ``astrohub.vo`` ImageSet: images in row order + FITS headers)."""
    return hasattr(x, "in_row_order") and hasattr(x, "header_values")


def image_inputs(products, inputs: dict) -> tuple[np.ndarray, dict]:
    """A model's inputs from archive cutouts (an ImageSet): the stamps centre-cropped to the card's
    input size, and ``{"psf_fwhm": [n]}`` when the model takes a PSF and every header records one
    within its trained range (else ``{}``). The one place where archive products become model inputs."""
    return fit_cutouts(products.in_row_order(), inputs), psf_argument(inputs, products)
