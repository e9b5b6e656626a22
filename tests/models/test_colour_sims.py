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


def _handedness(img):
    """Sum of d(lum)/d(angle) * d(lum)/d(log radius) over the disk, normalised: arms along theta = k ln r + c give
    the sign of -k (angles measured from the frame's columns towards its rows)."""
    lum = img.astype(float).mean(-1)
    gy, gx = np.gradient(lum)
    yy, xx = np.mgrid[:FRAME, :FRAME] - (FRAME - 1) / 2
    d_angle, d_lnr = -yy * gx + xx * gy, xx * gx + yy * gy
    disk = (np.hypot(xx, yy) > 4) & (np.hypot(xx, yy) < 40)
    return float((d_angle * d_lnr)[disk].sum() / np.abs(d_angle * d_lnr)[disk].sum())


def test_spirals_wind_either_way_as_mirror_twins_in_their_arms_alone():
    """winding=True: the same classes and the same stamps except the spirals drawn winding the other way (-1), each
    labelled +1 or -1 (every other class 0); a -1 twin's arms turn the other way outwards."""
    x, y = simulate_gz_colour(120, seed=3)
    xw, yw, wind = simulate_gz_colour(120, seed=3, winding=True)
    spiral = y == GZ_CLASSES.index("spiral-disk")
    assert np.array_equal(y, yw) and set(wind[spiral]) == {-1, 1} and not wind[~spiral].any()
    same = np.array([np.array_equal(a, b) for a, b in zip(x, xw)])
    assert np.array_equal(same, wind != -1)  # only the -1 spirals changed
    # outwards, +1 arms turn clockwise on the frame (rows running down): handedness < 0; their -1 twins > it
    h = np.array([[_handedness(gz_stamp(np.random.default_rng(s), "spiral-disk", w)) for w in (1, -1)]
                  for s in range(12)])
    assert (h[:, 0] < h[:, 1]).sum() >= 10 and h[:, 0].mean() < 0 < h[:, 1].mean(), h
    with pytest.raises(ValueError, match=r"wind is \+1 or -1, got 0"):
        gz_stamp(np.random.default_rng(0), "spiral-disk", 0)


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
    # with pre["chirality"] the spirals wind either way and one more output learns it; fine-tuning keeps the class
    # outputs and starts its own winding output at zero (the kit's clockwise need not be the simulator's +1)
    from astrohub.models.training.colour import colour_net

    w, info = pretrain_colour(recipe, cfg, {**pre, "chirality": 0.3}, mean, std, cpu, GZ_CLASSES)
    assert w["head.weight"].shape[0] == len(GZ_CLASSES) + 1 and w["head.weight"][-1].abs().sum() > 0
    assert info["simulator"] == "astrohub.sims.colour.simulate_gz_colour(n=64, seed=2, winding=True)"
    net = colour_net(recipe, {**cfg, "chirality": 0.3}, len(GZ_CLASSES), cpu, w)
    assert torch.equal(net.head.weight[:-1], w["head.weight"][:-1]) and not net.head.weight[-1].any()
    assert torch.equal(colour_net(recipe, {**cfg, "chirality": 0}, len(GZ_CLASSES), cpu, w).head.bias,
                       w["head.bias"][:-1])
