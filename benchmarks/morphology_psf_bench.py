"""What each cutout's PSF FWHM buys galaxy_morphology: its PSF-aware head against its PSF-blind head.

Both heads read the same network's test-time-augmented embedding; the PSF-aware head also gets
the FWHM that the archive records with every cutout (FITS keyword PSF_FWHM). Measured in one run
on 12,000 held-out objects (validation seed 102, the card's test seed 103, and 6000 more seed-103
objects of the ``morphology_truth`` stream), none used in training: accuracy overall and by S/N,
the errors each head makes that the other does not, and the cost of the second head.

    .venv/bin/python benchmarks/morphology_psf_bench.py [--threads 2]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from common import RESULTS, write
from morphology_second_net_bench import SETS, scores  # the same 12k held-out objects, scored alike

from astrohub.models import load
from astrohub.models.datasets import simulate_images
from astrohub.models.evaluation.metrics import by_snr


def timing(m, images: np.ndarray, fwhm: np.ndarray, repeats: int = 3) -> dict:
    """Seconds per image of predict() with and without the PSF (same images, interleaved runs)."""
    t = {"with_psf": [], "without_psf": []}
    for _ in range(repeats):
        for key, kw in (("without_psf", {}), ("with_psf", {"psf_fwhm": fwhm})):
            t0 = time.perf_counter()
            m.predict(images, mc_samples=20, **kw)
            t[key].append((time.perf_counter() - t0) / len(images))
    best = {k: min(v) for k, v in t.items()}
    return {**{f"s_per_image_{k}": v for k, v in best.items()},
            "ratio_with_over_without": best["with_psf"] / best["without_psf"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.time()
    m = load("galaxy_morphology")
    figures = {"model": {"version": m.card["version"], "sha256": m.card["weights"]["sha256"]}, "sets": {}}
    right = {"with_psf": 0, "without_psf": 0, "n": 0}
    bins: dict = {}
    for tag, task, n, seed in SETS:
        d = simulate_images(task, n, seed, 64)
        p_with = m.predict_proba(d.images, psf_fwhm=d.meta["psf_fwhm"])
        p_without = m.predict_proba(d.images)
        ok_w, ok_wo = p_with.argmax(1) == d.labels, p_without.argmax(1) == d.labels
        figures["sets"][tag] = {"n": n, "with_psf": scores(p_with, d), "without_psf": scores(p_without, d),
                                "errors": {"with_psf": int((~ok_w).sum()), "without_psf": int((~ok_wo).sum()),
                                           "fixed_by_psf": int((ok_w & ~ok_wo).sum()),
                                           "new_with_psf": int((~ok_w & ok_wo).sum())}}
        right["with_psf"] += int(ok_w.sum())
        right["without_psf"] += int(ok_wo.sum())
        right["n"] += n
        for k, v in by_snr(d, p_with).items():
            b = bins.setdefault(k, {"n": 0, "with_psf": 0.0, "without_psf": 0.0})
            b["n"] += v["n"]
            b["with_psf"] += v["accuracy"] * v["n"]
            b["without_psf"] += by_snr(d, p_without)[k]["accuracy"] * v["n"]
    pooled = {}
    for k in ("with_psf", "without_psf"):
        a = right[k] / right["n"]
        half = 1.96 * math.sqrt(a * (1 - a) / right["n"])
        pooled[k] = {"accuracy": a, "ci95": [a - half, a + half]}
    figures["all_held_out"] = {"n": right["n"], **pooled}
    figures["by_snr_all_held_out"] = {k: {"n": b["n"], "with_psf": b["with_psf"] / b["n"],
                                          "without_psf": b["without_psf"] / b["n"]} for k, b in bins.items()}
    d = simulate_images("morphology", 512, 103, 64)
    figures["inference"] = timing(m, d.images, d.meta["psf_fwhm"])
    figures["seconds"] = round(time.time() - t0, 1)
    write("morphology_psf_bench", figures)
    _plot(figures)


def _plot(f: dict) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.5))
    ax = fig.add_subplot()
    groups = {"all": {k: f["all_held_out"][k]["accuracy"] for k in ("with_psf", "without_psf")},
              **f["by_snr_all_held_out"]}
    x = np.arange(len(groups))
    for i, who in enumerate(("without_psf", "with_psf")):
        ax.bar(x + (i - 0.5) * 0.38, [g[who] for g in groups.values()], 0.38, label=who.replace("_", " "))
    ax.axhline(0.95, color="k", ls="--", lw=1, label="target 0.95")
    ax.set_xticks(x, [k.replace("snr ", "S/N ") for k in groups])
    ax.set_ylim(0.75, 1.0)
    ax.set_ylabel("accuracy (8-view TTA)")
    ax.set_title(f"galaxy_morphology on {f['all_held_out']['n']} held-out objects", fontsize=9)
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    fig.tight_layout()
    fig.savefig(RESULTS / "morphology_psf_bench.png", dpi=120)


if __name__ == "__main__":
    main()
