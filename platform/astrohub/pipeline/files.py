"""The user's own files as rows to classify: :class:`Files` lists files (paths, folders, glob patterns), tells each
one's kind by its contents as the archive client tells a product's, and serves them to :func:`~.classification.classify`
as an archive serves its products, so every model, gallery, filter and export works on them unchanged.

>>> from astrohub import pipeline
>>> mine = pipeline.Files("~/data/*.fits")          # Kepler/TESS light curves, SDSS spectra, FITS cutouts ...
>>> mine.table["name", "kind"], mine.skipped         # one row per file; what could not be read, and why
>>> result = pipeline.classify(mine.table, "transit_vetter", mine)

- ZTF's alert packets (Avro files: one alert per file in ZTF's public alert archive, many in a broker's download) give
  a row per alert, its three stamps a 3-plane ``cutout`` for the real/bogus model, with the candidate's ``candid``,
  ``jd``, ``magpsf``, ``isdiffpos`` and ZTF's own ``rb`` and ``drb`` beside it (:data:`ALERT_COLUMNS`).
- JPEG/PNG images are ``colour`` images (Galaxy Zoo's stamps); FITS files are read as
  :func:`astrohub.vo.products.product_kind` reads a served product: images are ``cutout``\\ s, 1-D images with
  wavelengths and tables with a spectral axis ``spectrum``\\ s, tables with a time axis and a flux (or magnitudes)
  ``lightcurve``\\ s; VOTables and text tables (ECSV, CSV, whitespace columns) by their column names or UCDs. A text
  table without column names is a light curve when its first column steps by under :data:`MAX_TIME_STEP` days
  (Kepler's 30-min cadence is 0.02 d), a spectrum when it steps by more through optical/infrared wavelengths in A.
- A table that is none of these (a catalogue: SkyServer's CSV of ugriz magnitudes) gives its own rows instead, for
  the models that read the rows themselves (photo-z); one catalogue at a time, on its own.
- Every file reaches the model as its path, read by the model's own reader (quality flags, file layouts, bad pixels;
  FITS cutouts with a WCS resampled to the model's pixel scale, so a model is offered for any scale it resamples
  from), except cutouts for a survey adapter (ZTF alert stamps), which go as an ImageSet, as an archive serves them.
- Nothing is lost quietly: a file that cannot be read is in :attr:`Files.skipped` with the reason, and a list with no
  readable file is a ValueError naming the first reasons.

:func:`save_uploads` writes files uploaded in the panels (ipywidgets' FileUpload) into the user's folder, never over
an existing file and never through a link planted there; an uploaded zip or tar archive (MAST's download bundles) is
unpacked, flat, into a new folder of its own, without its links and devices.

A catalogue of targets (RA/Dec columns, in degrees or sexagesimal text) finds its products in an archive by position:
``targets = Files("targets.csv").in_archive(archive)``, then ``pipeline.classify(targets.table, model, archive)``.
"""

from __future__ import annotations

import glob
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from tqdm.auto import tqdm

from astrohub.defaults import (
    gunzip_limited,
    header_band,
    is_colour_file,
    is_fits_file,
    is_votable_file,
    oversized_image,
    votable_table,
)
from astrohub.models.inputs import ztf
from astrohub.vo import products as P

MAX_FILE_BYTES = 1 << 29  # 512 MiB: larger files are skipped (named) rather than read into memory to be typed
MAX_FILES = 20_000
MAX_MATCH_RADIUS = 60.0  # arcsec: a target list's products looked up in an archive (Files.in_archive)
MAX_TIME_STEP = 0.1  # days: a headerless table stepping by less is a light curve (times), by more a spectrum (A)
WAVELENGTHS_A = (900.0, 30_000.0)  # a headerless table's first column inside this range: wavelengths in A
KINDS = ("colour", "cutout", "lightcurve", "spectrum")
KIND_WORDS = {"colour": ("colour image", "colour images"), "cutout": ("cutout", "cutouts"),
              "lightcurve": ("light curve", "light curves"), "spectrum": ("spectrum", "spectra")}
UPLOADS = "~/astrohub-uploads"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._+-]+")


@dataclass
class PathSet:
    """The files of one kind for a table's rows (as ImageSet / TableSet are for an archive's): ``paths[k]`` is row
    ``rows[k]``'s file (a grouped row's: its files); ``missing``: rows whose file is of another kind."""

    paths: list[str | list[str]]
    rows: np.ndarray
    missing: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths)

    def in_row_order(self) -> list[str | list[str]]:
        return [self.paths[i] for i in np.argsort(self.rows, kind="stable")]


def _walk(folder: Path) -> list[Path]:
    """The files in ``folder`` and its subfolders, sorted by path (links to folders not followed; hidden files and
    folders not listed); at most MAX_FILES + 1, so that naming a large tree fails fast."""
    out = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for n in sorted(names):
            if not n.startswith(".") and (q := Path(root) / n).is_file():
                out.append(q)
                if len(out) > MAX_FILES:
                    return out
    return out


