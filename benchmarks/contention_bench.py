"""Two torch processes on the same cores (two users' kernels, a kernel beside a Dask worker): OpenMP's
default wait policy against astrohub's ``OMP_WAIT_POLICY=PASSIVE`` (astrohub.defaults.TORCH_PROCESS_ENV).

    .venv/bin/python benchmarks/contention_bench.py [--model galaxy_morphology] [--n 512] [--rounds 3]

Each process loads ``--model`` and classifies ``--n`` simulated cutouts with torch's default thread
count (one per core). Rounds interleave the four cases: one process alone (the reference) and two at
once, each under both policies; the figure is the median wall time per process. Writes
benchmarks/results/contention.json and contention.png.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, write  # noqa: E402

CHILD = """
import json, sys, time
import torch
from astrohub import models
from astrohub.sims.images import simulate_images
m = models.load(sys.argv[1], device="cpu")
size = m.card["inputs"]["shape"][-1]
x = simulate_images("morphology", int(sys.argv[2]), seed=3, size=size).images
m.predict(x[:32], mc_samples=0)  # warm-up
t = time.perf_counter()
m.predict(x, mc_samples=0)
print(json.dumps({"wall_s": time.perf_counter() - t, "threads": torch.get_num_threads()}))
"""


def run(model: str, n: int, policy: str | None, copies: int) -> list[float]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, model, str(n)], env=env, stdout=subprocess.PIPE,
                              text=True) for _ in range(copies)]
    out = []
    for p in procs:
        stdout, _ = p.communicate(timeout=1800)
        if p.returncode:
            raise RuntimeError(f"benchmark child failed ({p.returncode})")
        out.append(json.loads(stdout.strip().splitlines()[-1])["wall_s"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="galaxy_morphology")
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    cases = {("alone", None): [], ("alone", "PASSIVE"): [], ("two at once", None): [],
             ("two at once", "PASSIVE"): []}
    for _ in range(args.rounds):  # interleaved: a drift in the machine's load hits every case alike
        for (how, policy), walls in cases.items():
            walls.extend(run(args.model, args.n, policy, 1 if how == "alone" else 2))
    med = {f"{how}, {policy or 'default (active)'}": round(statistics.median(w), 3)
           for (how, policy), w in cases.items()}
    two_default, two_passive = med["two at once, default (active)"], med["two at once, PASSIVE"]
    write("contention", {
        "model": args.model, "images_per_process": args.n, "rounds": args.rounds,
        "median_wall_s_per_process": med,
        "two_at_once_default_vs_passive": round(two_default / two_passive, 2),
        "passive_alone_vs_default_alone": round(med["alone, PASSIVE"] / med["alone, default (active)"], 3),
        "note": "two processes each using every core; passive = what astrohub gives kernels and Dask workers",
    })
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.barh(list(med), list(med.values()), color=["0.6", "tab:blue", "0.6", "tab:blue"])
    ax.set_xlabel(f"wall time per process, s ({args.n} cutouts, {args.model})")
    ax.set_title(f"{os.cpu_count()} cores: OpenMP wait policy under contention")
    fig.tight_layout()
    fig.savefig(RESULTS / "contention.png", dpi=120)


if __name__ == "__main__":
    main()
