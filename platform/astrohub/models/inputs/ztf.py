"""ZTF alert stamps as ZTF serves them, made into the real/bogus classifier's input (the ``"ztf"`` adapter).

ZTF alert packets carry three 63x63 stamps at 1.01"/px (``cutoutScience``, ``cutoutTemplate``,
``cutoutDifference``) in raw counts: science and template keep their sky, masked and off-chip pixels are
NaN (some templates use -3.4e38 instead), the difference is served sign-flipped for fading candidates so
the candidate is positive. :func:`prepare` turns [N, 3, H, W] (or one [3, H, W]) such stamps, the alert
packets themselves (dicts as fastavro or a broker gives them, each cutout's ``stampData`` the gzip-compressed
FITS bytes), FITS HDU lists of an alert's three cutouts (as ALeRCE serves them), or the archive's triplet
cutouts (an ImageSet), into what the network's normalisation expects:

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

from ...defaults import gunzip_limited, oversized_image
from .images import InputError
from .ood import OODFlags

STAMP = 63  # ZTF alert stamps are 63x63 pixels
PIXEL_SCALE = 1.01  # arcsec / pixel
PLANES = ("science", "reference", "difference")
PACKET_KEYS = ("cutoutScience", "cutoutTemplate", "cutoutDifference")  # an alert packet's stamps, in PLANES order
MASK_LEVEL = 0.6745  # checkerboard amplitude of masked pixels: the MAD of unit Gaussian noise
MAX_STAMP_BYTES = 16 << 20  # a stamp's FITS decompressed (ZTF's are about 20 kB)
BAD_VALUE = 1e30  # |x| above this is a fill value (ZTF templates use -3.4e38), i.e. masked


def _stamp(data, what: str, name: str) -> np.ndarray:
    """One cutout of an alert packet: its gzip-compressed (or plain) FITS bytes -> the 2-D array."""
    import io
    import zlib

    from astropy.io import fits

    if isinstance(data, dict):  # {"fileName": ..., "stampData": bytes}, as the Avro packet holds it
        if "stampData" not in data:
            raise InputError(f"{name}: {what} has no stampData (keys: {sorted(data)})")
        data = data["stampData"]
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError(f"{name}: {what} must be the cutout's FITS bytes (gzip-compressed as ZTF serves them), got "
                         f"{type(data).__name__}")
    try:
        raw = gunzip_limited(bytes(data), MAX_STAMP_BYTES)
    except ValueError as e:
        raise InputError(f"{name}: {what} is refused: {e}") from None
    except zlib.error as e:
        raise InputError(f"{name}: {what} is not a FITS image (gzip: {e})") from None
    try:
        with fits.open(io.BytesIO(raw)) as hdul:
            why = oversized_image(hdul)  # read from the headers, before any pixel is decompressed
            img = None if why else next((h.data for h in hdul if h.data is not None and np.ndim(h.data) == 2), None)
            img = None if img is None else np.array(img, np.float64)
    except (OSError, ValueError, EOFError, TypeError) as e:
        raise InputError(f"{name}: {what} is not a FITS image ({type(e).__name__}: {e})") from None
    if why:
        raise InputError(f"{name}: {what} is refused: {why}")
    if img is None:
        raise InputError(f"{name}: {what} holds no 2-D image")
    return img


def _from_packets(packets, name: str) -> np.ndarray:
    """[N, 3, H, W] from ZTF alert packets (dicts as fastavro reads them, or as brokers serve them) with
    ``cutoutScience``, ``cutoutTemplate`` and ``cutoutDifference``."""
    out = []
    for i, p in enumerate(packets):
        missing = [k for k in PACKET_KEYS if k not in p]
        if missing:
            raise InputError(f"{name}: alert {i} has no {', '.join(missing)} (an alert packet carries "
                             f"{', '.join(PACKET_KEYS)})")
        out.append([_stamp(p[k], f"alert {i} {k}", name) for k in PACKET_KEYS])
    return _stack_alerts(out, name)


def _from_hdulists(alerts, name: str) -> np.ndarray:
    """[N, 3, H, W] from FITS HDU lists, one per alert, holding its three cutouts as image HDUs in the order
    science, template, difference (as ALeRCE's ``get_stamps`` returns them)."""
    out = []
    for i, hdul in enumerate(alerts):
        planes = [np.array(h.data, np.float64) for h in hdul if h.data is not None and np.ndim(h.data) == 2]
        if len(planes) != 3:
            raise InputError(f"{name}: alert {i}'s FITS holds {len(planes)} 2-D image(s); it needs its three "
                             f"cutouts ({', '.join(PLANES)}, in this order)")
        out.append(planes)
    return _stack_alerts(out, name)


def _stack_alerts(out: list[list[np.ndarray]], name: str) -> np.ndarray:
    """[N, 3, H, W] from each alert's three 2-D cutouts; alerts whose cutouts differ in shape, within one alert or
    between alerts, are named."""
    mixed = [i for i, planes in enumerate(out) if len({a.shape for a in planes}) > 1]
    if mixed:
        raise InputError(f"{name}: alert {mixed[0]}'s three cutouts differ in shape "
                         f"({[a.shape for a in out[mixed[0]]]}); they must be the same size")
    odd = [i for i, planes in enumerate(out) if planes[0].shape != out[0][0].shape]
    if odd:
        raise InputError(f"{name}: the alerts' cutouts differ in shape (alert 0: {out[0][0].shape}; alerts "
                         f"{odd[:6]}: {out[odd[0]][0].shape} ...): pass alerts with {STAMP}x{STAMP} cutouts, or "
                         "each alone")
    return np.array(out)


def _as_stamps(x, name: str, min_size: int) -> np.ndarray:
    """float64 [N, 3, H, H] from arrays (masked entries as NaN), tensors, nested lists, ZTF alert packets (dicts
    with the three cutouts' FITS bytes), FITS HDU lists of the three cutouts (one per alert) or an archive
    ImageSet; InputError otherwise."""
    from astropy.io import fits

    if hasattr(x, "in_row_order") and hasattr(x, "header_values"):  # archive products (astrohub.vo ImageSet)
        x = x.in_row_order()
    if isinstance(x, dict) or (isinstance(x, (list, tuple)) and x and all(isinstance(v, dict) for v in x)):
        x = _from_packets([x] if isinstance(x, dict) else x, name)
    if isinstance(x, fits.HDUList) or (isinstance(x, (list, tuple)) and x
                                       and all(isinstance(v, fits.HDUList) for v in x)):
        x = _from_hdulists([x] if isinstance(x, fits.HDUList) else x, name)
    if np.ma.isMaskedArray(x):
        x = np.ma.filled(x.astype(np.float64), np.nan)
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
        last = "; bands last? np.moveaxis(x, -1, 1)" if arr.shape[-1] == 3 else ""
        raise InputError(f"{name} expects 3 band(s) per alert ({', '.join(PLANES)}, in this order), got {c} "
                         f"(input shape {tuple(arr.shape)}; expected {want}{last})")
    if h != w or h < min_size:
        raise InputError(f"{name} expects square stamps of at least {min_size}x{min_size} pixels at {PIXEL_SCALE}\"/px "
                         f"(ZTF serves {STAMP}x{STAMP}), got {h}x{w} (input shape {tuple(arr.shape)})")
    return arr.astype(np.float64)


def _masked(x, name: str, min_size: int) -> np.ndarray:
    """:func:`_as_stamps`, every masked pixel (NaN, +-inf, |x| > 1e30) set to NaN."""
    arr = _as_stamps(x, name, min_size)
    arr[~np.isfinite(arr) | (np.abs(arr) > BAD_VALUE)] = np.nan
    return arr


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
    out, flags, _ = _prepare(x, card_inputs, name)
    return out, flags


def _prepare(x, card_inputs: dict, name: str) -> tuple[np.ndarray, OODFlags, dict[str, np.ndarray]]:
    """:func:`prepare`, and the stamps' :func:`stamp_stats` it scaled them by."""
    _, s, _ = card_inputs["shape"]
    arr = _masked(x, name, min(s, int(card_inputs.get("min_stamp", s))))
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
    return out, flags, st


def stamp_features(x, card_inputs: dict, name: str = "model") -> tuple[np.ndarray, list[str]]:
    """Summary statistics of raw alert stamps, the inputs of the classifier's tree component (its card's
    ``stack``): float32 [N, 46] and the column names, sorted. From the whole 63x63 stamp prepared as
    :func:`prepare` does (each plane in units of its own sky noise), per plane (``s``cience, ``r``eference,
    ``d``ifference): sums of the central 3x3 and 7x7 pixels, the central 7x7's peak and minimum, sharpness
    (peak over |7x7 sum| + 1), counts of pixels above 5 and below -5, the mean |value| beyond 10 px, the sky
    level (arcsinh of counts) and log noise, and the centroid offset, size and ellipticity of the positive light
    in the central 15x15; across planes, the central 15x15's correlations (difference-science,
    difference-reference, science-reference), the difference's 7x7 sum over the science's, its minimum over its
    peak, the masked fraction and the difference's noise over the quadrature sum of the other two."""
    s = card_inputs["shape"][1]
    whole = {"shape": [3, STAMP, STAMP], "min_stamp": min(s, int(card_inputs.get("min_stamp", s)))}
    x, _, st = _prepare(x, whole, name)
    x = x.astype(np.float64)
    c, f = STAMP // 2, {}
    yy, xx = np.mgrid[:STAMP, :STAMP] - c
    outer = np.hypot(yy, xx) > 10
    yw, xw = np.mgrid[-7:8, -7:8]
    box = (slice(None), slice(c - 7, c + 8), slice(c - 7, c + 8))
    for p, tag in enumerate("srd"):
        a = x[:, p]
        c7 = a[:, c - 3:c + 4, c - 3:c + 4]
        f[tag + "_c3"] = a[:, c - 1:c + 2, c - 1:c + 2].sum((1, 2))
        f[tag + "_c7"] = c7.sum((1, 2))
        f[tag + "_peak"], f[tag + "_min"] = c7.max((1, 2)), c7.min((1, 2))
        f[tag + "_sharp"] = f[tag + "_peak"] / (np.abs(f[tag + "_c7"]) + 1)
        f[tag + "_n5"], f[tag + "_nneg5"] = (a > 5).sum((1, 2)), (a < -5).sum((1, 2))
        f[tag + "_outer"] = np.abs(a * outer).sum((1, 2)) / outer.sum()
        f[tag + "_noise"] = np.log(st["noise"][:, p] + 1e-3)
        f[tag + "_bg"] = np.arcsinh(st["background"][:, p])
        w = np.clip(a[box], 0, None)
        t = w.sum((1, 2)) + 1e-6
        mx, my = (w * xw).sum((1, 2)) / t, (w * yw).sum((1, 2)) / t
        mxx = (w * xw ** 2).sum((1, 2)) / t - mx ** 2
        myy = (w * yw ** 2).sum((1, 2)) / t - my ** 2
        mxy = (w * xw * yw).sum((1, 2)) / t - mx * my
        f[tag + "_off"], f[tag + "_size"] = np.hypot(mx, my), mxx + myy
        f[tag + "_ell"] = np.hypot(mxx - myy, 2 * mxy) / (mxx + myy + 1e-6)

    def corr(a, b):
        a, b = a[box].reshape(len(a), -1), b[box].reshape(len(b), -1)
        a, b = a - a.mean(1, keepdims=True), b - b.mean(1, keepdims=True)
        return (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1) + 1e-9)

    sci, ref, diff = x[:, 0], x[:, 1], x[:, 2]
    f["corr_ds"], f["corr_dr"], f["corr_sr"] = corr(diff, sci), corr(diff, ref), corr(sci, ref)
    f["d_over_s"] = f["d_c7"] / (np.abs(f["s_c7"]) + 10)
    f["negfrac_d"] = f["d_min"] / (np.abs(f["d_peak"]) + 1)
    f["nan"] = st["nan_fraction"]
    n = st["noise"]
    f["noise_ratio"] = n[:, 2] / np.sqrt(n[:, 0] ** 2 + n[:, 1] ** 2 + 1e-6)
    names = sorted(f)
    return np.stack([f[k] for k in names], 1).astype(np.float32), names