def _expand(paths, recursive: bool = False) -> tuple[list[Path], list[tuple[str, str]], list[tuple[str, str]]]:
    """Files named by ``paths`` (a path, folder or glob pattern, or a list of them; ``~`` expanded; a folder's
    subfolders too when ``recursive``; ``**`` in a pattern matches any depth), made absolute (not resolved: as
    named), in the order given (a folder's and a pattern's files sorted), each once (by the file a link leads to);
    what named nothing; and the folders whose subfolders were not listed."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths or [])
    found: dict[Path, Path] = {}
    nothing, unlisted = [], []
    for item in items:
        text = os.path.expanduser(os.fspath(item)).strip()
        if not text:
            continue
        p = Path(text)
        if p.is_dir():
            shown = [] if recursive else [q for q in sorted(p.iterdir()) if not q.name.startswith(".")]
            hits = _walk(p) if recursive else [q for q in shown if q.is_file()]
            why = "an empty folder (hidden files are not listed)"
            if subs := sum(q.is_dir() for q in shown):
                why = (f"{subs} subfolder{'s' if subs > 1 else ''} not listed (recursive=True, the tab's 'subfolders "
                       "too', lists them)")
                if hits:
                    unlisted.append((os.fspath(item), why))
        elif glob.has_magic(text):
            hits = sorted(Path(q) for q in glob.glob(text, recursive=True) if Path(q).is_file())
            why = "no file matches this pattern"
        elif p.exists() and not p.is_file():
            hits, why = [], "not a regular file"
        else:
            hits, why = ([p], "") if p.is_file() else ([], "no such file or folder")
        if not hits:
            nothing.append((os.fspath(item), why))
        for q in hits:
            found.setdefault(q.resolve(), Path(os.path.abspath(q)))
    return list(found.values()), nothing, unlisted


def _first_column_kind(t: Table) -> str | None:
    """A headerless numeric table: light curve (times stepping by under MAX_TIME_STEP days) or spectrum (increasing
    wavelengths in A), from its first column; None when it is neither."""
    if len(t.colnames) < 2 or len(t) < 3:
        return None
    try:
        x = np.asarray(t.columns[0], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    x = x[np.isfinite(x)]
    steps = np.diff(x)
    if len(steps) < 2 or not (steps > 0).all():
        return None
    step = float(np.median(steps))
    if step < MAX_TIME_STEP:
        return "lightcurve"
    lo, hi = WAVELENGTHS_A
    return "spectrum" if lo <= x[0] and x[-1] <= hi else None


def _table_kind(t: Table) -> str | None:
    """A table's kind: by its columns (:func:`_columns_kind`), a headerless one by its first column; None: a
    catalogue."""
    if all(re.fullmatch(r"col\d+", c) for c in t.colnames):
        return _first_column_kind(t)
    return _columns_kind(t.colnames, [t[c].meta.get("ucd") for c in t.colnames])


def _columns_kind(names, ucds) -> str | None:
    """A table's kind from its column names and UCDs: ``lightcurve`` (a time axis and a flux or magnitudes, as the
    vetter's own :func:`~astrohub.models.inputs.lightcurves.curve_columns` finds them), ``spectrum`` (a spectral
    axis), or None."""
    from astrohub.models.inputs.images import InputError
    from astrohub.models.inputs.lightcurves import curve_columns

    try:
        curve_columns(names, ucds, "files")
        return "lightcurve"
    except InputError:
        pass
    return "spectrum" if P.table_kind(names, ucds) == "spectrum" else None


def _read_text(data: bytes) -> Table | None:
    """A text table (ECSV, CSV, whitespace columns), or None when ``data`` is not one."""
    if b"\0" in data[:8192]:
        return None
    try:
        return Table.read(data.decode("utf-8"), format="ascii")
    except Exception:  # noqa: BLE001 - not a table astropy can parse: not a text table
        return None


UNKNOWN = ("not a JPEG/PNG image, FITS file, VOTable or text table (ECSV, CSV, whitespace columns) "
           "that astrohub reads")


POSITION_KEYS = (("RA_OBJ", "DEC_OBJ"), ("RA_TARG", "DEC_TARG"), ("PLUG_RA", "PLUG_DEC"), ("OBJRA", "OBJDEC"),
                 ("RA", "DEC"))  # Kepler/TESS, HST, SDSS spectra, ...; in degrees


def fits_target(hdul) -> tuple[str, float, float, str]:
    """(target, RA, Dec, band) an opened FITS file records: its ``OBJECT`` ("" when none; Kepler's "KIC 2306740",
    TESS's "TIC 25155310"); RA and Dec in degrees from :data:`POSITION_KEYS` (numbers, in any HDU), else its first
    image's centre by its celestial WCS (NaN, NaN when neither); the band its first image's header names (FILTER ...;
    "" when none). Headers only: no pixel is read."""
    target = next((str(h.header["OBJECT"]).strip() for h in hdul if str(h.header.get("OBJECT", "")).strip()), "")
    image = next((h for h in hdul if h.is_image and h.header.get("NAXIS", 0) >= 2), None)
    band = (header_band(image.header) or "") if image is not None else ""
    for ra_key, dec_key in POSITION_KEYS:
        for h in hdul:
            ra, dec = h.header.get(ra_key), h.header.get(dec_key)
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (ra, dec)) \
                    and 0 <= ra <= 360 and -90 <= dec <= 90:
                return target, float(ra), float(dec), band
    if image is not None and (w := P.celestial_wcs(image.header)) is not None:
        ny, nx = image.header["NAXIS2"], image.header["NAXIS1"]
        c = w.pixel_to_world((nx - 1) / 2, (ny - 1) / 2)
        return target, float(c.icrs.ra.deg), float(c.icrs.dec.deg), band
    return target, np.nan, np.nan, band


def identify(path: Path) -> tuple[str | None, str, object]:
    """(kind, reason, extra) of one file: kind one of :data:`KINDS` with (target, RA, Dec, band)
    (:func:`fits_target`; "", NaN, NaN, "" for other files), ``"catalogue"`` with its table, ``"alerts"`` (ZTF's Avro
    alert packets) with each alert's (:func:`_identify_alerts`), or None with the reason it cannot be used."""
    nowhere = ("", np.nan, np.nan, "")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        return None, f"{size / 2**20:.0f} MiB, over the {MAX_FILE_BYTES >> 20} MiB a listed file may have", None
    if size == 0:
        return None, "an empty file", None
    try:
        data = gunzip_limited(path.read_bytes())
    except (ValueError, zlib.error, EOFError) as e:
        return None, f"gzip-compressed but cannot be read ({e})", None
    except OSError as e:
        return None, f"cannot be read ({e.strerror or e})", None
    if is_colour_file(data):
        return "colour", "", nowhere
    if is_fits_file(data):
        return _identify_fits(data)
    if ztf.is_alert_file(data):
        return _identify_alerts(data, path.name)
    if packed := archive_kind(data):
        return None, f"a {packed} archive: unpack it and list its folder (uploaded archives are unpacked)", None
    if is_votable_file(data):
        try:
            t = votable_table(data)
        except Exception as e:  # noqa: BLE001 - any failure here is a broken file
            return None, f"is not a readable VOTable ({type(e).__name__}: {e})", None
    elif (t := _read_text(data)) is None:
        return None, UNKNOWN, None
    kind = _table_kind(t)
    return (kind, "", nowhere) if kind else ("catalogue", "", t)


def _identify_alerts(data: bytes, name: str) -> tuple[str | None, str, object]:
    """:func:`identify` of an Avro file of ZTF alert packets: ``"alerts"`` with (record, summary, "") per alert
    (:func:`~astrohub.models.inputs.ztf.alert_summary`; each alert's stamps decoded and checked), (record, None,
    reason) for one that cannot be used; None and the reason when the file cannot be read or holds no alert."""
    from astrohub.models.inputs.images import InputError

    try:
        packets = ztf.read_alerts(data, name)
    except InputError as e:
        return None, str(e).removeprefix(f"{name} ").removeprefix(f"{name}: "), None
    if not packets:
        return None, "an Avro file with no record", None
    out = []
    for k, packet in enumerate(packets):
        try:
            out.append((k, ztf.alert_summary(packet, k, name), ""))
        except InputError as e:
            out.append((k, None, str(e).removeprefix(f"{name}: ")))
    if all(got is None and "not a ZTF alert packet" in why for _, got, why in out):  # some other Avro data
        return None, f"an Avro file of {len(out)} record(s) that are not ZTF alert packets ({out[0][2]})", None
    return "alerts", "", out


def _identify_fits(data: bytes) -> tuple[str | None, str, object]:
    """:func:`identify` of a FITS file's bytes, opened once: every HDU's header read (astropy's VerifyWarnings, which
    a truncated file gives, taken as errors) and verified; an image declaring too many pixels refused unread; the
    kind from the headers (:func:`astrohub.vo.products.fits_kind`; a table's time and flux columns by the vetter's
    own finder), the target from :func:`fits_target`; a catalogue's table read only then."""
    import io
    import warnings

    from astropy.io.fits.verify import VerifyWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", VerifyWarning)
            hdul = fits.open(io.BytesIO(data), memmap=False, lazy_load_hdus=False)
            hdul.verify("exception")
    except Exception as e:  # noqa: BLE001 - any failure here is a damaged file
        return None, f"is not a readable FITS file, truncated or damaged ({type(e).__name__}: {e})", None
    with hdul:
        if why := oversized_image(hdul):
            return None, f"is refused: {why}", None
        kind, where = P.fits_kind(hdul), fits_target(hdul)
        if kind is not None and kind != "lightcurve":
            return kind, "", where
        tab = next((h for h in hdul if isinstance(h, fits.BinTableHDU)), None)
        if tab is None:
            return None, "a FITS file with no image and no table", None
        names, ucds = tab.columns.names, [tab.header.get(f"TUCD{k + 1}") for k in range(len(tab.columns))]
        if _columns_kind(names, ucds) == "lightcurve":
            return "lightcurve", "", where
        return "catalogue", "", _fits_table(tab, ucds)


def _fits_table(hdu, ucds) -> Table:
    """A FITS binary table HDU as a Table, its columns' UCDs (``TUCDn``) kept."""
    import warnings

    from astropy.units import UnitsWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnitsWarning)
        t = Table.read(hdu)
    for c, ucd in zip(t.colnames, ucds):
        if ucd:
            t[c].meta["ucd"] = ucd
    return t


