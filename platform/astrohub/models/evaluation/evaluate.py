"""`astrohub eval NAME`: a shipped model's metrics on a fresh simulated test set or a user table.

Each kind's row in :mod:`astrohub.models.kinds` names its scorer here: :func:`image_metrics` or
:func:`series_metrics` (a loaded model on a fresh simulated set of its recipe's task).
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
        p = model.predict_proba(images, psf_fwhm=psf_fwhm)
        if len(y) != len(p):
            raise InputError(f"{model.name}: {len(p)} images but {len(y)} labels")
        return M.classification_report(y, p, model.class_names)
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
    from astropy.table import Table

    try:
        t = Table.read(path)
    except Exception as e:
        raise InputError(f"could not read {path} as a table ({type(e).__name__}: {e}); "
                         "use FITS, ECSV, VOTable or .npz") from None
    cols = {c.lower(): c for c in t.colnames}
    if "image" not in cols or ("label" not in cols and "truth" not in cols):
        raise InputError(f"{path}: table needs an 'image' column and a 'label' (or 'truth') column; "
                         f"found {t.colnames}")
    out = {"images": np.asarray(t[cols["image"]])}
    for k in ("label", "truth", "lowres", "psf_fwhm"):
        if k in cols:
            out["labels" if k == "label" else k] = np.asarray(t[cols[k]])
    return out


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
             model=None, real: bool = True) -> dict:
    """Card metrics next to metrics on a fresh simulated set (``n`` objects, ``seed`` defaults to a
    seed disjoint from training), for image models on a labelled ``table`` file, and, for a model whose
    card has a ``real`` section (and ``real``), its metrics re-measured now on the kit's held-out split."""
    from ..kinds import kind_of
    from ..registry import get_card

    row = kind_of(model.card if model is not None else get_card(name))  # UnknownModelError for unknown names
    if table is not None and not row.image:
        raise InputError(f"{name}: --table is only supported for the image models; "
                         "load the model and call predict() on your light curves / spectra / photometry")
    model = model or load(name, device=None if row.image else "cpu")
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
        psf = "psf_fwhm" in model.card["inputs"]
        d = read_table(table)
        res["table"] = {"file": str(table), **evaluate_arrays(model, d["images"], d.get("labels"), d.get("truth"),
                                                              d.get("lowres"), d.get("psf_fwhm") if psf else None)}
    return res
