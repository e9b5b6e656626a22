"""Light curves as the surveys serve them, made into what the transit vetter reads.

- :func:`read`: a Kepler / K2 / TESS light-curve FITS file (``TIME`` and ``PDCSAP_FLUX``, keeping only cadences
  without a flag of the mission's in ``QUALITY`` / ``SAP_QUALITY``, or with ``quality="default"`` only those
  without a flag that marks them useless, :data:`QUALITY_MASKS`; ``SAP_FLUX`` or ``FLUX`` when there is no PDC
  flux) or a text table
  (whitespace or comma separated: time in the first column, the flux in the second, or the column named
  ``dtr_flux`` / ``pdcsap_flux`` / ``flux`` in a ``#`` header, like the Villanova Kepler EB catalogue's
  ``lc.data`` files, or ``Mag`` / ``Magnitude`` as ground surveys write them: made flux relative to the median);
  ``.npy`` arrays with rows (time, flux[, error]).
- :func:`curve_columns`: a table's time and flux (or magnitude) columns, by name or by UCD (``time.epoch``,
  ``phot.flux``, ``phot.mag``: IVOA's time-series model), for files and tables alike.
- :func:`stitch`: one star's files (Kepler quarters, K2 campaigns, TESS sectors) made one curve.
- :func:`as_curves`: whatever a user hands over (file paths, :class:`LightCurve` objects, astropy Tables /
  TableSets with TIME and FLUX columns, lightkurve LightCurves and collections of them, pandas DataFrames, dicts
  of columns, record arrays, or flux arrays with ``time=``) -> validated (time, flux) pairs, with messages
  naming what is wrong (too short, no finite flux, time not increasing, unknown file type ...).
- :func:`prepare`: one curve onto the model's grid: non-finite fluxes dropped, divided by the median, binned to
  the 29.4-min Kepler long cadence when finer (TESS 2-min, Kepler short cadence), gaps kept as gaps.
- :func:`windows`: a long curve cut into windows of about :data:`WINDOW_DAYS` (one TESS sector): the vetter's
  unit of decision.
- :func:`curve_stats`: what the out-of-distribution flags compare with the ranges on the model's card.

Serving code: imports nothing from training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...defaults import TIME_AXIS_NAMES, TIME_AXIS_UCDS
from .columns import as_table, column_values, is_pandas
from .images import InputError

GRID_DAYS = 0.0204335  # the model's grid: Kepler long cadence, 29.4 min
WINDOW_DAYS = 27.4  # a window: one TESS sector; longer curves are cut into windows of about this length
MIN_SPAN_DAYS = 2.0
MAX_STEP_DAYS = 1.0  # a median time step over this: not days (seconds, minutes)
SPARSE_BIN = 1 / 3  # prepare(): grid bins with under this fraction of the typical bin's points are left out
SCREEN = (3.0, 6.0, 0.05)  # screen(): bins scattering 3x the typical one's, points over 6 sigma; at most 5% of either
TEXT_SUFFIXES = (".txt", ".dat", ".tran", ".csv", ".tbl", ".data", ".lc", ".ascii")
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz")
# in order of preference: a pipeline's systematics-corrected flux before raw aperture flux (TESS QLP's KSPSAP_FLUX
# before its SAP_FLUX, which keeps the scattered light; eleanor's CORR_FLUX before RAW_FLUX; K2SFF's FCOR)
FLUX_NAMES = ("PDCSAP_FLUX", "DTR_FLUX", "KSPSAP_FLUX", "FLUX", "SAP_FLUX", "CORR_FLUX", "RAW_FLUX", "FCOR")
FLUX_UCDS = ("phot.flux", "phot.flux.density", "phot.count")
MAG_NAMES = ("MAG", "MAGNITUDE")  # ground-based surveys' light curves (KELT, ASAS-SN ...): made relative flux
MAG_UCDS = ("phot.mag",)
TIME_NAMES = TIME_AXIS_NAMES + ("T",)
# QUALITY bits that mark a cadence useless, per mission: lightkurve's "default" (Kepler Archive Manual table 2.3;
# TESS Science Data Products Description Document table 28). Kepler/K2: attitude tweak, safe mode, coarse point,
# Earth point, desaturation, manual exclude, detector anomaly, no data, thruster firing. TESS: attitude tweak, safe
# mode, coarse point, Earth point, desaturation, manual exclude. The other flags say something happened (a rolling
# band, a corrected cosmic ray, an impulsive outlier, which can be a transit's own points): the cadence is kept.
# "hard" adds the flags that mark good and bad cadences alike; "hardest" drops any flag the mission defines (Kepler/K2
# bits up to 2^20, TESS up to 2^15), not the bits a high-level product adds above them for its own bookkeeping (e.g.
# the points its detrending clipped, which a deep transit's can be). read() uses "hardest" unless told otherwise:
# the vetter was measured that way, and "default" lost two of the kit's 48 eclipsing-binary windows (README,
# "Quality flags"). A file from an unknown mission loses any flagged cadence whatever is asked.
_KEPLER_USELESS = 1 | 2 | 4 | 8 | 32 | 256 | 16384 | 65536 | 1048576
_TESS_USELESS = 1 | 2 | 4 | 8 | 32 | 128
QUALITY_MASKS = {
    "kepler": {"default": _KEPLER_USELESS, "hard": _KEPLER_USELESS | 1024 | 128 | 8192 | 524288,
               "hardest": (1 << 21) - 1 - 512},  # bit 2^9 is unused by Kepler
    "tess": {"default": _TESS_USELESS, "hard": _TESS_USELESS | 64 | 1024 | 2048 | 4096, "hardest": (1 << 16) - 1},
}
ANY_FLAG = 0xFFFFFFFF


@dataclass
class LightCurve:
    """One light curve as read from a file: ``time`` (days), ``flux`` (divided by its median; NaN kept),
    ``flux_err`` (same scale, or None) and where it came from (``meta``: file, mission, object, cadence_min,
    flux_column, n_flagged, n_dropped, quality_mask)."""

    time: np.ndarray
    flux: np.ndarray
    flux_err: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.time)


# ----------------------------------------------------------------------------- columns
def curve_columns(names, ucds, name: str, what: str = "table") -> tuple[str, str, bool]:
    """(time column, brightness column, whether it holds magnitudes) of a light-curve table with columns ``names``
    (UCDs ``ucds``, None where there is none): the time by name (:data:`TIME_NAMES`) or UCD ``time.epoch``; a flux by
    name (:data:`FLUX_NAMES`, in that order) or UCD (``phot.flux``, ``phot.count``), else magnitudes by name
    (:data:`MAG_NAMES`) or UCD ``phot.mag``. An InputError naming what was looked for when one is missing."""
    names = list(names)
    up = {str(n).upper(): n for n in names}
    atom = {n: str(c or "").lower().split(";")[0] for n, c in zip(names, list(ucds) + [None] * len(names))}

    def find(by_name, by_ucd):
        return next((up[c] for c in by_name if c in up), None) or next((n for n in names if atom[n] in by_ucd), None)
    tcol = find(TIME_NAMES, TIME_AXIS_UCDS)
    if tcol is None:
        raise InputError(f"{name}: {what} has no TIME column (looked for {', '.join(TIME_NAMES)} or UCD "
                         f"{', '.join(TIME_AXIS_UCDS)}; found {names})")
    fcol = find(FLUX_NAMES, FLUX_UCDS)
    if fcol is not None:
        return tcol, fcol, False
    mcol = find(MAG_NAMES, MAG_UCDS)
    if mcol is None:
        raise InputError(f"{name}: {what} has no FLUX column (looked for {', '.join(FLUX_NAMES)}, magnitudes "
                         f"{', '.join(MAG_NAMES)}, or UCDs {', '.join(FLUX_UCDS + MAG_UCDS)}; found {names})")
    return tcol, mcol, True


def relative_flux(mag) -> np.ndarray:
    """Magnitudes as flux relative to their median (10^(-0.4 (m - median m))); NaN stays NaN."""
    m = np.asarray(mag, np.float64)
    good = np.isfinite(m)
    return 10.0 ** (-0.4 * (m - (np.median(m[good]) if good.any() else 0.0)))


BAND_COLUMNS = ("BAND", "FILTER", "FILTERCODE", "FID", "PASSBAND")  # a multi-band table's band (ZTF, Gaia epochs)
BAND_UCDS = ("instr.filter", "instr.bandpass")


def table_curve(t, name: str, what: str = "table") -> tuple[np.ndarray, np.ndarray]:
    """(time, flux) of one light-curve table (:func:`curve_columns`; magnitudes made relative flux). A table whose
    band column holds several bands (ZTF's filtercode, Gaia's band) is refused: one curve is one band."""
    ucds = [getattr(t[c], "meta", {}).get("ucd") for c in t.colnames]
    for c, u in zip(t.colnames, ucds):
        if c.upper() in BAND_COLUMNS or str(u or "").lower().split(";")[-1] in BAND_UCDS:
            bands = sorted({str(v) for v in np.ma.compressed(np.ma.asarray(t[c]).astype(str))})
            if len(bands) > 1:
                raise InputError(f"{name}: {what} holds {len(bands)} bands in column {c!r} ({', '.join(bands[:6])}); "
                                 "a light curve is one band: give each band's rows as their own curve")
    tcol, fcol, mags = curve_columns(t.colnames, ucds, name, what)
    f = column_values(t[fcol])
    return column_values(t[tcol]), relative_flux(f) if mags else f


# ----------------------------------------------------------------------------- files
def read(path, name: str = "transit_vetter", quality="hardest") -> LightCurve:
    """A light curve from a Kepler / K2 / TESS FITS file or a text table (see the module's help). ``quality``: which
    flagged cadences of a FITS file are dropped, named as lightkurve's ``quality_bitmask``: "hardest" (any flag the
    mission defines: what the vetter reads), "default" (only the cadences flagged useless, :data:`QUALITY_MASKS`:
    lightkurve's default, which keeps e.g. a Kepler quarter's rolling-band cadences), "hard", "none", or an int
    bitmask."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{name}: light-curve file {str(p)!r} not found")
    low = p.name.lower()
    if low.endswith(FITS_SUFFIXES):
        lc = _read_fits(p, name, quality)
    elif low.endswith(TEXT_SUFFIXES):
        lc = _read_text(p, name)
    elif low.endswith(".npy"):
        lc = _read_npy(p, name)
    else:
        raise InputError(f"{name}: unknown light-curve file type {p.suffix!r} ({p.name}); expected a FITS light "
                         f"curve ({', '.join(FITS_SUFFIXES)}), a text table ({', '.join(TEXT_SUFFIXES)}) or .npy")
    lc.meta.setdefault("file", p.name)
    return lc


