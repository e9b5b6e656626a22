"""astrohub.models: the model zoo (cards + safetensors weights + predictors).

>>> from astrohub import models
>>> models.list()                      # names of the shipped models
>>> clf = models.load("galaxy_morphology")
>>> clf.predict(images).names, clf.explain(images)

Heavy imports (torch) happen on first use, so importing this package is cheap.

Where things live: ``kinds`` (the table of model kinds), ``recipes`` (how each shipped model is
trained), ``datasets`` (simulated sets), ``inputs`` / ``nets`` / ``predictors`` (serving),
``training`` (one engine), ``evaluation`` (metrics, baselines, `astrohub eval`), ``zoo`` (cards +
weights), ``registry`` / ``cards`` / ``weights`` (loading, sha256-checked).
"""

from __future__ import annotations


def list() -> "list[str]":  # noqa: A001 - the registry API is ``astrohub.models.list()``
    """Names of the models in the zoo."""
    from .registry import model_names

    return model_names()


def card(name: str) -> dict:
    """The model card (a dict) of ``name``."""
    from .registry import get_card

    return get_card(name)


def modality(name: str) -> str:
    """The data ``name`` reads: ``cutout``, ``lightcurve``, ``spectrum`` or ``photometry``."""
    from .kinds import modality as _modality

    return _modality(card(name))


def load(name: str, device=None):
    """A predictor for ``name``: ``predict``/``explain`` (and ``denoise``/``super_resolve``)."""
    from .registry import load as _load

    return _load(name, device)


def fine_tune(name: str, table_or_tensors, labels=None, **kwargs):
    """Transfer-learn ``name`` on a small labelled sample; see :func:`astrohub.models.training.finetune.fine_tune`."""
    from .training.finetune import fine_tune as _ft

    return _ft(name, table_or_tensors, labels, **kwargs)


def train(name: str, out_dir=None, **options) -> dict:
    """Retrain ``name`` from its recipe; see :func:`astrohub.models.training.train`."""
    from .training import train as _train

    return _train(name, out_dir, **options)


def evaluate(name: str, **options) -> dict:
    """Card metrics next to a fresh simulated test set; see :func:`astrohub.models.evaluation.evaluate.evaluate`."""
    from .evaluation.evaluate import evaluate as _evaluate

    return _evaluate(name, **options)