def _angles(values, hours: bool, what: str, file: str) -> np.ndarray:
    """Text angles in degrees: decimal degrees, or sexagesimal (``10:02:33.1``, ``10h02m33.1s``; an RA's in hours,
    a Dec's in degrees); blank: NaN. A ValueError naming the first row that is not an angle in range."""
    from astropy import units as u
    from astropy.coordinates import Angle

    text = [str(v).strip() for v in values]
    out = np.full(len(text), np.nan)
    for k, v in enumerate(text):
        if not v or v.lower() in ("nan", "--", "null"):
            continue
        try:
            out[k] = float(v)
        except ValueError:
            try:
                out[k] = Angle(v, unit=u.hourangle if hours else u.deg).degree
            except (ValueError, u.UnitsError) as e:
                raise ValueError(f"{file}, row {k + 1}: {what} {v!r} is not an angle (decimal degrees, or "
                                 f"sexagesimal {'hours' if hours else 'degrees'} such as "
                                 f"{'10:02:33.1' if hours else '+02:12:00'}): {e}") from None
        if not (0 <= out[k] < 360 if hours else -90 <= out[k] <= 90):
            span = "0 to 360 (an RA in sexagesimal is read in hours: 0 to 24 h)" if hours else "-90 to 90"
            raise ValueError(f"{file}, row {k + 1}: {what} {v!r} is {out[k]:g} deg, outside {span}")
    return out


def _text_positions(t: Table, file: str) -> Table:
    """A catalogue whose RA/Dec columns (found as an archive's are: UCDs, else common names) hold text, sexagesimal as
    target lists write them (``10:02:33.1 +02:12:00``) or degrees with blanks, gets them in degrees, in place (same
    names; unit deg, UCDs pos.eq.ra/pos.eq.dec), so that the sky view and archive matching find them
    (:func:`_angles`)."""
    from astrohub.vo import metadata

    if metadata.position(t) is not None or (text := metadata.position(t, text=True)) is None:
        return t
    ra, dec = text
    for c, hours, ucd in ((ra, True, "pos.eq.ra;meta.main"), (dec, False, "pos.eq.dec;meta.main")):
        values = np.ma.filled(np.ma.asarray(t[c]).astype(str), "")
        t[c] = _angles(values, hours, c, file)
        t[c].unit, t[c].meta["ucd"] = "deg", ucd
        t[c].description = "the file's position, in degrees (read from its text)"
    return t


