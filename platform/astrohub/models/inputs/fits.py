"""FITS cutouts with a WCS to a model's inputs: resampled to the pixel scale the model was trained at
(card ``inputs.pixel_scale_arcsec``) and cut to its input size around the stamp centre, or refused with a
message naming the mismatch.

Accepted: a FITS path (``.fits``, ``.fit``, ``.fts``, optionally gzipped), an astropy HDU or HDUList, or
a list of those. Each image is 2-D (one band) or a cube of one plane per band of the model. Resampling is
flux-conserving (counts per pixel scale with the pixel area): integer downsampling sums pixel blocks,
other ratios pre-filter with a box of the output pixel (downsampling) and interpolate with a cubic
spline (upsampling), then top up the sky noise that interpolation smooths away with white noise (seeded by
the image, so the same file gives the same answer), as the models were trained on white noise. NaN
(masked) pixels stay NaN where they dominate an output pixel; the predictor fills them and flags the row.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from ...defaults import header_band, is_fits_file, oversized_image
from .images import InputError

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz", ".fz")
MAX_UPSAMPLE = 2.5  # native pixels up to 2.5x the trained scale (0.5"/px for a 0.2"/px model)
MAX_DOWNSAMPLE = 10.0  # and down to a tenth of it (HST-like 0.02"/px)
SAME_SCALE = 1e-3  # relative scale difference treated as "already at the trained scale"


def _is_one(x) -> bool:
    from astropy.io import fits

    return isinstance(x, (str, os.PathLike, fits.HDUList)) or isinstance(x, (fits.PrimaryHDU, fits.ImageHDU,
                                                                              fits.CompImageHDU))


def is_fits_input(x) -> bool:
    """True for a FITS path, an astropy image HDU / HDUList, or a non-empty list or tuple of those."""
    from astropy.io import fits

    if isinstance(x, (list, tuple)) and not isinstance(x, fits.HDUList):
        return len(x) > 0 and all(_is_one(v) for v in x)
    return _is_one(x)


def _label(x, i: int) -> str:
    return f"{os.fspath(x)!s}" if isinstance(x, (str, os.PathLike)) else f"input {i}"


def open_image(x, name: str, label: str):
    """(data, header) of the first HDU with image data."""
    from astropy.io import fits

    if isinstance(x, (str, os.PathLike)):
        p = Path(x)
        if not p.exists():
            raise InputError(f"{name}: no such file {label}")
        if p.is_dir():
            raise InputError(f"{name}: {label} is a directory, not a FITS file")
        with open(p, "rb") as fh:
            head = fh.read(9)
        low = p.name.lower()
        if not (is_fits_file(head) or (low.endswith(FITS_SUFFIXES) and head[:2] == b"\x1f\x8b")):
            suffix = "".join(p.suffixes) or "(no extension)"
            hint = ("; colour JPEG or PNG composites as Galaxy Zoo serves them: models.load('galaxy_zoo') reads "
                    "those") if low.endswith((".jpg", ".jpeg", ".png")) else ""
            raise InputError(f"{name}: unknown file type {suffix!r} for {label}: it reads FITS cutouts with a WCS "
                             f"({', '.join(FITS_SUFFIXES)}) or arrays; convert other formats first{hint}")
        try:
            with fits.open(p, memmap=False) as hdul:
                return open_image(hdul, name, label)
        except InputError:
            raise
        except (OSError, ValueError) as e:
            raise InputError(f"{name}: could not read {label} as FITS ({e})") from None
    hdus = list(x) if isinstance(x, fits.HDUList) else [x]
    if why := oversized_image(hdus):
        raise InputError(f"{name}: {label} is refused: {why}")
    for h in hdus:
        if isinstance(h, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)) and h.data is not None \
                and h.data.ndim >= 2:
            return np.asarray(h.data), h.header
    raise InputError(f"{name}: {label} holds no image data (no HDU with a 2-D image or a cube)")


def _planes(data: np.ndarray, want_c: int, bands: list, name: str, label: str) -> np.ndarray:
    d = np.asarray(data)
    while d.ndim > 3 and d.shape[0] == 1:  # degenerate leading (e.g. Stokes) axes
        d = d[0]
    if d.ndim == 2:
        d = d[None]
    if d.ndim != 3 or d.shape[0] != want_c:
        planes = d.shape[0] if d.ndim == 3 else f"shape {d.shape}"
        raise InputError(f"{name}: {label} has {planes} image plane(s) but the model expects {want_c} band(s) "
                         f"{bands} (a 2-D image for one band, a cube of {want_c} planes otherwise)")
    return d.astype(np.float64)


def pixel_scale(header, name: str = "model", label: str = "image") -> tuple[float, float]:
    """(y, x) pixel scale in arcsec from the header's celestial WCS; InputError when it has none."""
    from astropy.wcs import WCS, FITSFixedWarning
    from astropy.wcs.utils import proj_plane_pixel_scales

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        try:
            w = WCS(header)
        except Exception as e:  # astropy raises several types on broken WCS keywords
            raise InputError(f"{name}: {label} has an unreadable WCS ({e})") from None
    if not w.has_celestial:
        raise InputError(f"{name}: {label} has no celestial WCS (CTYPE1/2 such as RA---TAN/DEC--TAN with CDELT or CD "
                         "keywords), so its pixel scale is unknown; add the WCS or pass arrays already at "
                         "the model's pixel scale")
    c = w.celestial
    units = [str(u) for u in c.world_axis_units]
    sx, sy = proj_plane_pixel_scales(c)[:2]
    factor = 3600.0 if all(u in ("deg", "") for u in units) else None
    if factor is None:
        raise InputError(f"{name}: {label}'s celestial WCS is in units {units}; expected degrees")
    sx, sy = abs(sx) * factor, abs(sy) * factor
    if not (np.isfinite(sx) and np.isfinite(sy) and sx > 0 and sy > 0):
        raise InputError(f"{name}: {label}'s WCS gives no usable pixel scale ({sx}, {sy} arcsec)")
    return float(sy), float(sx)


