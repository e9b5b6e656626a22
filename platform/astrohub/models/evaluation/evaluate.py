"""`astrohub eval NAME`: a shipped model's metrics on a fresh simulated test set or a user table.

Each kind's row in :mod:`astrohub.models.kinds` names its scorer here: :func:`image_metrics` or
:func:`series_metrics` (a loaded model on a fresh simulated set of its recipe's task).

A user's own labelled real data (``--table``, :func:`evaluate_table`): image arrays for the image models, a table
of files with labels for the colour and light-curve models (Galaxy Zoo JPEGs, Kepler/TESS FITS), and a catalogue
with magnitudes, errors and spectroscopic redshifts for photo-z, its columns found as the pipeline finds them
(UCDs or well-known survey names). The table is read and checked before any model runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..datasets import STELLAR_NAMES, simulate_images, simulate_series, stellar_targets
from ..inputs import InputError
from ..recipes import Recipe, get_recipe
from ..registry import load
from . import metrics as M
from . import series_metrics as SM


def evaluate_arrays(model, images, labels=None, truth=None, lowres=None, psf_fwhm=None) -> dict:
    """Metrics of ``model`` on arrays: classifiers need ``labels`` (and use ``psf_fwhm`` when given,
    see ``predict``); generators ``truth`` (denoising, and 2x SR when ``lowres`` is given)."""
    from ..kinds import kind_of

    if kind_of(model.card).classifier:
        if labels is None:
            raise InputError(f"{model.name}: evaluation needs labels")
        y = label_indices(labels, model.class_names, model.name)
        pred = model.predict(images, mc_samples=0, psf_fwhm=psf_fwhm)
        p = pred.probabilities
        if len(y) != len(p):
            raise InputError(f"{model.name}: {len(p)} images but {len(y)} labels")
        out = M.classification_report(y, p, model.class_names)
        if getattr(pred, "ood", None) is not None:
            out["ood"] = int(np.sum(pred.ood))
        return out
    if truth is None:
        raise InputError(f"{model.name}: evaluating a generator needs the noiseless 'truth' images")
    truth = np.asarray(truth, np.float32)
    if hasattr(model, "generate"):  # VAE: reconstruction of the inputs, and new samples against the truths
        from .generative import ks_report

        rec = model.reconstruct(images)
        if truth.shape != rec.shape:
            raise InputError(f"{model.name}: truth has shape {truth.shape}, expected {rec.shape}")
        ks = ks_report(model.generate(len(truth), seed=len(truth)), truth)
        return {"n": len(truth), "reconstruction_psnr": dict(zip(("mean", "ci95"), M.mean_ci(M.psnr(truth, rec)))),
                "ks_unconditional": {**ks, "mean": float(np.mean(list(ks.values())))}}
    den = model.denoise(images)
    if truth.shape != den.shape:
        raise InputError(f"{model.name}: truth has shape {truth.shape}, expected {den.shape}")
    out = {"n": len(truth)}
    for k, f in (("psnr", M.psnr), ("ssim", M.ssim)):
        out[f"denoise_{k}"] = dict(zip(("mean", "ci95"), M.mean_ci(f(truth, den))))
    if lowres is not None:
        sr = model.super_resolve(lowres)
        for k, f in (("psnr", M.psnr), ("ssim", M.ssim)):
            out[f"sr_{k}"] = dict(zip(("mean", "ci95"), M.mean_ci(f(truth, sr))))
    return out


def label_indices(labels, class_names, name) -> np.ndarray:
    lab = np.asarray(labels)
    if lab.dtype.kind in "US" or lab.dtype == object:
        lab = np.char.strip(lab.astype(str))
        unknown = sorted(set(lab.tolist()) - set(class_names))
        if unknown:
            raise InputError(f"{name}: unknown label(s) {unknown[:5]}; classes are {class_names}")
        return np.array([class_names.index(v) for v in lab], np.int64)
    if lab.dtype.kind not in "iu" and not (lab.dtype.kind == "f" and np.all(lab == np.round(lab))):
        raise InputError(f"{name}: labels must be class indices or class names, got dtype {lab.dtype}")
    lab = lab.astype(np.int64)
    if lab.ndim != 1:
        raise InputError(f"{name}: labels must be a 1-D array, got shape {lab.shape}")
    if lab.size and (lab.min() < 0 or lab.max() >= len(class_names)):
        raise InputError(f"{name}: label indices must lie in 0..{len(class_names) - 1} ({class_names})")
    return lab


def _astropy_table(path: Path):
    from astropy.table import Table

    try:
        return Table.read(path)
    except Exception as e:
        raise InputError(f"could not read {path} as a table ({type(e).__name__}: {e}); "
                         "use FITS, ECSV, VOTable, CSV or .npz") from None


def read_table(path: str | Path) -> dict[str, np.ndarray]:
    """Arrays from a labelled file: ``.npz`` (keys images + labels/truth[/lowres]) or any astropy
    table format (FITS, ECSV, VOTable) with an ``image`` column and a ``label`` column (optional:
    ``psf_fwhm``, arcsec, for models that take the PSF)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"table file {path} not found")
    if path.suffix == ".npz":
        try:
            z = np.load(path, allow_pickle=False)
        except Exception as e:
            raise InputError(f"could not read {path} as .npz: {e}") from None
        if "images" not in z.files:
            raise InputError(f"{path}: .npz needs an 'images' array (found {z.files})")
        return {k: z[k] for k in z.files}
    t = _astropy_table(path)
    cols = {c.lower(): c for c in t.colnames}
    if "image" not in cols or ("label" not in cols and "truth" not in cols):
        raise InputError(f"{path}: table needs an 'image' column and a 'label' (or 'truth') column; "
                         f"found {t.colnames}")
    out = {"images": np.asarray(t[cols["image"]])}
    for k in ("label", "truth", "lowres", "psf_fwhm"):
        if k in cols:
            out["labels" if k == "label" else k] = np.asarray(t[cols[k]])
    return out


