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


def test_galaxy_zoo_pretraining_on_the_simulator_is_seeded_and_refuses_other_classes():
    """The recipe's pretraining stage (training.colour.pretrain_colour), scaled down: the same weights from the same
    seed, moved away from the network's initialisation, what the card records; a kit whose classes the simulator
    does not draw is refused with a message naming both."""
    import torch

    from astrohub.models import nets
    from astrohub.models.recipes import RECIPES
    from astrohub.models.training.colour import pretrain_colour

    recipe = RECIPES["galaxy_zoo"]
    cfg, cpu = dict(recipe.real), torch.device("cpu")
    mean, std = [0.09, 0.08, 0.06], [0.12, 0.1, 0.09]
    pre = {"n": 64, "epochs": 1, "seed": 2}
    a, info = pretrain_colour(recipe, cfg, pre, mean, std, cpu, GZ_CLASSES)
    b, _ = pretrain_colour(recipe, cfg, pre, mean, std, cpu, GZ_CLASSES)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    torch.manual_seed(2)
    fresh = nets.build(recipe.arch).state_dict()
    assert fresh.keys() == a.keys()
    assert any(not torch.equal(fresh[k], a[k]) for k in a if a[k].is_floating_point())
    assert info["simulator"] == "astrohub.sims.colour.simulate_gz_colour(n=64, seed=2)"
    assert (info["n"], info["n_val"], info["epochs"], len(info["history"])) == (64, 200, 1, 1)
    assert 0 <= info["sim_val_accuracy"] <= 1 and "val_loss" in info["history"][0]
    with pytest.raises(ValueError, match=r"simulator draws \['elliptical'.*the kit has \['star', 'galaxy'\]"):
        pretrain_colour(recipe, cfg, pre, mean, std, cpu, ["star", "galaxy"])
