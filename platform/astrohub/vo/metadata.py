"""What a table's columns are, from standard metadata: UCDs first, well-known survey column names when a
service declares none. Nothing here knows astrohub's own schema.

- photometry: magnitudes (UCD ``phot.mag``, band from ``em.opt.U`` ... and the column's band letter) paired
  with their errors (``stat.error;phot.mag``); else the column names of SDSS (``psfMag_u``/``psfMagErr_u``,
  ``modelMag_u``, ``u``/``err_u``), the Legacy Surveys (``mag_g``/``magerr_g``), Pan-STARRS
  (``gMeanPSFMag``/``gMeanPSFMagErr``), VizieR (``umag``/``e_umag``) and Gaia (``phot_g_mean_mag``);
- positions: ``pos.eq.ra`` / ``pos.eq.dec`` (``meta.main`` preferred), else ``ra``/``dec``, ``s_ra``/``s_dec``,
  ``RAJ2000``/``DEJ2000`` ...;
- redshift: ``src.redshift`` (not its error), else ``z``, ``redshift``, ``zspec`` ...;
- identifiers: ``meta.id;meta.main``, else ObsCore's ``obs_publisher_did``;
- products: ObsCore ``dataproduct_type`` (image, spectrum, timeseries) with ``access_url``;
- bands of single-band images: ``em.wl;stat.min`` / ``em.wl;stat.max`` (ObsCore's ``em_min``/``em_max``, SIA 1's
  ``VOX:BandPass_LoLimit``/``HiLimit``), else a band name (``energy_bandpassname``, ``bandpass_id``, ``filter``).

>>> phot = photometry(table)                  # Photometry(system='ugriz', bands={'u': ('umag', 'e_umag'), ...})
>>> phot.complete(("u", "g", "r", "i", "z")), phot.canonical(table, "ugriz")   # mag_u.. / err_u.. columns
>>> position(table), redshift(table), id_column(table), obscore_kinds(table), bands(table)

Column UCDs come from the VOTable FIELDs (astropy keeps them in ``table[c].meta['ucd']``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from astropy.table import Table

from ..defaults import BAND_LETTERS as _BANDS
from ..defaults import band_letter
from .errors import MetadataError

# ObsCore dataproduct_type -> the kinds of product astrohub models read
OBSCORE_KINDS = {"image": "cutout", "cube": "cutout", "spectrum": "spectrum", "timeseries": "lightcurve",
                 "lightcurve": "lightcurve"}
COLOUR_FORMATS = ("image/jpeg", "image/png")  # an image product in one of these is a colour composite
UGRIZ = ("u", "g", "r", "i", "z")
# the UCD band of each SDSS/LS/PS1 band letter (SDSS g is em.opt.B by IVOA practice, i and z both em.opt.I)
_BAND_UCD = {"u": {"em.opt.u"}, "g": {"em.opt.b", "em.opt.v"}, "r": {"em.opt.r"}, "i": {"em.opt.i"},
             "z": {"em.opt.i", "em.ir.j"}, "y": {"em.opt.i", "em.ir.j"}}
_GAIA = re.compile(r"^phot_(g|bp|rp)_mean_mag(_error)?$", re.I)
# well-known column-name patterns (case-insensitive); {b} is the band letter. Order = preference.
NAME_FAMILIES: tuple[tuple[str, str, str], ...] = (
    # (system label, magnitude pattern, error pattern)
    ("sdss", "mag_{b}", "err_{b}"),
    ("sdss", "{b}", "err_{b}"),
    ("sdss", "modelMag_{b}", "modelMagErr_{b}"),
    ("sdss", "cModelMag_{b}", "cModelMagErr_{b}"),
    ("sdss", "psfMag_{b}", "psfMagErr_{b}"),
    ("sdss", "petroMag_{b}", "petroMagErr_{b}"),
    ("sdss", "fiberMag_{b}", "fiberMagErr_{b}"),
    ("sdss", "dered_{b}", "err_{b}"),
    ("sdss", "{b}mag", "e_{b}mag"),              # VizieR (V/147 SDSS DR12)
    ("sdss", "{b}_mag", "{b}_mag_err"),
    ("sdss", "{b}_mag", "{b}_err"),
    ("sdss", "mag_{b}", "mag_{b}_err"),
    ("legacy", "mag_{b}", "magerr_{b}"),         # Legacy Surveys (NOIRLab Data Lab ls_dr*.tractor)
    ("legacy", "dered_mag_{b}", "magerr_{b}"),
    ("panstarrs", "{b}MeanPSFMag", "{b}MeanPSFMagErr"),   # Pan-STARRS1 MeanObject
    ("panstarrs", "{b}MeanKronMag", "{b}MeanKronMagErr"),
    ("panstarrs", "{b}MeanApMag", "{b}MeanApMagErr"),
    ("panstarrs", "{b}PSFMag", "{b}PSFMagErr"),
)
RA_NAMES = ("ra", "s_ra", "centeralpha", "ra_icrs", "raj2000", "_raj2000", "ra_deg", "radeg", "alpha", "ra2000")
DEC_NAMES = ("dec", "s_dec", "centerdelta", "de_icrs", "dec_icrs", "dej2000", "_dej2000", "decj2000", "dec_deg",
             "dedeg", "delta", "dec2000", "decl")
Z_NAMES = ("redshift", "z", "zspec", "z_spec", "specz", "spec_z", "z_helio", "zhelio")
# where a single-band image's passband lies [m] (SDSS, Pan-STARRS, Legacy Surveys, DES, HSC g, r, i all fall in),
# and the widest passband that is one band: white light and Kepler's 420-900 nm are none
OPTICAL_BANDS = {"g": (4.0e-7, 5.5e-7), "r": (5.5e-7, 6.9e-7), "i": (6.9e-7, 8.5e-7)}
SURVEY_BANDS = {"u": (3.0e-7, 4.0e-7), **OPTICAL_BANDS, "z": (8.5e-7, 9.6e-7), "y": (9.6e-7, 1.1e-6)}  # ugrizy
MAX_BAND_WIDTH = 2.5e-7
_EM_LIMITS = (("em.wl;stat.min", "vox:bandpass_lolimit", ("em_min", "bandpass_lolimit")),
              ("em.wl;stat.max", "vox:bandpass_hilimit", ("em_max", "bandpass_hilimit")))
_BAND_NAMES = ("energy_bandpassname", "bandpass_id", "bandpassname", "filter", "band", "filtername")
ID_NAMES = ("obs_publisher_did", "objid", "obj_id", "source_id", "objectid", "id")


def ucd(table: Table, column: str) -> str:
    """The column's UCD in lower case ('' when the service declared none)."""
    u = table[column].meta.get("ucd") if hasattr(table[column], "meta") else None
    return str(u or "").strip().lower()


