"""The model zoo on disk: ``zoo/<name>/card.json`` + ``weights.safetensors``."""

from __future__ import annotations

import difflib
from pathlib import Path

from .cards import read_card

ZOO = Path(__file__).resolve().parent / "zoo"


class UnknownModelError(ValueError):
    """No model of that name in the zoo."""


def model_names(zoo: Path | None = None) -> list[str]:
    """Names of the models with a card in ``zoo`` (default: the packaged zoo), sorted."""
    zoo = Path(zoo or ZOO)
    return sorted(p.parent.name for p in zoo.glob("*/card.json"))


def model_dir(name: str, zoo: Path | None = None) -> Path:
    """Directory of model ``name``; :class:`UnknownModelError` with suggestions otherwise."""
    if not isinstance(name, str) or not name:
        raise UnknownModelError(f"model name must be a non-empty string, got {name!r}")
    names = model_names(zoo)
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UnknownModelError(f"unknown model {name!r}{hint}; available: {', '.join(names) or 'none'}")
    return Path(zoo or ZOO) / name


def ref_dir(ref: str | Path) -> Path:
    """Directory of a model given as a zoo name or as a directory holding ``card.json``."""
    path = Path(ref)
    return path if (path / "card.json").is_file() else model_dir(str(ref))


def get_card(name: str, zoo: Path | None = None) -> dict:
    """The validated model card of ``name``."""
    return read_card(model_dir(name, zoo) / "card.json")


def load_dir(path: str | Path, device=None):
    """Predictor from a directory holding ``card.json`` and the weights file it names (sha256-checked)."""
    from .predictors import make_predictor
    from .weights import load_weights

    path = Path(path)
    card = read_card(path / "card.json")
    state = load_weights(path / card["weights"]["file"], card["weights"]["sha256"])
    return make_predictor(card, state, device)


def load(name: str, device=None, zoo: Path | None = None):
    """Load model ``name`` from the zoo, verifying its weights' sha256; returns a predictor."""
    return load_dir(model_dir(name, zoo), device)
