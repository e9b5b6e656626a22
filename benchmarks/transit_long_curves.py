"""How the transit vetter speaks for a curve longer than one window: the windows' mean vs the shipped rule.

A curve of several ~27-d windows gets one row from ``predict``. Before, its probabilities were the windows' mean,
so a planet that transits once (a long-period planet: Kepler-90 g and h transit once a quarter at most) was
outvoted by the windows without a transit. ``TransitVetter.combine`` now takes the probabilities of the window
with the highest BLS S/N when that window is sure of a dip (``DIP_CONFIDENCE``), else the mean. This benchmark
simulates 90-d curves (three windows) of one mission: single-transit planets (depth 0.1-1%, 6-14 h, one transit
in the span, on the simulator's quiet-star curves) and the simulator's four classes, and scores both rules on the
same windows' predictions. Writes JSON and a PNG (``results/transit_long_curves_<mission>.*``).

    python benchmarks/transit_long_curves.py --mission kepler --n 80 --seed 100
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import RESULTS, write

from astrohub import models
from astrohub.models.predictors import transit as TR
from astrohub.sims import lightcurves as S

KINDS = {"single transit": "planet-transit", "planet": "planet-transit", "eclipsing binary": "eclipsing-binary",
         "variable": "variable", "noise": "noise"}


def curves(rng, mission: str, n: int, span: float = 90.0):
    """(time, [flux], [kind]): ``n`` curves of each kind over ``span`` days on the 29.4-min grid."""
    t = np.arange(0, span, S.CADENCE_DAYS)
    out, kind = [], []
    for _ in range(n):  # one transit: period 200 d, central, on a quiet star's curve with the mission's systematics
        f, _, _ = S.simulate_curve(rng, 3, t, mission=mission)
        depth, dur, tc = 10 ** rng.uniform(-3, -2), rng.uniform(0.25, 0.6), rng.uniform(5, span - 5)
        m = S.transit_model(t, 200.0, tc, np.sqrt(depth) * 1.05, 200.0 / (np.pi * dur), 90.0, (0.4, 0.25))
        out.append(f * m)
        kind.append("single transit")
    for label, k in enumerate(list(KINDS)[1:]):
        for _ in range(n):
            out.append(S.simulate_curve(rng, label, t, mission=mission)[0])
            kind.append(k)
    return t, out, np.array(kind)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mission", choices=S.MISSIONS, default="kepler")
    ap.add_argument("--n", type=int, default=80, help="curves per kind")
    ap.add_argument("--seed", type=int, default=100)
    a = ap.parse_args(argv)
    start = time.time()
    vet = models.load("transit_vetter", device="cpu")
    t, fluxes, kind = curves(np.random.default_rng([2026, 12, 1, a.seed]), a.mission, a.n)
    pw = vet.predict_features(vet.features(fluxes, [t] * len(fluxes)), mc_samples=0)
    out = {"mission": a.mission, "curves_per_kind": a.n, "seed": a.seed, "span_days": 90.0,
           "dip_confidence": TR.DIP_CONFIDENCE, "right": {}}
    shipped = TR.DIP_CONFIDENCE
    try:
        for rule, conf in (("windows' mean", 1.01), ("shipped", shipped)):  # above 1: never sure, i.e. the mean
            TR.DIP_CONFIDENCE = conf
            names = np.asarray(vet.combine(pw).names)
            out["right"][rule] = {k: int((names[kind == k] == v).sum()) for k, v in KINDS.items()}
            print(rule, out["right"][rule], flush=True)
    finally:
        TR.DIP_CONFIDENCE = shipped
    out["minutes"] = round((time.time() - start) / 60, 1)
    name = f"transit_long_curves_{a.mission}"
    write(name, out)
    plot(out, RESULTS / f"{name}.png")
    return 0


def plot(out: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.8))
    x = np.arange(len(KINDS))
    for i, (rule, right) in enumerate(out["right"].items()):
        ax.bar(x + (i - 0.5) * 0.38, [right[k] / out["curves_per_kind"] for k in KINDS], 0.38, label=rule)
    ax.set_xticks(x, list(KINDS))
    ax.set_ylabel("called right (share of curves)")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    ax.set_title(f"transit_vetter, 90-d {out['mission']} curves (3 windows): one row per curve")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"-> {path}")


if __name__ == "__main__":
    raise SystemExit(main())
