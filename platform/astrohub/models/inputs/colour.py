"""Colour composites as surveys serve them (Galaxy Zoo's SDSS gri JPEGs): read, check and bring to a colour
model's input.

Users hand over JPEG/PNG paths (or the files' bytes, as a server sends them), or uint8 arrays [N, H, W, 3]
(one [H, W, 3] image, or a list of either; RGBA with an opaque alpha, as PNG readers give it, loses the alpha):
exactly what the files hold, untouched. :func:`read_colour` reads and checks them (clear errors for an unknown
file type, an unreadable file, a URL (nothing is fetched), a greyscale image, a transparent alpha, a wrong band
count, dtype or shape, an empty input);
:func:`prepare` brings each image to a square ``frame`` x ``frame`` px frame (the central square when it is not
square, then resampled with Pillow's Lanczos filter): the same code for a path and for the array it decodes to,
so both give the same answer. The model sees the central ``crop`` px of the frame (:func:`centre`) scaled by
:func:`normalise_colour` with the per-band mean and std its card records. :func:`colour_stats` gives the
per-image figures the out-of-distribution flags compare with the ranges on the card.

Serving code: imports nothing from training.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ...defaults import is_colour_file
from .columns import listed
from .images import InputError

SUFFIXES = {".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".png": "PNG"}
URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F", "La"}
MAX_PIXELS = 25_000_000  # a 5000 x 5000 px composite; Galaxy Zoo serves 423 x 423, survey cutout services <= ~3000


def _too_large(path, what: str, name: str) -> InputError:
    return InputError(f"{name}: {path} is too large for a colour cutout ({what}; at most {MAX_PIXELS:,} px): "
                      "decoding it would take gigabytes (a damaged or hostile file?); cut out the galaxy first")


def _colour_magic(path: Path) -> bool:
    """Whether the file at ``path`` starts as a JPEG or PNG file does (False when it cannot be read)."""
    try:
        with open(path, "rb") as f:
            return is_colour_file(f.read(8))
    except OSError:
        return False


def _read_file(path, name: str) -> np.ndarray:
    """One JPEG/PNG file (a path, or its bytes as fetched from a server: ``bytes`` or a binary file object) as
    uint8 [H, W, 3] (RGB), or an InputError naming what is wrong."""
    import io

    from PIL import Image, UnidentifiedImageError

    if isinstance(path, Path):
        suffix = path.suffix.lower()
        if suffix not in SUFFIXES and not _colour_magic(path):  # a JPEG/PNG under another name is still one
            raise InputError(f"{name}: unknown file type {suffix or '(no suffix)'!r} for {path}; it reads JPEG or "
                             "PNG colour composites (.jpg, .jpeg, .png) as Galaxy Zoo serves them, uint8 arrays "
                             "[N, H, W, 3], or g, r, i FITS cutouts with a WCS")
        if not path.is_file():
            raise InputError(f"{name}: image file {path} not found")
        source, kind = path, SUFFIXES.get(suffix, "JPEG or PNG")
    else:  # the file's bytes, or a binary file object
        source = io.BytesIO(bytes(path)) if isinstance(path, (bytes, bytearray, memoryview)) else path
        path, kind = getattr(path, "name", "the bytes given"), "JPEG or PNG"
    try:
        with Image.open(source) as im:
            fmt, mode = im.format, im.mode
            if im.width * im.height > MAX_PIXELS:  # checked on the header, before any pixel is decoded
                raise _too_large(path, f"{im.width} x {im.height} px", name)
            if fmt not in ("JPEG", "PNG"):
                raise InputError(f"{name}: {path} is a {fmt} file, not JPEG or PNG; it reads JPEG or PNG colour "
                                 "composites")
            if mode in GREY_MODES:
                raise InputError(f"{name}: {path} is a greyscale image (mode {mode}, 1 band); it needs a colour "
                                 "composite with 3 bands (g, r, i as RGB)")
            if mode == "RGBA":
                rgba = np.asarray(im)
                if (rgba[..., 3] != 255).any():
                    raise InputError(f"{name}: {path} has a transparent alpha channel (4 bands); it needs an "
                                     "opaque 3-band colour composite (g, r, i as RGB)")
                return np.ascontiguousarray(rgba[..., :3])
            if mode not in ("RGB", "P", "YCbCr"):
                raise InputError(f"{name}: {path} has colour mode {mode}; it needs an 8-bit RGB colour composite "
                                 "(3 bands: g, r, i as RGB)")
            arr = np.asarray(im.convert("RGB"))
    except InputError:
        raise
    except Image.DecompressionBombError as e:  # Pillow's own limit, when the header declares far more
        raise _too_large(path, str(e).split(",")[0], name) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise InputError(f"{name}: could not read {path} as a {kind} image ({type(e).__name__}: "
                         f"{e}); is the file complete?") from None
    if mode == "P" and (arr[..., 0] == arr[..., 1]).all() and (arr[..., 1] == arr[..., 2]).all():
        raise InputError(f"{name}: {path} is a greyscale image (a grey palette); it needs a colour composite with "
                         "3 bands (g, r, i as RGB)")
    return arr


def _check_array(arr, what: str, name: str) -> np.ndarray:
    """One image [H, W, 3] uint8 or a batch [N, H, W, 3]: checked, returned as a uint8 array."""
    if hasattr(arr, "detach"):
        arr = arr.detach().cpu().numpy()
    try:
        a = np.asarray(arr)
    except Exception as e:  # ragged nested lists
        raise InputError(f"{name}: could not convert {what} to an array ({e})") from None
    if a.dtype != np.uint8:
        hint = (" (floats: scale to 0-255 and convert with .astype(np.uint8), as the JPEG would hold them)"
                if a.dtype.kind in "fiu" else "")
        raise InputError(f"{name}: {what} must be uint8 colour images [N, H, W, 3] with values 0-255 as the "
                         f"JPEG/PNG files hold them, got dtype {a.dtype}{hint}")
    if a.ndim in (2,) or (a.ndim == 3 and a.shape[-1] not in (3, 4) and a.shape[0] not in (3, 4)):
        raise InputError(f"{name}: {what} looks greyscale (shape {a.shape}, 1 band per pixel); it needs colour "
                         "composites [N, H, W, 3] with 3 bands (g, r, i as RGB)")
    if a.ndim not in (3, 4):
        raise InputError(f"{name}: {what} must be shaped [N, H, W, 3] or [H, W, 3], got shape {a.shape}")
    if a.shape[-1] == 1:
        raise InputError(f"{name}: {what} is greyscale (shape {a.shape}, 1 band per pixel); it needs colour "
                         "composites [N, H, W, 3] with 3 bands (g, r, i as RGB)")
    if a.shape[-1] == 4 and a.shape[-3] != 3:  # RGBA, as PNG readers give it: an opaque alpha is dropped
        if (a[..., 3] != 255).any():
            raise InputError(f"{name}: {what} has a transparent alpha channel (4 bands, shape {a.shape}); it needs "
                             "opaque 3-band colour composites (g, r, i as RGB): x[..., :3] if the alpha means "
                             "nothing")
        a = np.ascontiguousarray(a[..., :3])
    if a.shape[-1] != 3:
        if a.shape[-3] == 3 and a.shape[-1] != 3:
            grey = " (or, if these are 3 greyscale images, colour composites are needed)" if a.ndim == 3 else ""
            raise InputError(f"{name}: {what} has shape {a.shape}: bands first ([N, 3, H, W]); pass channels-last "
                             f"[N, H, W, 3] as images are read (np.moveaxis(x, -3, -1)){grey}")
        raise InputError(f"{name}: {what} has {a.shape[-1]} bands per pixel (shape {a.shape}); it needs 3 colour "
                         "bands (g, r, i as RGB), shaped [N, H, W, 3]")
    if min(a.shape[-3], a.shape[-2]) < 16:
        raise InputError(f"{name}: {what} is only {a.shape[-3]}x{a.shape[-2]} px (shape {a.shape}); it needs "
                         "colour cutouts of at least 16x16 px (Galaxy Zoo serves 423x423)")
    return a


def iter_colour(images, name: str = "model", index: list[int] | None = None):
    """Each image of ``images`` (a JPEG/PNG path, a list of paths or of the files' bytes, a uint8 array [H, W, 3]
    or [N, H, W, 3], or a list mixing those and [H, W, 3] arrays) as a uint8 [H, W, 3] array, read one at a time
    (little memory); :class:`InputError` naming what is wrong. An empty input is refused. ``index``: each list
    item's position in the caller's own list, for the messages (a part of a mixed batch)."""
    if isinstance(images, (str, Path)):
        images = [images]
    images = listed(images)  # paths, as df["path"].values or df["path"] give them
    if isinstance(images, np.ndarray) or hasattr(images, "detach"):
        a = _check_array(images, "input", name)
        items = [a] if a.ndim == 3 else a
        if len(items) == 0:
            raise InputError(f"{name}: empty input (0 images)")
        yield from items
        return
    try:
        items = list(images)
    except TypeError:
        raise InputError(f"{name}: images must be JPEG/PNG paths or uint8 arrays [N, H, W, 3], got "
                         f"{type(images).__name__}") from None
    if not items:
        raise InputError(f"{name}: empty input (0 images)")
    for i, item in enumerate(items):
        if isinstance(item, str) and URL.match(item):
            raise InputError(f"{name}: {item} is a URL; the models read files, their bytes or arrays, and fetch "
                             "nothing: download it first and pass the bytes (e.g. requests.get(url).content)")
        if isinstance(item, (str, Path)):
            yield _read_file(Path(item), name)
        elif isinstance(item, (bytes, bytearray, memoryview)) or hasattr(item, "read"):
            yield _read_file(item, name)
        else:
            j = i if index is None else index[i]
            a = _check_array(item, f"image {j}", name)
            if a.ndim != 3:
                raise InputError(f"{name}: image {j} of the list has shape {a.shape}; list items must be single "
                                 "images [H, W, 3] or paths")
            yield a


def read_colour(images, name: str = "model") -> list[np.ndarray]:
    """:func:`iter_colour` as a list."""
    return list(iter_colour(images, name))


def prepare(images, size: int, name: str = "model", progress: bool = False,
            r90_target: float | None = None, index: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every image of ``images`` (see :func:`iter_colour`, also for ``index``) read and brought to a ``size`` px
    square :func:`frame` one at a time: (uint8 frames [N, size, size, 3], the served [height, width] of each
    [N, 2]). ``r90_target``: each image first re-framed so that its galaxy's R90 spans that fraction of the frame
    (:func:`reframe`), as Galaxy Zoo frames its stamps."""
    out, hw = [], []
    it = iter_colour(images, name, index)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc="reading images", leave=False)
    for im in it:
        hw.append(im.shape[:2])
        f = frame(im, size)
        if r90_target is not None:
            f = frame(reframe(im, float(r90_fraction(f[None])[0]), r90_target), size)
        out.append(f)
    return np.stack(out), np.array(hw, float)