FILE_COLUMNS = ("path", "file", "filename", "image")  # a table of files: the first of these it has
TABLE_MODALITIES = ("cutout", "colour", "lightcurve", "spectrum", "photometry")  # what --table evaluates


def read_file_table(path: str | Path) -> tuple[list[Path], np.ndarray]:
    """(files, labels) from a labelled table of files (CSV, ECSV, FITS or VOTable): a column of paths (the first of
    FILE_COLUMNS; relative paths start at the table's folder) and a ``label`` column (class names or indices).
    Every file must exist; an InputError names the first row that is wrong."""
    from ..inputs.colour import URL

    path = Path(path)
    t = _astropy_table(path)
    cols = {c.lower(): c for c in t.colnames}
    col = next((cols[c] for c in FILE_COLUMNS if c in cols), None)
    if col is None or "label" not in cols:
        raise InputError(f"{path}: a table of files needs a column of paths (one of {', '.join(FILE_COLUMNS)}) and a "
                         f"'label' column; found {t.colnames}")
    if len(t) == 0:
        raise InputError(f"{path}: the table has no rows")
    files = []
    for i, v in enumerate(np.ma.filled(np.ma.asarray(t[col]).astype(str), "")):
        name = str(v).strip()
        if not name:
            raise InputError(f"{path}: row {i} has no file in column {col!r}")
        if URL.match(name):
            raise InputError(f"{path}: row {i}: {name} is a URL; evaluation reads local files and fetches nothing: "
                             "download them first")
        f = Path(name) if Path(name).is_absolute() else path.parent / name
        if not f.is_file():
            raise InputError(f"{path}: row {i}: file {f} not found (relative paths start at the table's folder)")
        files.append(f)
    return files, np.asarray(t[cols["label"]])


def read_catalogue(path: str | Path, bands) -> tuple[object, np.ndarray]:
    """(the rows' magnitudes and errors under the zoo's names ``mag_<b>`` / ``err_<b>``, spectroscopic redshifts)
    from a catalogue in any astropy format; the columns are found as the pipeline finds them (UCDs, else SDSS,
    Legacy Survey, Pan-STARRS or VizieR names), the redshift by UCD src.redshift or a name such as z or z_spec."""
    from astrohub.vo import metadata

    t = _astropy_table(Path(path))
    phot = metadata.photometry(t)
    if not phot.complete(bands):
        raise InputError(f"{path}: no {' '.join(bands)} magnitudes with errors ({phot.missing(bands)}); columns "
                         f"are found by UCD (phot.mag, stat.error) or survey names such as modelMag_r/modelMagErr_r")
    zcol = metadata.redshift(t)
    if zcol is None:
        raise InputError(f"{path}: no spectroscopic redshift column (UCD src.redshift, or one of "
                         f"{', '.join(metadata.Z_NAMES)}); found {t.colnames}")
    z = np.ma.filled(np.ma.asarray(t[zcol], np.float64), np.nan)
    if not np.isfinite(z).all():
        bad = int(np.flatnonzero(~np.isfinite(z))[0])
        raise InputError(f"{path}: {int((~np.isfinite(z)).sum())} row(s) have no redshift in {zcol!r} (first: row "
                         f"{bad}); drop them first")
    return phot.canonical(t, bands), z


