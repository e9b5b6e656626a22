"""How ``galaxy_zoo`` fares on JPEGs framed otherwise than Galaxy Zoo frames them (issue #17: real inputs as surveys
serve them). Galaxy Zoo scales each 423-px stamp to the galaxy's Petrosian size; a cutout service at a fixed pixel
scale (SDSS SkyServer's ImgCutout, the Legacy Surveys' viewer) shows a small galaxy smaller and a large one larger.

The kit's held-out test split, each JPEG re-framed by a zoom factor ``z``: ``z > 1`` zooms out (the stamp padded to
``z`` times its side with sky drawn from its own border rows: a coarser pixel scale, as for a galaxy small for its
cutout), ``z < 1`` zooms in (the central ``z`` of the stamp: a finer scale); either resampled back to 423 px, as a
service serves a fixed pixel count. Each set goes through ``predict`` as arrays, as served and with
``reframe=True`` (each stamp re-cut so that its galaxy's measured R90 spans what it spans in Galaxy Zoo's);
reported per factor: accuracy with its bootstrap 95% interval, macro recall, and the share flagged out of
distribution. Nothing is trained or chosen from it: it describes the shipped model (the card's ``inputs.framing``
quotes it).

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


def reframed(img: np.ndarray, z: float) -> np.ndarray:
    """``img`` [H, W, 3] uint8 as a cutout service at ``z`` times Galaxy Zoo's pixel scale would serve it, at the
    same pixel count: the library's own re-cut (:func:`astrohub.models.inputs.colour.reframe`, asked to make the
    galaxy ``1 / z`` times its size in the frame: the centre cut out for ``z < 1``, the stamp padded with its own
    border sky for ``z > 1``), resampled (Lanczos) back to the stamp's size."""
    from astrohub.models.inputs.colour import reframe

    h, w = img.shape[:2]
    return np.asarray(Image.fromarray(reframe(img, z, 1.0)).resize((w, h), Image.Resampling.LANCZOS))


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
    rows = {}
    def score(pred) -> dict:
        hit = (pred.labels == y).astype(float)
        recall = [float(hit[y == k].mean()) for k in range(len(galaxyzoo1.CLASSES))]
        return {"accuracy": round(float(hit.mean()), 4),
                "accuracy_ci95": [round(v, 4) for v in bootstrap_ci(lambda t, p: np.mean(t == p), y, pred.labels,
                                                                    seed=a.seed)],
                "macro_recall": round(float(np.mean(recall)), 4),
                "recall": dict(zip(galaxyzoo1.CLASSES, [round(r, 3) for r in recall])),
                "ood_fraction": round(float(np.mean(pred.ood)), 4)}

    for z in a.zooms:
        shown = [reframed(im, z) if z != 1 else im for im in images]
        rows[f"{z:g}"] = {"zoom": z, **score(model.predict(shown, mc_samples=0)),
                          "reframed": score(model.predict(shown, mc_samples=0, reframe=True))}
        r = rows[f"{z:g}"]
        print(f"zoom {z:<5g} accuracy {r['accuracy']:.3f} {r['accuracy_ci95']}  macro recall {r['macro_recall']:.3f}  "
              f"flagged {r['ood_fraction']:.3f} | reframe=True: accuracy {r['reframed']['accuracy']:.3f} "
              f"{r['reframed']['accuracy_ci95']}, flagged {r['reframed']['ood_fraction']:.3f}")
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
    if all("reframed" in r for r in rows.values()):
        ax.plot(z, [r["reframed"]["accuracy"] for r in rows.values()], "o-", color="#31a354",
                label="accuracy, predict(..., reframe=True)")
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