R90_Q = 8.0  # the asinh stretch's Q, undone (approximately) before the Petrosian radius is measured


def r90_fraction(frames: np.ndarray) -> np.ndarray:
    """The galaxy's Petrosian R90 over its frame's side, per frame [N, F, F, 3] uint8: measured as SDSS measures it
    (:func:`astrohub.models.inputs.colour_fits.petrosian`) about the frame's centre on the mean band, the asinh
    stretch undone (``sinh(Q x / 255)``) and the border's median subtracted. Galaxy Zoo scales each stamp to the
    galaxy, so on its JPEGs this is close to 0.097 (the kit's train + val: 0.081-0.156 for 90% of them); a
    fixed-scale cutout of a small galaxy gives less. NaN where two Petrosian radii do not fit in the frame."""
    from .colour_fits import petrosian

    n, f = len(frames), frames.shape[1]
    border = np.ones((f, f), bool)
    b = max(f // 16, 2)
    border[b:f - b, b:f - b] = False
    c = (f - 1) / 2
    out = np.full(n, np.nan)
    for k in range(n):
        lin = np.sinh(R90_Q * frames[k].astype(np.float64).mean(-1) / 255.0)
        out[k] = petrosian(lin - np.median(lin[border]), c, c)[1] / f
    return out


def reframe(img: np.ndarray, r90: float, target: float) -> np.ndarray:
    """The central square of ``img`` [H, W, 3] re-cut so that a galaxy whose R90 spans ``r90`` of it spans
    ``target``: a smaller square around the centre when the galaxy is small in its frame (no pixel invented), or
    the square padded with sky drawn from its own border rows when it is large (seeded: the same image gives the
    same frame). ``r90`` NaN (not measurable): the square as it is."""
    h, w = img.shape[:2]
    s = min(h, w)
    sq = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    if not np.isfinite(r90) or r90 <= 0:
        return sq
    side = round(s * r90 / target)
    if side <= s:
        side = max(side, 16)
        o = (s - side) // 2
        return sq[o:o + side, o:o + side]
    b = max(s // 16, 1)
    sky = np.concatenate([sq[:b].reshape(-1, 3), sq[-b:].reshape(-1, 3)])
    out = sky[np.random.default_rng(side).integers(len(sky), size=side * side)].reshape(side, side, 3)
    o = (side - s) // 2
    out[o:o + s, o:o + s] = sq
    return out


def frame(img: np.ndarray, size: int) -> np.ndarray:
    """The central square of ``img`` [H, W, 3] uint8 resampled to ``size`` x ``size`` (Lanczos), uint8."""
    from PIL import Image

    h, w = img.shape[:2]
    s = min(h, w)
    y0, x0 = (h - s) // 2, (w - s) // 2
    sq = img[y0:y0 + s, x0:x0 + s]
    if s == size:
        return np.ascontiguousarray(sq)
    return np.asarray(Image.fromarray(np.ascontiguousarray(sq)).resize((size, size), Image.Resampling.LANCZOS))


def centre(x: np.ndarray, crop: int) -> np.ndarray:
    """The central ``crop`` x ``crop`` px of frames [N, F, F, C] (channels last)."""
    f = x.shape[1]
    o = (f - crop) // 2
    return x[:, o:o + crop, o:o + crop]


def normalise_colour(x: np.ndarray, mean, std) -> np.ndarray:
    """uint8 [N, H, W, 3] -> float32 [N, 3, H, W]: (x / 255 - mean) / std per band."""
    m = np.asarray(mean, np.float32).reshape(1, 3, 1, 1)
    s = np.asarray(std, np.float32).reshape(1, 3, 1, 1)
    return ((np.moveaxis(x, -1, 1).astype(np.float32) / 255.0) - m) / s


def colour_stats(hw: np.ndarray, framed: np.ndarray, crop: int) -> dict[str, np.ndarray]:
    """Per-image figures compared with the card's ``inputs.ranges`` (out-of-distribution flags):
    ``side_px`` (the shorter side as served; ``hw`` [N, 2] from :func:`prepare`), ``aspect`` (height / width),
    ``colour_spread`` (mean absolute difference between the bands, 0 for a grey image), ``sky`` (median of the
    frame's border, 0-255), ``centre_peak`` (99th percentile of the central crop's mean band, 0-255),
    ``centre_red`` (red minus blue over their sum, over the central crop's pixels brighter than the sky by 20),
    ``r90_frame`` (the galaxy's Petrosian R90 over the frame's side, :func:`r90_fraction`)."""
    n, f = len(framed), framed.shape[1]
    hw = np.asarray(hw, float).reshape(n, 2)
    x = framed.astype(np.float32)
    spread = (np.abs(x[..., 0] - x[..., 1]) + np.abs(x[..., 1] - x[..., 2])).mean(axis=(1, 2)) / 2
    border = np.ones((f, f), bool)
    b = max(f // 16, 2)
    border[b:f - b, b:f - b] = False
    grey = x.mean(-1)
    sky = np.median(grey[:, border], axis=1)
    c = centre(x, crop)
    cg = c.mean(-1).reshape(n, -1)
    peak = np.percentile(cg, 99, axis=1)
    bright = cg > (sky[:, None] + 20)
    r, bl = c[..., 0].reshape(n, -1), c[..., 2].reshape(n, -1)
    num = np.where(bright, r - bl, 0).sum(1)
    den = np.where(bright, r + bl, 0).sum(1)
    red = np.where(den > 0, num / np.maximum(den, 1e-6), np.nan)
    return {"side_px": hw.min(1), "aspect": hw[:, 0] / hw[:, 1], "colour_spread": spread, "sky": sky,
            "centre_peak": peak, "centre_red": red, "r90_frame": r90_fraction(framed)}


__all__ = ["InputError", "iter_colour", "read_colour", "prepare", "frame", "centre", "normalise_colour",
           "colour_stats", "r90_fraction", "reframe"]
