"""`astrohub eval NAME`: a shipped model's metrics on a fresh simulated test set or a user table."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import metrics as M
from .data import simulate
from .preprocess import InputError
from .registry import load
from .specs import get_spec

FRESH_SEED_OFFSET = 7  # seed*100 + 7: never used by train (1), val (2) or test (3)


def fresh_seed(name: str) -> int:
    return get_spec(name).seed * 100 + FRESH_SEED_OFFSET


def evaluate_arrays(model, images, labels=None, truth=None, lowres=None, psf_fwhm=None) -> dict:
    """Metrics of ``model`` on arrays: classifiers need ``labels`` (and use ``psf_fwhm`` when given,
    see ``predict``); generators ``truth`` (denoising, and 2x SR when ``lowres`` is given)."""
    if model.card["kind"] == "classifier":
        if labels is None:
            raise InputError(f"{model.name}: evaluation needs labels")
        y = _label_indices(labels, model.class_names, model.name)
        p = model.predict_proba(images, psf_fwhm=psf_fwhm)
        if len(y) != len(p):
            raise InputError(f"{model.name}: {len(p)} images but {len(y)} labels")
        return M.classification_report(y, p, model.class_names)
    if truth is None:
        raise InputError(f"{model.name}: evaluating a generator needs the noiseless 'truth' images")
    truth = np.asarray(truth, np.float32)
    if hasattr(model, "generate"):  # VAE: reconstruction of the inputs, and new samples against the truths
        from .gen_eval import ks_report

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


def _label_indices(labels, class_names, name) -> np.ndarray:
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


def evaluate(name: str, n: int = 1000, seed: int | None = None, table: str | Path | None = None) -> dict:
    """Card metrics next to metrics on a fresh simulated set (``n`` objects, ``seed`` defaults to a
    seed disjoint from training) and, if given, on a labelled ``table`` file."""
    from .train_series import SERIES_SPECS, evaluate_series

    if name in SERIES_SPECS:  # 1-D models: fresh simulated set only
        if table is not None:
            raise InputError(f"{name}: --table is only supported for the image models; "
                             "load the model and call predict() on your light curves / spectra / photometry")
        return evaluate_series(name, n, seed)
    model = load(name)
    spec = get_spec(name)
    seed = fresh_seed(name) if seed is None else int(seed)
    psf = "psf_fwhm" in model.card["inputs"]  # metrics with the PSF; metrics_without_psf without it
    res = {"name": name, "card": model.card["metrics"], "baseline": model.card["baseline"]}
    if n:
        b = simulate(spec.task, n, seed, spec.size, cache=False)
        res["fresh"] = {"seed": seed, **evaluate_arrays(model, b.images, b.labels, b.meta.get("truth"),
                                                        b.meta.get("lowres"), b.meta["psf_fwhm"] if psf else None)}
        if psf:
            res["card_without_psf"] = model.card["metrics_without_psf"]
            res["fresh_without_psf"] = {"seed": seed, **evaluate_arrays(model, b.images, b.labels)}
    if table is not None:
        d = read_table(table)
        res["table"] = {"file": str(table), **evaluate_arrays(model, d["images"], d.get("labels"), d.get("truth"),
                                                              d.get("lowres"), d.get("psf_fwhm") if psf else None)}
    return res
