"""The shipped tree component of a classifier (astrohub.models.nets.forest, the card's ``stack``): a forest packed
into weight tensors predicts exactly as scikit-learn did, from the summary features of real ZTF stamps; a crafted
forest (a loop, a node outside its arrays, a feature the model does not compute) is refused before it runs; the
feature function refuses bad stamps with the adapter's messages."""

import numpy as np
import pytest
import torch
from sklearn.ensemble import RandomForestRegressor

from astrohub.models.evaluation import kits
from astrohub.models.evaluation.kits import ztf_alerts as Z
from astrohub.models.inputs import InputError
from astrohub.models.inputs import ztf as zi
from astrohub.models.nets.forest import Forest, ForestError, pack

INPUTS = {"shape": [3, 48, 48], "min_stamp": 32}


@pytest.fixture(scope="module")
def real():
    kit = Z.load(kits.kit_dir("ztf_alerts"))
    rows = Z.split(kit)["train"][:300]
    x, names = zi.stamp_features(kit["stamps"][rows], INPUTS)
    return kit, rows, x, names


@pytest.fixture(scope="module")
def fitted(real):
    kit, rows, x, _ = real
    return RandomForestRegressor(40, min_samples_leaf=2, max_features=0.33, random_state=0).fit(
        x[:200], kit["target"][rows[:200]])


def test_features_of_real_stamps(real):
    kit, rows, x, names = real
    assert x.shape == (300, 46) and x.dtype == np.float32 and names == sorted(names) and np.isfinite(x).all()
    # masked pixels are part of the input as served: the kit's stamps with NaNs give their masked fraction
    nan = np.asarray(~np.isfinite(kit["stamps"][rows]).all(1).reshape(300, -1), float).mean(1)
    np.testing.assert_allclose(x[:, names.index("nan")], nan, atol=1e-6)
    assert (nan > 0).any()
    # real alerts (drb >= 0.9) vs bogus (drb < 0.1): a real transient's difference looks like the point source in
    # the science plane; bogus ones (cosmic rays, hot pixels) are sharper than the PSF
    d = kit["drb"][rows]
    real_, bogus = d >= 0.9, d < 0.1
    for name, sign in (("corr_ds", 1), ("d_sharp", -1)):
        v = sign * x[:, names.index(name)]
        assert np.median(v[real_]) > np.median(v[bogus]), name


def test_a_packed_forest_predicts_as_scikit_learn(real, fitted):
    x = real[2]
    state = pack(fitted, "f.")
    forest = Forest(state, "f.", x.shape[1])
    # the same leaf for every row and tree (thresholds rounded down to float32 decide exactly as scikit-learn's);
    # the leaf values lose only float32 rounding
    np.testing.assert_allclose(forest.predict(x[200:]), fitted.predict(x[200:]), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(forest.predict(x[200:], chunk=7), forest.predict(x[200:]))  # rows in chunks
    leaves = fitted.apply(x[200:])  # [N, trees] node numbers within each tree
    assert state["f.feature"].dtype == torch.int16 and sum(v.numel() * v.element_size() for v in state.values()) < (
        11 * sum(e.tree_.node_count for e in fitted.estimators_))  # 10 bytes a node, + 4 per tree
    node = np.broadcast_to(forest.a["roots"], leaves.shape) + leaves
    np.testing.assert_allclose(forest.a["split"][node].mean(1), fitted.predict(x[200:]), atol=1e-6)
    with pytest.raises(ValueError, match=r"the forest expects features \[N, 46\], got shape \(100, 45\)"):
        forest.predict(x[200:, :45])


def test_crafted_forests_are_refused(fitted):
    good = pack(fitted, "f.")

    def edited(key, index, value):
        out = {k: v.clone() for k, v in good.items()}
        out[key][index] = value
        return out

    with pytest.raises(ForestError, match="the weights lack the forest's f.roots"):
        Forest({k: v for k, v in good.items() if k != "f.roots"}, "f.", 46)
    with pytest.raises(ForestError, match="every split must name one of the 46 features and a right child after"):
        Forest(edited("f.right", 0, 0), "f.", 46)  # the root as its own child: an endless walk
    with pytest.raises(ForestError, match="inconsistent"):
        Forest(edited("f.right", 0, len(good["f.right"]) + 5), "f.", 46)  # outside the arrays
    with pytest.raises(ForestError, match="one of the 46 features"):
        Forest(edited("f.feature", 0, 46), "f.", 46)
    with pytest.raises(ForestError, match="one entry per node"):
        Forest({**good, "f.split": good["f.split"][:-1]}, "f.", 46)
    leaf = int(torch.nonzero(good["f.feature"] < 0)[0])
    with pytest.raises(ForestError, match="every threshold and leaf value must be finite"):
        Forest(edited("f.split", leaf, float("nan")), "f.", 46)
    with pytest.raises(ForestError, match="inconsistent"):
        Forest(edited("f.roots", 0, -1), "f.", 46)


def test_features_refuse_bad_stamps(real):
    stamps = real[0]["stamps"][:2]
    with pytest.raises(InputError, match=r"expects 3 band\(s\) per alert \(science, reference, difference"):
        zi.stamp_features(stamps[:, :2], INPUTS, "transient_realbogus")
    blank = stamps.copy()
    blank[1, 2] = np.nan
    with pytest.raises(InputError, match=r"stamp 1 difference\): all NaN / masked; drop those alerts"):
        zi.stamp_features(blank, INPUTS, "transient_realbogus")
    with pytest.raises(InputError, match="at least 32x32 pixels"):
        zi.stamp_features(stamps[:, :, :20, :20], INPUTS, "transient_realbogus")