def stitch(parts, name: str = "transit_vetter", quality="hardest") -> LightCurve:
    """One star's light curves (file paths or :class:`LightCurve` objects: Kepler quarters, K2 campaigns, TESS
    sectors) made one: each divided by its own median (the files' apertures and levels differ), joined in time
    order. Files that overlap in time (the same data twice, or two cadences of one quarter) are refused.
    ``quality``: as for :func:`read`, for the paths."""
    if not isinstance(parts, (list, tuple)) or not parts:
        raise InputError(f"{name}: stitch takes a non-empty list of one star's light-curve files")
    lcs = []
    for v in parts:
        if not _is_file(v):
            raise InputError(f"{name}: a star's list of files holds a {type(v).__name__}; give file paths or "
                             "LightCurve objects (flux arrays go in with time=...)")
        lcs.append(v if isinstance(v, LightCurve) else read(v, name, quality))
    label = [lc.meta.get("file") or f"part {k}" for k, lc in enumerate(lcs)]
    stars = {}
    for lc, lab in zip(lcs, label):  # the files' own OBJECT headers, where they have one
        stars.setdefault(str(lc.meta.get("object") or "").strip(), lab)
    stars.pop("", None)
    if len(stars) > 1:
        which = ", ".join(f"{star} in {f}" for star, f in stars.items())
        raise InputError(f"{name}: the files are of different stars ({which}); stitch one star's files, and give "
                         "other stars as other items of the list")
    med = [_median(lc.flux, name, lab) for lc, lab in zip(lcs, label)]  # also refuses a part without flux
    order = sorted(range(len(lcs)), key=lambda k: float(np.nanmin(lcs[k].time)))
    for a, b in zip(order[:-1], order[1:]):
        if np.nanmax(lcs[a].time) >= np.nanmin(lcs[b].time):
            raise InputError(f"{name}: {label[a]} and {label[b]} overlap in time ({np.nanmin(lcs[b].time):.4f} - "
                             f"{np.nanmax(lcs[a].time):.4f}); stitch one cadence of each stretch, each file once")
    time = np.concatenate([lcs[k].time for k in order])
    flux = np.concatenate([lcs[k].flux / med[k] for k in order])
    errs = None
    if all(lc.flux_err is not None for lc in lcs):
        errs = np.concatenate([lcs[k].flux_err / med[k] for k in order])
    meta = {**lcs[order[0]].meta, "files": [label[k] for k in order], "file": " + ".join(label[k] for k in order)}
    return LightCurve(time, flux, errs, meta)