def _atoms(u: str) -> list[str]:
    return [a for a in u.split(";") if a]


def has_ucds(table: Table) -> bool:
    """True when the service declared UCDs on at least one column."""
    return any(ucd(table, c) for c in table.colnames)


def _numeric(table: Table, c: str) -> bool:
    return table[c].dtype.kind in "fiu"


_LETTER = (re.compile(r"(?:^|_)([ugrizy])(?:_|$)", re.I), re.compile(r"^(?:e_)?([ugrizy])_?mag", re.I),
           re.compile(r"^([ugrizy])(?:Mean|PSF|Kron|Ap)"))


def _band_letter(name: str) -> str | None:
    """The ugrizy band letter a column name carries ('psfMag_u', 'umag', 'e_umag', 'u', 'gMeanPSFMag')."""
    for pat in _LETTER:
        m = pat.search(name)
        if m:
            return m.group(1).lower()
    return None


def _family(name: str, band: str) -> str:
    """The column's name without its band letter and error markers (pairs psfMag_u with psfMagErr_u,
    umag with e_umag, gMeanPSFMag with gMeanPSFMagErr); '' for a bare error name such as err_u."""
    n = re.sub(r"^e_", "", name.lower())
    n = re.sub(r"magerr|err(?:or)?|sigma|unc", lambda m: "mag" if m.group(0) == "magerr" else "", n)
    cut = re.sub(rf"(^|_){band}(_|$)", "_", n, count=1)
    if cut == n and n.startswith(band):
        cut = n[1:]
    return re.sub(r"_+", "_", cut).strip("_")


