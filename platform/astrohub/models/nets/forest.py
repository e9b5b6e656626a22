"""A fitted random forest (regression trees) as plain arrays, so it ships in safetensors beside a network and is
evaluated without scikit-learn and without unpickling anything.

:func:`pack` turns a fitted ``sklearn.ensemble.RandomForestRegressor`` (training time only) into three tensors
under one prefix, 10 bytes per node: ``feature`` (int16; -1 at a leaf), ``split`` (float32: a split's threshold,
or a leaf's value) and ``right`` (int32, the right child as a global node number; the left child is always the next
node, as scikit-learn's depth-first builder numbers them), plus ``roots`` (each tree's first node). Thresholds are
rounded down to float32, so ``x <= threshold`` decides exactly as scikit-learn's float32 features against its
float64 thresholds; leaf values lose only float32 rounding (about 1e-7 of the mean). :class:`Forest` reads the
tensors back, checks them (shapes, node indices, every child after its parent, so a crafted file cannot loop or
index outside its arrays) and predicts the mean of the trees' leaf values.
"""

from __future__ import annotations

import numpy as np
import torch

KEYS = ("feature", "split", "right", "roots")


class ForestError(ValueError):
    """The forest's tensors are not a forest this module wrote."""


def _floor32(t: np.ndarray) -> np.ndarray:
    """The largest float32 <= each float64 of ``t``."""
    f = t.astype(np.float32)
    up = f.astype(np.float64) > t
    f[up] = np.nextafter(f[up], np.float32(-np.inf))
    return f


def pack(forest, prefix: str) -> dict[str, torch.Tensor]:
    """The tensors (keys ``prefix + name``, see the module text) of a fitted single-output
    ``RandomForestRegressor`` ``forest``."""
    feature, split, right, roots = [], [], [], []
    offset = 0
    for est in forest.estimators_:
        t = est.tree_
        leaf = t.children_left < 0
        node = np.arange(t.node_count)
        if not np.array_equal(t.children_left[~leaf], node[~leaf] + 1):
            raise ForestError("pack expects depth-first trees (each left child right after its parent), as "
                              "scikit-learn builds them without max_leaf_nodes")
        roots.append(offset)
        feature.append(np.where(leaf, -1, t.feature))
        split.append(np.where(leaf, t.value.reshape(t.node_count, -1)[:, 0].astype(np.float32),
                              _floor32(t.threshold)))
        right.append(np.where(leaf, -1, t.children_right + offset))
        offset += t.node_count
    arrays = {"feature": (feature, np.int16), "split": (split, np.float32), "right": (right, np.int32),
              "roots": ([roots], np.int32)}
    return {prefix + k: torch.from_numpy(np.concatenate(v).astype(dt)) for k, (v, dt) in arrays.items()}


class Forest:
    """The forest stored under ``prefix`` in ``state`` (see :func:`pack`), checked; ``n_features`` inputs."""

    def __init__(self, state: dict[str, torch.Tensor], prefix: str, n_features: int):
        missing = [prefix + k for k in KEYS if prefix + k not in state]
        if missing:
            raise ForestError(f"the weights lack the forest's {', '.join(missing)}")
        a = {k: state[prefix + k].cpu().numpy() for k in KEYS}
        n = len(a["feature"])
        if any(a[k].ndim != 1 for k in KEYS) or any(len(a[k]) != n for k in KEYS[:3]) or not n or not len(a["roots"]):
            raise ForestError("the forest's arrays must be 1-D, with one entry per node in each of "
                              f"{', '.join(KEYS[:3])}, and at least one tree")
        leaf = a["feature"] < 0
        node = np.arange(n)
        inner_ok = (a["feature"] < n_features) & (a["right"] > node + 1) & (a["right"] < n) & (node + 1 < n)
        if not np.all(leaf | inner_ok) or not np.all(np.isfinite(a["split"])) or not np.all(
                (a["roots"] >= 0) & (a["roots"] < n)):
            raise ForestError(f"the forest's nodes are inconsistent: every split must name one of the {n_features} "
                              "features and a right child after its left one (the next node); every threshold and "
                              "leaf value must be finite")
        self.a, self.n_features, self.depth = a, n_features, self._depth(a["right"], leaf)

    @staticmethod
    def _depth(right: np.ndarray, leaf: np.ndarray) -> int:
        """The deepest path from a root (children come after their parent, so one pass in node order)."""
        depth = np.zeros(len(leaf), np.int64)
        for i in np.flatnonzero(~leaf):
            depth[i + 1] = depth[right[i]] = depth[i] + 1
        return int(depth.max())

    def predict(self, x: np.ndarray, chunk: int = 2048) -> np.ndarray:
        """The mean leaf value over the trees [N] for features ``x`` float32 [N, n_features], ``chunk`` rows at a time
        (a few arrays of rows x trees each)."""
        x = np.asarray(x, np.float32)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"the forest expects features [N, {self.n_features}], got shape {x.shape}")
        return np.concatenate([self._predict(x[i:i + chunk]) for i in range(0, len(x), chunk)] or [np.zeros(0)])

    def _predict(self, x: np.ndarray) -> np.ndarray:
        a = self.a
        node = np.broadcast_to(a["roots"], (len(x), len(a["roots"]))).copy()
        rows = np.arange(len(x))[:, None]
        for _ in range(self.depth):
            f = a["feature"][node]
            inner = f >= 0
            if not inner.any():
                break
            go_left = x[rows, np.where(inner, f, 0)] <= a["split"][node]
            node = np.where(inner, np.where(go_left, node + 1, a["right"][node]), node)
        return a["split"][node].astype(np.float64).mean(1)
