"""ZTF alert stamps as ZTF serves them, made into the real/bogus classifier's input (the ``"ztf"`` adapter).

ZTF alert packets carry three 63x63 stamps at 1.01"/px (``cutoutScience``, ``cutoutTemplate``,
``cutoutDifference``) in raw counts: science and template keep their sky, masked and off-chip pixels are
NaN (some templates use -3.4e38 instead), the difference is served sign-flipped for fading candidates so
the candidate is positive. :func:`prepare` turns [N, 3, H, W] (or one [3, H, W]) such stamps, or the
archive's triplet cutouts (an ImageSet), into what the network's normalisation expects:

1. validate: numeric, real, three planes (science, reference, difference), square, at least the network's
   input; a plane with no finite pixel is refused, naming the stamp and plane;
2. per plane, subtract the background (median of the finite pixels of the whole stamp) and divide by the
   plane's robust noise (1.4826 x MAD), so every plane is in units of its own sky noise;
3. masked pixels (NaN, +-inf, |x| > 1e30) become a fixed +-0.6745 checkerboard (noise-like in level, so
   the border-noise normalisation that follows is unchanged, and recognisably "masked" to the network);
4. centre-crop to the network's input (``inputs["shape"]``, e.g. 32x32: the candidate pixel 31 of 63 lands
   on pixel 16, as in training); a stamp smaller than the network's input (down to ``inputs["min_stamp"]``,
   default the input itself) is centred in a border of masked pixels instead (the inverse of the crop).

Out-of-distribution flags (ranges from the card's ``inputs.ranges``, measured on the training data): the
masked fraction, the science sky level and noise (counts), and stamps smaller than ZTF's 63x63.
Serving code: imports nothing from training or evaluation.
"""

from __future__ import annotations

import numpy as np

from .images import InputError
from .ood import OODFlags

STAMP = 63  # ZTF alert stamps are 63x63 pixels
PIXEL_SCALE = 1.01  # arcsec / pixel
PLANES = ("science", "reference", "difference")
MASK_LEVEL = 0.6745  # checkerboard amplitude of masked pixels: the MAD of unit Gaussian noise
BAD_VALUE = 1e30  # |x| above this is a fill value (ZTF templates use -3.4e38), i.e. masked


def _as_stamps(x, name: str, min_size: int) -> np.ndarray:
    """float64 [N, 3, H, H] from arrays, tensors, nested lists or an archive ImageSet; InputError otherwise."""
    if hasattr(x, "in_row_order") and hasattr(x, "header_values"):  # archive products (astrohub.vo ImageSet)
        x = x.in_row_order()
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x)
    except Exception as e:  # ragged lists
        raise InputError(f"{name}: could not convert the stamps to an array ({e})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InputError(f"{name}: stamps must be numeric (counts), got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise InputError(f"{name}: stamps must be real-valued, got complex dtype {arr.dtype}")
    want = f"[N, 3, {STAMP}, {STAMP}] (or one [3, {STAMP}, {STAMP}]): ZTF alert stamps science, reference, difference"
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4:
        raise InputError(f"{name} expects stamps shaped {want}; got an array of shape {tuple(arr.shape)}")
    n, c, h, w = arr.shape
    if n == 0:
        raise InputError(f"{name}: empty input (0 stamps)")
    if c != 3:
        raise InputError(f"{name} expects 3 band(s) per alert ({', '.join(PLANES)}, in this order), got {c} "
                         f"(input shape {tuple(arr.shape)}; expected {want})")
    if h != w or h < min_size:
        raise InputError(f"{name} expects square stamps of at least {min_size}x{min_size} pixels at {PIXEL_SCALE}\"/px "
                         f"(ZTF serves {STAMP}x{STAMP}), got {h}x{w} (input shape {tuple(arr.shape)})")
    return arr.astype(np.float64)


def stamp_stats(stamps: np.ndarray) -> dict[str, np.ndarray]:
    """Per stamp: ``nan_fraction`` (pixels masked in any plane), background ``sky`` of the science plane
    and each plane's robust noise ``noise`` [N, 3] (counts). ``stamps``: float64 [N, 3, H, W], masked = NaN."""
    n = len(stamps)
    flat = stamps.reshape(n, 3, -1)
    with np.errstate(all="ignore"), _quiet():
        bg = np.nanmedian(flat, axis=2)
        noise = 1.4826 * np.nanmedian(np.abs(flat - bg[..., None]), axis=2)
    masked = ~np.isfinite(flat).all(axis=1)
    return {"nan_fraction": masked.mean(axis=1), "sky": bg[:, 0], "background": bg, "noise": noise}


class _quiet:
    """Silence numpy's all-NaN slice warnings (all-NaN planes are refused before they matter)."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)


def prepare(x, card_inputs: dict, name: str = "model") -> tuple[np.ndarray, OODFlags]:
    """Raw ZTF alert stamps -> (float32 [N, 3, S, S] background-subtracted, noise-scaled, masked pixels
    filled, centre-cropped to the network's S x S input; :class:`OODFlags` per stamp). See the module text."""
    _, s, _ = card_inputs["shape"]
    arr = _as_stamps(x, name, min(s, int(card_inputs.get("min_stamp", s))))
    arr[~np.isfinite(arr) | (np.abs(arr) > BAD_VALUE)] = np.nan
    finite = np.isfinite(arr)
    empty = ~finite.any(axis=(2, 3))
    if empty.any():
        rows, planes = np.nonzero(empty)
        what = ", ".join(f"stamp {r} {PLANES[p]}" for r, p in list(zip(rows, planes))[:6])
        raise InputError(f"{name}: {int(empty.any(1).sum())} stamp(s) have a plane with no finite pixel ({what}"
                         f"{' ...' if len(rows) > 6 else ''}): all NaN / masked; drop those alerts")
    st = stamp_stats(arr)
    noise = st["noise"].copy()
    flat_noise = ~(noise > 0)
    noise[flat_noise] = 1.0
    out = (arr - st["background"][..., None, None]) / noise[..., None, None]
    h = arr.shape[-1]
    n = max(h, s)
    board = np.where((np.add.outer(np.arange(n), np.arange(n)) % 2) == 0, MASK_LEVEL, -MASK_LEVEL)
    off = abs(h - s) // 2
    if h >= s:
        out = np.where(finite, out, board[:h, :h])[:, :, off:off + s, off:off + s]
    else:  # a smaller stamp: centred in masked pixels, where the crop of an s x s stamp would have taken it
        inner = np.where(finite, out, board[off:off + h, off:off + h])
        out = np.broadcast_to(board, (len(arr), 3, s, s)).copy()
        out[:, :, off:off + h, off:off + h] = inner
    out = np.ascontiguousarray(out, dtype=np.float32)

    flags = OODFlags(len(arr))
    ranges = card_inputs.get("ranges", {})
    if "nan_fraction" in ranges:
        flags.outside(st["nan_fraction"], ranges["nan_fraction"], "masked (NaN) pixel fraction", "{:.2f}")
    if "sky" in ranges:
        flags.outside(st["sky"], ranges["sky"], "science sky level (counts)", "{:.0f}")
    if "noise" in ranges:
        flags.outside(st["noise"][:, 0], ranges["noise"], "science noise (counts)", "{:.1f}")
    flags.add(flat_noise.any(axis=1), "a plane has no measurable noise (constant)")
    if h < STAMP:
        flags.add(np.ones(len(arr), bool), f"stamp {h}x{h} smaller than ZTF's {STAMP}x{STAMP} (less sky to measure)")
    return out, flags