@dataclass
class Photometry:
    """Magnitudes found in a table: ``bands`` maps a band letter to (magnitude column, error column or None);
    ``system`` is 'ugriz' (by UCD), 'sdss', 'legacy', 'panstarrs' (by names), 'gaia' (G/BP/RP only) or ''
    (none); ``how`` says whether UCDs or names decided; ``others`` lists magnitudes of other systems."""

    system: str = ""
    bands: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    how: str = ""
    others: list[str] = field(default_factory=list)  # magnitudes of other systems (Gaia G/BP/RP, ...)

    def complete(self, wanted=UGRIZ) -> bool:
        """Every band in ``wanted`` has a magnitude and an error column."""
        return all(b in self.bands and self.bands[b][1] for b in wanted)

    def missing(self, wanted=UGRIZ) -> str:
        """Why ``complete(wanted)`` is False, in words ('' when it is True)."""
        no_mag = [b for b in wanted if b not in self.bands]
        no_err = [b for b in wanted if b in self.bands and not self.bands[b][1]]
        parts = []
        if no_mag:
            parts.append(f"no {' '.join(no_mag)} magnitude")
        if no_err:
            parts.append(f"no error column for {', '.join(self.bands[b][0] for b in no_err)}")
        if self.others and not self.bands:
            parts.append(f"magnitudes of another system only ({', '.join(self.others)})")
        return "; ".join(parts)

    def dereddened(self, table: Table, wanted=UGRIZ) -> list[str]:
        """The magnitude columns of ``wanted`` that are SDSS's extinction-corrected ``dered_<b>`` with no
        ``extinction_<b>`` column beside them to add the reddening back (:meth:`canonical` adds it where there is)."""
        names = {c.lower() for c in table.colnames}
        return [m for m in (self.bands[b][0] for b in wanted if b in self.bands)
                if m.lower().startswith("dered_") and f"extinction_{m[6:]}".lower() not in names]

    def canonical(self, table: Table, wanted=UGRIZ) -> Table:
        """``table``'s magnitudes and errors as ``mag_<b>`` / ``err_<b>`` float columns (the zoo's photometry
        input: magnitudes as observed, so SDSS's ``dered_<b>`` get their ``extinction_<b>`` added back where the
        table has it), masked values as NaN; MetadataError naming what is missing when a band is not there."""
        if not self.complete(wanted):
            raise MetadataError(f"these rows lack {' '.join(wanted)} photometry with errors: {self.missing(wanted)}")
        out = Table()
        lower = {c.lower(): c for c in table.colnames}
        for b in wanted:
            m, e = self.bands[b]
            out[f"mag_{b}"] = np.ma.filled(np.ma.asarray(table[m], np.float64), np.nan)
            if m.lower().startswith("dered_") and (ext := lower.get(f"extinction_{m[6:]}".lower())):
                out[f"mag_{b}"] += np.ma.filled(np.ma.asarray(table[ext], np.float64), np.nan)
            out[f"err_{b}"] = np.ma.filled(np.ma.asarray(table[e], np.float64), np.nan)
        return out


def _pair(mags: list[str], errs: list[str], band: str, strict: bool = False) -> str | None:
    """The error column of the magnitude ``mags[0]``: same family of name, else a bare ``err_<b>``, else
    the band's only error column (``strict``: the same family only)."""
    fam = _family(mags[0], band)
    same = [e for e in errs if _family(e, band) == fam]
    if same or strict:
        return same[0] if same else None
    bare = [e for e in errs if _family(e, band) == ""]
    return bare[0] if bare else errs[0] if len(errs) == 1 else None


def _by_ucd(table: Table) -> Photometry:
    mags: dict[str, list[str]] = {}
    errs: dict[str, list[str]] = {}
    others = []
    for c in table.colnames:
        u = ucd(table, c)
        if not u or not _numeric(table, c):
            continue
        atoms = _atoms(u)
        if _GAIA.match(c):
            if "stat.error" not in atoms:
                others.append(c)
            continue
        if "phot.mag" not in atoms or any(a.startswith(("stat.snr", "arith", "phot.color", "stat.fit")) for a in atoms):
            continue
        if any(a in ("stat.min", "stat.max", "obs.param") for a in atoms):  # limits, not measurements
            continue
        band = _band_letter(c)
        em = {a for a in atoms if a.startswith("em.")}
        if band is None or (em and not em & (_BAND_UCD.get(band, set()) | {"em.opt"})):
            if band is None and em and "stat.error" not in atoms:
                others.append(c)
            continue
        (errs if "stat.error" in atoms else mags).setdefault(band, []).append(c)
    bands = {b: (cols[0], _pair(cols, errs.get(b, []), b)) for b, cols in mags.items()}
    for b, cols in mags.items():  # a magnitude with its own error beats the first-declared one without
        for c in cols:
            e = _pair([c], errs.get(b, []), b, strict=True)
            if e:
                bands[b] = (c, e)
                break
    return Photometry("ugriz" if bands else "", bands, "ucd" if bands else "", others)