def quality_mask(quality, mission: str, name: str = "transit_vetter") -> int:
    """The QUALITY bitmask :func:`read` drops for ``quality`` ("default", "hard", "hardest", "none" or an int)
    on a file of ``mission`` (its TELESCOP / MISSION header)."""
    if isinstance(quality, (int, np.integer)) and not isinstance(quality, bool) and quality >= 0:
        return int(quality)
    if quality not in ("default", "hard", "hardest", "none"):
        raise InputError(f"{name}: quality={quality!r}: give 'default', 'hard', 'hardest', 'none' or a "
                         "non-negative int bitmask of the QUALITY flags to drop")
    if quality == "none":
        return 0
    m = mission.strip().lower()
    masks = QUALITY_MASKS["tess"] if m == "tess" else QUALITY_MASKS["kepler"] if m in ("kepler", "k2") else {}
    return masks.get(quality, ANY_FLAG)  # a file of an unknown mission: any flag drops the cadence


def _read_fits(p: Path, name: str, quality="hardest") -> LightCurve:
    from astropy.io import fits

    try:
        hdul = fits.open(p, memmap=False)
    except OSError as e:
        raise InputError(f"{name}: {p.name} is not a readable FITS file ({e})") from None
    with hdul:
        tab = next((h for h in hdul if isinstance(h, fits.BinTableHDU)), None)
        if tab is None:
            raise InputError(f"{name}: {p.name} has no binary table extension; expected a light-curve FITS file "
                             "(e.g. a Kepler/K2/TESS *_llc.fits / *_lc.fits with TIME and PDCSAP_FLUX)")
        cols = {c.upper(): c for c in tab.columns.names}
        ucds = [tab.header.get(f"TUCD{k + 1}") for k in range(len(tab.columns.names))]
        tcol, fcol, mags = curve_columns(tab.columns.names, ucds, name, p.name)
        d = tab.data
        t = np.asarray(d[tcol], np.float64)
        f = np.asarray(d[fcol], np.float64)
        ecol = cols.get(fcol.upper() + "_ERR")
        e = np.asarray(d[ecol], np.float64) if ecol and not mags else None
        f = relative_flux(f) if mags else f
        qcol = next((cols[c] for c in ("QUALITY", "SAP_QUALITY") if c in cols), None)
        h0, h1 = hdul[0].header, tab.header
        mission = str(h0.get("MISSION") or h0.get("TELESCOP") or h1.get("TELESCOP") or "").strip()
        mask = quality_mask(quality, mission, name)
        good = np.isfinite(t)
        n_flag = n_dropped = 0
        if qcol is not None:
            q = np.asarray(d[qcol]).astype(np.int64)
            dropped = (q & mask) != 0
            n_flag = int(((q != 0) & good).sum())
            n_dropped = int((dropped & good).sum())
            good &= ~dropped
        meta = {"mission": mission, "object": str(h0.get("OBJECT") or h1.get("OBJECT") or "").strip(),
                "flux_column": fcol, "quality_column": qcol, "n_flagged": n_flag, "n_dropped": n_dropped,
                "quality_mask": mask,
                "time_unit": str(h1.get(f"TUNIT{tab.columns.names.index(tcol) + 1}", "")).strip()}
        timedel = h1.get("TIMEDEL")
    t, f = t[good], f[good]
    e = e[good] if e is not None else None
    if timedel:
        meta["cadence_min"] = float(timedel) * 1440.0
    return _normalised(t, f, e, meta, name, p.name)


