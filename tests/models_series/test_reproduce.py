"""Shipped 1-D weights reproduce their card metrics on freshly simulated data (a seed used by
neither training, validation, the card's test split nor `astrohub eval`'s default set); the real-adapted
photoz_mdn's secondary simulated figures on the card's own simulated test split."""

import math

import numpy as np
import pytest

from astrohub.models.datasets import simulate_series as simulate
from astrohub.models.datasets import stellar_targets
from astrohub.models.evaluation import series_metrics as SM
from astrohub.models.evaluation.metrics import accuracy, auc
from astrohub.models.evaluation.series_metrics import Z_GRID
from astrohub.models.recipes import RECIPES as SERIES_SPECS

from .conftest import SERIES_MODELS


def _fresh(name, n):
    spec = SERIES_SPECS[name]
    seed = spec.fresh_seed() + 1
    assert seed not in spec.split_seeds().values()
    return simulate(spec.task, n, seed, cache=False)


def _boot_se(fn, *arrays, n_boot=200):
    rng = np.random.default_rng(0)
    n = len(arrays[0])
    vals = [fn(*[a[i] for a in arrays]) for i in (rng.integers(0, n, n) for _ in range(n_boot))]
    return float(np.nanstd(vals))


def _close(fresh, card, se_fresh, n_card, n_fresh, floor=1e-3):
    """|fresh - card| within 3 combined standard errors (card SE scaled from the fresh one)."""
    se_card = se_fresh * math.sqrt(n_fresh / n_card)
    tol = 3 * math.hypot(se_fresh, se_card) + floor
    return abs(fresh - card) <= tol, tol


def test_card_metrics_were_measured_on_held_out_split(loaded):
    for name in SERIES_MODELS:
        card = loaded(name).card
        assert card["metrics"]["split"] == "test"
        seeds = card["training"]["split_seeds"]
        assert len(set(seeds.values())) == 3
        assert card["training"]["n_test"] >= 1000


def test_spectral_class_accuracy_reproduces(loaded):
    m = loaded("spectral_class")
    d = _fresh("spectral_class", 600)
    p = m.predict_proba(d["flux"])
    card = m.card["metrics"]
    err = max(1 - card["accuracy"], 3 / card["n"])  # rule of three when the card shows no errors
    v = accuracy(d["labels"], p)
    ok, tol = _close(v, card["accuracy"], math.sqrt(err * (1 - err) / len(p)), card["n"], len(p), floor=3e-3)
    assert ok, f"accuracy: fresh {v:.4f} vs card {card['accuracy']:.4f} (tol {tol:.4f})"
    assert auc(d["labels"], p) >= card["auc"] - 5e-3


def test_transit_auc_reproduces(loaded):
    m = loaded("transit_vetter")
    d = _fresh("transit_vetter", 400)
    pr = m.predict_features(d["global"], d["local"], d["scalars"], mc_samples=0)
    y = d["labels"] == 0
    v = SM.vetting_report(y, pr.planet_score)["auc"]
    card = m.card["metrics"]["vetting"]
    from sklearn.metrics import roc_auc_score

    se_card = (card["auc_ci95"][1] - card["auc_ci95"][0]) / 3.92
    se = max(_boot_se(lambda a, b: roc_auc_score(a, b) if 0 < a.sum() < len(a) else np.nan, y, pr.planet_score),
             se_card * math.sqrt(card["n"] / len(y)))
    ok, tol = _close(v, card["auc"], se, card["n"], len(y), floor=5e-3)
    assert ok, f"AUC fresh {v:.4f} vs card {card['auc']:.4f} (tol {tol:.4f})"


def test_photoz_adapted_simulation_metrics_reproduce_exactly(loaded):
    """photoz_mdn is adapted to real SDSS (its PDFs lean on real SDSS neighbours in QSO colour space): its
    simulated figures are secondary (tests/models_series/test_real_photoz.py re-measures the real ones), so
    they are re-measured on the card's own simulated test split and must equal the card's."""
    m = loaded("photoz_mdn")
    spec = SERIES_SPECS["photoz_mdn"]
    card = m.card["metrics"]
    d = simulate(spec.task, card["n"], spec.split_seeds()["test"], cache=False)
    res = m.predict(d["mags"], d["errors"])
    rep = SM.pdf_report(Z_GRID, res.cdf(Z_GRID), res.z_mode, d["redshift"].astype(np.float64))
    for key in ("sigma_nmad", "outlier_fraction", "bias", "coverage_68"):
        assert rep[key] == pytest.approx(card[key], rel=1e-6, abs=1e-9), key


def test_photoz_metrics_reproduce(loaded):
    m = loaded("photoz_sim")  # the simulation-trained photo-z: its card's figures hold on fresh simulations
    d = _fresh("photoz_sim", 2000)
    res = m.predict(d["mags"], d["errors"])
    z = d["redshift"].astype(np.float64)
    rep = SM.pdf_report(Z_GRID, res.cdf(Z_GRID), res.z_mode, z)
    card = m.card["metrics"]
    for key in ("sigma_nmad", "outlier_fraction"):
        se = _boot_se(lambda a, b, key=key: SM.point_metrics(a, b)[key], z, res.z_mode, n_boot=100)
        ok, tol = _close(rep[key], card[key], se, card["n"], len(z), floor=2e-3)
        assert ok, f"{key}: fresh {rep[key]:.4f} vs card {card[key]:.4f} (tol {tol:.4f})"
    se = math.sqrt(card["coverage_68"] * (1 - card["coverage_68"]) / len(z))
    ok, tol = _close(rep["coverage_68"], card["coverage_68"], se, card["n"], len(z), floor=2e-3)
    assert ok, f"68% coverage: fresh {rep['coverage_68']:.4f} vs card {card['coverage_68']:.4f} (tol {tol:.4f})"


def test_stellar_rmse_reproduces(loaded):
    m = loaded("stellar_params")
    d = _fresh("stellar_params", 400)
    res = m.predict(d["flux"])
    y = stellar_targets(d)
    for j, k in enumerate(res.names):
        err = res.values[:, j] - y[:, j]
        rmse = float(np.sqrt(np.mean(err ** 2)))
        se = _boot_se(lambda e: float(np.sqrt(np.mean(e ** 2))), err)
        card = m.card["metrics"][k]
        ok, tol = _close(rmse, card["rmse"], se, m.card["metrics"]["n"], len(err), floor=1e-3)
        assert ok, f"{k}: fresh RMSE {rmse:.4f} vs card {card['rmse']:.4f} (tol {tol:.4f})"
        within = float(np.mean(np.abs(err) < res.sigmas[:, j]))
        assert abs(within - card["within_1sigma"]) < 4 * math.sqrt(0.25 / len(err)) + 0.01