def read_user_table(model, path: str | Path) -> dict:
    """The user's labelled table for ``model``, read and checked (see :func:`evaluate_table`)."""
    from ..kinds import kind_of, modality

    kind = modality(model.card)
    if kind not in TABLE_MODALITIES or kind == "spectrum" and not kind_of(model.card).classifier:
        raise InputError(f"{model.name}: --table reads image arrays, tables of JPEG/PNG, light-curve or spectrum "
                         "files with class labels, or catalogues with magnitudes and redshifts; for stellar "
                         "parameters, load the model and call predict() on your spectra")
    if not Path(path).is_file():
        raise FileNotFoundError(f"table file {path} not found")
    if kind in ("colour", "lightcurve", "spectrum"):
        files, labels = read_file_table(path)
        return {"files": files, "labels": label_indices(labels, model.class_names, model.name)}
    if kind == "photometry":
        bands = tuple(model.card.get("inputs", {}).get("bands") or "ugriz")
        rows, z = read_catalogue(path, bands)
        return {"rows": rows, "z": z}
    return read_table(path)


def check_plot(model, plot: str | Path) -> Path:
    """``plot`` as a Path when this model's table evaluation has a figure and its folder exists, else an
    InputError saying why (checked before anything runs)."""
    from ..kinds import kind_of, modality

    plot = Path(plot)
    if not (kind_of(model.card).classifier or modality(model.card) == "photometry"):
        raise InputError(f"{model.name}: --plot draws a classifier's confusion matrix or photo-z's z_phot against "
                         "z; this model has neither")
    if plot.suffix.lower() != ".png":
        raise InputError(f"--plot writes a PNG: give a file name ending in .png, got {plot.name!r}")
    if not plot.parent.is_dir():
        raise InputError(f"--plot: folder {plot.parent} does not exist")
    return plot


def evaluate_table(model, path: str | Path, data: dict | None = None, plot: str | Path | None = None) -> dict:
    """Metrics of ``model`` on the user's labelled table at ``path`` (``data``: it already read by
    :func:`read_user_table`): classifiers get accuracy and AUC with 95% intervals, macro recall, per-class recall and
    the confusion matrix; photo-z sigma_NMAD, outliers, bias (with intervals), PIT and 68% coverage. Models that flag
    inputs unlike their training data add ``ood`` (how many rows were flagged). ``plot``: a PNG of the confusion
    matrix, or of z_phot against z with the PIT histogram (:mod:`.figures`); its path is returned as ``plot``."""
    from ..kinds import kind_of
    from . import figures

    plot = check_plot(model, plot) if plot is not None else None
    d = read_user_table(model, path) if data is None else data
    title = f"{model.name} on {Path(path).name}"
    if "files" in d:
        from .kits.galaxyzoo1 import report

        pred = model.predict(d["files"], mc_samples=0)
        out = report(d["labels"], pred.probabilities, model.class_names)
    elif "rows" in d:
        from .kits.sdss_photoz import report as photoz_report

        pred = model.predict(d["rows"])
        cdf = pred.cdf(SM.Z_GRID)
        out = photoz_report(cdf, pred.z_mode, d["z"])
        if plot is not None:
            pit = SM.pit_values(SM.Z_GRID, cdf, d["z"])
            out["plot"] = str(figures.photoz_png(plot, d["z"], pred.z_mode, pit, f"{title}: n={out['n']}"))
    else:
        psf = "psf_fwhm" in model.card["inputs"]
        pred = None
        out = evaluate_arrays(model, d["images"], d.get("labels"), d.get("truth"), d.get("lowres"),
                              d.get("psf_fwhm") if psf else None)
    if plot is not None and "confusion" in out:
        out["plot"] = str(figures.confusion_png(plot, out["confusion"], model.class_names,
                                                f"{title}: accuracy {out['accuracy']:.3f} (n={out['n']})"))
    if getattr(pred, "ood", None) is not None:
        out["ood"] = int(np.sum(pred.ood))
    return {"kind": kind_of(model.card).name, **out}


