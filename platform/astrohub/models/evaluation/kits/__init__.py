"""The real labelled data kits (``$ASTROHUB_REAL_DATA``, default ``../shared/real``) and what the zoo
measures on them.

One module per kit reads its files as the survey serves them and splits them, deterministically, into
train / validation / test: the test split is never used to train, early-stop, calibrate or select.
``measure(model)`` re-measures a shipped model's card ``real`` section on that test split, next to the
classical baseline trained on the kit's train split. The registry :data:`KITS` maps a zoo model to the
``"module:function"`` that measures it (imported on first use).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

# zoo model -> (kit folder, "module:function" measuring it on the kit's test split)
KITS: dict[str, tuple[str, str]] = {
    "photoz_mdn": ("sdss_photoz", "sdss_photoz:measure"),
    "galaxy_zoo": ("galaxyzoo1_jpeg", "galaxyzoo1:measure"),
    "transient_realbogus": ("ztf_alerts", "ztf_alerts:measure"),
    "transit_vetter": ("kepler_lightcurves", "kepler_lightcurves:measure"),
    "spectral_class": ("sdss_spectra_lowz", "sdss_spectra_lowz:measure"),  # a smoke test: every spectrum scored
}


class KitError(FileNotFoundError):
    """A real data kit (or one of its files) is not where it should be."""


def kit_dir(kit: str, root: str | Path | None = None) -> Path:
    """The folder of kit ``kit`` under ``root`` (default :func:`astrohub.defaults.real_data_dir`)."""
    from astrohub.defaults import REAL_DATA_ENV, real_data_dir

    base = Path(root) if root is not None else real_data_dir()
    path = base / kit
    if not path.is_dir():
        raise KitError(f"real data kit {kit!r} not found at {path}; set ${REAL_DATA_ENV} to the folder that "
                       f"holds the kits (e.g. ../shared/real)")
    return path


def split_indices(labels, seed: int, fractions=(0.6, 0.2, 0.2)) -> dict[str, np.ndarray]:
    """Deterministic stratified train / val / test row indices (sorted) of a kit with ``labels`` (one per
    row; any hashable values): each class is shuffled with ``seed`` and cut by ``fractions``."""
    labels = np.asarray(labels)
    if abs(sum(fractions) - 1) > 1e-9 or len(fractions) != 3:
        raise ValueError(f"fractions must be three numbers summing to 1, got {fractions}")
    rng = np.random.default_rng(seed)
    parts: dict[str, list] = {"train": [], "val": [], "test": []}
    for c in sorted(set(labels.tolist()), key=str):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_tr = int(round(fractions[0] * len(idx)))
        n_va = int(round(fractions[1] * len(idx)))
        parts["train"].append(idx[:n_tr])
        parts["val"].append(idx[n_tr:n_tr + n_va])
        parts["test"].append(idx[n_tr + n_va:])
    return {k: np.sort(np.concatenate(v)) if v else np.array([], int) for k, v in parts.items()}


def cv_folds(labels, n_folds: int, seed: int) -> np.ndarray:
    """Fold number [N] (0..n_folds-1) of each row of ``labels``, stratified by class: each class is shuffled
    with ``seed`` and dealt round-robin, so every fold holds ~1/n_folds of each class."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    fold = np.empty(len(labels), int)
    for c in sorted(set(labels.tolist()), key=str):
        idx = rng.permutation(np.flatnonzero(labels == c))
        fold[idx] = np.arange(len(idx)) % n_folds
    return fold


def fitted_rows(model, parts: dict[str, np.ndarray]) -> tuple[np.ndarray, bool]:
    """The kit rows ``model``'s weights were fitted on (its baseline is trained on the same): the train split, or
    train + val (sorted) when its card's ``training.final_fit`` is ``"train+val"``; and whether it is the latter."""
    both = getattr(model, "card", {}).get("training", {}).get("final_fit") == "train+val"
    return (np.sort(np.concatenate([parts["train"], parts["val"]])) if both else parts["train"]), both


def measure(name: str, model=None, root: str | Path | None = None) -> dict:
    """The real-data section of zoo model ``name`` measured now, from its weights, on its kit's test split:
    ``{"kit", "split", "metrics", "baseline", ...}`` as the card's ``real`` section has it."""
    if name not in KITS:
        raise ValueError(f"{name!r} has no real data kit; models with one: {', '.join(sorted(KITS))}")
    kit, ref = KITS[name]
    module, fn = ref.split(":")
    measure_fn = getattr(importlib.import_module(f"{__name__}.{module}"), fn)
    if model is None:
        from ...registry import load

        model = load(name, device="cpu")
    return measure_fn(model, kit_dir(kit, root))


def real_section(kit: str, split: dict, metrics: dict, baseline: dict, targets: dict | None = None,
                 **extra) -> dict:
    """A card's ``real`` section: the kit, how it was split (counts and the rule), the model's metrics on the
    held-out test split (with intervals), the classical baseline trained on the kit's train split, the
    targets and whether they are met (filled by the caller in ``extra["target_met"]``)."""
    return {"kit": kit, "split": split, "metrics": metrics, "baseline": baseline, "targets": targets or {},
            **extra}
