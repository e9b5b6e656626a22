"""VO data-layer throughput against the local DaCHS, measured side by side in one run.

* TAP -> astropy -> float32 numpy array, rows/s, for 10k and 100k rows: raw pyvo
  (run_sync + to_table + np.stack) versus astrohub.vo (Archive.query
  without cache + table_to_numpy), interleaved, median of N repeats; the
  overhead ratio is astrohub / pyvo time (goal: < 1.10).
* cutouts/s fetched and opened: from SIA access URLs and from catalogue rows via DataLink.
* product discovery (no download), products found per second, in the same run: through ObsCore
  (catalogue rows matched by position in ivoa.obscore; ZTF ObsCore records followed through DataLink to
  their #this file; galaxies served as one FITS image per band, catalogue rows matched to their g, r and i
  images by position and band) against the direct table lookup (a JOIN on astrohub's product tables; the ZTF
  table's own accref column; the cutouts table's bands grouped by object). Median of N repeats, cache cleared
  before each. Also a PNG.

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
from common import RESULTS, archive_base, write  # noqa: E402

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


def discovery(arc, repeats: int) -> dict:
    """Products found per second: ObsCore (+ DataLink) discovery against the direct table lookup."""
    from astrohub.vo import obscore

    ids = ("SELECT o.obj_id, o.ra, o.dec FROM astrohub.objects AS o WHERE o.obj_id IN "
           "(SELECT c.obj_id FROM astrohub.{t} AS c) ORDER BY o.obj_id")
    cat = {t: arc.query(ids.format(t=t), maxrec=100000) for t in ("cutouts", "spectra", "lightcurves")}
    cat = {t: rows["ra", "dec"] for t, rows in cat.items()}  # a position only: no id, no DataLink descriptor
    kinds = {"cutouts": "cutout", "spectra": "spectrum", "lightcurves": "lightcurve"}

    def direct_demo():  # the first product of each object, as discovery counts them (a galaxy served band by band
        # has three cutouts)
        return sum(len(set(arc.query(f"SELECT o.obj_id, c.accref FROM astrohub.objects AS o JOIN astrohub.{t} AS c "
                                     "ON o.obj_id = c.obj_id", maxrec=100000)["obj_id"])) for t in kinds)

    def obscore_match():
        return sum(len(obscore.discover(arc, rows, (kinds[t],)).of(kinds[t], len(rows))[0]) for t, rows in cat.items())

    def direct_ztf():
        return len(arc.query("SELECT candid, accref FROM realsurvey.ztf_alerts", maxrec=100000))

    def obscore_datalink_ztf():
        rows = arc.obscore("obs_collection = 'ZTF alerts'", maxrec=100000)
        return len(obscore.discover(arc, rows, ("cutout",)).of("cutout", len(rows))[0])

    def direct_gz():
        return len(arc.query("SELECT dr7_objid, accref FROM realsurvey.galaxyzoo", maxrec=100000))

    def obscore_jpeg_gz():  # ObsCore images in image/jpeg: colour composites, their access_url the file itself
        rows = arc.obscore("obs_collection = 'Galaxy Zoo 1'", maxrec=100000)
        return len(obscore.discover(arc, rows, ("colour",)).of("colour", len(rows))[0])

    gri = arc.query("SELECT o.ra, o.dec FROM astrohub.objects AS o JOIN astrohub.cutouts AS c ON o.obj_id = c.obj_id "
                    "WHERE c.task = 'colour' AND c.bandpassId = 'r' ORDER BY o.obj_id", maxrec=100000)

    def direct_gri():  # one product per galaxy: its three bands' files
        t = arc.query("SELECT obj_id, bandpassId, accref FROM astrohub.cutouts WHERE task = 'colour'", maxrec=100000)
        bands: dict[int, set] = {}
        for o, b in zip(t["obj_id"], t["bandpassId"]):
            bands.setdefault(int(o), set()).add(str(b))
        return sum(b == {"g", "r", "i"} for b in bands.values())

    def obscore_gri():  # catalogue rows: g, r, i FITS images found by position and band (em_min/em_max)
        return len(obscore.discover(arc, gri, ("colour",)).of("colour", len(gri))[0])

    legs = {"demo_direct_table": direct_demo, "demo_obscore_position_match": obscore_match,
            "ztf_direct_table": direct_ztf, "ztf_obscore_datalink": obscore_datalink_ztf,
            "galaxyzoo_direct_table": direct_gz, "galaxyzoo_obscore_jpeg": obscore_jpeg_gz,
            "gri_direct_table": direct_gri, "gri_obscore_band_match": obscore_gri}
    out = {}
    for name, fn in legs.items():
        times, n = [], 0
        for _ in range(repeats):
            arc.cache.clear()
            dt, n = timed(fn)
            times.append(dt)
        med = statistics.median(times)
        out[name] = {"products": n, "repeats": repeats, "seconds": round(med, 4), "products_per_s": round(n / med, 1)}
    for a, b in (("demo_obscore_position_match", "demo_direct_table"), ("ztf_obscore_datalink", "ztf_direct_table"),
                 ("galaxyzoo_obscore_jpeg", "galaxyzoo_direct_table"), ("gri_obscore_band_match", "gri_direct_table")):
        out[f"{a}_vs_direct"] = round(out[a]["products_per_s"] / out[b]["products_per_s"], 3)
    return out


def plot_discovery(figures: dict) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    legs = {k: v for k, v in figures.items() if isinstance(v, dict)}
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.barh(list(legs), [v["products_per_s"] for v in legs.values()],
            color=["#888", "#2a7", "#888", "#27a", "#888", "#a72", "#888", "#72a"])
    for i, v in enumerate(legs.values()):
        ax.text(v["products_per_s"], i, f" {v['products_per_s']:.0f}/s ({v['products']})", va="center", fontsize=8)
    rates = [v["products_per_s"] for v in legs.values()]
    ax.set_xscale("log")  # the legs span three decades
    ax.set_xlim(min(rates) / 2, 8 * max(rates))
    ax.set_xlabel("products found per second, discovery only (log scale)")
    ax.set_title("ObsCore (+DataLink) discovery vs direct table lookup")
    fig.tight_layout()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "vo_bench_discovery.png"
    fig.savefig(path, dpi=120)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tap-url", help="TAP URL of a running astrohub archive")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--only", choices=["all", "discovery"], default="all",
                    help="'discovery': only the ObsCore discovery leg")
    args = ap.parse_args()

    from astrohub.vo import Archive

    base, live = archive_base(args.tap_url)
    cache = Path(tempfile.mkdtemp(prefix="vo-bench-"))
    arc = Archive.local(base, cache_dir=cache, progress=False)
    tap = arc.urls["tap"]

    figures = {"tap_to_array": {}, "cutouts": {}}
    if args.only == "discovery":
        figures = {"discovery": discovery(arc, args.repeats)}
        print(f"-> {plot_discovery(figures['discovery'])}")
        write("vo_bench_discovery", figures)
        if live is not None:
            live.stop()
        return 0
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
    figures["discovery"] = discovery(arc, args.repeats)
    print(f"-> {plot_discovery(figures['discovery'])}")
    write("vo_bench", figures)
    if live is not None:
        live.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
