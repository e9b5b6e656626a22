"""VO data-layer throughput against the local DaCHS, measured side by side in one run.

* TAP -> astropy -> float32 numpy array, rows/s, for 10k and 100k rows: raw pyvo
  (run_sync + to_table + np.stack) versus astrohub.vo (Archive.query
  without cache + table_to_numpy), interleaved, median of N repeats; the
  overhead ratio is astrohub / pyvo time (goal: < 1.10).
* cutouts/s fetched and opened: from SIA access URLs and from catalogue rows via DataLink.

Uses ``--tap-url`` if given, else starts a LocalArchive in .astrohub/bench-archive
(building the `small` survey once). Writes benchmarks/results/vo_bench.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import archive_base, write  # noqa: E402

COLS = ["obj_id", "ra", "dec", "mag_u", "mag_g", "mag_r", "mag_i", "mag_z", "period"]
# a cross join of the catalogue with the light-curve table gives >= 100k rows on the small survey
QUERY = ("SELECT TOP {n} a.obj_id, a.ra, a.dec, a.mag_u, a.mag_g, a.mag_r, a.mag_i, a.mag_z, b.period "
         "FROM astrohub.objects AS a, astrohub.lightcurves AS b")


def raw_pyvo(tap_url: str, n: int):
    import pyvo
    from astropy.units import UnitsWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnitsWarning)
        t = pyvo.dal.TAPService(tap_url).run_sync(QUERY.format(n=n), maxrec=n).to_table()
    return np.stack([np.asarray(t[c], dtype=np.float32) for c in COLS], axis=1)


def astrohub_vo(arc, n: int):
    from astrohub.vo.arrays import table_to_numpy

    t = arc.query(QUERY.format(n=n), maxrec=n, cache=False)
    return table_to_numpy(t, COLS)


def timed(fn, *a):
    t0 = time.perf_counter()
    out = fn(*a)
    return time.perf_counter() - t0, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tap-url", help="TAP URL of a running astrohub archive")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sizes", default="10000,100000")
    args = ap.parse_args()

    from astrohub.vo import Archive

    base, live = archive_base(args.tap_url)
    cache = Path(tempfile.mkdtemp(prefix="vo-bench-"))
    arc = Archive.local(base, cache_dir=cache, progress=False)
    tap = arc.urls["tap"]

    figures = {"tap_to_array": {}, "cutouts": {}}
    for n in [int(s) for s in args.sizes.split(",")]:
        raw_pyvo(tap, min(n, 1000)), astrohub_vo(arc, min(n, 1000))        # warm up
        t_raw, t_ah = [], []
        for _ in range(args.repeats):                                       # interleaved
            dt, x_raw = timed(raw_pyvo, tap, n)
            t_raw.append(dt)
            dt, x_ah = timed(astrohub_vo, arc, n)
            t_ah.append(dt)
        assert x_raw.shape == x_ah.shape == (n, len(COLS)), (x_raw.shape, x_ah.shape)
        assert np.allclose(x_raw, x_ah, equal_nan=True)
        r, a = statistics.median(t_raw), statistics.median(t_ah)
        figures["tap_to_array"][str(n)] = {
            "rows": n, "repeats": args.repeats, "pyvo_s": round(r, 4), "astrohub_s": round(a, 4),
            "pyvo_rows_per_s": round(n / r), "astrohub_rows_per_s": round(n / a),
            "overhead_ratio": round(a / r, 3)}

    cat = arc.query("SELECT o.* FROM astrohub.objects AS o JOIN astrohub.cutouts AS c ON o.obj_id = c.obj_id",
                    maxrec=100000)
    sia_rows = arc.query("SELECT * FROM astrohub.cutouts", maxrec=100000)
    for label, rows in (("sia_access_url", sia_rows), ("datalink_from_catalog", cat)):
        arc.cache.clear()
        dt, imgs = timed(arc.cutouts, rows)
        figures["cutouts"][label] = {"n": len(imgs), "seconds": round(dt, 3), "cutouts_per_s": round(len(imgs) / dt, 1)}
    write("vo_bench", figures)
    if live is not None:
        live.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