def _axis_coords(n_out: int, n_in: int, zoom: float) -> np.ndarray:
    """Input pixel coordinates of the output pixel centres, both grids centred on the stamp centre."""
    return (n_in - 1) / 2.0 + (np.arange(n_out) - (n_out - 1) / 2.0) / zoom


def resample(img: np.ndarray, zoom: tuple[float, float], out_hw: tuple[int, int],
             match_noise: bool = True) -> np.ndarray:
    """[C, H, W] to [C, out_h, out_w]: the centre of ``img`` resampled by ``zoom`` (input pixel scale over
    output pixel scale, per axis y, x), flux-conserving; NaN pixels masked through the resampling.
    ``match_noise``: after interpolation, restore the white sky noise the models were trained on
    (:func:`_match_noise`); integer block sums keep white noise white and need none."""
    from scipy.ndimage import map_coordinates, uniform_filter

    zy, zx = zoom
    oh, ow = out_hw
    c, h, w = img.shape
    nan = np.isnan(img)
    x = np.where(nan, 0.0, img) if nan.any() else img
    same = abs(zy - 1) < SAME_SCALE and abs(zx - 1) < SAME_SCALE
    ky, kx = 1.0 / zy, 1.0 / zx
    integer = (not same and zy < 1 and zx < 1 and abs(ky - round(ky)) < 1e-6 and abs(kx - round(kx)) < 1e-6)
    if same or integer:
        ky, kx = (1, 1) if same else (int(round(ky)), int(round(kx)))
        dy, dx = (h - ky * oh) // 2, (w - kx * ow) // 2
        cut = x[:, dy:dy + ky * oh, dx:dx + kx * ow]
        m = nan[:, dy:dy + ky * oh, dx:dx + kx * ow].astype(np.float64)
        out = cut.reshape(c, oh, ky, ow, kx).sum((2, 4))
        mfrac = m.reshape(c, oh, ky, ow, kx).mean((2, 4))
    else:
        yy, xx = np.meshgrid(_axis_coords(oh, h, zy), _axis_coords(ow, w, zx), indexing="ij")
        out = np.empty((c, oh, ow))
        mfrac = np.empty((c, oh, ow))
        for k in range(c):
            plane, mk = x[k], nan[k].astype(np.float64)
            if zy < 1 or zx < 1:  # average over the output pixel's footprint first
                size = (max(1, int(round(1 / min(zy, 1)))), max(1, int(round(1 / min(zx, 1)))))
                plane = uniform_filter(plane, size, mode="nearest")
                mk = uniform_filter(mk, size, mode="nearest")
                order = 1
            else:
                order = 3
            out[k] = map_coordinates(plane, [yy, xx], order=order, mode="nearest") / (zy * zx)
            mfrac[k] = map_coordinates(mk, [yy, xx], order=1, mode="nearest")
    if nan.any():  # masked pixels counted as 0 above: scale up the unmasked part of each output pixel
        out = out / np.clip(1 - mfrac, 1e-3, 1)
    if not (same or integer) and match_noise:
        out = _match_noise(img, out, zy * zx)
    return np.where(mfrac > 0.5, np.nan, out)


