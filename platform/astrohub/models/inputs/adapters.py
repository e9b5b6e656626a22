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


def adapter(key: str, name: str = "model"):
    """The ``prepare`` function registered as ``key``; :class:`InputError` naming the known ones otherwise."""
    target = ADAPTERS.get(key)
    if target is None:
        raise InputError(f"{name}: its card names the input adapter {key!r}, which is not one of "
                         f"{sorted(ADAPTERS)} (astrohub.models.inputs.adapters.ADAPTERS)")
    module, _, attr = target.partition(":")
    try:
        mod = importlib.import_module(f"{__package__}.{module}")
    except ImportError as e:
        raise InputError(f"{name}: input adapter {key!r} ({target}) could not be imported: {e}") from e
    fn = getattr(mod, attr, None)
    if fn is None:
        raise InputError(f"{name}: input adapter {key!r}: astrohub.models.inputs.{module} has no {attr!r}")
    return fn


def adapt(x, card_inputs: dict, name: str = "model"):
    """``(batch float32 [N, C, H, W], OODFlags)`` from the card's adapter, or None when it names none."""
    key = card_inputs.get("adapter")
    if not key:
        return None
    return adapter(key, name)(x, card_inputs, name)
