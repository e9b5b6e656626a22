"""Survey-specific input adapters: a card's ``inputs.adapter`` names one, and the predictor hands it the
user's data as the survey serves it (e.g. raw ZTF alert stamps) before anything else.

An adapter is ``prepare(x, card_inputs, name) -> (float32 [N, C, H, W], OODFlags)``, named here as
``"module:function"`` under ``astrohub.models.inputs`` and imported on first use (so a missing adapter
module breaks only the model that names it).
"""

from __future__ import annotations

import importlib

from .images import InputError

ADAPTERS: dict[str, str] = {"ztf": "ztf:prepare"}
# summary features of the survey's raw input for a classifier's tree component (a card's ``stack.features``):
# ``features(x, card_inputs, name) -> (float32 [N, k], column names)``
FEATURES: dict[str, str] = {"ztf": "ztf:stamp_features"}


def adapter(key: str, name: str = "model"):
    """The ``prepare`` function registered as ``key``; :class:`InputError` naming the known ones otherwise."""
    return _resolve(ADAPTERS, key, "input adapter", "ADAPTERS", name)


def features(key: str, name: str = "model"):
    """The feature function registered as ``key`` in :data:`FEATURES`; :class:`InputError` otherwise."""
    return _resolve(FEATURES, key, "feature set", "FEATURES", name)


def _resolve(table: dict[str, str], key: str, what: str, table_name: str, name: str):
    target = table.get(key)
    if target is None:
        raise InputError(f"{name}: its card names the {what} {key!r}, which is not one of "
                         f"{sorted(table)} (astrohub.models.inputs.adapters.{table_name})")
    module, _, attr = target.partition(":")
    try:
        mod = importlib.import_module(f"{__package__}.{module}")
    except ImportError as e:
        raise InputError(f"{name}: {what} {key!r} ({target}) could not be imported: {e}") from e
    fn = getattr(mod, attr, None)
    if fn is None:
        raise InputError(f"{name}: {what} {key!r}: astrohub.models.inputs.{module} has no {attr!r}")
    return fn


def adapt(x, card_inputs: dict, name: str = "model"):
    """``(batch float32 [N, C, H, W], OODFlags)`` from the card's adapter, or None when it names none."""
    key = card_inputs.get("adapter")
    if not key:
        return None
    return adapter(key, name)(x, card_inputs, name)
