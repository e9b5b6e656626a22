"""Build the deterministic demo survey that the local DaCHS archive serves.

``build(seed, size, out_dir)`` writes a DaCHS resource directory:
``q.rd`` (the resource descriptor shipped with this package) and ``data/``
with the catalogue (``objects.fits``), image cutouts (``cutouts/*.fits``,
2-D images or 3-plane transient triplets, TAN WCS at 0.2"/pix; and galaxies as an SDSS-like survey serves them,
one g, r and i cutout each at 0.396"/pix in nanomaggies, each file naming its band in FILTER and WAVEMIN/WAVEMAX),
spectra (``spectra/*.fits``, binary tables WAVE/FLUX/ERROR) and light curves
(``lightcurves/*.fits``, TIME/FLUX/FLUX_ERR). Everything comes from the
seeded simulators in :mod:`astrohub.sims`, so the same seed gives the same
files (and the same training sets for the models).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from astropy.io import fits

from ..sims import catalog as catsim
from ..sims import lightcurves as lcsim
from ..sims import spectra as specsim

PIXEL_SCALE = 0.2  # arcsec
RESOURCE_DIR = "astrohub"      # the DaCHS resdir name under inputs/ (schema "astrohub")


@dataclass(frozen=True)
class SurveySize:
    """How many objects of each kind a survey size has."""

    catalog: int
    morphology: int
    lens: int
    transient: int
    spectra: int
    lightcurves: int
    colour: int = 0  # galaxies served as g, r, i cutouts (three files each), SDSS-like
    cutout_size: int = 64


SIZES = {
    "small": SurveySize(catalog=2000, morphology=120, lens=40, transient=40, spectra=200, lightcurves=200,
                        colour=24),
    "full": SurveySize(catalog=50000, morphology=2000, lens=500, transient=500, spectra=3000, lightcurves=2000,
                       colour=150),
}


def rd_text() -> str:
    """The resource descriptor (``q.rd``) shipped with the package."""
    return resources.files("astrohub.archive").joinpath("rd/q.rd").read_text()


def write_table(path: Path, columns: dict, header: dict) -> None:
    cols = []
    for name, (arr, unit) in columns.items():
        arr = np.asarray(arr)
        fmt = {np.dtype(np.float32): "E", np.dtype(np.float64): "D", np.dtype(np.int64): "K",
               np.dtype(np.int16): "I", np.dtype(np.int32): "J"}.get(arr.dtype)
        if fmt is None:
            width = max(1, max((len(s) for s in arr), default=1))
            fmt, arr = f"{width}A", arr.astype(f"S{width}")
        cols.append(fits.Column(name=name, format=fmt, unit=unit, array=arr))
    primary = fits.PrimaryHDU()
    for k, v in header.items():
        primary.header[k] = v
    fits.HDUList([primary, fits.BinTableHDU.from_columns(cols)]).writeto(path, overwrite=True)


def cutout_header(ra: float, dec: float, size: int, planes: int = 1, scale: float = PIXEL_SCALE) -> fits.Header:
    """A TAN WCS header centred on (ra, dec) at ``scale`` arcsec/pixel (default PIXEL_SCALE)."""
    h = fits.Header()
    h["CTYPE1"], h["CTYPE2"] = "RA---TAN", "DEC--TAN"
    h["CRVAL1"], h["CRVAL2"] = float(ra), float(dec)
    h["CRPIX1"] = h["CRPIX2"] = size / 2 + 0.5
    h["CDELT1"], h["CDELT2"] = -scale / 3600.0, scale / 3600.0
    h["CUNIT1"] = h["CUNIT2"] = "deg"
    h["RADESYS"], h["EQUINOX"] = "ICRS", 2000.0
    if planes > 1:
        h["CTYPE3"], h["CRVAL3"], h["CRPIX3"], h["CDELT3"] = "PLANE", 1.0, 1.0, 1.0
    return h


def _pick(rng, pool: np.ndarray, n: int, taken: set) -> np.ndarray:
    free = np.array([i for i in pool if i not in taken], dtype=np.int64)
    if len(free) < n:
        raise ValueError(f"catalogue too small: need {n} objects, {len(free)} free")
    chosen = np.sort(rng.choice(free, size=n, replace=False))
    taken.update(chosen.tolist())
    return chosen


SURVEY_FORMAT = 6  # 2: cutout headers record PSF_FWHM; 3: ZTF-like transient triplets (raw counts, NaN masks);
# 4: their headers say so (1.01"/px WCS, BUNIT counts); 5: light curves carry their epoch (MJD) and band
# (TSTART/TSTOP, WAVEMIN/WAVEMAX) for ObsCore; 6: cutouts name their band's limits (WAVEMIN/WAVEMAX/WAVEREF), and
# galaxies served as g, r, i cutouts (task "colour"); a demo archive of an older format is rebuilt
LC_MJD0 = 61041.0     # MJD of the light curves' TIME 0 (2026-01-01)
LC_BAND = (4.2e-7, 9.0e-7)  # [m] the light curves' broad (Kepler/TESS-like) band
BANDS = {"g": (4.0e-7, 5.5e-7, 4.686e-7), "r": (5.5e-7, 6.9e-7, 6.166e-7), "i": (6.9e-7, 8.4e-7, 7.480e-7)}  # [m]
# the cutouts' bands: limits and reference wavelength (SDSS-like), for ObsCore's em_min/em_max
SDSS_SCALE = 0.396  # "/px of the colour galaxies' cutouts
COLOUR_SIDE = 8.0  # a colour galaxy's cutout spans this many times its R90 (two Petrosian radii fit inside)


def _band_cards(band: str) -> dict:
    lo, hi, ref = BANDS[band]
    return {"FILTER": band, "WAVEMIN": (lo, "[m] short end of the band"), "WAVEMAX": (hi, "[m] long end of the band"),
            "WAVEREF": (ref, "[m] the band's reference wavelength")}


def build(seed: int, size: str, out_dir: Path, progress: bool = False) -> dict:
    """Simulate the ``size`` ("small" | "full") survey for ``seed`` into ``out_dir``; return a summary."""
    from ..sims.images import ZTF_PIXEL_SCALE, simulate_images

    if size not in SIZES:
        raise ValueError(f"unknown survey size {size!r}; choose one of {', '.join(SIZES)}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    spec = SIZES[size]
    out_dir = Path(out_dir)
    data = out_dir / "data"
    if data.exists():
        shutil.rmtree(data)
    for sub in ("cutouts", "spectra", "lightcurves"):
        (data / sub).mkdir(parents=True)
    (out_dir / "q.rd").write_text(rd_text())

    cat = catsim.simulate_catalog(spec.catalog, seed)
    names = np.array([""] + catsim.CLASS_NAMES)[cat["class_label"] + 1]
    mag_cols = {k: (v, "mag") for k, v in cat.items() if k.startswith(("mag_", "err_"))}
    write_table(data / "objects.fits", {
        "obj_id": (cat["obj_id"], None), "ra": (cat["ra"], "deg"), "dec": (cat["dec"], "deg"),
        **mag_cols, "redshift": (cat["redshift"], None), "redshift_err": (cat["redshift_err"], None),
        "class_label": (cat["class_label"], None), "class_name": (names, None)}, {"SEED": seed})

    rng = np.random.default_rng([int(seed), 23])
    idx_star = np.flatnonzero(cat["class"] == 0)
    idx_gal = np.flatnonzero(cat["class"] == 1)
    taken: set = set()
    n_files = {"cutouts": 0, "spectra": 0, "lightcurves": 0}

    from tqdm.auto import tqdm

    stages = tqdm(total=4, desc="demo survey", disable=not progress)
    stages.update(1)
    # image cutouts: galaxies/stars get morphology stamps, galaxies lens stamps, transients any host
    for task, n in (("morphology", spec.morphology), ("lens", spec.lens), ("transient", spec.transient)):
        batch = simulate_images(task, n, seed, spec.cutout_size)
        stages.set_postfix_str(task)
        for i in range(n):
            cname = batch.class_names[batch.labels[i]]
            pool = idx_star if cname == "star" else (idx_gal if task != "transient" else np.arange(spec.catalog))
            row = int(_pick(rng, pool, 1, taken)[0])
            img = batch.images[i]
            planes = img.shape[0] if img.ndim == 3 else 1
            ztf = task == "transient"  # ZTF-like alert stamps: 1.01"/px, raw counts with sky
            hdr = cutout_header(cat["ra"][row], cat["dec"][row], spec.cutout_size, planes,
                                ZTF_PIXEL_SCALE if ztf else PIXEL_SCALE)
            hdr.update({"OBJ_ID": int(cat["obj_id"][row]), "TASK": task, "LABEL": int(batch.labels[i]),
                        "CLASS": cname, **_band_cards("r"), "DATE-OBS": "2026-01-%02dT00:00:00" % (1 + i % 28),
                        "BUNIT": "counts" if ztf else "sky-rms", "SEED": seed})
            if planes == 3:
                hdr["PLANES"] = "science,reference,difference"
            if "psf_fwhm" in batch.meta:  # as surveys record the seeing of each image
                hdr["PSF_FWHM"] = (round(float(batch.meta["psf_fwhm"][i]), 4),
                                   "[arcsec] PSF full width at half maximum")
            fits.PrimaryHDU(img.astype(np.float32), header=hdr).writeto(
                data / "cutouts" / f"{task}-{i:05d}.fits", overwrite=True)
            n_files["cutouts"] += 1
    n_files["cutouts"] += _colour_galaxies(np.random.default_rng([int(seed), 29]), spec.colour, cat, idx_gal, taken,
                                           data / "cutouts", seed)
    stages.update(1)

    # spectra: the object's own class and redshift
    wave = specsim.wavelength_grid(1024)
    spec_rows = np.sort(rng.choice(spec.catalog, size=spec.spectra, replace=False))
    for i, row in enumerate(spec_rows):
        lab = int(cat["class"][row])
        f, e, p = specsim.simulate_one(np.random.default_rng([int(seed), 7, int(row)]), lab, wave,
                                       redshift=float(cat["true_redshift"][row]))
        write_table(data / "spectra" / f"spec-{i:05d}.fits",
                    {"WAVE": (wave.astype(np.float32), "Angstrom"),
                     "FLUX": (f.astype(np.float32), "1e-17 erg/(s cm2 Angstrom)"),
                     "ERROR": (e.astype(np.float32), "1e-17 erg/(s cm2 Angstrom)")},
                    {"OBJ_ID": int(cat["obj_id"][row]), "RA": float(cat["ra"][row]), "DEC": float(cat["dec"][row]),
                     "LABEL": lab, "CLASS": catsim.CLASS_NAMES[lab], "Z": float(p["redshift"]),
                     "SNR": float(p["snr"]), "TEFF": float(np.nan_to_num(p["teff"])),
                     "DATE-OBS": "2026-02-%02dT00:00:00" % (1 + i % 28), "WMIN": float(wave[0]),
                     "WMAX": float(wave[-1]), "NPIX": len(wave), "SEED": seed})
        n_files["spectra"] += 1
    stages.update(1)

    # light curves: stars
    lcs = lcsim.simulate_lightcurves(spec.lightcurves, seed)
    lc_rows = np.sort(rng.choice(idx_star, size=spec.lightcurves, replace=False))
    for i, row in enumerate(lc_rows):
        hdr = {"OBJ_ID": int(cat["obj_id"][row]), "RA": float(cat["ra"][row]), "DEC": float(cat["dec"][row]),
               "LABEL": int(lcs.labels[i]), "CLASS": lcs.class_names[lcs.labels[i]],
               "PERIOD": float(np.nan_to_num(lcs.meta["period"][i])), "SEED": seed,
               "TSTART": LC_MJD0 + float(lcs.time[0]), "TSTOP": LC_MJD0 + float(lcs.time[-1]),
               "MJDREF": LC_MJD0, "WAVEMIN": LC_BAND[0], "WAVEMAX": LC_BAND[1], "NPTS": len(lcs.time)}
        write_table(data / "lightcurves" / f"lc-{i:05d}.fits",
                     {"TIME": (lcs.time, "d"), "FLUX": (lcs.flux[i], None), "FLUX_ERR": (lcs.flux_err[i], None)}, hdr)
        n_files["lightcurves"] += 1
    stages.update(1)
    stages.close()

    summary = {"seed": int(seed), "size": size, "format": SURVEY_FORMAT, "catalog_rows": spec.catalog, **n_files}
    (out_dir / "build.json").write_text(json.dumps(summary, indent=1))
    return summary


def _colour_galaxies(rng, n: int, cat: dict, idx_gal: np.ndarray, taken: set, out: Path, seed: int) -> int:
    """``n`` galaxies as an SDSS-like survey serves them: a g, an r and an i cutout each (0.396"/px, nanomaggies
    with the sky in, a TAN WCS on the catalogue object), classes drawn uniformly from Galaxy Zoo 1's
    (:func:`astrohub.sims.colour.gz_cutout`). Own random stream, so the other products stay as they were."""
    from ..sims.colour import GZ_CLASSES, gz_cutout

    for i in range(n):
        label = int(rng.integers(len(GZ_CLASSES)))
        bands, _size = gz_cutout(rng, GZ_CLASSES[label], SDSS_SCALE, side=COLOUR_SIDE)
        row = int(_pick(rng, idx_gal, 1, taken)[0])
        side = bands.shape[-1]
        for band, plane in zip("gri", bands):
            hdr = cutout_header(cat["ra"][row], cat["dec"][row], side, 1, SDSS_SCALE)
            hdr.update({"OBJ_ID": int(cat["obj_id"][row]), "TASK": "colour", "LABEL": label,
                        "CLASS": GZ_CLASSES[label], **_band_cards(band),
                        "DATE-OBS": "2026-03-%02dT00:00:00" % (1 + i % 28), "BUNIT": "nanomaggy", "SEED": seed})
            fits.PrimaryHDU(plane, header=hdr).writeto(out / f"colour-{i:05d}-{band}.fits", overwrite=True)
    return 3 * n
