"""Validation of user images against a card's input spec, and THE normalisation of image models: ``normalise``."""

from __future__ import annotations

import numpy as np

GEN_SCALE = 3.0  # generators work on arcsinh(x / (GEN_SCALE * sigma)), inverted on output


class InputError(ValueError):
    """Input images do not match what the model card says the model accepts."""


def as_batch(x, inputs: dict, bands=None, name: str = "model") -> np.ndarray:
    """Validate ``x`` against the card's ``inputs`` spec; return float32 [N, C, H, W].

    Accepts numpy arrays, torch tensors or nested lists: a single image ([H, W] or [C, H, W])
    or a batch ([N, H, W] for one band, [N, C, H, W]). ``bands`` (optional) must equal the
    card's band list. Raises :class:`InputError` with the expected shape otherwise.
    """
    want_c, want_h, want_w = inputs["shape"]
    want_bands = list(inputs["bands"])
    if bands is not None and list(bands) != want_bands:
        raise InputError(f"{name} expects bands {want_bands} (in this order), got {list(bands)}")
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x)
    except Exception as e:  # ragged lists
        raise InputError(f"{name}: could not convert input to an array ({e})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InputError(f"{name}: input must be numeric images, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise InputError(f"{name}: input must be real-valued, got complex dtype {arr.dtype}")
    expect = f"[N, {want_c}, {want_h}, {want_w}]" + (f" or [N, {want_h}, {want_w}]" if want_c == 1 else "")
    if arr.ndim == 2 and want_c == 1:
        arr = arr[None, None]
    elif arr.ndim == 3 and want_c == 1:
        arr = arr[:, None]
    elif arr.ndim == 3 and want_c > 1:
        arr = arr[None]
    elif arr.ndim != 4:
        raise InputError(f"{name} expects images shaped {expect}, got an array of shape {tuple(arr.shape)}")
    n, c, h, w = arr.shape
    if n == 0:
        raise InputError(f"{name}: empty input (0 images)")
    if c != want_c:
        raise InputError(f"{name} expects {want_c} band(s) {want_bands} per image, got {c} channels "
                         f"(input shape {tuple(arr.shape)}, expected {expect})")
    if (h, w) != (want_h, want_w):
        raise InputError(f"{name} expects {want_h}x{want_w} pixel cutouts at {inputs['pixel_scale_arcsec']}\"/px, "
                         f"got {h}x{w} (input shape {tuple(arr.shape)}); cut or resample to {want_h}x{want_w}")
    arr = arr.astype(np.float32, copy=False)
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = np.unique(np.nonzero(bad)[0])
        raise InputError(f"{name}: input contains NaN or infinite pixels in image(s) {idx[:10].tolist()}"
                         f"{' ...' if len(idx) > 10 else ''}; mask or inpaint them first")
    return arr


def noise_sigma(batch: np.ndarray, border: int = 4) -> np.ndarray:
    """Robust per-image, per-channel sky rms from the stamp border (MAD), shape [N, C, 1, 1]."""
    n, c, h, w = batch.shape
    mask = np.ones((h, w), bool)
    mask[border:h - border, border:w - border] = False
    edge = batch[:, :, mask]
    med = np.median(edge, axis=-1, keepdims=True)
    sig = 1.4826 * np.median(np.abs(edge - med), axis=-1)
    return sig[..., None, None].astype(np.float32)


def normalise(batch: np.ndarray, name: str = "model") -> tuple[np.ndarray, np.ndarray]:
    """arcsinh(x / sigma) with sigma the border noise rms; returns (normalised, sigma)."""
    sig = noise_sigma(batch)
    flat = sig <= 0
    if flat.any():
        idx = np.unique(np.nonzero(flat)[0])
        raise InputError(f"{name}: image(s) {idx[:10].tolist()} have no measurable sky noise (constant border); "
                         "pass sky-subtracted cutouts that include their noise")
    return np.arcsinh(batch / sig).astype(np.float32), sig


def as_psf_fwhm(psf_fwhm, n: int, inputs: dict, name: str = "model") -> np.ndarray:
    """Validate per-image PSF FWHMs (arcsec: a number for all ``n`` images, or one per image)
    against the card's ``inputs["psf_fwhm"]`` range; return float32 [n]."""
    spec = inputs.get("psf_fwhm")
    if spec is None:
        raise InputError(f"{name} does not take a PSF (its card has no inputs.psf_fwhm); omit psf_fwhm")
    try:
        f = np.asarray(psf_fwhm, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name}: psf_fwhm must be numbers (arcsec), got {type(psf_fwhm).__name__}") from None
    if f.ndim == 0:
        f = np.full(n, float(f))
    if f.shape != (n,):
        raise InputError(f"{name}: psf_fwhm needs one value per image ({n}) or a single number, got shape {f.shape}")
    bad = np.flatnonzero(~np.isfinite(f))
    if bad.size:
        raise InputError(f"{name}: psf_fwhm of image(s) {bad[:10].tolist()} is NaN or infinite")
    lo, hi = spec["range"]
    out = np.flatnonzero((f < lo) | (f > hi))
    if out.size:
        raise InputError(f"{name}: psf_fwhm {f[out[0]]:g} arcsec (image {int(out[0])}) is outside the {lo:g}-{hi:g} "
                         "arcsec the PSF-aware head was trained on; omit psf_fwhm to use the PSF-blind head")
    return f.astype(np.float32)
