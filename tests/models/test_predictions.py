"""Predictor outputs: calibrated probabilities, MC-dropout uncertainty, saliency, generators."""

import numpy as np
import pytest

from astrohub.sims.images import simulate_images

from .conftest import CLASSIFIERS


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_prediction_fields(name, loaded):
    m = loaded(name)
    c, h, _ = m.card["inputs"]["shape"]
    b = simulate_images(m.card["task"], 16, seed=77, size=h)
    p = m.predict(b.images)
    k = len(m.class_names)
    assert p.probabilities.shape == (16, k)
    np.testing.assert_allclose(p.probabilities.sum(1), 1, atol=1e-6)
    np.testing.assert_array_equal(p.labels, p.probabilities.argmax(1))
    assert p.names == [m.class_names[i] for i in p.labels]
    assert p.uncertainty.shape == (16,) and (p.uncertainty >= 0).all() and p.uncertainty.max() > 0
    assert ((p.entropy >= 0) & (p.entropy <= np.log(k) + 1e-9)).all()
    assert (m.predict(b.images, mc_samples=0).uncertainty == 0).all()
    s = m.explain(b.images)
    assert s.shape == (16, h, h) and np.isfinite(s).all() and (s >= 0).all() and s.max() > 0


def test_saliency_concentrates_on_the_galaxy(loaded):
    m = loaded("galaxy_morphology")
    b = simulate_images("morphology", 40, seed=78, size=64)
    bright = b.meta["snr"] > 50
    s = m.explain(b.images[bright])
    centre = s[:, 22:42, 22:42].mean(axis=(1, 2))
    edge = np.concatenate([s[:, :8].reshape(len(s), -1), s[:, -8:].reshape(len(s), -1)], 1).mean(1)
    assert np.median(centre / edge) > 2


def test_uncertainty_higher_for_wrong_answers(loaded):
    m = loaded("galaxy_morphology")
    b = simulate_images("morphology", 400, seed=79, size=64)
    p = m.predict(b.images)
    wrong = p.labels != b.labels
    assert wrong.sum() >= 3, "seed 79 must give the 92%-accurate model some mistakes to compare"
    assert p.entropy[wrong].mean() > p.entropy[~wrong].mean()


def test_generator_denoises_and_super_resolves(loaded):
    from astrohub.models.evaluation.metrics import psnr

    g = loaded("cutout_denoiser")
    b = simulate_images("denoise", 24, seed=80, size=64)
    den = g.denoise(b.images)
    sr = g.super_resolve(b.meta["lowres"])
    assert den.shape == sr.shape == (24, 64, 64)
    truth = b.meta["truth"]
    assert psnr(truth, den).mean() > psnr(truth, b.images).mean() + 3
    nearest = np.repeat(np.repeat(b.meta["lowres"], 2, 1), 2, 2)
    assert psnr(truth, sr).mean() > psnr(truth, nearest).mean()
    np.testing.assert_allclose(g.predict(b.images), den)
    s = g.explain(b.images[:2])
    assert s.shape == (2, 64, 64) and s.max() > 0