def _row_paths(value) -> str | list[str]:
    """A row's ``file``: one path, or a grouped row's paths (one per line) as a list."""
    parts = str(value).split("\n")
    return parts if len(parts) > 1 else parts[0]


COLOUR_BANDS = ("g", "r", "i")  # the bands of the colour model's composite, in the order it takes them


def _object_key(kind: str, target: str, ra: float, dec: float, band: str) -> tuple | None:
    """What makes files one object's when grouped: a light curve's target (OBJECT); a g, r or i cutout's target, else
    its position (to 1e-4 deg: a cutout service centres each band's image on the same sky position); None: alone."""
    if kind == "lightcurve" and target:
        return ("star", target)
    if kind == "cutout" and band in COLOUR_BANDS and (target or np.isfinite(ra)):
        return ("galaxy", target or f"{ra:.4f} {dec:+.4f}")
    return None


def _grouped(rows: list[tuple]) -> list[tuple]:
    """File rows (name, kind, target, ra, dec, band, n_files, paths) grouped per object: a star's light curves (one
    target) one ``lightcurve`` row, stitched by the vetter; a galaxy's g, r and i cutouts (one of each, one target or
    position) one ``colour`` row, composed by the colour model. Grouped rows are named by their target (else the
    position, "RA Dec" in degrees) and hold their paths one per line (g, r, i in that order); they sit where their
    first file was."""
    groups: dict[tuple, list[int]] = {}
    for k, row in enumerate(rows):
        if row[8] is None and (key := _object_key(*row[1:6])) is not None:  # a ZTF alert stays alone
            groups.setdefault(key, []).append(k)
    merged: dict[int, tuple] = {}  # first member -> the group's row
    absorbed: set[int] = set()
    for (what, label), members in groups.items():
        if what == "galaxy":
            bands = [rows[k][5] for k in members]
            if sorted(bands) != sorted(COLOUR_BANDS):
                continue  # not exactly one g, one r and one i: each stays a cutout
            members = [members[bands.index(b)] for b in COLOUR_BANDS]
        if len(members) < 2:
            continue
        _, kind, target, ra, dec, band, _, _, _ = rows[members[0]]
        paths = "\n".join(rows[k][7] for k in members)
        merged[min(members)] = (label, "colour" if what == "galaxy" else kind, target, ra, dec,
                                "gri" if what == "galaxy" else band, len(members), paths, None)
        absorbed |= set(members)
    return [merged.get(k, row) for k, row in enumerate(rows) if k in merged or k not in absorbed]


ALERT_COLUMNS = {"alert": "the alert's record in its Avro file (-1: the row is no ZTF alert)",
                 "candid": "ZTF's candidate id (-1: none)", "jd": "the exposure's start, Julian date",
                 "magpsf": "the candidate's PSF magnitude in the difference image (mag)",
                 "sigmapsf": "its 1-sigma error (mag)", "isdiffpos": "'t': brighter than the reference, 'f': fainter",
                 "rb": "ZTF's random-forest real/bogus score", "drb": "ZTF's deep real/bogus score (braai)"}


def _file_table(rows: list[tuple], grouped: bool) -> Table:
    table = Table(rows=[row[:8] for row in rows], names=("name", "kind", "target", "ra", "dec", "band", "n_files",
                                                        "file"), dtype=(str, str, str, float, float, str, int, str))
    if any(row[8] for row in rows):  # ZTF alerts: their record in the file and the candidate's own figures
        for c, what in ALERT_COLUMNS.items():
            none = -1 if c in ("alert", "candid") else "" if c == "isdiffpos" else np.nan
            table[c] = [row[8][c] if row[8] else none for row in rows]
            table[c].description = what
        table["magpsf"].unit = table["sigmapsf"].unit = "mag"
    if not grouped:
        table.remove_column("n_files")
    for c, ucd in (("ra", "pos.eq.ra;meta.main"), ("dec", "pos.eq.dec;meta.main")):
        table[c].unit, table[c].meta["ucd"] = "deg", ucd
        table[c].description = "the target's position in the file's header (NaN: none recorded)"
    table["band"].description = "a cutout's band (its header's FILTER; 'gri': a galaxy's three images)"
    table["target"].description = "the file's OBJECT header ('' when none)"
    if not np.isfinite(table["ra"]).any():
        table.remove_columns(["ra", "dec"])
    for c in ("target", "band"):
        if not any(table[c]):
            table.remove_column(c)
    return table


def _counts(kinds: list[str]) -> str:
    """'10 light curves, 2 spectra' of a list of row kinds."""
    return ", ".join(f"{kinds.count(k)} {KIND_WORDS[k][kinds.count(k) > 1]}" for k in KINDS if k in kinds)


def _shown(path: str) -> str:
    """A skipped entry as the summary names it: a file's or folder's name (not its folders), an archive member's
    "archive: member" as it is."""
    return Path(path).name if os.path.isabs(path) else path


def _a(kind: str) -> str:
    """'a light curve', 'a spectrum' ... of a row kind."""
    return f"a {KIND_WORDS[kind][0]}"


