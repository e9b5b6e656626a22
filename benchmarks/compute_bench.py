"""Sharded inference and data-parallel training: 1 process vs N Dask workers, measured in one run.

    .venv/bin/python benchmarks/compute_bench.py [--model galaxy_morphology] [--n 4096]

Inference: images/s of one process (1 torch thread: one core's worth) against 1..N workers
(1 thread each) with the images already on the workers; scaling efficiency per worker =
rate(N) / (N * rate(1 worker)). Also the same 2-worker run with Dask's default nanny
environment (MALLOC_TRIM_THRESHOLD_=65536) to measure why astrohub removes it.
Training: samples/s of fit() on 1 vs N workers (same per-rank batch). On a GPU machine the
cluster is a LocalCUDACluster. Writes benchmarks/results/compute.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import dask
import dask.array as da
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write  # noqa: E402

from astrohub.compute import Simulated, cluster, fit, predict  # noqa: E402
from astrohub.compute.plugin import load_model  # noqa: E402
from astrohub.compute.sources import SimChunk  # noqa: E402


def on_workers(client, task, n, seed, chunk=256):
    """Images generated on the workers and kept there, as a dask array."""
    parts = [dask.delayed(SimChunk(a, min(a + chunk, n), task, seed).load)() for a in range(0, n, chunk)]
    arr = da.concatenate([da.from_delayed(p, shape=(min(chunk, n - a), 64, 64), dtype=np.float32)
                          for p, a in zip(parts, range(0, n, chunk))])
    return client.persist(arr)


def best_rate(fn, n, repeats=3):
    fn()  # warm-up: model load, first batches
    best = min(_timed(fn) for _ in range(repeats))
    return n / best


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def inference(model, n, max_workers, task):
    import torch

    x = Simulated(task, n, seed=99).chunks(n)[0].load()
    m = load_model(model)
    torch.set_num_threads(1)
    single = best_rate(lambda: m.predict(x, mc_samples=0), n)
    rates = {}
    for w in range(1, max_workers + 1):
        with cluster(n_workers=w, threads_per_worker=1) as client:
            arr = on_workers(client, task, n, seed=99)
            rates[w] = best_rate(lambda arr=arr, client=client: predict(model, arr, client=client, progress=False,
                                                                        mc_samples=0), n)
    # the same 2-worker run with Dask's default nanny environment
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 65536}):
        from distributed import Client, LocalCluster

        from astrohub.compute.plugin import TorchWorker

        with Client(LocalCluster(n_workers=min(2, max_workers), threads_per_worker=1, host="127.0.0.1",
                                 dashboard_address=None)) as client:
            client.register_plugin(TorchWorker(), name=TorchWorker.name)
            arr = on_workers(client, task, n, seed=99)
            default_env = best_rate(lambda: predict(model, arr, client=client, progress=False, mc_samples=0), n)
    return single, rates, default_env


def training(model, task, max_workers, n_per_rank=512):
    rates = {}
    for w in sorted({1, max_workers}):
        with cluster(n_workers=w, threads_per_worker=1) as client:
            ds = Simulated(task, n_per_rank * w, seed=7)
            t = time.perf_counter()
            trained = fit(model, ds, workers=w, client=client, epochs=2, batch_size=32)
            dt = time.perf_counter() - t
            samples = sum(trained.card["training"]["distributed"]["samples_per_rank"])
            rates[w] = samples / dt
    return rates


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="galaxy_morphology")
    ap.add_argument("--task", default="morphology")
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    args = ap.parse_args()
    single, rates, default_env = inference(args.model, args.n, args.workers, args.task)
    train = training(args.model, args.task, args.workers)
    n = max(rates)
    write("compute", {
        "model": args.model, "images": args.n,
        "inference_images_per_s": {"single_process_1_thread": round(single, 1),
                                   **{f"{w}_workers": round(r, 1) for w, r in rates.items()}},
        "scaling_efficiency_per_worker": round(rates[n] / (n * rates[1]), 3),
        "n_workers_vs_single_process": round(rates[n] / single, 2),
        "malloc_trim_default_vs_astrohub_2_workers": round(default_env / rates[min(2, n)], 3),
        "training_samples_per_s": {f"{w}_workers": round(r, 1) for w, r in train.items()},
        "training_speedup": round(train[max(train)] / train[1], 2),
        "note": "end-to-end fit() time, including rank start-up and per-rank data generation",
    })


if __name__ == "__main__":
    main()
