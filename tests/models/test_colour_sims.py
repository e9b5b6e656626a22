"""The Galaxy Zoo 1 colour-stamp simulator (astrohub.sims.colour): seeded, the same on any number of processes,
each class looking as Galaxy Zoo shows it (ellipticals red and round, spiral disks blue, edge-ons thin), bad
arguments refused with a message."""

import numpy as np
import pytest

from astrohub.sims.colour import FRAME, GZ_CLASSES, gz_stamp, simulate_gz_colour


def test_seeded_and_the_same_on_two_processes():
    x, y = simulate_gz_colour(120, seed=3)
    assert x.shape == (120, FRAME, FRAME, 3) and x.dtype == np.uint8 and y.shape == (120,)
    assert set(np.unique(y)) == set(range(len(GZ_CLASSES)))
    x2, y2 = simulate_gz_colour(120, seed=3, workers=2)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert not np.array_equal(x, simulate_gz_colour(120, seed=4)[0])


def _shape_and_colour(img):
    """Axis ratio (second moments) and red/blue ratio of the galaxy's bright pixels, in the central 64 px."""
    c = img[48:112, 48:112].astype(float)
    lum = c.mean(-1)
    m = lum > 0.35 * lum.max()
    yy, xx = np.nonzero(m)
    w = lum[m]
    dy, dx = yy - np.average(yy, weights=w), xx - np.average(xx, weights=w)
    cov = np.cov(np.stack([dx, dy]), aweights=w)
    ev = np.linalg.eigvalsh(cov)
    return float(np.sqrt(ev[0] / ev[1])), float(c[..., 0][m].sum() / c[..., 2][m].sum())


def test_each_class_looks_as_galaxy_zoo_shows_it():
    rng = np.random.default_rng(0)
    stats = {k: np.array([_shape_and_colour(gz_stamp(rng, k)) for _ in range(30)]) for k in GZ_CLASSES[:3]}
    q = {k: np.median(v[:, 0]) for k, v in stats.items()}
    red = {k: np.median(v[:, 1]) for k, v in stats.items()}
    assert q["edge-on"] < 0.45 < q["elliptical"], q  # edge-on disks are thin, ellipticals round
    assert red["elliptical"] > 1.15 * red["spiral-disk"], red  # ellipticals are redder than spiral disks
    assert red["elliptical"] > 1.2, red  # and red: R (i band) above B (g band)


def test_bad_arguments_are_refused_with_a_message():
    with pytest.raises(ValueError, match="unknown Galaxy Zoo class 'spiral': one of elliptical, spiral-disk"):
        gz_stamp(np.random.default_rng(0), "spiral")
    with pytest.raises(ValueError, match="n is a positive number of stamps, got 0"):
        simulate_gz_colour(0, seed=1)