class Files:
    """The user's files as rows to classify, with the archive's interface to their products (:meth:`products`,
    :meth:`product_kinds`, :meth:`image_geometry`), so that ``pipeline.classify(files.table, model, files)`` and the
    panels run on them as on an archive's rows.

    ``paths``: a path, folder or glob pattern (``**`` matches any depth), or a list of them. ``recursive``: a
    folder's subfolders too (a MAST download's ``mastDownload/Kepler/kplr…/``). ``kind``: only rows of that kind (the
    others skipped). ``group``: one row per object: a star's light-curve files (Kepler quarters, TESS sectors: the same
    OBJECT) stitched into one curve by the vetter, a galaxy's g, r and i cutouts (the same OBJECT or position) one
    colour row the colour model composes (:func:`_grouped`; ``n_files``, and ``file`` the paths one per line).

    ``table``: one row per readable file (``name``, ``kind``, ``target`` (its header's OBJECT), ``ra``/``dec`` (its
    header's), ``band`` (a cutout's FILTER), ``file``: the absolute path; ``target``, ``ra``/``dec`` and ``band`` only
    when some file records them), or a catalogue file's own rows. ``skipped``: (path, reason) of every file or
    pattern that gave no row."""

    name = "your files"
    progress = False

    def __init__(self, paths, kind: str | None = None, group: bool = False, recursive: bool = False):
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be None (any) or one of {', '.join(KINDS)}, got {kind!r}")
        self.found = None  # a catalogue of targets looked up in an archive (in_archive)
        files, self.skipped, unlisted = _expand(paths, recursive)
        if len(files) > MAX_FILES:
            raise ValueError(f"{len(files)} files listed: at most {MAX_FILES} at a time (name a folder or pattern "
                             "with fewer, or classify them in batches)")
        rows, catalogues = [], []
        for p in tqdm(files, desc="reading your files", unit="file", disable=len(files) < 100, leave=False):
            what, why, extra = identify(p)
            if what == "catalogue" and kind:
                self.skipped.append((str(p), f"a catalogue, not {_a(kind)} (kind={kind!r})"))
            elif what == "catalogue":
                catalogues.append((p, extra))
            elif what == "alerts":  # a ZTF alert file: a row per alert, its triplet a cutout of 3 planes
                for k, got, why in extra:
                    if got is None:
                        self.skipped.append((f"{p.name}: alert {k}", why))
                    else:
                        rows.append((got["objectId"] or f"{p.name}: alert {k}", "cutout", got["objectId"], got["ra"],
                                     got["dec"], got["band"], 1, str(p), {"alert": k, **got}))
            elif what:
                rows.append((p.name, what, *extra, 1, str(p), None))
            else:
                self.skipped.append((str(p), why))
        rows = _grouped(rows) if group else rows  # before the kind is kept: g, r, i cutouts make a colour row
        for row in rows if kind else []:
            if row[1] != kind:
                self.skipped += [(path, f"{_a(row[1])}, not {_a(kind)} (kind={kind!r})") for path in row[7].split("\n")]
        rows = [row for row in rows if not kind or row[1] == kind]
        self.n_files = len({path for row in rows for path in row[7].split("\n")})  # an Avro file: many alerts
        if catalogues and (rows or len(catalogues) > 1):  # a catalogue gives its own rows: on its own only
            for p, _t in catalogues:
                self.skipped.append((str(p), "a catalogue (a table with no time or spectral axis): list it on its own "
                                              "to classify its rows"))
            catalogues = []
        self.skipped += unlisted  # named after the files: what was read comes first
        if catalogues:
            p, table = catalogues[0]
            self.table = _text_positions(table, p.name)
            self.table.meta["file"] = str(p)
        elif rows:
            self.table = _file_table(rows, group)
        else:
            first = "; ".join(f"{_shown(s)}: {why}" for s, why in self.skipped[:3]) or "nothing named"
            raise ValueError(f"no file to classify ({first}{' …' if len(self.skipped) > 3 else ''})")

    def __repr__(self) -> str:
        return f"<Files: {len(self.table)} rows, {len(self.skipped)} skipped>"

    @property
    def is_catalogue(self) -> bool:
        """Whether the rows are a catalogue file's own (no products)."""
        return "file" in self.table.meta

    def summary(self) -> str:
        """'12 files: 10 light curves, 2 spectra; 1 skipped (notes.txt: …)', or a catalogue's row count; with what was
        grouped per object, or a hint when one star has several files."""
        if self.is_catalogue and self.found is not None:
            pick = "" if self.found["shared"] else ": no kind that all have, so pick one (kind=, the tab's *only*)"
            text = (f"{len(self.table)} of {self.found['targets']} targets of {Path(self.table.meta['file']).name} "
                    f"have products in {self.found['archive']} within {self.found['radius']:g}\u2033 "
                    f"({', '.join(f'{n} with {_a(k)}' for k, n in self.found['kinds'].items())}{pick})")
        elif self.is_catalogue:
            text = f"{len(self.table)} rows of the catalogue {Path(self.table.meta['file']).name}"
        else:
            kinds = list(self.table["kind"])
            counts = _counts(kinds)
            if "alert" in self.table.colnames:  # ZTF's alerts: counted as alerts, not as cutouts
                n = int((self.table["alert"] >= 0).sum())
                counts = ", ".join(filter(None, [f"{n} ZTF alert{'s' if n > 1 else ''}",
                                                 _counts([k for k, a in zip(kinds, self.table["alert"]) if a < 0])]))
            text = f"{self.n_files} file{'s' if self.n_files != 1 else ''}: {counts}"
            if "n_files" in self.table.colnames:
                many = [f"{r['n_files']} files of {r['name']} stitched" if r["kind"] == "lightcurve" else
                        f"g, r, i of {r['name']} composed" for r in self.table[self.table["n_files"] > 1]]
                text += f" (one per object: {', '.join(many) or 'no files grouped'})"
            elif "target" in self.table.colnames:
                lcs = [str(t) for t, k in zip(self.table["target"], kinds) if t and k == "lightcurve"]
                if several := sorted({t for t in lcs if lcs.count(t) > 1}):
                    text += (f" ({', '.join(f'{lcs.count(t)} of {t}' for t in several[:3])}: group=True makes each "
                             "star's files one curve)")
        if self.skipped:
            path, why = self.skipped[0]
            text += f"; {len(self.skipped)} skipped ({_shown(path)}: {why}{' …' if len(self.skipped) > 1 else ''})"
        return text

    def in_archive(self, archive, kind: str | None = None, radius: float = 1.0) -> "Files":
        """A catalogue of targets, kept to the targets that have products (of ``kind`` only, when given: a list whose
        targets have different products offers a model for one kind at a time) in ``archive`` at their positions
        (ObsCore, else SIA or DataLink, as :mod:`astrohub.vo.obscore` finds a row's products; within ``radius``
        arcsec, at most :data:`MAX_MATCH_RADIUS`, which the rows keep for classifying: one TAP upload query for the
        whole list), so that ``pipeline.classify(targets.table, model, archive)`` classifies them; each target
        without one is in :attr:`skipped` ("targets.csv: row 3 (NGC 4414)", and why). ``found``: how many were found,
        of which kinds. Returns self; a ValueError when no target has a product, the radius is out of range, or the
        rows have no positions (:meth:`positions`)."""
        from astrohub.vo import obscore

        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be None (any) or one of {', '.join(KINDS)}, got {kind!r}")
        if not (isinstance(radius, (int, float)) and 0 < radius <= MAX_MATCH_RADIUS):
            raise ValueError(f"radius must be over 0 and at most {MAX_MATCH_RADIUS:g} arcsec (a wider one would take "
                             f"a neighbour's products for the target's), got {radius!r}")
        ra, dec = self.positions()
        if self.found is not None:
            raise ValueError("these targets were already looked up in an archive: list the file again")
        file = Path(self.table.meta["file"]).name
        kinds = [set() for _ in range(len(self.table))]
        wanted = (kind,) if kind else obscore.PRODUCT_KINDS
        self.table.meta[obscore.RADIUS_META] = float(radius)  # classify finds the same products again with it
        for row, got, _url in obscore.discover(archive, self.table, wanted).links:
            if got in wanted:
                kinds[row].add(got)
        what = KIND_WORDS[kind][0] if kind else "product"
        label = next((c for c in self.table.colnames if self.table[c].dtype.kind in "US"), None)
        for i in (i for i, k in enumerate(kinds) if not k):
            at = np.array([np.nan if v is np.ma.masked else float(v) for v in (self.table[ra][i], self.table[dec][i])])
            why = (f"no {what} in {archive.name} within {radius:g}\u2033 of RA {at[0]:.5f} Dec {at[1]:.5f}"
                   if np.isfinite(at).all() else "no position (its RA or Dec is blank)")
            self.skipped.append((f"{file}: row {i + 1}{f' ({self.table[label][i]})' if label else ''}", why))
        keep = [i for i, k in enumerate(kinds) if k]
        if not keep:
            what = _a(kind) if kind else "a product (cutout, colour image, light curve or spectrum)"
            raise ValueError(f"none of the {len(kinds)} targets of {file} has {what} in {archive.name} within "
                             f"{radius:g}\u2033 of its position")
        self.found = {"archive": archive.name, "targets": len(kinds), "radius": radius,
                      "kinds": {k: sum(k in kinds[i] for i in keep) for k in KINDS if any(k in kinds[i] for i in keep)},
                      "shared": bool(set.intersection(*(kinds[i] for i in keep)))}
        self.table = self.table[keep]
        return self

    def positions(self) -> tuple[str, str]:
        """A catalogue's (RA, Dec) columns, found as an archive's are (UCDs, else common names), for finding its rows'
        products in an archive by position: ``pipeline.classify(targets.table, model, archive)``. A ValueError saying
        why when these rows are files, or have no position."""
        from astrohub.vo import metadata

        if not self.is_catalogue:
            raise ValueError("these rows are your files, not a catalogue of targets: classify them as they are")
        if (pos := metadata.position(self.table)) is None:
            raise ValueError(f"{Path(self.table.meta['file']).name} has no positions to look up in an archive: no "
                             "RA/Dec columns (UCD pos.eq.ra and pos.eq.dec, or names such as ra and dec, RAJ2000 and "
                             f"DEJ2000); its columns: {', '.join(self.table.colnames[:8])}")
        return pos

    def _kinds(self, table: Table) -> list[str]:
        if "kind" not in table.colnames or "file" not in table.colnames:
            return [""] * len(table)
        return [str(k) for k in table["kind"]]

    def product_kinds(self, table: Table, sample: int | None = None, **_kw) -> set[str]:
        """The kinds of file every row of ``table`` has (one kind, or none for a mix: classify one kind at a time)."""
        kinds = set(self._kinds(table))
        return kinds if len(kinds) == 1 and "" not in kinds else set()

    def lacks(self, table: Table) -> str:
        """Why no model takes these file rows, in words (for :func:`~.compatible.why_none`)."""
        kinds = self._kinds(table)
        counts = _counts(kinds)
        if len(set(kinds)) > 1:
            return f"files of several kinds ({counts}): list one kind at a time"
        return f"{counts}, which no model of the zoo takes as {'they are' if len(kinds) > 1 else 'it is'}"

    def products(self, table: Table, kind: str, **_kw):
        """Row files of ``kind``: an ImageSet of the cutouts (as an archive serves them: for a survey adapter, see
        :meth:`by_path`), else a :class:`PathSet`; rows whose file is of another kind are ``missing``."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        kinds = self._kinds(table)
        rows = [i for i, k in enumerate(kinds) if k == kind]
        missing = [i for i, k in enumerate(kinds) if k != kind]
        paths = [_row_paths(table["file"][i]) for i in rows]
        if kind != "cutout":
            return PathSet(paths, np.array(rows, dtype=np.int64), missing)
        alert = list(table["alert"]) if "alert" in table.colnames else [-1] * len(table)
        files = [(r, p) for r, p in zip(rows, paths) if alert[r] < 0]
        got = P.image_set(files, [Path(p).read_bytes() for _, p in files], missing)
        packets: dict[str, list] = {}  # an Avro file's alerts, read once
        for r, p in ((r, p) for r, p in zip(rows, paths) if alert[r] >= 0):
            if p not in packets:
                packets[p] = ztf.read_alerts(Path(p).read_bytes(), Path(p).name)
            got.images.append(ztf.alert_stamps(packets[p][alert[r]], alert[r], Path(p).name))
            got.headers.append(fits.Header())
            got.urls.append(f"{p}: alert {alert[r]}")
            got.rows = np.append(got.rows, r)
        return got

    def paths(self, table: Table) -> list[str | list[str]]:
        """The rows' files, in row order (a grouped row's: the list of its files)."""
        if "file" not in table.colnames:
            raise ValueError("these rows are a catalogue's: they have no files")
        return [_row_paths(p) for p in table["file"]]

    def image_geometry(self, table: Table, **_kw) -> dict:
        """As the archive's: the first row's cutout (planes, shape, pixel scale, band); empty without one. Its planes
        are its first image's (a cube's), as :meth:`products` reads it; ``resamples``: it has a pixel scale, so the
        image models that read FITS by path resample it to theirs (:meth:`by_path`)."""
        if not len(table) or self._kinds(table)[0] != "cutout":
            return {}
        path = str(table["file"][0])
        if "alert" in table.colnames and table["alert"][0] >= 0:
            # a ZTF alert's triplet as served: the listing kept only alerts with three 63x63 stamps (alert_summary)
            return {"planes": len(ztf.PLANES), "shape": (ztf.STAMP, ztf.STAMP), "pixel_scale": ztf.PIXEL_SCALE,
                    "band": str(table["band"][0]) or None, "url": path, "resamples": False}
        hdul = P.open_fits(Path(path).read_bytes(), Path(path).name)  # read and opened once
        got, shape = P.geometry(hdul, path), P.image_hdu(hdul, path).data.shape
        return {**got, "planes": shape[0] if len(shape) == 3 else 1, "resamples": got["pixel_scale"] is not None}

    @staticmethod
    def by_path(card: dict) -> bool:
        """Whether a model takes these files' cutouts by path (FITS with a WCS, resampled to its pixel scale and cut
        to its input by :mod:`astrohub.models.inputs.fits`): every image model but those with a survey adapter
        (ZTF alert stamps, read as served: an ImageSet from :meth:`products`)."""
        return not card.get("inputs", {}).get("adapter")


def _safe_name(name: str) -> str:
    """A file name of ``name``'s last component with only letters, digits and ``._+-`` (no path, no leading dot)."""
    base = _SAFE_NAME.sub("_", Path(str(name).replace("\\", "/")).name).lstrip(".")
    return base[:120] or "upload"


