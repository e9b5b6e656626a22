"""Why does the transit vetter miss simulated planets: the period search or the network? (issue #17.)

The shipped vetter scores fresh simulated planet windows (150 per mission by default; seeds ``[77, 0, i, mission]``,
none of them the training seeds). For the planets it calls something else, reported per mission and verdict:
how many had the BLS period within 1% of the true period (or of its half or double), and their total S/N, next to
the same for the planets it recognises. A miss whose period BLS did not find is the search's, not the network's.
The kit is not read.

    python benchmarks/transit_search_misses.py [--n 150]

Writes results/transit_search_misses.json; ~1 min per mission on one core.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import same_period, write

from astrohub import models
from astrohub.sims import lightcurves as S

MISSIONS = ("kepler", "k2", "tess")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=150, help="planet windows per mission")
    a = ap.parse_args(argv)
    vet = models.load("transit_vetter", device="cpu")
    t = np.arange(0, 27.4, 29.4 / 1440)
    out, t_start = {}, time.time()
    for mi, mission in enumerate(MISSIONS):
        sims = [S.simulate_curve(np.random.default_rng([77, 0, i, mi]), 0, t, mission=mission) for i in range(a.n)]
        pred = vet.predict(np.array([s[0] for s in sims]), time=np.tile(t, (a.n, 1)), mc_samples=0)
        names = np.asarray(pred.names)
        true_p = np.array([s[2]["period"] for s in sims])
        snr = np.array([s[2]["snr"] for s in sims])
        found = same_period(pred.period, true_p)
        rows = {}
        for verdict in np.unique(names):
            m = names == verdict
            rows[str(verdict)] = {"n": int(m.sum()), "bls_found_the_period": int((found & m).sum()),
                                  "single_transit_in_window": int((m & (true_p > t[-1] - t[0])).sum()),
                                  "snr_median": round(float(np.median(snr[m])), 1),
                                  "snr_of_those_not_found": sorted(round(float(v), 1) for v in snr[m & ~found])}
        out[mission] = rows
        print(mission, {k: (v["n"], v["bls_found_the_period"]) for k, v in rows.items()}, flush=True)
    write("transit_search_misses", {"planet_windows_per_mission": a.n, "by_mission_and_verdict": out,
                                    "minutes": round((time.time() - t_start) / 60, 1)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
