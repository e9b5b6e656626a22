"""evaluation.metrics.auc: the Mann-Whitney AUC agrees with sklearn's roc_auc_score (ties, classes, no class)."""

import numpy as np
from sklearn.metrics import roc_auc_score

from astrohub.models.evaluation import metrics as M


def test_auc_matches_sklearn_with_ties_and_for_several_classes():
    rng = np.random.default_rng(3)
    for n in (7, 60, 333):
        y = rng.integers(0, 2, n)
        y[:2] = [0, 1]
        s = np.round(rng.normal(size=n) + y, 1)  # rounded: many tied scores
        p = np.stack([1 - s, s], 1)
        assert abs(M.auc(y, p) - roc_auc_score(y, s)) < 1e-12
        assert abs(M.auc(1 - y, p) - roc_auc_score(1 - y, s)) < 1e-12  # the positive class is 1
    y = rng.integers(0, 4, 200)
    p = rng.dirichlet(np.ones(4), 200) + np.eye(4)[y] * 0.3
    expected = np.mean([roc_auc_score(y == k, p[:, k]) for k in range(4)])
    assert abs(M.auc(y, p) - expected) < 1e-12


def test_auc_without_both_classes_is_nan_and_the_bootstrap_skips_it():
    assert np.isnan(M.auc(np.ones(5, int), np.full((5, 2), 0.5)))
    y = np.array([0] * 30 + [1])  # one positive: many resamples lack it
    s = np.linspace(0, 1, 31)
    lo, hi = M.bootstrap_ci(M.auc, y, np.stack([1 - s, s], 1), n_boot=100)
    assert lo == hi == 1.0