def _border_rms(a: np.ndarray, border: int = 4) -> np.ndarray:
    """1.4826 MAD of each plane's finite border pixels, [C] (NaN when none)."""
    c, h, w = a.shape
    m = np.ones((h, w), bool)
    m[border:h - border, border:w - border] = False
    e = a[:, m]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(e, axis=1, keepdims=True)
        return 1.4826 * np.nanmedian(np.abs(e - med), axis=1)


def _match_noise(native: np.ndarray, out: np.ndarray, area_ratio: float) -> np.ndarray:
    """Interpolation correlates and lowers the per-pixel sky noise; the models were trained on white
    noise, so add white noise (seeded by the image's bytes: the same input gives the same output) until
    the border rms equals that of the native sky noise at the new pixel area (sigma / sqrt(zoom_y zoom_x))."""
    import zlib

    want = _border_rms(native) / np.sqrt(area_ratio)
    have = _border_rms(out)
    add = np.sqrt(np.clip(np.nan_to_num(want ** 2 - have ** 2), 0, None))
    rng = np.random.default_rng(zlib.crc32(np.ascontiguousarray(native).tobytes()))
    return out + rng.normal(size=out.shape) * add[:, None, None]


def read_fits_cutouts(x, inputs: dict, name: str = "model", shape=None, scale=None) -> tuple[np.ndarray, dict]:
    """FITS cutouts (see :func:`is_fits_input`) as [N, C, H, W] float32 at the card's pixel scale and input
    size (``shape`` / ``scale`` override the card's, e.g. for a super-resolution input), NaN where masked;
    and what the headers say per image: ``pixel_scale`` (native, arcsec, geometric mean of the axes),
    ``psf_fwhm`` (the card's ``psf_fwhm.fits_keyword`` or PSF_FWHM, arcsec; NaN if absent) and
    ``saturated`` (pixels at or above the header's SATURATE level; 0 if absent) and ``band`` (the band letter its
    FILTER names, :func:`astrohub.defaults.header_band`; None if it names none)."""
    from astropy.io import fits

    items = list(x) if isinstance(x, (list, tuple)) and not isinstance(x, fits.HDUList) else [x]
    want_c, oh, ow = shape or inputs["shape"]
    target = float(scale or inputs["pixel_scale_arcsec"])
    bands = list(inputs.get("bands", []))
    psf_key = (inputs.get("psf_fwhm") or {}).get("fits_keyword", "PSF_FWHM")
    out, scales, psfs, sats, named = [], [], [], [], []
    for i, item in enumerate(items):
        label = _label(item, i)
        data, header = open_image(item, name, label)
        img = _planes(data, want_c, bands, name, label)
        sy, sx = pixel_scale(header, name, label)
        zy, zx = sy / target, sx / target
        for s, z in ((sy, zy), (sx, zx)):
            if z > MAX_UPSAMPLE or z < 1 / MAX_DOWNSAMPLE:
                raise InputError(f'{name}: {label} has a pixel scale of {s:.4g}"/px, too different from the '
                                 f'{target:g}"/px the model was trained at to resample safely (from '
                                 f'{target / MAX_DOWNSAMPLE:.3g} to {target * MAX_UPSAMPLE:.3g}"/px accepted)')
        h, w = img.shape[-2:]
        if h * zy + 1e-6 < oh or w * zx + 1e-6 < ow:
            raise InputError(f'{name}: {label} is too small: {h}x{w} pixels at {sy:.4g}"/px cover '
                             f'{h * sy:.2f}"x{w * sx:.2f}", giving {h * zy:.1f}x{w * zx:.1f} pixels at the model\'s '
                             f'{target:g}"/px; it needs {oh}x{ow} ({oh * target:.2f}"x{ow * target:.2f}"): '
                             "fetch a larger cutout")
        sat = header.get("SATURATE")
        sats.append(int(np.sum(img >= float(sat))) if isinstance(sat, (int, float)) and sat > 0 else 0)
        out.append(resample(img, (zy, zx), (oh, ow)))
        scales.append(float(np.sqrt(sy * sx)))
        f = header.get(psf_key)
        psfs.append(float(f) if isinstance(f, (int, float)) and not isinstance(f, bool) else np.nan)
        named.append(header_band(header))
    info = {"pixel_scale": np.array(scales), "psf_fwhm": np.array(psfs), "saturated": np.array(sats), "band": named}
    return np.stack(out).astype(np.float32), info


def header_pixel_scales(headers) -> np.ndarray:
    """Native pixel scale (arcsec, geometric mean) of each header with a celestial WCS, NaN otherwise."""
    out = []
    for h in headers:
        try:
            sy, sx = pixel_scale(h)
            out.append(np.sqrt(sy * sx))
        except InputError:
            out.append(np.nan)
    return np.array(out, float)