def _read_text(p: Path, name: str) -> LightCurve:
    header = None
    with open(p, errors="replace") as fh:
        for line in fh:
            s = line.strip()
            if not s:
                continue
            if s.startswith(("#", "%", "\\", "|")):
                header = s.lstrip("#%\\| ")
                continue
            first = s
            break
        else:
            raise InputError(f"{name}: {p.name} holds no data rows")
    delim = "," if "," in first else None
    try:
        float(first.replace(",", " ").split()[0])
        skip = 0
    except ValueError:  # a header line without a comment mark
        header, skip = first, 1
    try:
        a = np.genfromtxt(p, delimiter=delim, comments="#", skip_header=_header_rows(p) + skip, dtype=np.float64,
                          invalid_raise=False)
    except ValueError as e:
        raise InputError(f"{name}: {p.name} is not a numeric table ({e})") from None
    a = np.atleast_2d(a)
    if a.ndim != 2 or a.shape[1] < 2:
        raise InputError(f"{name}: {p.name} needs at least two columns (time, flux); found {a.shape[-1]}")
    names = [c.strip().upper() for c in (header.replace(",", " ").split() if header else [])]
    fi, mags = 1, False
    if len(names) == a.shape[1]:
        fi = next((names.index(c) for c in FLUX_NAMES if c in names), None)
        mags = fi is None and any(c in names for c in MAG_NAMES)  # a ground survey's table: HJD, Mag, Mag_err
        fi = next((names.index(c) for c in MAG_NAMES if c in names), 1) if fi is None else fi
    e = a[:, fi + 1] if a.shape[1] > fi + 1 and (not names or names[fi + 1].endswith("ERR")) and not mags else None
    meta = {"mission": "", "object": "", "flux_column": names[fi] if names else f"column {fi + 1}"}
    return _normalised(a[:, 0], relative_flux(a[:, fi]) if mags else a[:, fi], e, meta, name, p.name)


