"""Serving: a network plus its card, validating inputs and adding uncertainty and saliency.

:func:`make_predictor` builds the predictor the card's kind names in :mod:`astrohub.models.kinds`:
image classifiers and generators (:mod:`.images`), the VAE (:mod:`.vae`) and the 1-D models
(:mod:`.series`). Imports nothing from training.
"""

from __future__ import annotations

from .base import Prediction, Predictor, device_of


def make_predictor(card: dict, state: dict, device=None):
    """The predictor of ``card``'s kind, holding ``state`` (a state dict), on ``device``."""
    from ..inputs import InputError
    from ..kinds import kind_of

    try:
        row = kind_of(card)
    except ValueError as e:
        raise InputError(str(e)) from None
    return row.load_predictor()(card, state, device)


__all__ = ["make_predictor", "Prediction", "Predictor", "device_of"]