def _by_name(table: Table) -> Photometry:
    def plausible(c, what):  # a declared UCD that says something else vetoes the name
        atoms = _atoms(ucd(table, c))
        return not atoms or what in atoms

    mag_cols = {c.lower(): c for c in table.colnames if _numeric(table, c) and plausible(c, "phot.mag")}
    err_cols = {c.lower(): c for c in table.colnames if _numeric(table, c) and plausible(c, "stat.error")}
    best: Photometry | None = None
    for system, mag_t, err_t in NAME_FAMILIES:
        bands = {}
        for b in _BANDS:
            m = mag_cols.get(mag_t.format(b=b).lower())
            if m:
                bands[b] = (m, err_cols.get(err_t.format(b=b).lower()))
        score = (sum(1 for v in bands.values() if v[1]), len(bands))
        if bands and (best is None or score > (sum(1 for v in best.bands.values() if v[1]), len(best.bands))):
            best = Photometry(system, bands, f"names ({system})")
    gaia = [c for c in table.colnames if _GAIA.match(c) and not c.lower().endswith("_error")]
    if best is None:
        return Photometry("gaia" if gaia else "", {}, "names (gaia)" if gaia else "", gaia)
    best.others = gaia
    return best


def photometry(table: Table) -> Photometry:
    """The table's optical magnitudes and their errors, by UCD where the service declared them, else (or
    when UCDs give fewer bands with errors) by well-known SDSS, Legacy Survey, Pan-STARRS and Gaia names."""
    by_ucd = _by_ucd(table) if has_ucds(table) else Photometry()
    by_name = _by_name(table)

    def score(p):
        return sum(1 for v in p.bands.values() if v[1]), len(p.bands)
    best = by_ucd if score(by_ucd) >= score(by_name) and by_ucd.bands else by_name
    if not best.bands:
        others = sorted(set(by_ucd.others) | set(by_name.others))
        return Photometry("gaia" if any(_GAIA.match(c) for c in others) else "", {}, "", others)
    return best


def _text(table: Table, c: str) -> bool:
    return table[c].dtype.kind in "USO"


def _find(table: Table, primary: str, names: tuple[str, ...], exclude=("stat.error", "stat.stdev"),
          kind=_numeric) -> str | None:
    """The column (numeric, or as ``kind`` says) whose UCD's primary word is ``primary`` (``meta.main`` first; not an
    error, not a proper motion such as ``pos.pm;pos.eq.ra``), else the first of ``names`` present."""
    cands = []
    for c in table.colnames:
        atoms = _atoms(ucd(table, c))
        if atoms[:1] == [primary] and not set(atoms) & set(exclude) and kind(table, c):
            cands.append((0 if "meta.main" in atoms else 1, table.colnames.index(c), c))
    if cands:
        return min(cands)[2]
    lower = {c.lower(): c for c in table.colnames if kind(table, c)}
    return next((lower[n] for n in names if n in lower), None)


def position(table: Table, text: bool = False) -> tuple[str, str] | None:
    """(ra column, dec column) in degrees: UCD pos.eq.ra / pos.eq.dec (meta.main first), else common names. With
    ``text``, the same columns holding text instead (a target list's sexagesimal ``10:02:33.1``)."""
    kind = _text if text else _numeric
    ra, dec = _find(table, "pos.eq.ra", RA_NAMES, kind=kind), _find(table, "pos.eq.dec", DEC_NAMES, kind=kind)
    return (ra, dec) if ra and dec else None


def redshift(table: Table) -> str | None:
    """The redshift column: UCD src.redshift (not its error), else common names."""
    return _find(table, "src.redshift", Z_NAMES, exclude=("stat.error", "stat.stdev", "stat.min", "stat.max"))


