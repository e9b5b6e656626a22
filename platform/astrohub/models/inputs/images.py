"""Validation of user images against a card's input spec, and THE normalisation of image models: ``normalise``."""

from __future__ import annotations

import numpy as np

GEN_SCALE = 3.0  # generators work on arcsinh(x / (GEN_SCALE * sigma)), inverted on output


class InputError(ValueError):
    """Input images do not match what the model card says the model accepts."""


def as_batch(x, inputs: dict, bands=None, name: str = "model", allow_nan: bool = False) -> np.ndarray:
    """Validate ``x`` against the card's ``inputs`` spec; return float32 [N, C, H, W].

    Accepts numpy arrays, torch tensors or nested lists: a single image ([H, W] or [C, H, W])
    or a batch ([N, H, W] for one band, [N, C, H, W]). ``bands`` (optional) must equal the
    card's band list. Raises :class:`InputError` with the expected shape otherwise.
    ``allow_nan``: keep NaN pixels (masked pixels, see :func:`fill_masked`); infinities are refused.
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
    bad = np.isinf(arr) if allow_nan else ~np.isfinite(arr)
    if bad.any():
        idx = np.unique(np.nonzero(bad)[0])
        what = "infinite" if allow_nan else "NaN or infinite"
        raise InputError(f"{name}: input contains {what} pixels in image(s) {idx[:10].tolist()}"
                         f"{' ...' if len(idx) > 10 else ''}; mask or inpaint them first"
                         + ("" if allow_nan else " (or pass fill_nan=True: NaN pixels are then filled with sky "
                                                 "noise and the image flagged out-of-distribution)"))
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


# ----------------------------------------------------------------------------- masked pixels, S/N, OOD
MAX_NAN_FRACTION = 0.5  # more masked pixels than this: refused (too little of the object left to classify)
SNR_SMOOTH_PX = 1.5  # Gaussian sigma (pixels) of the smoothing behind detection_snr


def fill_masked(batch: np.ndarray, name: str = "model") -> tuple[np.ndarray, np.ndarray]:
    """NaN (masked) pixels of [N, C, H, W] filled with the sky level (median of the finite border pixels
    of that image and band) plus white noise of the border's rms; returns (filled float32, NaN fraction
    per image [N]). Refuses images with more than half their pixels masked."""
    nan = np.isnan(batch)
    frac = nan.reshape(len(batch), -1).mean(1) if batch.size else np.zeros(len(batch))
    if not nan.any():
        return batch, frac
    bad = np.flatnonzero(frac > MAX_NAN_FRACTION)
    if bad.size:
        raise InputError(f"{name}: image(s) {bad[:10].tolist()} have {100 * frac[bad[0]]:.0f}% NaN (masked) pixels; "
                         f"at most {100 * MAX_NAN_FRACTION:.0f}% can be filled")
    n, c, h, w = batch.shape
    edge = np.ones((h, w), bool)
    edge[4:h - 4, 4:w - 4] = False
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            sky = np.nanmedian(batch[:, :, edge], axis=-1)
            whole = np.nanmedian(batch.reshape(n, c, -1), axis=-1)
        rms = 1.4826 * np.nanmedian(np.abs(batch[:, :, edge] - sky[..., None]), axis=-1)
    sky = np.where(np.isfinite(sky), sky, np.where(np.isfinite(whole), whole, 0.0))
    rms = np.where(np.isfinite(rms), rms, 0.0)
    # sky plus white noise of the border's rms, so the filled pixels do not change the noise the models
    # normalise by (seeded by each image: the same image gives the same answer in any batch)
    import zlib

    out = batch.copy()
    for i in np.flatnonzero(frac > 0):
        rng = np.random.default_rng(zlib.crc32(np.ascontiguousarray(batch[i]).tobytes()))
        fill = sky[i][:, None, None] + rms[i][:, None, None] * rng.standard_normal(batch.shape[1:])
        out[i] = np.where(nan[i], fill, batch[i])
    return out.astype(np.float32, copy=False), frac


def detection_snr(batch: np.ndarray, border: int = 4) -> np.ndarray:
    """Robust S/N of the central object per image [N]: the peak of the image smoothed with a Gaussian
    (sigma 1.5 px, about a PSF) within the central half of the stamp, over the rms of the smoothed border
    (1.4826 MAD, so correlated noise after resampling is measured as it is); the largest over bands."""
    from scipy.ndimage import gaussian_filter

    x = np.asarray(batch, np.float64)
    n, c, h, w = x.shape
    sm = gaussian_filter(x, (0, 0, SNR_SMOOTH_PX, SNR_SMOOTH_PX), mode="reflect")
    mask = np.ones((h, w), bool)
    mask[border:h - border, border:w - border] = False
    edge = sm[:, :, mask]
    med = np.median(edge, axis=-1, keepdims=True)
    sig = 1.4826 * np.median(np.abs(edge - med), axis=-1)
    peak = sm[:, :, h // 4:h - h // 4, w // 4:w - w // 4].reshape(n, c, -1).max(-1) - med[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        snr = np.where(sig > 0, peak / sig, np.inf)
    return snr.max(1)


def saturated_pixels(batch: np.ndarray, min_sigma: float = 20.0) -> np.ndarray:
    """Pixels per image [N] sitting exactly at a flat maximum (a clipped, saturated core): the count of
    pixels equal to the band's maximum when at least 4 share it and it lies ``min_sigma`` above the sky noise."""
    n, c = batch.shape[:2]
    flat = batch.reshape(n, c, -1)
    mx = flat.max(-1, keepdims=True)
    at = (flat >= mx - 1e-6 * np.abs(mx)).sum(-1)
    sig = noise_sigma(batch)[..., 0, 0]
    bright = mx[..., 0] > min_sigma * np.maximum(sig, 1e-30)
    return np.where((at >= 4) & bright, at, 0).sum(1)


