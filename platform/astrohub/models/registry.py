"""The model zoo on disk: ``zoo/<name>/card.json`` + ``weights.safetensors``."""

from __future__ import annotations

import difflib
import os
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


def is_path_ref(ref) -> bool:
    """True when ``ref`` names a model directory explicitly: a ``Path`` (any ``os.PathLike``), or a
    string with a path separator or starting with ``.`` or ``~`` (``./galaxy_morphology``,
    ``/data/my_model``). A bare name such as ``"galaxy_morphology"`` is a zoo name."""
    if isinstance(ref, os.PathLike):
        return True
    return isinstance(ref, str) and (os.sep in ref or "/" in ref or ref.startswith((".", "~")))


def ref_dir(ref: str | Path) -> Path:
    """Directory of a model given as a zoo name or, explicitly, as a directory holding ``card.json``.

    A bare name always means the zoo: a folder of that name in the working directory never replaces
    a zoo model (pass ``Path("name")`` or ``"./name"`` to use such a folder)."""
    if is_path_ref(ref):
        path = Path(ref).expanduser()
        if not (path / "card.json").is_file():
            raise UnknownModelError(f"{str(path)!r} is not a model directory: it has no card.json (a model "
                                    "directory holds card.json and the weights file it names)")
        return path
    try:
        return model_dir(ref)
    except UnknownModelError as e:
        if isinstance(ref, str) and ref and (Path(ref) / "card.json").is_file():
            raise UnknownModelError(f"{e}. A folder {ref!r} with a card.json exists here, but bare names only "
                                    f"resolve to the zoo: pass it as a path ('./{ref}' or Path({ref!r})) to "
                                    "use it") from None
        raise


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