def archive_kind(data: bytes) -> str | None:
    """``"zip"`` or ``"tar"`` (plain, or compressed by gzip, bzip2 or xz: MAST's download bundles) when ``data`` is
    one, from its first bytes (a gzip-compressed FITS file is not a tar); else None."""
    import bz2
    import lzma

    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    head = bytes(data[:1024])
    for magic, decompressor in ((b"\x1f\x8b", lambda: zlib.decompressobj(16 + zlib.MAX_WBITS)),
                                (b"BZh", bz2.BZ2Decompressor), (b"\xfd7zXZ\x00", lzma.LZMADecompressor)):
        if head.startswith(magic):
            try:
                head = decompressor().decompress(bytes(data[:65536]), 1024)
            except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):
                return None
    return "tar" if head[257:262] == b"ustar" else None


def _claim(folder: Path, base: str, create, split: bool = True):
    """``create(path)`` for the first free name in ``folder``: ``base``, else ``stem-1.ext``, ``stem-2.ext`` …
    (``base-1`` … without ``split``); ``create`` raises FileExistsError for a name taken (a file, a folder or a
    planted link). Returns (path, what ``create`` returned)."""
    stem, dot, ext = base.partition(".") if split else (base, "", "")
    for k in range(10_000):
        target = folder / (base if k == 0 else f"{stem}-{k}{dot}{ext}")
        try:
            return target, create(target)
        except FileExistsError:
            continue
    raise ValueError(f"{folder} already holds 10,000 files or folders named like {base}: clear some")