def _header_rows(p: Path) -> int:
    """Leading comment rows genfromtxt should skip (it does not skip '%'/'\\'/'|' comment styles)."""
    n = 0
    with open(p, errors="replace") as fh:
        for line in fh:
            s = line.strip()
            if s and not s.startswith(("%", "\\", "|", "#")):
                break
            n += 1
    return n


def _read_npy(p: Path, name: str) -> LightCurve:
    a = np.load(p, allow_pickle=False)
    if a.ndim != 2 or min(a.shape) < 2:
        raise InputError(f"{name}: {p.name} must be a 2-D array with rows (time, flux[, error]); got shape "
                         f"{a.shape}")
    if a.shape[0] > a.shape[1]:
        a = a.T
    return _normalised(a[0], a[1], a[2] if len(a) > 2 else None, {"mission": "", "object": ""}, name, p.name)


def _normalised(t, f, e, meta, name, what) -> LightCurve:
    order = np.argsort(t, kind="stable")
    t, f = t[order], f[order]
    e = e[order] if e is not None else None
    keep = np.concatenate([[True], np.diff(t) > 0])  # duplicate stamps in a file: keep the first
    t, f = t[keep], f[keep]
    e = e[keep] if e is not None else None
    med = _median(f, name, what)
    meta.setdefault("cadence_min", float(np.median(np.diff(t))) * 1440.0 if len(t) > 1 else float("nan"))
    return LightCurve(t, f / med, None if e is None else e / abs(med), meta)


def _median(f, name, what):
    good = np.isfinite(f)
    if not good.any():
        raise InputError(f"{name}: {what} has no finite flux values")
    med = float(np.median(f[good]))
    if not med > 0:
        raise InputError(f"{name}: {what}: the median flux is {med:.3g}; pass fluxes in a linear unit with a "
                         "positive level (e-/s, W m^-2 or relative flux ~1), not magnitudes or zero-centred residuals")
    return med