def id_column(table: Table) -> str | None:
    """The rows' identifier: UCD meta.id;meta.main, else ObsCore obs_publisher_did or a common id name."""
    for c in table.colnames:
        atoms = _atoms(ucd(table, c))
        if atoms[:1] == ["meta.id"] and "meta.main" in atoms:
            return c
    lower = {c.lower(): c for c in table.colnames}
    return next((lower[n] for n in ID_NAMES if n in lower), None)


def is_obscore(table: Table) -> bool:
    """The rows are ObsCore records (dataproduct_type and access_url columns)."""
    names = {c.lower() for c in table.colnames}
    return {"dataproduct_type", "access_url"} <= names


def obscore_kinds(table: Table) -> list[str | None]:
    """Per ObsCore row, the product kind its dataproduct_type names (None for types no model reads); an image
    whose ``access_format`` is JPEG or PNG is a ``colour`` composite (Galaxy Zoo's SDSS cutouts), not a cutout."""
    def strings(name):
        col = next((c for c in table.colnames if c.lower() == name), None)
        if col is None:
            return [""] * len(table)
        return [str(v).strip().lower() for v in np.ma.filled(np.ma.asarray(table[col]).astype(str), "")]
    kinds = [OBSCORE_KINDS.get(v) for v in strings("dataproduct_type")]
    return ["colour" if k == "cutout" and f.startswith(COLOUR_FORMATS) else k
            for k, f in zip(kinds, strings("access_format"))]


def _em_column(table: Table, ucd1: str, vox: str, names: tuple[str, ...]) -> str | None:
    for c in table.colnames:
        if ucd(table, c) in (ucd1, vox) and _numeric(table, c):
            return c
    lower = {c.lower(): c for c in table.colnames if _numeric(table, c)}
    return next((lower[n] for n in names if n in lower), None)


def _metres(table: Table, c: str) -> np.ndarray:
    import astropy.units as u

    v = np.ma.filled(np.ma.asarray(table[c], dtype=np.float64), np.nan)
    unit = getattr(table[c], "unit", None)
    if unit is not None:
        try:
            return v * u.Unit(unit).to(u.m, equivalencies=u.spectral())
        except (u.UnitsError, ValueError, TypeError):
            return np.full(len(v), np.nan)
    return v  # ObsCore and SIA declare metres


def bands(table: Table, which: dict = OPTICAL_BANDS) -> list[str | None]:
    """Per row, the optical band (g, r or i; :data:`OPTICAL_BANDS`, or those of ``which``, e.g.
    :data:`SURVEY_BANDS`) of a single-band product: from its passband's limits (UCD ``em.wl;stat.min``/``stat.max``:
    ObsCore's ``em_min``/``em_max``, SIA 1's BandPass limits; a passband wider than :data:`MAX_BAND_WIDTH` is no
    single band), else a band-name column; None where neither says."""
    out: list[str | None] = [None] * len(table)
    lo_c, hi_c = (_em_column(table, *spec) for spec in _EM_LIMITS)
    if lo_c and hi_c:
        lo, hi = _metres(table, lo_c), _metres(table, hi_c)
        mid, ok = (lo + hi) / 2, np.isfinite(lo) & np.isfinite(hi) & (hi - lo <= MAX_BAND_WIDTH) & (hi >= lo)
        for b, (a, z) in which.items():
            for k in np.flatnonzero(ok & (mid >= a) & (mid < z)):
                out[k] = b
        if np.isfinite(lo).any():
            return out
    name = next((c for c in table.colnames if ucd(table, c) in ("instr.bandpass", "vox:bandpass_id")), None)
    lower = {c.lower(): c for c in table.colnames}
    name = name or next((lower[n] for n in _BAND_NAMES if n in lower), None)
    if name:
        vals = np.ma.filled(np.ma.asarray(table[name]).astype(str), "")
        out = [b if (b := band_letter(v)) in which else None for v in vals]
    return out


def describe(table: Table) -> dict:
    """What the table offers, for messages and the Explorer: positions, redshift, id, photometry, ObsCore."""
    p = photometry(table)
    return {"position": position(table), "redshift": redshift(table), "id": id_column(table),
            "photometry": {b: v for b, v in p.bands.items()}, "photometry_from": p.how,
            "other_magnitudes": p.others, "obscore": is_obscore(table), "ucds": has_ucds(table)}
