"""Where galaxy_morphology's errors come from: the same objects with and without noise.

Trains the shipped network's architecture on the simulator's noiseless (PSF-convolved) images
(``morphology_truth``, train seed 101, validation 102) for a fixed wall-clock budget, then
measures on the held-out seed 103, in one run:
  * that noiseless "oracle" on the noiseless images,
  * the shipped galaxy_morphology on the same objects' noisy images (what the archive serves),
and which of the shipped model's errors the oracle also makes. If the classes overlapped by
construction, both would fail on the same objects; if the noise is what limits, they do not.

    .venv/bin/python benchmarks/morphology_noise_bench.py [--minutes 18] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from common import RESULTS, write

from astrohub.models import load, nets
from astrohub.models.datasets import simulate_images
from astrohub.models.evaluation.metrics import by_snr
from astrohub.models.recipes import get_recipe
from astrohub.models.training.engine import Plan, fit
from astrohub.models.training.images import classifier_batches, classifier_val, logits


def noiseless_input(batch) -> np.ndarray:
    """arcsinh of the noiseless image in units of the noisy image's sky sigma (1), as [N, 1, H, W]."""
    return np.arcsinh(batch.meta["truth"][:, None]).astype(np.float32)


def train_oracle(minutes: float, n_train: int, seed: int = 1) -> torch.nn.Module:
    spec = get_recipe("galaxy_morphology")
    tr = simulate_images("morphology_truth", n_train, 101, spec.size)
    va = simulate_images("morphology_truth", 2000, 102, spec.size)
    net = nets.build(spec.arch).to(memory_format=torch.channels_last)
    torch.manual_seed(seed)
    cpu = torch.device("cpu")
    batches = classifier_batches(noiseless_input(tr), tr.labels, spec.batch, torch.Generator().manual_seed(seed), cpu)
    val = classifier_val(noiseless_input(va), va.labels, cpu)
    # one-cycle over the wall-clock budget, early stopping that never triggers within it (patience 1000)
    plan = Plan(epochs=1000, lr=spec.lr, patience=1000, min_delta=1e-5, budget_minutes=minutes, max_minutes=minutes)
    fit(net, batches, val, plan, progress=True, desc="noiseless oracle")
    return net


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=18.0, help="training budget of the noiseless oracle")
    ap.add_argument("--n-train", type=int, default=20000)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.time()
    oracle = train_oracle(args.minutes, args.n_train)
    te = simulate_images("morphology_truth", 2000, 103, get_recipe("galaxy_morphology").size)
    p_oracle = torch.softmax(logits(oracle, noiseless_input(te), torch.device("cpu"), tta=True), 1).numpy()
    p_shipped = load("galaxy_morphology").predict(te.images, mc_samples=1).probabilities
    oracle_ok, shipped_ok = p_oracle.argmax(1) == te.labels, p_shipped.argmax(1) == te.labels
    figures = {
        "test": {"task": "morphology_truth", "seed": 103, "n": int(len(te.labels))},
        "oracle": {"input": "noiseless PSF-convolved image", "train_minutes": args.minutes, "n_train": args.n_train,
                   "accuracy": float(oracle_ok.mean()), "by_snr_of_the_noisy_twin": by_snr(te, p_oracle)},
        "shipped": {"input": "the same objects with sky noise", "accuracy": float(shipped_ok.mean()),
                    "by_snr": by_snr(te, p_shipped)},
        "shipped_errors": int((~shipped_ok).sum()),
        "shipped_errors_the_oracle_also_makes": int((~shipped_ok & ~oracle_ok).sum()),
        "seconds": round(time.time() - t0, 1),
    }
    write("morphology_noise_bench", figures)
    _plot(figures)


def _plot(f: dict) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    bins = list(f["shipped"]["by_snr"])
    x = np.arange(len(bins))
    ax.bar(x - 0.2, [f["oracle"]["by_snr_of_the_noisy_twin"][b]["accuracy"] for b in bins], 0.4,
           label="noiseless oracle")
    ax.bar(x + 0.2, [f["shipped"]["by_snr"][b]["accuracy"] for b in bins], 0.4, label="shipped model, noisy")
    ax.axhline(0.95, color="k", ls="--", lw=1, label="target 0.95")
    ax.set_xticks(x, [b.upper() for b in bins])
    ax.set_ylim(0.7, 1.0)
    ax.set_ylabel("accuracy (held-out seed 103)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / "morphology_noise_bench.png", dpi=120)


if __name__ == "__main__":
    main()