# ----------------------------------------------------------------------------- user input
def as_curves(x, name: str = "transit_vetter", time=None, min_points: int = 100, quality="hardest"
              ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Validated (time, flux) float64 pairs from file paths, :class:`LightCurve` objects, astropy Tables /
    TableSets (time and flux, or magnitudes, found by name or UCD: :func:`curve_columns`; lightkurve LightCurves,
    astropy TimeSeries and the other forms :func:`table_list` knows included) or flux arrays [N, T]
    (or [T]) with ``time`` [T] or [N, T] days. Fluxes may hold NaN (flagged cadences, gaps); time stamps must be
    finite where the flux is, and strictly increasing. In a list of files, an inner list (or tuple) holds one
    star's files: they are :func:`stitch`-ed into one curve. ``quality``: the flagged cadences of a FITS file that
    are dropped (see :func:`read`); it is refused for inputs that are not files, which arrive as they were cut."""
    quality_mask(quality, "", name)  # a bad value is named whatever the input
    if isinstance(x, (str, Path)) or isinstance(x, LightCurve):
        x = [x]
    if (isinstance(x, np.ndarray) or is_pandas(x) and not hasattr(x, "columns")) and np.ndim(x) == 1 and len(x) \
            and all(isinstance(v, (str, Path)) for v in np.asarray(x, object)):  # paths: df["file"] or its .values
        x = list(np.asarray(x, object))
    if isinstance(x, (list, tuple)) and x and any(_is_file(v) or isinstance(v, (list, tuple))
                                                  and any(_is_file(u) for u in v) for v in x):
        lcs = [_file_curve(v, i, name, quality) for i, v in enumerate(x)]
        curves = [(lc.time, lc.flux) for lc in lcs]
    elif quality != "hardest":
        raise InputError(f"{name}: quality={quality!r} chooses which flagged cadences of a light-curve file are read; "
                         f"this input is a {type(x).__name__}, not files: drop its flagged cadences (or set them to "
                         "NaN) before passing it, or pass the FITS files")
    elif (tabs := table_list(x)) is not None:
        curves = [table_curve(t, name) for t in tabs]
    else:
        curves = _from_arrays(x, time, name)
    if not curves:
        raise InputError(f"{name}: no light curves given")
    return [check(t, f, name, i, min_points) for i, (t, f) in enumerate(curves)]


def _is_file(v) -> bool:
    return isinstance(v, (str, Path, LightCurve))


def _file_curve(v, i: int, name: str, quality="hardest") -> LightCurve:
    """Item ``i`` of a list of files: a path, a :class:`LightCurve`, or an inner list of one star's files."""
    if isinstance(v, LightCurve):
        if quality != "hardest":
            raise InputError(f"{name}: item {i} of the list is a LightCurve already read (its file's flagged "
                             f"cadences already chosen); quality={quality!r} applies to file paths: read it with "
                             f"lightcurves.read(path, quality={quality!r}), or pass its path")
        return v
    if isinstance(v, (str, Path)):
        return read(v, name, quality)
    if isinstance(v, (list, tuple)):
        return stitch(v, name, quality)
    raise InputError(f"{name}: item {i} of the list is a {type(v).__name__}; a list of light-curve files holds "
                     "file paths, LightCurve objects or inner lists of one star's files (flux arrays go in with "
                     "time=...)")


def table_list(x):
    """Astropy tables from a TableSet (``astrohub.vo``), a single table (:func:`~.columns.as_table`: a Table, a
    lightkurve LightCurve or an astropy TimeSeries, pyvo's TAP results, a pandas DataFrame, a structured array, a
    dict of columns), or a list or other sequence of them (a lightkurve LightCurveCollection), else None."""
    if hasattr(x, "tables") and isinstance(x.tables, list):
        return list(x.tables)
    if (one := as_table(x)) is not None:
        return [one]
    if (isinstance(x, (list, tuple)) or hasattr(x, "__getitem__") and hasattr(x, "__len__")
            and not isinstance(x, (str, bytes, np.ndarray, dict)) and not is_pandas(x)) and len(x):
        tabs = [as_table(t) for t in x]
        return tabs if all(t is not None for t in tabs) else None
    return None


def _from_arrays(x, time, name):
    if (isinstance(x, (list, tuple)) and x and isinstance(time, (list, tuple)) and len(time) == len(x)
            and np.ndim(x[0]) and np.ndim(time[0])):  # one (time, flux) pair per curve; plain numbers: one curve
        return [(np.asarray(t, np.float64), np.asarray(f, np.float64)) for t, f in zip(time, x)]
    try:
        f = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name}: cannot read {type(x).__name__} as light curves; pass flux arrays with time=..., "
                         "light-curve file paths, or a TableSet / Table with TIME and FLUX columns") from None
    if f.ndim == 1:
        f = f[None]
    if f.ndim != 2:
        raise InputError(f"{name}: flux must be [n_curves, n_points] (or one curve), got shape {f.shape}")
    if time is None:
        raise InputError(f"{name}: pass the time stamps (days) with time=..., or a TableSet / Table "
                         "with TIME and FLUX columns")
    tm = np.asarray(time, dtype=np.float64)
    if tm.ndim == 1 and tm.shape[0] == f.shape[1]:
        tm = np.broadcast_to(tm, f.shape)
    if tm.shape != f.shape:
        raise InputError(f"{name}: time has shape {np.shape(time)} but flux has shape {f.shape}; "
                         "they must have the same length")
    return list(zip(tm, f))


