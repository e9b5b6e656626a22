"""The zoo's generator with ``generate()``: galaxy_vae (class-conditional VAE)."""

import math
import shutil

import numpy as np
import pytest

from astrohub import models
from astrohub.models.cards import read_card
from astrohub.models.evaluation.generative import class_accuracy, galaxy_stats, ks_critical, ks_report, ks_statistic
from astrohub.models.inputs import InputError
from astrohub.models.recipes import RECIPES
from astrohub.models.registry import ZOO, load_dir
from astrohub.models.weights import WeightsIntegrityError, sha256_file
from astrohub.sims.images import CLASS_NAMES, simulate_images

NAME = "galaxy_vae"
N_FRESH = 500


@pytest.fixture(scope="module")
def vae(loaded):
    return loaded(NAME)


@pytest.fixture(scope="module")
def fresh():
    """Held-out simulations from a seed never used for training, validation, test or the card's samples."""
    spec = RECIPES[NAME]
    seed = RECIPES[NAME].fresh_seed() + 1
    assert seed not in spec.split_seeds().values()
    return simulate_images(spec.task, N_FRESH, seed, spec.size)


def test_generate_shape_dtype_units_and_determinism(vae):
    a = vae.generate(6, seed=123)
    assert a.shape == (6, 1, 64, 64) and a.dtype == np.float32 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, vae.generate(6, seed=123))  # same seed, same images
    assert not np.array_equal(a, vae.generate(6, seed=124))
    assert not np.array_equal(vae.generate(2), vae.generate(2))  # no seed: fresh randomness
    # survey count units (sky rms 1): objects well above the noise, near-empty sky in the corners
    assert np.median(a.reshape(6, -1).max(1)) > 1
    assert np.abs(a[:, 0, :6, :6]).mean() < 0.5
    c = vae.generate(4, seed=5, cls="edge-on")
    np.testing.assert_array_equal(c, vae.generate(4, seed=5, cls=2))  # name or index
    mixed = vae.generate(3, seed=5, cls=["star", 0, "spiral-disk"])
    assert mixed.shape == (3, 1, 64, 64)


def test_generate_bad_arguments(vae):
    with pytest.raises(InputError, match=r"galaxy_vae.generate: n must be a positive integer, got 0"):
        vae.generate(0)
    with pytest.raises(InputError, match=r"n must be a positive integer, got -3"):
        vae.generate(-3)
    with pytest.raises(TypeError, match=r"n must be a positive integer, got float 2.5"):
        vae.generate(2.5)
    with pytest.raises(TypeError, match=r"n must be a positive integer, got str '4'"):
        vae.generate("4")
    with pytest.raises(TypeError, match=r"seed must be an integer or None, got float 1.5"):
        vae.generate(2, seed=1.5)
    with pytest.raises(InputError, match=r"unknown class 'spiral' \(did you mean 'spiral-disk'\?\); classes are"):
        vae.generate(2, cls="spiral")
    with pytest.raises(InputError, match=r"class index 7 out of range 0..4"):
        vae.generate(2, cls=7)
    with pytest.raises(InputError, match=r"cls has 3 entries for 2 images"):
        vae.generate(2, cls=["star", "star", "star"])
    with pytest.raises(TypeError, match=r"cls must be a class name .* got float"):
        vae.generate(2, cls=1.0)


def test_encode_and_reconstruct(vae, fresh):
    from astrohub.models.evaluation.metrics import psnr

    x = fresh.images[:40]
    mu, logvar = vae.encode(x)
    assert mu.shape == logvar.shape == (40, vae.latent_dim)
    rec = vae.reconstruct(x)
    assert rec.shape == (40, 64, 64)
    truth = fresh.meta["truth"][:40]
    assert psnr(truth, rec).mean() > psnr(truth, x).mean() + 5  # noiseless, close to the truth
    np.testing.assert_allclose(vae.reconstruct(x * 10.0), rec * 10.0, rtol=1e-3, atol=1e-3)  # input units kept
    with pytest.raises(InputError, match=r"expects 64x64 pixel cutouts"):
        vae.reconstruct(x[:, :32, :32])


