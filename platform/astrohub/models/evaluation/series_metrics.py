"""Metrics of the 1-D models: transit ranking, photo-z point/PDF quality, regression errors."""

from __future__ import annotations

import numpy as np

from .metrics import bootstrap_ci

Z_GRID = np.linspace(-0.05, 4.0, 810)  # redshift grid of the photo-z PDF metrics


def vetting_report(is_planet, score) -> dict:
    """AUC = fraction of (planet, false positive) pairs ranked correctly (AstroNet's headline),
    with a 95% bootstrap CI, plus the recall of planets at 1% false-positive rate."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(is_planet, bool)
    s = np.asarray(score, float)
    fn = lambda yy, ss: float(roc_auc_score(yy, ss)) if 0 < yy.sum() < len(yy) else float("nan")  # noqa: E731
    thr = np.quantile(s[~y], 0.99)
    return {"n": int(len(y)), "n_planets": int(y.sum()), "auc": fn(y, s), "auc_ci95": bootstrap_ci(fn, y, s, 200),
            "planets_ranked_above_false_positives": fn(y, s),
            "recall_at_1pct_fpr": float(np.mean(s[y] > thr))}


def point_metrics(z_true, z_est) -> dict:
    """sigma_NMAD, outlier fraction (|dz|/(1+z) > 0.15) and bias (median dz/(1+z))."""
    dz = (np.asarray(z_est, float) - np.asarray(z_true, float)) / (1 + np.asarray(z_true, float))
    return {"sigma_nmad": float(1.4826 * np.median(np.abs(dz - np.median(dz)))),
            "outlier_fraction": float(np.mean(np.abs(dz) > 0.15)), "bias": float(np.median(dz))}


def crps_from_cdf(grid, cdf, z_true) -> np.ndarray:
    """Per-object CRPS of CDFs [N, G] tabulated on ``grid`` [G]."""
    step = (np.asarray(z_true)[:, None] <= grid[None]).astype(float)
    return np.trapezoid((cdf - step) ** 2, grid, axis=1)


def pit_report(pit) -> dict:
    """Calibration of PIT values: KS distance to uniform, 68%/95% interval coverage, histogram."""
    pit = np.sort(np.clip(np.asarray(pit, float), 0, 1))
    n = len(pit)
    ks = float(np.max(np.maximum(np.arange(1, n + 1) / n - pit, pit - np.arange(n) / n)))
    hist = np.histogram(pit, bins=10, range=(0, 1))[0] / n
    return {"pit_ks": ks, "coverage_68": float(np.mean((pit > 0.16) & (pit < 0.84))),
            "coverage_95": float(np.mean((pit > 0.025) & (pit < 0.975))), "pit_hist10": hist.round(4).tolist()}


def pit_values(grid, cdf, z_true) -> np.ndarray:
    """Each object's PIT: its tabulated CDF (on ``grid``) at its true redshift."""
    return np.array([np.interp(z, grid, c) for z, c in zip(z_true, cdf)])


def pdf_report(grid, cdf, z_point, z_true) -> dict:
    """Point metrics of ``z_point``, mean CRPS (with CI) and PIT calibration of tabulated CDFs."""
    crps = crps_from_cdf(grid, cdf, z_true)
    pit = pit_values(grid, cdf, z_true)
    lo, hi = bootstrap_ci(lambda a, b: float(np.mean(a)), crps, crps, 300)
    return {"n": int(len(z_true)), **point_metrics(z_true, z_point), "crps": float(crps.mean()),
            "crps_ci95": [lo, hi], **pit_report(pit)}


def regression_report(truth, est, sigma, names) -> dict:
    """Per-parameter bias, RMSE, MAE, and calibration of the 1-sigma uncertainties (fraction of
    |error| < sigma, ideally 0.683; std of the pulls, ideally 1)."""
    out = {"n": int(len(truth))}
    for j, k in enumerate(names):
        d = est[:, j] - truth[:, j]
        r = {"bias": float(np.mean(d)), "rmse": float(np.sqrt(np.mean(d ** 2))), "mae": float(np.mean(np.abs(d)))}
        if sigma is not None:
            pull = d / sigma[:, j]
            r.update(within_1sigma=float(np.mean(np.abs(pull) < 1)), pull_std=float(np.std(pull)),
                     median_sigma=float(np.median(sigma[:, j])))
        out[k] = r
    return out