def check(t, f, name, i, min_points=100):
    """One curve validated: same lengths, finite time stamps where the flux is finite (rows where both are
    NaN are dropped), strictly increasing time in days (a median step over :data:`MAX_STEP_DAYS` is refused:
    seconds or minutes), enough finite points over at least 2 days; NaN fluxes kept."""
    t = np.asarray(t, np.float64)
    f = np.asarray(f, np.float64)
    if t.ndim != 1 or f.ndim != 1 or len(t) != len(f):
        raise InputError(f"{name}: light curve {i}: {np.size(t)} time stamps but {np.size(f)} fluxes")
    keep = np.isfinite(t) | np.isfinite(f)
    t, f = t[keep], f[keep]
    if not np.all(np.isfinite(t)):
        raise InputError(f"{name}: light curve {i} has NaN/inf time stamps; drop those rows first")
    if np.any(np.diff(t) <= 0):
        res = float(np.spacing(np.float32(np.abs(t).max()))) if len(t) else 0.0
        if res > 1e-5 and np.all(np.diff(t) >= 0) and np.all(t == t.astype(np.float32)):  # float32 stamps
            raise InputError(f"{name}: light curve {i}: time stamps repeat: they look like float32, whose resolution "
                             f"at {np.abs(t).max():.6g} is {res:g} d ({res * 1440:.3g} min); pass float64 time, or "
                             "subtract an offset (e.g. BJD - 2457000) before converting to float32")
        raise InputError(f"{name}: light curve {i}: time stamps must be strictly increasing (sort by TIME "
                         "and drop duplicates)")
    good = np.isfinite(f)
    if not good.any():
        raise InputError(f"{name}: light curve {i} has no finite flux values")
    _median(f, name, f"light curve {i}")
    if good.sum() < min_points:
        raise InputError(f"{name}: light curve {i} has {int(good.sum())} finite points; "
                         f"need at least {min_points}")
    step = float(np.median(np.diff(t[good])))
    if step > MAX_STEP_DAYS:
        raise InputError(f"{name}: light curve {i}: the median time step is {step:g}; time must be in days (a "
                         f"2-min cadence is {2 / 1440:.5f} d, Kepler's long cadence {GRID_DAYS:.4f} d): in seconds, "
                         "divide by 86400; in minutes, by 1440")
    span = t[good][-1] - t[good][0]
    if span < MIN_SPAN_DAYS:
        raise InputError(f"{name}: light curve {i} spans {span:.2f} d; need at least {MIN_SPAN_DAYS:g} days "
                         "(a too-short light curve: phase-folded curves have lost their time axis)")
    return t, f


