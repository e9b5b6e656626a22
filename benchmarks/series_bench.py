"""1-D model-zoo throughput: objects/s of each 1-D model's full ``predict`` path (input checks,
preprocessing incl. BLS for light curves, network, uncertainty) and of the network alone.
Writes results/series_bench.json. Usage: python benchmarks/series_bench.py [--threads N] [--n N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write  # noqa: E402

from astrohub import models  # noqa: E402
from astrohub.models.datasets import simulate_series  # noqa: E402
from astrohub.sims.lightcurves import simulate_lightcurves  # noqa: E402


def rate(fn, n, repeats):
    fn()  # warm-up
    best = min(_timed(fn) for _ in range(repeats))
    return round(n / best, 1)


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--n", type=int, default=1000, help="objects per call (light curves: n/10)")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    out = {"threads": torch.get_num_threads(), "n": a.n, "models": {}}
    n_lc = max(a.n // 10, 10)
    lc = simulate_lightcurves(n_lc, 999)
    vet = models.load("transit_vetter", device="cpu")
    g, loc, s = vet.features(lc.flux, time=lc.time)
    out["models"]["transit_vetter"] = {
        "predict_objects_per_s": rate(lambda: vet.predict(lc.flux, time=lc.time), n_lc, 1),
        "bls_and_folding_objects_per_s": rate(lambda: vet.features(lc.flux, time=lc.time), n_lc, 1),
        "network_objects_per_s": rate(lambda: vet.predict_features(g, loc, s, mc_samples=0), n_lc, a.repeats),
        "n": n_lc}
    sp = simulate_series("spectral_class", a.n, 998, cache=False)
    for name in ("spectral_class", "stellar_params"):
        m = models.load(name, device="cpu")
        out["models"][name] = {"predict_objects_per_s": rate(lambda m=m: m.predict(sp["flux"]), a.n, a.repeats)}
    clf = models.load("spectral_class", device="cpu")
    out["models"]["spectral_class"]["predict_no_mc_objects_per_s"] = rate(
        lambda: clf.predict(sp["flux"], mc_samples=0), a.n, a.repeats)
    ph = simulate_series("photoz", a.n * 10, 997, cache=False)
    pz = models.load("photoz_mdn", device="cpu")
    out["models"]["photoz_mdn"] = {"predict_objects_per_s": rate(lambda: pz.predict(ph["mags"], ph["errors"]),
                                                                 a.n * 10, a.repeats), "n": a.n * 10}
    write("series_bench", out)


if __name__ == "__main__":
    main()
