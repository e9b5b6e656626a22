"""A second DaCHS resource that looks like a real survey archive, built from the real data kits.

``build_real(kits, out_dir)`` writes the DaCHS resource directory ``realsurvey`` (schema ``realsurvey``):

- ``specphoto``: SDSS DR14 photometry + spectroscopic class and redshift (``sdss_photoz`` kit) under SDSS
  SpecPhoto column names and UCDs (objid, ra, dec, modelmag_u..z, modelmagerr_u..z, class, z, run, ...);
- ``ztf_alerts``: ZTF alert triplets (``ztf_alerts`` kit), one 3-plane FITS image per alert (science,
  reference, difference), in ObsCore (``dataproduct_type`` image) behind DataLink;
- ``lightcurves``: Kepler and TESS light curves (``kepler_lightcurves`` kit) in ObsCore
  (``dataproduct_type`` timeseries); the mission FITS files as they are, the text files as FITS tables;
- ``galaxyzoo``: Galaxy Zoo 1 subjects (``galaxyzoo1_jpeg`` kit), SDSS DR7 objIDs with the volunteers' class,
  and as the product each subject's SDSS gri colour JPEG, byte for byte, in ObsCore (``dataproduct_type`` image,
  ``access_format`` image/jpeg).

Nothing here carries an astrohub-specific column: clients find things through UCDs, ObsCore and DataLink.
What the kits lack is stated in the column descriptions (the SDSS kit has no magnitude errors and truncated
objIDs; ZTF stamps have no WCS, so an approximate north-up TAN WCS at 1.01"/px is written; the Galaxy Zoo
JPEGs carry no coordinates, so their ObsCore positions are NULL).
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
from astropy.io import fits

RESDIR = "realsurvey"
FORMAT = 2
KITS = ("sdss_photoz", "ztf_alerts", "kepler_lightcurves", "galaxyzoo1_jpeg")
ZTF_SCALE = 1.01            # arcsec / pixel
SDSS_DEPTH = {"u": 22.0, "g": 22.2, "r": 22.2, "i": 21.3, "z": 20.5}   # 5-sigma, the kit's error model
# the missions' broad bands [m]
BANDS = {"kepler": (4.2e-7, 9.0e-7), "tess": (6.0e-7, 1.0e-6)}
ZTF_BANDS = {1: ("g", 4.1e-7, 5.5e-7), 2: ("r", 5.6e-7, 7.3e-7), 3: ("i", 7.0e-7, 9.0e-7)}


class KitMissing(FileNotFoundError):
    """A real data kit the resource needs is not there."""


def rd_text() -> str:
    return resources.files("astrohub.archive").joinpath("rd/realsurvey.rd").read_text()


def kit_fingerprint(kits: Path) -> str:
    """A hash of the kits' SHA256SUMS files and this module's FORMAT: the import is redone when it changes."""
    h = hashlib.sha256(f"format {FORMAT}\n".encode())
    for k in KITS:
        sums = Path(kits) / k / "SHA256SUMS"
        if not sums.exists():
            raise KitMissing(f"real data kit {k!r} not found at {Path(kits) / k} (no SHA256SUMS): set "
                             "$ASTROHUB_REAL_DATA to the folder holding the kits")
        h.update(sums.read_bytes())
    h.update(rd_text().encode())
    return h.hexdigest()[:16]


def sdss_objid(run: int, rerun: int, camcol: int, field: int, obj: int) -> int:
    """The SDSS photoObj objID bit layout (skyVersion 2, as DR8 and later)."""
    return (2 << 59) | (rerun << 48) | (run << 32) | (camcol << 29) | (field << 16) | obj


def _write_table(path: Path, cols: dict, header: dict | None = None) -> None:
    out = []
    for name, arr in cols.items():
        arr = np.asarray(arr)
        if arr.dtype.kind in "US":
            width = max(1, max((len(str(s)) for s in arr), default=1))
            out.append(fits.Column(name=name, format=f"{width}A", array=arr.astype(f"S{width}")))
        else:
            fmt = {"f8": "D", "f4": "E", "i8": "K", "i4": "J", "i2": "I"}[arr.dtype.str[1:]]
            out.append(fits.Column(name=name, format=fmt, array=arr))
    hdu = fits.BinTableHDU.from_columns(out)
    prim = fits.PrimaryHDU()
    for k, v in (header or {}).items():
        prim.header[k] = v
    fits.HDUList([prim, hdu]).writeto(path, overwrite=True)


def build_sdss(kit: Path, data: Path) -> int:
    rows = list(csv.DictReader(open(kit / "sdss_dr14_skyserver_trainhalf.csv", newline="")))
    n = len(rows)
    f = {k: np.array([float(r[k]) for r in rows]) for k in ("ra", "dec", "u", "g", "r", "i", "z", "redshift")}
    ints = {k: np.array([int(r[k]) for r in rows], dtype=np.int64)
            for k in ("run", "rerun", "camcol", "field", "plate", "mjd", "fiberid")}
    # objid: the kit's is truncated to 15 digits; rebuild SDSS's bit layout with a sequence number per field
    order = np.lexsort((f["dec"], f["ra"], ints["field"], ints["camcol"], ints["run"]))
    objid = np.zeros(n, dtype=np.int64)
    seq: dict = {}
    for i in order:
        key = (ints["run"][i], ints["rerun"][i], ints["camcol"][i], ints["field"][i])
        seq[key] = seq.get(key, 0) + 1
        objid[i] = sdss_objid(*(int(v) for v in key), seq[key])
    cols = {"objid": objid, "ra": f["ra"], "dec": f["dec"]}
    for b in "ugriz":
        cols[f"modelmag_{b}"] = f[b].astype(np.float32)
    for b in "ugriz":
        m = f[b]
        err = np.sqrt(0.01 ** 2 + (0.2 * 10 ** (0.4 * (m - SDSS_DEPTH[b]))) ** 2)
        cols[f"modelmagerr_{b}"] = err.astype(np.float32)
    cols["class"] = np.array([r["class"] for r in rows])
    cols["z"] = f["redshift"].astype(np.float32)
    cols.update(ints)
    _write_table(data / "specphoto.fits", cols)
    return n


def _ztf_header(ra: float, dec: float, meta: dict) -> fits.Header:
    h = fits.Header()
    h["CTYPE1"], h["CTYPE2"], h["CTYPE3"] = "RA---TAN", "DEC--TAN", "PLANE"
    h["CRVAL1"], h["CRVAL2"], h["CRVAL3"] = ra, dec, 1.0
    h["CRPIX1"] = h["CRPIX2"] = 32.0
    h["CRPIX3"], h["CDELT3"] = 1.0, 1.0
    h["CDELT1"], h["CDELT2"] = -ZTF_SCALE / 3600.0, ZTF_SCALE / 3600.0
    h["CUNIT1"] = h["CUNIT2"] = "deg"
    h["RADESYS"], h["EQUINOX"] = "ICRS", 2000.0
    h["COMMENT"] = "Approximate WCS: the alert stamps carry none; north-up TAN at 1.01 arcsec/px on the candidate."
    h["PLANES"] = "science,reference,difference"
    h["BUNIT"] = "counts"
    h["TELESCOP"], h["INSTRUME"] = "P48", "ZTF"
    for k, v in meta.items():
        h[k] = v
    return h


def build_ztf(kit: Path, data: Path) -> int:
    rows = list(csv.DictReader(open(kit / "ztf_alerts_meta.csv", newline="")))
    npz = np.load(kit / "ztf_triplets_63x63.npz")
    trip, candid = npz["triplets"], npz["candid"]
    if len(trip) != len(rows) or any(int(r["candid"]) != int(c) for r, c in zip(rows, candid)):
        raise ValueError(f"{kit}: ztf_triplets_63x63.npz and ztf_alerts_meta.csv disagree on the alerts")
    (data / "ztf").mkdir()
    meta_cols: dict = {k: [] for k in ("candid", "objectid", "jd", "fid", "ra", "dec", "magpsf", "sigmapsf",
                                       "isdiffpos", "rb", "drb", "programid", "fwhm", "path", "fsize")}
    for r, img in zip(rows, trip):
        ra, dec, fid = float(r["ra"]), float(r["dec"]), int(r["fid"])
        rel = f"data/ztf/{r['objectId']}_{r['candid']}.fits"
        hdr = _ztf_header(ra, dec, {"OBJECTID": r["objectId"], "CANDID": int(r["candid"]), "JD": float(r["jd"]),
                                    "FILTER": ZTF_BANDS[fid][0], "MAGPSF": float(r["magpsf"])})
        fits.PrimaryHDU(img.astype(np.float32), header=hdr).writeto(data.parent / rel)
        for k in ("candid", "fid", "programid"):
            meta_cols[k].append(int(r[k]))
        meta_cols["objectid"].append(r["objectId"])
        meta_cols["isdiffpos"].append(r["isdiffpos"])
        for k in ("jd", "ra", "dec", "magpsf", "sigmapsf", "fwhm", "rb", "drb"):
            meta_cols[k].append(float(r[k]) if r[k] not in ("", "null") else np.nan)
        meta_cols["path"].append(rel)
        meta_cols["fsize"].append((data.parent / rel).stat().st_size)
    cols = {k: np.array(v, dtype=np.int64) if k in ("candid", "fid", "programid", "fsize") else np.array(v)
            for k, v in meta_cols.items()}
    _write_table(data / "ztf_alerts.fits", cols)
    return len(rows)


def _read_text_lc(path: Path, tcol: int, fcol: int, ecol: int) -> tuple:
    arr = np.loadtxt(path, comments="#", usecols=(tcol, fcol, ecol), dtype=np.float64)
    return arr[:, 0], arr[:, 1], arr[:, 2]


def build_lightcurves(kit: Path, data: Path) -> int:
    """The kit's time series (the two phase-folded ones have no time axis and are left out)."""
    (data / "lc").mkdir()
    rows = [r for r in csv.DictReader(open(kit / "labels.csv", newline="")) if not r["file"].startswith("phase")]
    out: dict = {k: [] for k in ("path", "fsize", "target", "mission", "ra", "dec", "t_min", "t_max", "t_xel",
                                 "em_min", "em_max", "cadence", "mime")}
    for r in rows:
        name = r["file"]
        src = kit / name
        mission = "tess" if ("tess" in r["mission"].lower() or name.startswith("WASP")) else "kepler"
        ra = float(r["ra_deg"]) if r["ra_deg"] else np.nan
        dec = float(r["dec_deg"]) if r["dec_deg"] else np.nan
        if name.endswith(".fits"):
            rel = f"data/lc/{name}"
            shutil.copyfile(src, data.parent / rel)
            with fits.open(src) as h:
                t = np.asarray(h[1].data["TIME"], dtype=float)
                hdr = h[0].header
                if np.isnan(ra) and "RA_OBJ" in hdr:
                    ra, dec = float(hdr["RA_OBJ"]), float(hdr["DEC_OBJ"])
            offset = 2457000.0 if mission == "tess" else 2454833.0      # BTJD / BKJD -> BJD
        else:
            if name.endswith(".lc.data"):       # Villanova Kepler EB catalogue: bjd-2400000, dtr_flux, dtr_err
                t, flux, err = _read_text_lc(src, 0, 6, 7)
                offset = 2400000.0
            elif name.endswith(".tran"):         # exostriker: BJD_TDB, relative flux, error
                t, flux, err = _read_text_lc(src, 0, 1, 2)
                offset = 0.0
            else:                                # podesse: BKJD, flux [W m-2], error
                t, flux, err = _read_text_lc(src, 0, 1, 2)
                offset = 2454833.0
            rel = f"data/lc/{Path(name).stem.replace('.', '_')}.fits"
            _write_table(data.parent / rel, {"TIME": t, "FLUX": flux, "FLUX_ERR": err},
                         {"OBJECT": r["star"], "TIMEREF": "BJD", "TIMEOFFS": (offset, "BJD = TIME + TIMEOFFS"),
                          "MISSION": mission.upper(), "ORIGIN": f"converted from {name}"})
        t = t[np.isfinite(t)]
        out["path"].append(rel)
        out["fsize"].append((data.parent / rel).stat().st_size)
        out["target"].append(r["star"])
        out["mission"].append(mission.upper())
        out["ra"].append(ra)
        out["dec"].append(dec)
        out["t_min"].append(t.min() + offset - 2400000.5)          # MJD (barycentric, as the files)
        out["t_max"].append(t.max() + offset - 2400000.5)
        out["t_xel"].append(len(t))
        out["em_min"].append(BANDS[mission][0])
        out["em_max"].append(BANDS[mission][1])
        out["cadence"].append(float(r["cadence_min"]) * 60.0)
        out["mime"].append("application/fits")
    cols = {k: np.array(v, dtype=np.int64) if k in ("fsize", "t_xel") else np.array(v) for k, v in out.items()}
    _write_table(data / "lightcurves.fits", cols)
    return len(rows)


