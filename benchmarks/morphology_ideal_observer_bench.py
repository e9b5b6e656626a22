"""How close galaxy_morphology is to the best any classifier can do on faint objects.

The simulator's noise is known exactly (white Gaussian, unit rms) and so is its flux prior (the
matched-filter S/N ``a`` is log-uniform on [12, 300]). For a bank of noiseless templates drawn
from the simulator (train seed 101, each in its 8 dihedral orientations, scaled to unit norm),
the likelihood of a noisy cutout ``y`` under template ``t``, with the amplitude marginalised
analytically, is

    p(y | t) ∝ ∫ exp(a·(y·t) − a²/2) da/a  ≈  exp(d²/2) / clip(d) · [Φ(d − 12) − Φ(d − 300)],  d = y·t,

and the class posterior is the mean of p(y | t) over the class's templates: a Monte-Carlo
ideal observer. With a finite bank it is a *lower bound* on the Bayes (best possible)
accuracy that rises towards it as the bank grows; this bench measures that curve against the
shipped model on the same held-out objects (seed 103) at S/N < 50, where a bank of 10^5–10^6
templates is dense compared with the noise (at higher S/N it is not, and the bound is loose).

    .venv/bin/python benchmarks/morphology_ideal_observer_bench.py [--bank 80000] [--n-test 2000] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from common import RESULTS, write

from astrohub.models import load
from astrohub.models.datasets import simulate_images
from astrohub.models.nets import dihedral

A_MIN, A_MAX = 12.0, 300.0  # the simulator's S/N prior (astrohub.sims.images._morphology_draw)
BINS = ((0.0, 20.0), (20.0, 50.0))


def log_marginal(d: torch.Tensor) -> torch.Tensor:
    """log ∫ exp(a d − a²/2) da/a over the prior, up to a constant (1/a taken at the peak a = d, clipped)."""
    # log(Φ(d-A_MIN) - Φ(d-A_MAX)) = log(Φ(A_MAX-d) - Φ(A_MIN-d)): take the side that does not round to 1 - 1
    ndtr, low = torch.special.log_ndtr, d < 0.5 * (A_MIN + A_MAX)
    big = torch.where(low, ndtr(d - A_MIN), ndtr(A_MAX - d))
    small = torch.where(low, ndtr(d - A_MAX), ndtr(A_MIN - d))
    mass = big + torch.log(-torch.expm1(small - big))
    return 0.5 * d * d - torch.log(d.clamp(A_MIN, A_MAX)) + mass


class IdealObserver:
    """Running per-class log mean likelihood of noisy cutouts ``y`` over a growing template bank."""

    def __init__(self, y: np.ndarray, n_classes: int):
        self.y = torch.from_numpy(y.reshape(len(y), -1).astype(np.float32))
        self.log_sum = torch.full((len(y), n_classes), -torch.inf, dtype=torch.float64)
        self.count = np.zeros(n_classes)

    def add(self, templates: np.ndarray, labels: np.ndarray) -> None:
        t = templates.reshape(len(templates), -1).astype(np.float32)
        t /= np.linalg.norm(t, axis=1, keepdims=True)
        ll = log_marginal(self.y @ torch.from_numpy(t).T).double()
        for c in np.unique(labels):
            sel = torch.from_numpy(labels == c)
            self.log_sum[:, c] = torch.logaddexp(self.log_sum[:, c], torch.logsumexp(ll[:, sel], 1))
            self.count[c] += int(sel.sum())

    def predict(self) -> np.ndarray:
        return (self.log_sum - torch.from_numpy(np.log(self.count))).argmax(1).numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bank", type=int, default=80000, help="noiseless templates (x8 orientations)")
    ap.add_argument("--n-test", type=int, default=2000, help="held-out objects (seed 103), ~44%% of them at S/N < 50")
    ap.add_argument("--chunk", type=int, default=2500)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if args.bank < args.chunk:
        ap.error(f"--bank must be at least --chunk ({args.chunk})")
    torch.set_num_threads(args.threads)
    t0 = time.time()
    te = simulate_images("morphology_truth", args.n_test, 103, 64)
    snr = te.meta["snr"]
    keep = snr < BINS[-1][1]
    y, labels = te.images[keep], te.labels[keep]
    shipped_ok = load("galaxy_morphology").predict(y, mc_samples=1).labels == labels
    bank = simulate_images("morphology_truth", args.bank, 101, 64, progress=True)
    observer = IdealObserver(y, len(te.class_names))
    curve = []
    for start in range(0, args.bank, args.chunk):
        truth = torch.from_numpy(bank.meta["truth"][start:start + args.chunk, None])  # [N, 1, H, W]
        for k in range(8):
            observer.add(dihedral(truth, k).numpy(), bank.labels[start:start + args.chunk])
        n = min(start + args.chunk, args.bank)
        if (n // args.chunk) & (n // args.chunk - 1) == 0 or n == args.bank:  # bank doubles
            ideal_ok = observer.predict() == labels
            curve.append({"templates": 8 * n, **_binned(snr[keep], ideal_ok, shipped_ok)})
            print(curve[-1], f"{time.time() - t0:.0f}s", flush=True)
    figures = {
        "test": {"task": "morphology_truth", "seed": 103, "n": int(keep.sum()), "snr_below": BINS[-1][1]},
        "bank": {"task": "morphology_truth", "seed": 101, "objects": args.bank, "orientations": 8},
        "shipped_vs_ideal_at_largest_bank": curve[-1],
        "curve": curve,
        "seconds": round(time.time() - t0, 1),
    }
    write("morphology_ideal_observer_bench", figures)
    _plot(figures)


def _binned(snr: np.ndarray, ideal_ok: np.ndarray, shipped_ok: np.ndarray) -> dict:
    out = {}
    for lo, hi in BINS:
        m = (snr >= lo) & (snr < hi)
        out[f"snr {lo:g}-{hi:g}"] = {
            "n": int(m.sum()), "ideal": round(float(ideal_ok[m].mean()), 4),
            "shipped": round(float(shipped_ok[m].mean()), 4),
            "only_ideal_right": int((ideal_ok & ~shipped_ok)[m].sum()),
            "only_shipped_right": int((shipped_ok & ~ideal_ok)[m].sum()),
        }
    return out


def _plot(f: dict) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    x = [c["templates"] for c in f["curve"]]
    for (lo, hi), color in zip(BINS, ("C0", "C1")):
        key = f"snr {lo:g}-{hi:g}"
        ax.plot(x, [c[key]["ideal"] for c in f["curve"]], "o-", color=color,
                label=f"ideal observer, S/N {lo:g}-{hi:g}")
        ax.axhline(f["curve"][-1][key]["shipped"], color=color, ls="--", lw=1,
                   label=f"shipped model, S/N {lo:g}-{hi:g}")
    ax.set_xscale("log")
    ax.set_xlabel("noiseless templates in the bank (x8 orientations)")
    ax.set_ylabel("accuracy (held-out seed 103)")
    ax.legend(fontsize=7, loc="center right")
    fig.tight_layout()
    fig.savefig(RESULTS / "morphology_ideal_observer_bench.png", dpi=120)


if __name__ == "__main__":
    main()