def image_ood(batch: np.ndarray, inputs: dict, nan_fraction=None, pixel_scale=None, psf_fwhm=None,
              saturated=None):
    """Out-of-distribution flags of image rows against the card's ``inputs["ranges"]`` (see
    :func:`training_ranges`): detection S/N, NaN (masked, filled) fraction, saturated cores, the native
    pixel scale of resampled FITS cutouts and the PSF FWHM their headers record (when known: NaN = unknown)."""
    from .ood import OODFlags

    n = len(batch)
    ranges = inputs.get("ranges") or {}
    flags = OODFlags(n)
    if "snr" in ranges:
        flags.outside(detection_snr(batch), ranges["snr"], "S/N", "{:.3g}")
    if nan_fraction is not None:
        f = np.asarray(nan_fraction, float)
        hi = (ranges.get("nan_fraction") or [0.0, 0.0])[1]
        for i in np.flatnonzero(f > hi):
            flags.reasons[i].append(f"{100 * f[i]:.1f}% of pixels were NaN (masked; filled with sky noise), "
                                         f"trained on {100 * hi:.0f}%")
    sat = saturated_pixels(batch) if saturated is None else np.asarray(saturated)
    for i in np.flatnonzero(sat > 0):
        flags.reasons[i].append(f"saturated: {int(sat[i])} pixel(s) at a clipped maximum")
    want = inputs.get("pixel_scale_arcsec")
    if pixel_scale is not None and want:
        ps = np.asarray(pixel_scale, float)
        lo, hi = ranges.get("pixel_scale_arcsec") or [want, want]
        for i in np.flatnonzero(np.isfinite(ps) & ((ps < lo * (1 - 1e-6)) | (ps > hi * (1 + 1e-6)))):
            flags.reasons[i].append(f'pixel scale {ps[i]:.3g}"/px resampled to the trained {want:g}"/px')
    if psf_fwhm is not None and "psf_fwhm_arcsec" in ranges:
        f = np.asarray(psf_fwhm, float)
        lo, hi = ranges["psf_fwhm_arcsec"]
        for i in np.flatnonzero(np.isfinite(f) & ((f < lo) | (f > hi))):
            flags.reasons[i].append(f'PSF FWHM {f[i]:.3g}" outside the trained {lo:g}..{hi:g}"')
    return flags


def training_ranges(images: np.ndarray, psf_fwhm=None, pixel_scale: float = 0.2, q: float = 0.25) -> dict:
    """The input ranges a model was trained on, for its card's ``inputs.ranges``: the detection S/N
    (:func:`detection_snr`) between the ``q`` and ``100 - q`` percentiles of simulated training images
    (widened by 10%), no masked pixels, the native pixel scale within 5% of the trained one, and the
    simulated PSF FWHMs (arcsec)."""
    x = np.asarray(images, np.float32)
    if x.ndim == 3:
        x = x[:, None]
    s = detection_snr(x)
    lo, hi = np.percentile(s[np.isfinite(s)], [q, 100 - q])
    out = {"snr": [round(float(lo) / 1.1, 2), round(float(hi) * 1.1, 1)],
           "snr_definition": "detection_snr: peak of the image smoothed by a 1.5-px Gaussian in the central half of "
                             "the stamp over the MAD rms of the smoothed 4-pixel border (largest over bands)",
           "nan_fraction": [0.0, 0.0],
           "pixel_scale_arcsec": [round(pixel_scale * 0.95, 4), round(pixel_scale * 1.05, 4)]}
    if psf_fwhm is not None:
        f = np.asarray(psf_fwhm, float)
        out["psf_fwhm_arcsec"] = [round(float(f.min()), 2), round(float(f.max()), 2)]
    return out
