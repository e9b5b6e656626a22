"""Training: every recipe of :mod:`astrohub.models.recipes` runs through one engine
(:mod:`.engine`); the kind's row in :mod:`astrohub.models.kinds` names the trainer that turns its
data into (card, weights): :mod:`.images` (classifiers, generators; :mod:`.psf` adds the PSF head),
:mod:`.vae`, :mod:`.series` (light curves, spectra, photometry). :mod:`.finetune` adapts a shipped
classifier to a small labelled sample.
"""

from __future__ import annotations

import platform as _platform
import time
from pathlib import Path


def train(name: str, out_dir: str | Path | None = None, *, device=None, epochs: int | None = None,
          n_train: int | None = None, n_val: int | None = None, n_test: int | None = None,
          threads: int | None = None, max_minutes: float | None = None, progress: bool = True,
          resume: str | Path | None = None, workers: int = 1, data: str | Path | None = None) -> dict:
    """Train model ``name`` from its recipe, write weights + card to ``out_dir`` (default: the
    packaged zoo) and return the card. Smaller ``n_*``/``epochs`` give quick smoke runs.
    ``resume`` (image classifiers; a directory with the card and weights an earlier run of the same
    recipe wrote) skips the stages that run completed. ``data``: the folder holding the real data kits, for
    recipes that adapt to one (default: :func:`astrohub.defaults.real_data_dir`)."""
    import torch

    from ..kinds import kind_of
    from ..recipes import get_recipe
    from ..registry import ZOO
    from .engine import Options, write_model

    recipe = get_recipe(name)
    row = kind_of(recipe)
    if resume is not None and not (row.classifier and row.image):
        raise ValueError(f"resume is only supported for classifiers, not {recipe.kind} {name!r}")
    out = Path(out_dir) if out_dir else ZOO / name
    opts = Options(out, torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu")), epochs, n_train,
                   n_val, n_test, max_minutes, progress, Path(resume) if resume is not None else None, workers,
                   Path(data) if data is not None else None)
    before = torch.get_num_threads()
    if threads:  # for this run only: the caller's kernel keeps its own setting
        torch.set_num_threads(int(threads))
    try:
        t0 = time.time()
        card, state = row.load_trainer()(recipe, opts)
        card["training"].setdefault("device", str(opts.device))
        card["training"].update({"wall_time_s": round(time.time() - t0, 1), "torch": torch.__version__,
                                 "threads": torch.get_num_threads(),
                                 "machine": _platform.processor() or _platform.machine()})
    finally:
        torch.set_num_threads(before)
    return write_model(card, state, out)


__all__ = ["train"]