def _write_new(folder: Path, base: str, chunks, limit: int) -> Path | None:
    """Write ``chunks`` (bytes) to a new file in ``folder`` named ``base``, else ``stem-1.ext``, ``stem-2.ext`` …:
    never over an existing file, nor through a link planted at the name (``O_EXCL | O_NOFOLLOW``), 0600. None (and
    nothing left) when the chunks pass ``limit`` bytes; nothing left either when reading them fails."""
    target, fd = _claim(folder, base, lambda t: os.open(t, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    size = 0
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    break
                f.write(chunk)
    except BaseException:  # a damaged member (a bad CRC, a stream ending early): no partial file is left
        target.unlink()
        raise
    if size > limit:
        target.unlink()
        return None
    return target


MAX_UNPACKED_BYTES = 1 << 32  # 4 GiB: what one uploaded archive may unpack to
_CHUNK = 1 << 20
_ZIP_METHODS = (0, 8, 12, 14)  # stored, deflate, bzip2, lzma: what zipfile reads
_ARCHIVE_SUFFIX = re.compile(r"(\.(zip|tar|tgz|tbz2?|txz))?(\.(gz|bz2|xz))?$", re.I)


def _hidden(part: str) -> bool:
    """Whether a component of an archive member's name is hidden (``.DS_Store``; not ``.`` or ``..``, which only
    climb, and are dropped with the rest of the path)."""
    return part.startswith(".") and part not in (".", "..")


def _bytes(n: int) -> str:
    """'4 GiB', '1.5 MiB', '300 bytes'."""
    return next((f"{n / (1 << k):.3g} {unit}" for unit, k in (("GiB", 30), ("MiB", 20), ("KiB", 10)) if n >= 1 << k),
                f"{n} bytes")


def _members(data: bytes, kind: str):
    """(name, reason, chunks) of each member of a zip or tar archive, in its order: regular files get their contents as
    chunks (read as the archive is, so a member's declared size is never trusted) and no reason, as does a tar's hard
    link to an earlier member (``tar`` writes one for each further name of a file: its contents come from the archive,
    never from a file outside it); symbolic links, devices and encrypted members get a reason and no chunks; folders
    and hidden files (macOS's ``__MACOSX/._*``) are left out."""
    import io
    import stat
    import tarfile
    import zipfile

    def read(f):
        while chunk := f.read(_CHUNK):
            yield chunk

    if kind == "zip":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for info in z.infolist():
                parts = info.filename.replace("\\", "/").split("/")
                if info.is_dir() or any(_hidden(q) or q == "__MACOSX" for q in parts):
                    continue
                if stat.S_ISLNK(info.external_attr >> 16):
                    yield info.filename, "a link (links in an archive are not unpacked)", None
                elif info.flag_bits & 1:
                    yield info.filename, "encrypted (unpack it yourself with its password)", None
                elif info.compress_type not in _ZIP_METHODS:
                    yield info.filename, (f"compressed by a method Python's zipfile cannot read (method "
                                          f"{info.compress_type}: Deflate64 is what Windows uses for large files); "
                                          "unpack it yourself"), None
                else:
                    with z.open(info) as f:
                        yield info.filename, "", read(f)
        return
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as t:
        for m in t:
            if m.isdir() or any(_hidden(q) for q in m.name.split("/")):
                continue
            if m.issym():
                yield m.name, "a link (links in an archive are not unpacked)", None
            elif m.islnk():  # a hard link: a copy of an earlier member's contents, read from the archive itself
                try:
                    yield m.name, "", read(t.extractfile(m))
                except KeyError:
                    yield m.name, "a hard link to a file that is not in the archive (not unpacked)", None
            elif not m.isreg():
                yield m.name, "not a regular file (a device or pipe)", None
            else:
                yield m.name, "", read(t.extractfile(m))


def _unpack(data: bytes, kind: str, name: str, folder: Path) -> tuple[Path, list[tuple[str, str]]]:
    """Unpack an uploaded zip or tar archive into a new folder of ``folder`` named after it, flat: each regular file by
    the last component of its name (so no name climbs out: ``../``, absolute paths), written as :func:`_write_new`
    writes; symbolic links, hard links out of the archive, devices, a member over :data:`MAX_FILE_BYTES`, and
    everything past :data:`MAX_FILES` members or :data:`MAX_UNPACKED_BYTES` are not unpacked but named with the reason.
    Returns the folder and what was not."""
    import lzma
    import tarfile
    import zipfile

    target, _ = _claim(folder, _ARCHIVE_SUFFIX.sub("", _safe_name(name)) or "upload", lambda t: t.mkdir(0o700),
                       split=False)  # a new folder, never an existing one or a link planted at the name
    skipped, total, n = [], 0, 0
    try:
        for member, why, chunks in _members(data, kind):
            where = f"{name}: {member}"
            if chunks is None:
                skipped.append((where, why))
            elif n >= MAX_FILES or total >= MAX_UNPACKED_BYTES:
                skipped.append((where, f"past the {MAX_FILES} files or {_bytes(MAX_UNPACKED_BYTES)} an archive "
                                       "may unpack to"))
            elif (out := _write_new(target, _safe_name(member), chunks,
                                    limit := min(MAX_FILE_BYTES, MAX_UNPACKED_BYTES - total))) is None:
                skipped.append((where, f"over the {_bytes(MAX_FILE_BYTES)} a file may have" if limit == MAX_FILE_BYTES
                                else f"past the {_bytes(MAX_UNPACKED_BYTES)} an archive may unpack to"))
            else:
                n, total = n + 1, total + out.stat().st_size
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError) as e:
        skipped.append((name, f"a damaged {kind} archive, unpacked up to here ({type(e).__name__}: {e})"))
    return target, skipped


def save_uploads(uploads, folder=UPLOADS) -> tuple[list[Path], list[tuple[str, str]]]:
    """Write files uploaded in the panels (ipywidgets FileUpload's value: dicts with ``name`` and ``content``; or
    (name, bytes) pairs) into ``folder`` (created 0700), each 0600. A name keeps only its last component and safe
    characters; a file of that name already there is never overwritten, nor a link planted there followed (``O_EXCL |
    O_NOFOLLOW``): the upload is saved as ``name-1.ext``, ``name-2.ext`` … A zip or tar archive (.tar.gz, .tgz …; by
    its contents) is unpacked, flat, into a new folder named after it (:func:`_unpack`: links and devices are not).
    Returns the paths written (a file, or an archive's folder), in order, and the archive members not unpacked with
    the reason."""
    folder = Path(os.path.expanduser(os.fspath(folder)))
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.is_symlink() or not folder.is_dir():
        raise ValueError(f"{folder} is not a folder of yours to save uploads in (a link or a file)")
    out, skipped = [], []
    for item in uploads:
        name, content = (item["name"], item["content"]) if isinstance(item, dict) else item
        content = bytes(content)
        if kind := archive_kind(content):
            where, missed = _unpack(content, kind, str(name), folder)
            out.append(where)
            skipped += missed
        else:
            out.append(_write_new(folder, _safe_name(name), [content], len(content)))
    return out, skipped
