"""Does pretraining on simulated SDSS colour composites help ``galaxy_zoo`` on real Galaxy Zoo images (issue #17)?

The recipe's pretraining stage run alone (:func:`astrohub.models.training.colour.pretrain_colour`: the recipe's
network trained on simulated Galaxy Zoo 1 subject images as the colour model sees them, :mod:`astrohub.sims.colour`,
with the recipe's own batches and augmentation under the kit's normalisation), its weights written for
``galaxy_zoo_val.py --init`` to fine-tune on the kit's train split and score on its val split (the test split is
never read).

    python benchmarks/galaxy_zoo_simpretrain.py [--n 16000] [--epochs 10] [--out /tmp/gz_sim.pt] [--chirality W]
        [--arch JSON] [--grid PNG]
    python benchmarks/galaxy_zoo_val.py --seeds 5 --init /tmp/gz_sim.pt --no-early-stop --logits DIR  (and 6, then 5 6)

Writes results/galaxy_zoo_simpretrain.json (simulated val accuracy). 16,000 stamps take ~1.5 min on two processes,
10 epochs ~10 min on one core. Measured (seeds 5+6, all 100 epochs; the recipe from scratch the same way: 0.845):
this simulator 0.854 (macro recall 0.735; seeds 7+8: 0.854 vs 0.845 from scratch); an earlier version (8,000 stamps;
no lenticulars, edge-on axis ratios 0.1-0.3, arm amplitudes from 0.15) 0.8495. The pretrained network alone, before
fine-tuning, scores 0.57 on val. The recipe (``pretrain`` in its ``real`` settings) now runs this stage itself.
``--chirality 0.3`` (the simulated spirals winding either way, one more output learning it; fine-tuning starts
its own winding output afresh): simulated val 0.986, then seeds 5+6 with the recipe's fine-tuning 0.857 (353 of
412) against 0.871 (359) from the pretraining without it: not taken. ``--n 32000`` (twice the stamps; simulated val
0.991; its training took 12 min with torch on two threads, where this script sets one): 0.854 (352 of 412)
against 359, not taken. ``--arch '{"widths": [32, 64, 128, 224], "stem": 32}'`` (a wider network, 1.8x the
compute; simulated val 0.988; run with torch on two threads), fine-tuned with the same ``--arch``: 0.850 (350 of
412) against 359, not taken.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import torch
from common import arch_overrides, write

from astrohub.models.evaluation.kits import kit_dir
from astrohub.models.inputs.colour import centre
from astrohub.models.recipes import RECIPES
from astrohub.models.training.colour import channel_stats, kit_frames, kit_module, pretrain_colour
from astrohub.sims.colour import GZ_CLASSES, gz_stamp


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    pre = RECIPES["galaxy_zoo"].real["pretrain"]  # defaults: the recipe's own pretraining
    ap.add_argument("--n", type=int, default=pre["n"])
    ap.add_argument("--epochs", type=int, default=pre["epochs"])
    ap.add_argument("--seed", type=int, default=pre["seed"])
    ap.add_argument("--chirality", type=float, default=pre.get("chirality", 0.0),
                    help="weight of an output learning the simulated spirals' winding (0: none)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/gz_sim.pt"), help="the pretrained weights (torch.save)")
    ap.add_argument("--grid", type=Path, default=None, help="only draw a PNG of 8 simulated images per class")
    ap.add_argument("--arch", default=None, metavar="JSON",
                    help="override keys of the recipe's network, as galaxy_zoo_val.py --arch takes them")
    ap.add_argument("--data", default=None)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    if a.grid:
        from PIL import Image

        rng = np.random.default_rng(a.seed)
        rows = [np.concatenate([np.asarray(Image.fromarray(centre(gz_stamp(rng, c)[None], 64)[0]).resize((128, 128)))
                                for _ in range(8)], 1) for c in GZ_CLASSES]
        Image.fromarray(np.concatenate(rows, 0)).save(a.grid)
        return 0
    recipe = RECIPES["galaxy_zoo"]
    if arch := arch_overrides(ap, a.arch, recipe.arch):
        recipe = dataclasses.replace(recipe, arch={**recipe.arch, **arch})
    cfg = dict(recipe.real)
    kit = kit_module(recipe)
    data = kit.load(kit_dir(recipe.real_kit, a.data))
    y_kit = data["labels"]
    tr = kit.split(y_kit)["train"]
    real = centre(kit_frames(kit, data, int(cfg["frame"]), True)[tr], recipe.size)  # the kit's normalisation
    mean, std = channel_stats(real)
    settings = {"n": a.n, "epochs": a.epochs, "seed": a.seed, "chirality": a.chirality}
    state, info = pretrain_colour(recipe, cfg, settings, mean, std, torch.device("cpu"), kit.CLASSES, progress=True)
    torch.save(state, a.out)
    write("galaxy_zoo_simpretrain", {**{k: v for k, v in info.items() if k != "history"}, "weights": str(a.out)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
