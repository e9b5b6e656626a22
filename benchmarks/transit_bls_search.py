"""How the transit vetter's period search was chosen (issue #17): period recovery of BLS settings side by side.

Fresh simulated windows (27.4 d on the 29.4-min grid; seeds ``[77, label, i, mission]``, none of them training
seeds): planets and eclipsing binaries, ``--n`` per mission. For every setting, the search that
:func:`astrohub.models.inputs.series.lightcurve_features` runs (``prepare``, then ``period_search``: running median
over WINDOW days, single-cadence brightenings clipped, ``bls`` with phase bins of BIN_FRACTION times a Sun-like
transit's duration): how often BLS lands within 1% of the true period or its half / double ("found"), how often on the
period itself ("exact"; an EB's orbit rather than half of it), the planets by subtype, and milliseconds per curve.
The shipped setting is ``series.SEARCH_WINDOW`` / ``series.BLS_BIN_FRACTION`` (2 d, 0.3). No network is run; the
kit is not read.

    python benchmarks/transit_bls_search.py [--n 150] [--settings 2.5:0.3 2.0:0.3 1.0:0.3 2.0:0.25]

Writes results/transit_bls_search.json; ~1 min per setting on one core.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import write

from astrohub.models.inputs import series as P
from astrohub.models.inputs.lightcurves import prepare
from astrohub.sims import lightcurves as S

MISSIONS = ("kepler", "k2", "tess")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=150, help="windows per class and mission")
    ap.add_argument("--settings", nargs="+", default=["2.5:0.3", "2.0:0.3", "1.0:0.3", "2.0:0.25"],
                    metavar="WINDOW:BIN_FRACTION")
    a = ap.parse_args(argv)
    try:
        settings = [tuple(float(v) for v in s.split(":")) for s in a.settings]
        assert all(len(s) == 2 and s[0] > 0 and s[1] > 0 for s in settings)
    except (ValueError, AssertionError):
        ap.error(f"--settings are WINDOW:BIN_FRACTION pairs of positive numbers such as 2.0:0.3, got {a.settings}")
    t = np.arange(0, 27.4, 29.4 / 1440)
    sims = {label: [S.simulate_curve(np.random.default_rng([77, label, i, mi]), label, t, mission=m)
                    for mi, m in enumerate(MISSIONS) for i in range(a.n)] for label in (0, 1)}
    out = []
    for window, frac in settings:
        row = {"window_days": window, "bin_fraction": frac,
               "shipped": (window, frac) == (P.SEARCH_WINDOW, P.BLS_BIN_FRACTION)}
        start, n = time.perf_counter(), 0
        for label, name in ((0, "planets"), (1, "eclipsing_binaries")):
            true_p = np.array([s[2]["period"] for s in sims[label]])
            sub = np.array([s[2]["subtype"] for s in sims[label]])
            ratio = np.array([P.period_search(*prepare(t, s[0]), window, frac)[2][0] for s in sims[label]]) / true_p
            n += len(ratio)
            exact = np.abs(ratio - 1) < 0.01
            found = exact | (np.abs(ratio / 0.5 - 1) < 0.01) | (np.abs(ratio / 2 - 1) < 0.01)
            row[name] = {"n": len(ratio), "found": int(found.sum()), "exact": int(exact.sum()),
                         "by_subtype": {int(k): [int(found[sub == k].sum()), int(exact[sub == k].sum()),
                                                 int((sub == k).sum())] for k in np.unique(sub)}}
        row["ms_per_curve"] = round(1000 * (time.perf_counter() - start) / n, 1)
        print(f"window {window:g} d, bins {frac:g}: planets found {row['planets']['found']}, EB orbits "
              f"{row['eclipsing_binaries']['exact']} (found {row['eclipsing_binaries']['found']}), "
              f"{row['ms_per_curve']} ms/curve", flush=True)
        out.append(row)
    write("transit_bls_search", {"windows_per_class": 3 * a.n, "by_subtype_is": "[found, exact, n]",
                                 "planet_subtypes": ["single", "grazing", "long period", "two planets"],
                                 "eb_subtypes": ["detached", "eccentric", "grazing", "background",
                                                 "contact/ellipsoidal", "close ellipsoidal + shallow eclipses"],
                                 "settings": out})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
