"""Model cards: JSON documents describing a model, its data, metrics and weights."""

from __future__ import annotations

import copy
import json
from pathlib import Path

REQUIRED = {
    "name": str,
    "version": str,
    "kind": str,
    "task": str,
    "description": str,
    "inputs": dict,
    "outputs": dict,
    "arch": dict,
    "training": dict,
    "metrics": dict,
    "baseline": dict,
    "weights": dict,
}
REQUIRED_INPUTS = ("shape", "bands", "pixel_scale_arcsec", "units", "normalisation")
REQUIRED_TRAINING = ("simulator", "seed", "split_seeds", "n_train", "n_val", "n_test", "epochs_run")
# and "validated_on_real" (bool): true only with a "real" section measured on a real held-out split


class CardError(ValueError):
    """A model card is missing fields or malformed."""


def validate_card(card: dict) -> dict:
    """Check that ``card`` has every required field; return it unchanged."""
    name = card.get("name", "?")
    for key, typ in REQUIRED.items():
        if key not in card:
            raise CardError(f"model card {name!r} lacks required field {key!r}")
        if not isinstance(card[key], typ):
            raise CardError(f"model card {name!r}: field {key!r} should be a {typ.__name__}")
    for key in REQUIRED_INPUTS:
        if key not in card["inputs"]:
            raise CardError(f"model card {name!r}: inputs lack {key!r}")
    for key in REQUIRED_TRAINING:
        if key not in card["training"]:
            raise CardError(f"model card {name!r}: training lacks {key!r}")
    for key in ("file", "sha256", "format"):
        if key not in card["weights"]:
            raise CardError(f"model card {name!r}: weights lack {key!r}")
    if card["weights"]["format"] != "safetensors":
        raise CardError(f"model card {name!r}: weights must be safetensors, not {card['weights']['format']!r}")
    if not card["metrics"]:
        raise CardError(f"model card {name!r} has no metrics")
    if not isinstance(card.get("validated_on_real"), bool):
        raise CardError(f"model card {name!r}: 'validated_on_real' must be true or false (is the model measured "
                        "on a real held-out split?)")
    if card["validated_on_real"] and not card.get("real", {}).get("metrics"):
        raise CardError(f"model card {name!r} says validated_on_real but has no real.metrics")
    if card["validated_on_real"] and card["real"].get("selection_on_kit"):
        raise CardError(f"model card {name!r} says validated_on_real, but its real split also guided design "
                        "choices (real.selection_on_kit): that is not a held-out validation")
    return card


def read_card(path: str | Path) -> dict:
    """Load and validate the JSON card at ``path``."""
    path = Path(path)
    try:
        card = json.loads(path.read_text())
    except FileNotFoundError:
        raise CardError(f"model card {path} not found") from None
    except json.JSONDecodeError as e:
        raise CardError(f"model card {path} is not valid JSON: {e}") from None
    return validate_card(card)


def write_card(card: dict, path: str | Path) -> None:
    """Validate and write ``card`` as indented JSON."""
    validate_card(card)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")


def retrained(card: dict) -> dict:
    """A copy of ``card`` for weights retrained from it (fine-tuning, distributed fit): its real-data
    section described the old weights, so it goes, and the model is not validated on real data."""
    c = copy.deepcopy(card)
    c.pop("real", None)
    c["validated_on_real"] = False
    return c


def without_psf_head(card: dict) -> dict:
    """A copy of ``card`` describing the network without its PSF-aware head (``arch.psf_head``): what
    retraining the features or the PSF-blind head leaves, as the PSF head no longer matches them.
    Its metrics become the PSF-blind head's."""
    c = copy.deepcopy(card)
    c["arch"].pop("psf_head", None)
    c["inputs"].pop("psf_fwhm", None)
    for k in ("metrics", "baseline"):
        if f"{k}_without_psf" in c:
            c[k] = c.pop(f"{k}_without_psf")
    for k in ("temperature_psf", "val_ece_psf"):
        c.get("calibration", {}).pop(k, None)
    return c