def image_metrics(model, recipe: Recipe, n: int, seed: int) -> dict:
    """``fresh``: metrics of an image model on ``n`` fresh simulations (``seed``) of its recipe; a model
    with a PSF-aware head also gets ``fresh_without_psf`` (and ``card_without_psf``)."""
    psf = "psf_fwhm" in model.card["inputs"]  # metrics with the PSF; metrics_without_psf without it
    b = simulate_images(recipe.task, n, seed, recipe.size, cache=False)
    res = {"fresh": {"seed": seed, **evaluate_arrays(model, b.images, b.labels, b.meta.get("truth"),
                                                     b.meta.get("lowres"), b.meta["psf_fwhm"] if psf else None)}}
    if psf:
        res["card_without_psf"] = model.card["metrics_without_psf"]
        res["fresh_without_psf"] = {"seed": seed, **evaluate_arrays(model, b.images, b.labels)}
    return res


def no_simulation(model, recipe: Recipe, n: int, seed: int) -> dict:
    """Models trained on a real kit only have no simulated set to re-measure: their card's ``real``
    section (re-measured by :func:`evaluate`) is all there is."""
    return {}


def series_metrics(model, recipe: Recipe, n: int, seed: int) -> dict:
    """``fresh``: metrics of a 1-D model on ``n`` fresh simulations (``seed``) of its recipe's task."""
    return {"fresh": {"seed": seed, **metrics_on(model, recipe.task, simulate_series(recipe.task, n, seed,
                                                                                      cache=False))}}


def metrics_on(model, task: str, d: dict) -> dict:
    """Metrics of a loaded 1-D ``model`` on simulated arrays ``d`` of its task."""
    if task == "transit":
        pr = model.predict_features(d["global"], d["local"], d["scalars"], mc_samples=0)
        return {**M.classification_report(d["labels"], pr.probabilities, model.class_names),
                "vetting": SM.vetting_report(d["labels"] == 0, pr.planet_score)}
    if task == "spectral_class":
        return M.classification_report(d["labels"], model.predict_proba(d["flux"]), model.class_names)
    if task == "photoz":
        res = model.predict(d["mags"], d["errors"])
        return {"point_estimate": "PDF mode", **SM.pdf_report(SM.Z_GRID, res.cdf(SM.Z_GRID), res.z_mode,
                                                              d["redshift"].astype(np.float64))}
    res = model.predict(d["flux"])
    return SM.regression_report(stellar_targets(d), res.values, res.sigmas, STELLAR_NAMES)


def evaluate(name: str, n: int = 1000, seed: int | None = None, table: str | Path | None = None,
             model=None, real: bool = True, plot: str | Path | None = None) -> dict:
    """Card metrics next to metrics on a fresh simulated set (``n`` objects, ``seed`` defaults to a
    seed disjoint from training), on the user's labelled ``table`` file (:func:`evaluate_table`), and, for a model whose
    card has a ``real`` section (and ``real``), its metrics re-measured now on the kit's held-out split."""
    from ..kinds import kind_of
    from ..registry import get_card

    row = kind_of(model.card if model is not None else get_card(name))  # UnknownModelError for unknown names
    model = model or load(name, device=None if row.image else "cpu")
    if plot is not None and table is None:
        raise InputError("--plot draws the evaluation on your --table: give --table FILE too")
    if plot is not None:
        check_plot(model, plot)
    data = read_user_table(model, table) if table is not None else None  # checked before any measuring
    recipe = get_recipe(name)
    seed = recipe.fresh_seed() if seed is None else int(seed)
    res = {"name": name, "card": model.card["metrics"], "baseline": model.card["baseline"],
           "validated_on_real": model.card["validated_on_real"]}
    if real and "real" in model.card:
        from .kits import measure

        res["card_real"] = model.card["real"]
        res["real"] = measure(name, model)
    if n:
        res.update(row.load_scorer()(model, recipe, n, seed))
    if table is not None:
        res["table"] = {"file": str(table), **evaluate_table(model, table, data, plot)}
    return res
