"""ZTF alert stamps as ZTF serves them, made into the real/bogus classifier's input (the ``"ztf"`` adapter).

ZTF alert packets carry three 63x63 stamps at 1.01"/px (``cutoutScience``, ``cutoutTemplate``,
``cutoutDifference``) in raw counts: science and template keep their sky, masked and off-chip pixels are
NaN (some templates use -3.4e38 instead), the difference is served sign-flipped for fading candidates so
the candidate is positive. :func:`prepare` turns [N, 3, H, W] (or one [3, H, W]) such stamps, the alert
packets themselves (dicts as fastavro or a broker gives them, each cutout's ``stampData`` the gzip-compressed
FITS bytes), Avro files of such packets (the ZTF public alert archive's ``<candid>.avro``, a broker's
download: :func:`read_alerts`), FITS HDU lists of an alert's three cutouts (as ALeRCE serves them), or the
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

import os

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
AVRO_MAGIC = b"Obj\x01"  # an Avro object container file (ZTF's alert files, brokers' downloads)
AVRO_CODECS = ("null", "deflate")  # ZTF writes "null"; other codecs need libraries astrohub does not install
MAX_ALERTS = 20_000  # alerts read from one Avro file
BANDS = {1: "g", 2: "r", 3: "i"}  # ZTF's filter id (candidate.fid)
CANDIDATE_COLUMNS = ("candid", "jd", "magpsf", "sigmapsf", "isdiffpos", "rb", "drb")  # kept beside an alert's row


def is_alert_file(data: bytes) -> bool:
    """Whether ``data`` is an Avro object container file (as ZTF's alert files are)."""
    return bytes(data[:4]) == AVRO_MAGIC


def read_alerts(data: bytes, name: str) -> list[dict]:
    """The records of an Avro file's bytes (ZTF's alert packets: one per file in the public alert archive, many in a
    broker's download; gzip-compressed or not), at most :data:`MAX_ALERTS`. InputError, naming ``name``, for a file
    that is not Avro, is compressed with a codec other than :data:`AVRO_CODECS`, is truncated or damaged, or holds
    more alerts. Avro is data, not code: reading it runs nothing from the file."""
    import io
    import zlib

    import fastavro

    try:
        data = gunzip_limited(data)  # an alert file gzipped (.avro.gz)
    except (ValueError, zlib.error) as e:
        raise InputError(f"{name} is gzip-compressed but cannot be read ({e})") from None
    if not is_alert_file(data):
        raise InputError(f"{name} is not an Avro file (ZTF's alert packets; it starts {bytes(data[:8])!r})")
    out = []
    try:
        reader = fastavro.reader(io.BytesIO(data))
        codec = reader.metadata.get("avro.codec", "null")
        if codec not in AVRO_CODECS:
            raise InputError(f"{name} is an Avro file compressed with {codec!r}: astrohub reads "
                             f"{' or '.join(AVRO_CODECS)} (ZTF's own alert files are 'null')")
        for rec in reader:
            if len(out) == MAX_ALERTS:
                raise InputError(f"{name} holds more than {MAX_ALERTS} alerts: split it")
            out.append(rec)
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - fastavro's errors for a damaged file are of many types
        raise InputError(f"{name} is not a readable Avro file, truncated or damaged, after {len(out)} record(s) "
                         f"({type(e).__name__}: {e})") from None
    return out


def alert_summary(packet, k: int, name: str) -> dict:
    """What a file listing shows of alert ``k`` of ``name``: ``objectId``, ``ra``, ``dec``, ``band`` (g, r, i from
    ``fid``) and :data:`CANDIDATE_COLUMNS` (NaN where the packet has none; ``candid`` an integer, -1 when none;
    ``isdiffpos`` "t" or "f"). Its stamps are decoded and checked (:func:`alert_stamps`): InputError when it is not a
    ZTF alert packet or its cutouts cannot be used, or are not ZTF's 63x63 (a batch takes stamps of one size, and
    cutouts cut short, at a CCD's edge, would put the candidate off their centre)."""
    if not isinstance(packet, dict) or not isinstance(packet.get("candidate"), dict):
        keys = sorted(packet)[:6] if isinstance(packet, dict) else type(packet).__name__
        raise InputError(f"{name}: record {k} is not a ZTF alert packet (no candidate record; it has {keys})")
    if (shape := alert_stamps(packet, k, name).shape[1:]) != (STAMP, STAMP):
        raise InputError(f"{name}: alert {k}'s stamps are {shape[0]}x{shape[1]}, not ZTF's {STAMP}x{STAMP} (cut short "
                         "at a CCD's edge?): the candidate would not be at their centre")
    cand = packet["candidate"]

    def number(v):
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else np.nan

    candid = packet.get("candid", cand.get("candid"))
    return {"objectId": str(packet.get("objectId") or ""), "ra": number(cand.get("ra")), "dec": number(cand.get("dec")),
            "band": BANDS.get(cand.get("fid"), ""),
            **{c: number(cand.get(c)) for c in CANDIDATE_COLUMNS},
            "candid": int(candid) if isinstance(candid, int) and not isinstance(candid, bool) else -1,
            "isdiffpos": str(cand.get("isdiffpos") or "")}


def alert_stamps(packet: dict, k: int, name: str) -> np.ndarray:
    """Alert ``k``'s (of ``name``) three cutouts (science, reference, difference) as float32 [3, H, W], as served."""
    for key in PACKET_KEYS:
        if packet.get(key) is None:
            raise InputError(f"{name}: alert {k} has no {key} (the packet's cutout is null)")
    planes = [_stamp(packet[key], f"alert {k} {key}", name) for key in PACKET_KEYS]
    if len({a.shape for a in planes}) > 1:
        raise InputError(f"{name}: alert {k}'s three cutouts differ in shape ({[a.shape for a in planes]}); they must "
                         "be the same size")
    return np.array(planes, np.float32)


def _from_avro_files(paths, name: str) -> np.ndarray:
    """[N, 3, H, W]: the alerts of Avro files (paths), in order; a file or alert that cannot be used named."""
    from pathlib import Path

    out = []
    for p in paths:
        try:
            data = Path(p).read_bytes()
        except OSError as e:
            raise InputError(f"{name}: cannot read {p} ({e.strerror or e})") from None
        where = f"{name}: {Path(p).name}"
        for k, packet in enumerate(read_alerts(data, where)):
            out.append((f"{Path(p).name}: alert {k}", alert_stamps(packet, k, where)))
    if not out:
        raise InputError(f"{name}: the Avro files hold no alert")
    if odd := [what for what, a in out if a.shape != out[0][1].shape]:
        raise InputError(f"{name}: the alerts' cutouts differ in shape ({out[0][0]}: {out[0][1].shape[1:]}; {odd[0]} "
                         "...): pass alerts of one size together")
    return np.array([a for _, a in out])


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
        out.append(list(alert_stamps(p, i, name)))
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
    with the three cutouts' FITS bytes) or Avro files of them (paths), FITS HDU lists of the three cutouts (one per
    alert) or an archive ImageSet; InputError otherwise."""
    from astropy.io import fits

    if hasattr(x, "in_row_order") and hasattr(x, "header_values"):  # archive products (astrohub.vo ImageSet)
        x = x.in_row_order()
    if isinstance(x, (str, os.PathLike)) or (isinstance(x, (list, tuple)) and x
                                             and all(isinstance(v, (str, os.PathLike)) for v in x)):
        x = _from_avro_files([x] if isinstance(x, (str, os.PathLike)) else x, name)  # ZTF's .avro alert files
    if isinstance(x, dict) or (isinstance(x, (list, tuple)) and x and all(isinstance(v, dict) for v in x)):
        x = _from_packets([x] if isinstance(x, dict) else x, name)
    if isinstance(x, fits.HDUList) or (isinstance(x, (list, tuple)) and x
                                       and all(isinstance(v, fits.HDUList) for v in x)):
        x = _from_hdulists([x] if isinstance(x, fits.HDUList) else x, name)
    if np.ma.isMaskedArray(x):
        x = np.ma.filled(x.astype(np.float64), np.nan)
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    if isinstance(x, (list, tuple)) and len(x) > 1 and all(hasattr(v, "shape") for v in x):
        if odd := [i for i, v in enumerate(x) if tuple(v.shape) != tuple(x[0].shape)]:
            raise InputError(f"{name}: the stamps differ in shape (stamp 0: {tuple(x[0].shape)}; stamp {odd[0]}: "
                             f"{tuple(x[odd[0]].shape)}): pass stamps of one size, ZTF's 3x{STAMP}x{STAMP}")
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


def nanmedian(a: np.ndarray) -> np.ndarray:
    """``np.nanmedian(a, axis=-1)``, the same values (NaN for an all-NaN row, without a warning), from one sort of the
    rows (NaN sort last): numpy's own takes a Python-level loop over the rows when they are longer than 600, 2x
    slower on a batch of 63x63 stamps."""
    s = np.sort(a, axis=-1)
    n = (~np.isnan(a)).sum(axis=-1)
    lo = np.take_along_axis(s, np.maximum(n - 1, 0)[..., None] // 2, -1)[..., 0]
    hi = np.take_along_axis(s, (n // 2)[..., None], -1)[..., 0]
    return np.where(n > 0, (lo + hi) / 2, np.nan)


def stamp_stats(stamps: np.ndarray) -> dict[str, np.ndarray]:
    """Per stamp: ``nan_fraction`` (pixels masked in any plane), background ``sky`` of the science plane
    and each plane's robust noise ``noise`` [N, 3] (counts). ``stamps``: float64 [N, 3, H, W], masked = NaN."""
    n = len(stamps)
    flat = stamps.reshape(n, 3, -1)
    with np.errstate(all="ignore"):
        bg = nanmedian(flat)
        noise = 1.4826 * nanmedian(np.abs(flat - bg[..., None]))
    masked = ~np.isfinite(flat).all(axis=1)
    return {"nan_fraction": masked.mean(axis=1), "sky": bg[:, 0], "background": bg, "noise": noise}


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