def build_galaxyzoo(kit: Path, data: Path) -> int:
    """The kit's JPEGs, copied as they are, and one row per subject: objID, the volunteers' class, the file."""
    (data / "gz").mkdir()
    rows = list(csv.DictReader(open(kit / "labels.csv", newline="")))
    out: dict = {k: [] for k in ("dr7_objid", "gz1_class", "path", "fsize")}
    for r in rows:
        rel = f"data/gz/{int(r['dr7_objid'])}.jpeg"
        shutil.copyfile(kit / "images" / f"{int(r['dr7_objid'])}.jpeg", data.parent / rel)
        out["dr7_objid"].append(int(r["dr7_objid"]))
        out["gz1_class"].append(r["gz1_class"])
        out["path"].append(rel)
        out["fsize"].append((data.parent / rel).stat().st_size)
    cols = {k: np.array(v, dtype=np.int64) if k in ("dr7_objid", "fsize") else np.array(v) for k, v in out.items()}
    _write_table(data / "galaxyzoo.fits", cols)
    return len(rows)


def build_real(kits: Path, out_dir: Path, progress: bool = False) -> dict:
    """Write the ``realsurvey`` resource directory (``q.rd`` and ``data/``) from the kits in ``kits``."""
    from tqdm.auto import tqdm

    kits, out_dir = Path(kits), Path(out_dir)
    fingerprint = kit_fingerprint(kits)
    data = out_dir / "data"
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    (out_dir / "q.rd").write_text(rd_text())
    summary = {"fingerprint": fingerprint}
    steps = [("specphoto", build_sdss, "sdss_photoz"), ("ztf_alerts", build_ztf, "ztf_alerts"),
             ("lightcurves", build_lightcurves, "kepler_lightcurves"),
             ("galaxyzoo", build_galaxyzoo, "galaxyzoo1_jpeg")]
    for name, fn, kit in tqdm(steps, desc="real survey", disable=not progress):
        summary[name] = fn(kits / kit, data)
    (out_dir / "build.json").write_text(json.dumps(summary))
    return summary