# ----------------------------------------------------------------------------- onto the model's grid
def prepare(t, f, grid: float = GRID_DAYS):
    """(time, relative flux) of one curve on the model's grid: finite fluxes only, divided by their median,
    averaged into ``grid``-day bins when the cadence is finer than 0.9 ``grid`` (bins without data are left
    out, so gaps stay gaps; the wild points and bins :func:`screen` finds are left out too, and so are bins
    with under :data:`SPARSE_BIN` of the typical bin's points)."""
    t = np.asarray(t, np.float64)
    f = np.asarray(f, np.float64)
    good = np.isfinite(f) & np.isfinite(t)
    t, f = t[good], f[good]
    med = np.median(f)
    f = f / (med if med > 0 else 1.0)
    if len(t) > 1 and np.median(np.diff(t)) < 0.9 * grid:
        idx = np.floor((t - t[0]) / grid).astype(np.int64)
        keep = screen(f, idx)
        t, f, idx = t[keep], f[keep], idx[keep]
        c = np.bincount(idx)
        ok = c > 0
        if SPARSE_BIN and ok.sum() >= 20:  # a bin of a few points (at a gap's edge, among flagged cadences) is
            ok &= c >= SPARSE_BIN * np.median(c[ok])  # sqrt(3)x noisier than the rest and can fake a dip
        t = (np.bincount(idx, t) [ok] / c[ok])
        f = (np.bincount(idx, f)[ok] / c[ok])
    return t, f


def screen(f, idx) -> np.ndarray:
    """Mask (True = keep) of the points of a curve finer than the grid (``idx``: each point's grid bin) that a
    file without quality flags may have left in, with :data:`SCREEN`'s (k, clip, most). Its residuals from a
    5-point running median (a transit or an eclipse is smooth on that scale) find (1) single wild points, over
    ``clip`` robust sigma (a cosmic ray, a momentum dump's cadence), and (2) bursts (scattered light, a pointing
    excursion), which averaged would look like a transit: grid bins with three or more wild points, or whose
    other points still scatter over ``k`` times as much as the typical bin's. Nothing is left out when over
    ``most`` of the points or bins would go: then the roughness is the star's (a fast pulsator), not an
    accident; nothing at all when ``k`` is 0."""
    from scipy.ndimage import median_filter

    k, clip, most = SCREEN
    keep = np.ones(len(f), bool)
    if not k or len(f) < 50:
        return keep
    res = f - median_filter(f, size=5, mode="nearest")
    sig = 1.4826 * np.median(np.abs(res - np.median(res)))
    wild = np.abs(res) > clip * max(sig, 1e-9)
    if wild.mean() <= most:
        keep &= ~wild
    c = np.bincount(idx[keep], minlength=idx[-1] + 1)
    rms = np.sqrt(np.bincount(idx[keep], (res * res)[keep], minlength=len(c)) / np.maximum(c, 1))
    full = c >= 5
    if full.sum() < 20:
        return keep
    bad = full & ((rms > k * np.median(rms[full])) | (np.bincount(idx, wild, minlength=len(c)) >= 3))
    if bad.sum() <= most * full.sum():
        keep &= ~bad[idx]
    return keep


def windows(t, length: float = WINDOW_DAYS) -> list[tuple[float, float]]:
    """[start, stop) times of the windows of a curve with time stamps ``t``: one window when it spans up to 1.5
    ``length``; otherwise ``round(span / length)`` windows of equal length (each 0.75-1.25 ``length``)."""
    t = np.asarray(t, np.float64)
    t0, t1 = float(t[0]), float(t[-1])
    n = max(1, int(round((t1 - t0) / length)))
    if (t1 - t0) <= 1.5 * length:
        n = 1
    edges = np.linspace(t0, t1, n + 1)
    edges[-1] = np.nextafter(t1, np.inf)
    return list(zip(edges[:-1].tolist(), edges[1:].tolist()))


def curve_stats(t, f, grid=None) -> dict:
    """What the OOD flags look at, on the raw curve: cadence (min), span (d), NaN fraction, and the noise
    (ppm per 29.4-min grid point, from point-to-point scatter after binning; ``grid``: the curve's
    :func:`prepare` output when the caller has it already)."""
    t = np.asarray(t, np.float64)
    f = np.asarray(f, np.float64)
    good = np.isfinite(f)
    cad = float(np.median(np.diff(t))) * 1440.0 if len(t) > 1 else float("nan")
    tg, fg = prepare(t, f) if grid is None else grid
    d = np.diff(fg)
    noise = 1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2) if len(d) > 2 else float("nan")
    return {"cadence_min": cad, "span_days": float(t[good][-1] - t[good][0]) if good.any() else 0.0,
            "nan_fraction": float(1 - good.mean()) if len(f) else 1.0, "noise_ppm": float(noise * 1e6)}
