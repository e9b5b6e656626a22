"""How ``galaxy_zoo`` fares on JPEGs framed otherwise than Galaxy Zoo frames them (issue #17: real inputs as surveys
serve them). Galaxy Zoo scales each 423-px stamp to the galaxy's Petrosian size; a cutout service at a fixed pixel
scale (SDSS SkyServer's ImgCutout, the Legacy Surveys' viewer) shows a small galaxy smaller and a large one larger.

The kit's held-out test split, each JPEG re-framed by a zoom factor ``z``: ``z > 1`` zooms out (the stamp shrunk by
``z``, Lanczos, and the rest of the frame filled with sky drawn from the stamp's own border rows: a coarser pixel
scale, as for a galaxy small for its cutout), ``z < 1`` zooms in (the central 1/z of the stamp enlarged back to 423
px: a finer scale). Each set goes through ``predict`` as arrays; reported per factor: accuracy with its bootstrap
95% interval, macro recall, and the share flagged out of distribution. Nothing is trained or chosen from it: it
describes the shipped model (the card's ``inputs.framing`` quotes it).

    python benchmarks/galaxy_zoo_framing.py [--zooms 0.5 0.67 0.8 1 1.25 1.5 2 3]

Writes results/galaxy_zoo_framing.json and .png (about a minute on one core).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, write  # noqa: E402


def reframe(img: np.ndarray, z: float, rng: np.random.Generator) -> np.ndarray:
    """``img`` [H, W, 3] uint8 seen at ``z`` times Galaxy Zoo's pixel scale (see the module's help)."""
    h, w = img.shape[:2]
    if z >= 1:
        small = np.asarray(Image.fromarray(img).resize((round(w / z), round(h / z)), Image.Resampling.LANCZOS))
        sky = np.concatenate([img[:16].reshape(-1, 3), img[-16:].reshape(-1, 3)])
        out = sky[rng.integers(len(sky), size=h * w)].reshape(h, w, 3)
        y0, x0 = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
        out[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
        return out
    ch, cw = round(h * z), round(w * z)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    return np.asarray(Image.fromarray(img[y0:y0 + ch, x0:x0 + cw]).resize((w, h), Image.Resampling.LANCZOS))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zooms", type=float, nargs="+", default=[0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0])
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    from astrohub import models
    from astrohub.models.evaluation.kits import galaxyzoo1, kit_dir
    from astrohub.models.evaluation.metrics import bootstrap_ci

    kit = galaxyzoo1.load(kit_dir("galaxyzoo1_jpeg"))
    test = galaxyzoo1.split(kit["labels"])["test"]
    y = kit["labels"][test]
    images = [np.asarray(Image.open(kit["paths"][i]).convert("RGB")) for i in test]
    model = models.load("galaxy_zoo", device="cpu")
    rng = np.random.default_rng(a.seed)
    rows = {}
    for z in a.zooms:
        pred = model.predict([reframe(im, z, rng) if z != 1 else im for im in images], mc_samples=0)
        hit = (pred.labels == y).astype(float)
        recall = [float(hit[y == k].mean()) for k in range(len(galaxyzoo1.CLASSES))]
        rows[f"{z:g}"] = {"zoom": z, "accuracy": round(float(hit.mean()), 4),
                          "accuracy_ci95": [round(v, 4) for v in bootstrap_ci(lambda t, p: np.mean(t == p), y,
                                                                              pred.labels, seed=a.seed)],
                          "macro_recall": round(float(np.mean(recall)), 4),
                          "recall": dict(zip(galaxyzoo1.CLASSES, [round(r, 3) for r in recall])),
                          "ood_fraction": round(float(np.mean(pred.ood)), 4)}
        print(f"zoom {z:<5g} accuracy {rows[f'{z:g}']['accuracy']:.3f} {rows[f'{z:g}']['accuracy_ci95']}  "
              f"macro recall {rows[f'{z:g}']['macro_recall']:.3f}  flagged {rows[f'{z:g}']['ood_fraction']:.3f}")
    out = {"n": int(len(test)), "split": "the kit's test split (descriptive: nothing chosen from it)",
           "zooms": rows}
    print(f"-> {write('galaxy_zoo_framing', out)}")
    print(f"-> {plot(rows)}")
    return 0


def plot(rows: dict) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    z = [r["zoom"] for r in rows.values()]
    acc = np.array([r["accuracy"] for r in rows.values()])
    lo, hi = np.array([r["accuracy_ci95"] for r in rows.values()]).T
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.fill_between(z, lo, hi, color="#9ecae1", label="accuracy, 95% interval")
    ax.plot(z, acc, "o-", color="#08519c", label="accuracy")
    ax.plot(z, [r["macro_recall"] for r in rows.values()], "s--", color="#a63603", label="macro recall")
    ax.plot(z, [r["ood_fraction"] for r in rows.values()], "^:", color="#555", label="flagged out of distribution")
    ax.axvline(1.0, color="#999", lw=0.8)
    ax.set_xscale("log")
    ax.set_xticks(z, [f"{v:g}" for v in z])
    ax.minorticks_off()
    ax.set_ylim(0, 1)
    ax.set_xlabel("pixel scale / Galaxy Zoo's (>1: the galaxy smaller in its frame)")
    ax.set_title("galaxy_zoo on re-framed Galaxy Zoo JPEGs (kit test split)")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "galaxy_zoo_framing.png"
    fig.savefig(path, dpi=120)
    return path


if __name__ == "__main__":
    raise SystemExit(main())
