"""Confident learning for ``galaxy_zoo`` (issue #17; measured on val, not taken): Galaxy Zoo 1's labels are the
plurality of volunteers' votes, so some are wrong. Out-of-fold class probabilities on the kit's train split (4
stratified folds, each network trained like the shipped recipe from the simulator-pretrained weights, all epochs,
8-view averaging); the train images whose own label gets under ``--below`` are dropped; then seeds 5 and 6 are
trained on the rest the same way and scored on val (the test split is never read).

    python benchmarks/galaxy_zoo_clean.py fold 0 1 & python benchmarks/galaxy_zoo_clean.py fold 2 3
    python benchmarks/galaxy_zoo_clean.py clean 5 & python benchmarks/galaxy_zoo_clean.py clean 6
    python benchmarks/galaxy_zoo_clean.py score

``--init``: galaxy_zoo_simpretrain.py's weights (default /tmp/gz_sim.pt); ``--work``: where the runs' logits go.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from galaxy_zoo_val import member
from sklearn.model_selection import StratifiedKFold

from astrohub.models.evaluation.kits import kit_dir
from astrohub.models.recipes import RECIPES
from astrohub.models.training.colour import kit_frames, kit_module


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=["fold", "clean", "score"])
    ap.add_argument("ids", type=int, nargs="*", help="fold: fold numbers (0-3); clean: one seed")
    ap.add_argument("--below", type=float, default=0.15)
    ap.add_argument("--init", type=Path, default=Path("/tmp/gz_sim.pt"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/gzclean"))
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    recipe = RECIPES["galaxy_zoo"]
    kit = kit_module(recipe)
    data = kit.load(kit_dir(recipe.real_kit, None))
    y = data["labels"]
    idx = kit.split(y)
    tr, va = idx["train"], idx["val"]
    frames = kit_frames(kit, data, int(recipe.real["frame"]))
    wind = kit.chirality(data)
    a.work.mkdir(parents=True, exist_ok=True)
    if a.step == "fold":
        folds = list(StratifiedKFold(4, shuffle=True, random_state=0).split(tr, y[tr]))
        for k in a.ids:
            fit_i, held_i = folds[k]
            r = member(50 + k, recipe, frames, y, tr[fit_i], tr[held_i], recipe.epochs, None, False, a.init, wind)
            np.savez(a.work / f"fold{k}.npz", idx=tr[held_i], lg=r["lg_tta"])
    elif a.step == "clean":
        p = np.full((len(y), int(y.max()) + 1), np.nan)
        for k in range(4):
            d = np.load(a.work / f"fold{k}.npz")
            e = np.exp(d["lg"] - d["lg"].max(1, keepdims=True))
            p[d["idx"]] = e / e.sum(1, keepdims=True)
        drop = tr[p[tr, y[tr]] < a.below]
        n = len(p[0])
        print("dropped", len(drop), "per class", np.bincount(y[drop], minlength=n).tolist(), "of",
              np.bincount(y[tr], minlength=n).tolist(), flush=True)
        for s in a.ids:
            r = member(s, recipe, frames, y, np.setdiff1d(tr, drop), va, recipe.epochs, None, False, a.init, wind)
            np.savez(a.work / f"clean_seed{s}.npz", lg=r["lg_tta"])
    else:
        yv = y[va]
        lg = [np.load(a.work / f"clean_seed{s}.npz")["lg"] for s in (5, 6)]
        pair = np.mean(lg, 0)
        print("pair", int((pair.argmax(1) == yv).sum()), "of", len(va), "macro recall",
              round(kit.macro_recall(yv, pair), 3), "seeds alone", [int((v.argmax(1) == yv).sum()) for v in lg])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