def test_card_complete_and_against_baseline(vae):
    card = models.card(NAME)
    spec = RECIPES[NAME]
    assert card["kind"] == "generator" and card["task"] == spec.task == "morphology_truth"
    assert card["outputs"]["classes"] == CLASS_NAMES["morphology"]
    assert sha256_file(ZOO / NAME / card["weights"]["file"]) == card["weights"]["sha256"]
    assert (ZOO / NAME / card["weights"]["file"]).stat().st_size < 5_000_000
    assert len(set(card["training"]["split_seeds"].values())) == 3 and card["training"]["n_test"] >= 1000
    m, b = card["metrics"], card["baseline"]
    assert m["split"] == "test"
    lo, hi = m["reconstruction_psnr"]["ci95"]
    assert lo <= m["reconstruction_psnr"]["mean"] <= hi
    # the verdicts are computed from the numbers, not asserted
    assert card["target_met"]["reconstruction_psnr"] == (
        m["reconstruction_psnr"]["mean"] > b["pca_projection_psnr"]["mean"])
    assert card["target_met"]["ks_mean"] == (m["ks_unconditional"]["mean"] < b["ks"]["mean"])
    assert card["target_met"]["class_accuracy"] == (
        m["conditional_class_accuracy"]["accuracy"] > b["conditional_class_accuracy"]["accuracy"])
    assert set(m["ks_unconditional"]) == {"flux", "hlr_arcsec", "ellipticity", "mean"}


def test_card_distribution_metrics_reproduce_on_fresh_sample(vae, fresh, loaded):
    """KS distances of new samples vs fresh held-out simulations, and the class accuracy of
    conditional samples, agree with the card within their sampling error."""
    card = vae.card["metrics"]
    n_card, n_ref = card["n_generated"], card["n"]
    gen = vae.generate(N_FRESH, seed=RECIPES[NAME].fresh_seed() + 2)
    ks = ks_report(gen, fresh.meta["truth"])
    # the KS distance of n vs m samples scatters by about its 5% critical value
    tol = ks_critical(N_FRESH, N_FRESH) + ks_critical(n_card, n_ref)
    for key in ("flux", "hlr_arcsec", "ellipticity"):
        assert abs(ks[key] - card["ks_unconditional"][key]) <= tol, (key, ks[key], card["ks_unconditional"][key], tol)
    clf = loaded("galaxy_morphology")
    cls = np.arange(N_FRESH) % 5
    acc = class_accuracy(clf, vae.generate(N_FRESH, seed=RECIPES[NAME].fresh_seed() + 3, cls=cls.tolist()), cls,
                         seed=RECIPES[NAME].fresh_seed() + 4)["accuracy"]
    p = card["conditional_class_accuracy"]["accuracy"]
    se = math.sqrt(p * (1 - p) * (1 / N_FRESH + 1 / n_card)) + 1e-3
    assert abs(acc - p) <= 3 * se, (acc, p, 3 * se)


def test_ks_statistic_and_stats_sanity():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=400), rng.normal(size=300)
    assert ks_statistic(a, a) == 0 and ks_statistic(a, b) < ks_critical(400, 300)
    assert ks_statistic(a, b + 1) > 0.3
    yy, xx = np.mgrid[:64, :64] - 31.5
    round_ = np.exp(-(xx**2 + yy**2) / (2 * 3.0**2))[None] * 50
    flat = np.exp(-(xx**2 / (2 * 6.0**2) + yy**2 / (2 * 2.0**2)))[None] * 50
    s = galaxy_stats(np.concatenate([round_, flat]))
    assert s["ellipticity"][0] < 0.02 and s["ellipticity"][1] > 0.6
    assert abs(s["hlr_arcsec"][0] - 1.1774 * 3.0 * 0.2) < 0.15  # Gaussian half-light radius = 1.1774 sigma


def test_tampered_vae_weights_are_refused(tmp_path):
    dst = tmp_path / NAME
    shutil.copytree(ZOO / NAME, dst)
    load_dir(dst)  # the pristine copy loads
    w = dst / read_card(dst / "card.json")["weights"]["file"]
    data = bytearray(w.read_bytes())
    data[-5] ^= 0x01
    w.write_bytes(bytes(data))
    with pytest.raises(WeightsIntegrityError, match="sha256 mismatch .* refusing to load it"):
        load_dir(dst)


def test_astrohub_eval_and_models_listing(capsys):
    from astrohub.models import cli
    from astrohub.models.evaluation.evaluate import evaluate

    res = evaluate(NAME, n=60)
    assert res["fresh"]["n"] == 60 and res["fresh"]["reconstruction_psnr"]["mean"] > 20
    assert set(res["fresh"]["ks_unconditional"]) == {"flux", "hlr_arcsec", "ellipticity", "mean"}
    import argparse

    parser = argparse.ArgumentParser(prog="astrohub")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["models"])
    assert args.func(args) == 0
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(NAME)][0]
    assert "recon PSNR" in line and "class acc" in line
