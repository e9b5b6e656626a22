"""Planets injected into real light curves: does the transit vetter find in real Kepler / TESS noise what it
finds in its simulator's? (issue #17.)

The kit's real curves of stars whose own signal is known are the carriers: the three TESS hot-Jupiter hosts
(WASP-126, WASP-96, WASP-6; 2-min cadence, one sector each) and the four Kepler quarters of the eclipsing binary
KIC 2306740 (29.4-min cadence). Each is read by the vetter's own reader (quality flags honoured) and its known
signal is cut out: the curve is folded on the catalogue period, and the phases whose binned median lies 4 sigma
below the rest (the transits, or both eclipses), widened by 3 bins, become NaN: gaps, as real data have. What is
left is the stars' real noise: granulation, spacecraft systematics, momentum dumps, quarter ramps, PDC residuals,
whatever junk the files hold, and for KIC 2306740 a 0.15% pulsation at 0.73 d (a variable host).

Into each window of each carrier (the vetter's own windows, ~27 d) planets are injected (batman, quadratic limb
darkening: depth log-uniform 100 ppm - 1%, period log-uniform 0.5 d - span / 2.2 so that at least two transits
fall inside, impact parameter 0-0.85, a / R* from Kepler's law for solar density). Next to them, over the same
span, the simulator's own planets of the matching mission at the carrier's measured white noise (its normal
subtype only: one planet, not grazing; on the vetter's 29.4-min grid, onto which it bins TESS's 2-min cadences,
with the white noise scaled to it), so the two differ only in where the noise and systematics come from.
Both are scored by the shipped vetter through ``predict`` (one row per window). Reported per mission: the share
called planet-transit, and so called at the planet's own period (BLS within 1% of it, its half or double: the
planet found, not something else in the curve), in bins of total S/N (depth x sqrt(points in transit) / white
noise) and of depth, and per carrier above S/N 12; and what each carrier window with nothing injected is called.
The kit's labels are not used beyond the carriers' periods, and nothing is trained.

``--single``: one transit per window instead (period 1-3 spans, the transit inside the span; a long-period planet
such as a Kepler multi-planet system's outer ones), beside the simulator's long-period planets (one or two
transits); found = an epoch of BLS's ephemeris within the transit's duration of it.

    python benchmarks/transit_injection_real.py [--n 40] [--seed 0] [--single]

Writes results/transit_injection_real[_single].json and .png; ~2 min on one core with the default 40 planets per
window.
"""

from __future__ import annotations

import argparse
import csv
import time

import numpy as np
from astropy.table import Table
from common import RESULTS, same_period, write

from astrohub import models
from astrohub.models.evaluation.kits import kit_dir
from astrohub.models.inputs import lightcurves as L
from astrohub.models.inputs import series as P
from astrohub.sims import lightcurves as S

CARRIERS = {  # file name in the kit -> mission; the period comes from the kit's labels.csv
    "hlsp_tess-data-alerts_tess_phot_00025155310-s01_tess_v1_lc.fits": "tess",
    "hlsp_tess-data-alerts_tess_phot_00160148385-s02_tess_v1_lc.fits": "tess",
    "WASP_6_lc.tran": "tess",
    "kplr002306740-2009259160929_llc.fits": "kepler",
    "kplr002306740-2009350155506_llc.fits": "kepler",
    "kplr002306740-2010078095331_llc.fits": "kepler",
    "kplr002306740-2010174085026_llc.fits": "kepler",
}
SNR_BINS = [0, 5, 8, 12, 20, 35, 70, 1e9]
DEPTH_BINS = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]


def cut_signal(t, f, period: float, bins: int = 400, widen: int = 3) -> np.ndarray:
    """``f`` with the phases of the known signal (folded on ``period``) set to NaN."""
    good = np.isfinite(f)
    ph = ((t - t[good][0]) / period) % 1.0
    idx = np.minimum((ph * bins).astype(int), bins - 1)
    med, n = np.full(bins, np.nan), np.zeros(bins)
    for b in range(bins):
        m = good & (idx == b)
        n[b] = m.sum()
        if n[b]:
            med[b] = np.median(f[m])
    sig = 1.4826 * np.median(np.abs(f[good] - np.median(f[good])))
    low = med < np.nanmedian(med) - 4 * sig / np.sqrt(np.maximum(n, 1))
    cut = np.convolve(low.astype(float), np.ones(2 * widen + 1), mode="same") > 0
    cut |= np.roll(low, widen) | np.roll(low, -widen)  # the fold wraps around
    out = f.copy()
    out[cut[idx]] = np.nan
    return out


def planet(rng, t, span: float, single: bool = False):
    """(flux model, depth, period, t0) of a random planet with at least two transits inside ``span`` (``single``:
    exactly one, its period 1-3 spans, at ``t0``)."""
    depth = 10 ** rng.uniform(-4.0, -2.0)
    if single:
        period = rng.uniform(span, 3 * span)
        t0 = t[0] + rng.uniform(0.05, 0.95) * span
    else:
        period = 10 ** rng.uniform(np.log10(0.5), np.log10(span / 2.2))
        t0 = t[0] + rng.uniform(0.0, period)
    rp = np.sqrt(depth) * 1.05
    a = max(4.206 * period ** (2 / 3), 1.5)
    b = min(rng.uniform(0.0, 0.85), 0.99 * a)
    model = S.transit_model(t, period, t0, rp, a, np.degrees(np.arccos(b / a)), (0.4, 0.25))
    return model, float(1 - model.min()), period, t0


def snr(depth: float, n_in: float, sig: float) -> float:
    """A transit's total S/N: depth x sqrt(points in transit) / white noise per point."""
    return float(depth * np.sqrt(n_in) / sig)


def recall(called, found, x, edges) -> list[dict]:
    """Per bin of ``x``: how many were called planet-transit, and how many of those at the planet's own period
    (``found``: the BLS period within 1% of the injected one, its half or its double)."""
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (x >= lo) & (x < hi)
        k, n, kf = int(called[m].sum()), int(m.sum()), int((called & found)[m].sum())
        rows.append({"from": lo, "to": None if hi > 1e8 else hi, "n": n, "planet_transit": k,
                     "at_its_period": kf, "fraction": round(k / n, 3) if n else None,
                     "fraction_at_its_period": round(kf / n, 3) if n else None})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=40, help="injected planets (and simulated ones) per window")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--single", action="store_true", help="one transit per window (periods of 1-3 windows; the "
                    "simulator's long-period planets beside them): found = BLS's epochs hit the transit")
    a = ap.parse_args(argv)
    start = time.time()
    kit = kit_dir("kepler_lightcurves")
    periods = {r["file"]: float(r["period_days"]) for r in csv.DictReader(open(kit / "labels.csv"))
               if r["file"] in CARRIERS}
    vet = models.load("transit_vetter", device="cpu")
    rng = np.random.default_rng([a.seed, 17])
    tables = {"real": [], "sim": []}
    rows = {"real": [], "sim": []}  # (mission, S/N, depth, period, carrier)
    empty, carriers = [], {}
    for name, mission in CARRIERS.items():
        lc = L.read(kit / name)
        t, f = np.asarray(lc.time, np.float64), cut_signal(np.asarray(lc.time, np.float64),
                                                           np.asarray(lc.flux, np.float64), periods[name])
        for wa, wb in L.windows(t[np.isfinite(f)], vet.window_days):
            m = (t >= wa) & (t < wb)
            tw, fw = t[m], f[m]
            sig = float(P._robust_sigma(fw[np.isfinite(fw)]))  # the vetter's point-to-point white noise
            carriers.setdefault(name, []).append({"window": [round(wa, 2), round(wb, 2)], "white_noise_ppm":
                                                  round(sig * 1e6), "cut_fraction": round(
                                                      float(np.mean(np.isnan(fw))), 3)})
            empty.append(Table({"TIME": tw, "FLUX": fw}))
            good = np.isfinite(fw)
            # the simulator's side on the vetter's 29.4-min grid (it bins finer cadences onto it; its red noise
            # scales with the white noise per cadence), the white noise scaled to that grid, as many cadences lost
            cadence = float(np.median(np.diff(tw)))
            ts = np.arange(tw[0], tw[-1], max(cadence, S.CADENCE_DAYS))
            sig_s, cut = sig * np.sqrt(min(cadence / S.CADENCE_DAYS, 1.0)), float(np.mean(~good))
            for _ in range(a.n):
                model, depth, period, t0 = planet(rng, tw, float(np.ptp(tw[good])), a.single)
                tables["real"].append(Table({"TIME": tw, "FLUX": fw * model}))
                dur = float(np.ptp(tw[model < 1])) if a.single and (model < 1).any() else np.nan  # one transit's
                rows["real"].append((mission, snr(depth, np.sum(model[good] < 1), sig), depth, period, name, t0,
                                     dur))
                while True:  # the simulator's own planet at the carrier's white noise: normal, or long-period
                    fs, _, meta = S.simulate_curve(rng, 0, ts, mission=mission, noise=sig_s)
                    if meta["subtype"] == (2 if a.single else 0):
                        break
                tables["sim"].append(Table({"TIME": ts, "FLUX": fs}))
                n_in = len(ts) * (1 - cut) * meta["duration"] / meta["period"]
                if a.single:  # one or two transits: count those inside the span, not the duty cycle
                    epochs = meta["t0"] + meta["period"] * np.arange(-3, 4)
                    n_tr = int(np.sum((epochs >= ts[0]) & (epochs <= ts[-1])))
                    n_in = (1 - cut) * n_tr * meta["duration"] / S.CADENCE_DAYS
                rows["sim"].append((mission, snr(meta["depth"], n_in, sig_s), float(meta["depth"]), meta["period"],
                                    name, float(meta["t0"]), float(meta["duration"])))
        print(name, carriers[name], flush=True)
    out = {"planets_per_window": a.n, "seed": a.seed, "single_transit": a.single,
           "at_its_period_means": "an epoch of BLS's ephemeris within the transit's duration of the injected "
                                  "transit" if a.single else "BLS's period within 1% of the planet's, its half or "
                                  "double", "carriers": carriers}
    pred = vet.predict(empty, mc_samples=0)
    windows = [w for ws in carriers.values() for w in ws]
    for w, name, period, depth in zip(windows, pred.names, pred.period, pred.depth):
        w.update(nothing_injected_called=name, its_bls_period=round(float(period), 3),
                 its_bls_depth_ppm=round(float(depth) * 1e6))
    out["carriers_with_nothing_injected_called"] = {str(k): int(v) for k, v in
                                                   zip(*np.unique(pred.names, return_counts=True))}
    curves = {}
    for src in ("real", "sim"):
        pr = vet.predict(tables[src], mc_samples=0)
        names = np.asarray(pr.names)
        called = names == "planet-transit"
        mission = np.array([r[0] for r in rows[src]])
        s_n, depth, period, t0, dur = (np.array([r[k] for r in rows[src]], np.float64) for k in (1, 2, 3, 5, 6))
        if a.single:  # an epoch of BLS's ephemeris on the injected transit
            pf = np.asarray(pr.period, np.float64)
            found = np.abs(((t0 - np.asarray(pr.t0, np.float64)) / pf + 0.5) % 1.0 - 0.5) * pf < np.maximum(dur, 0.05)
        else:
            found = same_period(pr.period, period)
        carrier = np.array([r[4] for r in rows[src]])
        out.setdefault(src, {})["snr_12_up_by_carrier"] = {
            c: {"n": int(m.sum()), "planet_transit": int(called[m].sum()),
                "at_its_period": int((called & found)[m].sum())}
            for c in CARRIERS if (m := (carrier == c) & (s_n >= 12)).any()}
        for ms in ("tess", "kepler"):
            m = mission == ms
            miss = dict(zip(*np.unique(names[m & ~called], return_counts=True)))
            curves[(src, ms)] = recall(called[m], found[m], s_n[m], SNR_BINS)
            out.setdefault(src, {})[ms] = {
                "n": int(m.sum()), "planet_transit": int(called[m].sum()),
                "at_its_period": int((called & found)[m].sum()),
                "by_snr": curves[(src, ms)], "by_depth": recall(called[m], found[m], depth[m], DEPTH_BINS),
                "misses_called": {k: int(v) for k, v in miss.items()}}
            print(src, ms, out[src][ms]["planet_transit"], "/", out[src][ms]["n"], flush=True)
    out["minutes"] = round((time.time() - start) / 60, 1)
    name = "transit_injection_real" + ("_single" if a.single else "")
    write(name, out)
    plot(curves, RESULTS / f"{name}.png", a.single)
    return 0


def plot(curves, path, single: bool = False) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    x = np.arange(len(SNR_BINS) - 1)
    label = {("real", "tess"): "TESS, 3 quiet hosts: injected into real curves",
             ("real", "kepler"): "Kepler, KIC 2306740 (pulsating, eclipses cut): injected",
             ("sim", "tess"): "TESS: simulated", ("sim", "kepler"): "Kepler: simulated"}
    for (src, ms), rows in curves.items():
        y = [r["fraction_at_its_period"] if r["n"] else np.nan for r in rows]
        ax.plot(x, y, marker="o", ls="-" if src == "real" else "--", color="C0" if ms == "tess" else "C1",
                label=label[(src, ms)])
    ax.set_xticks(x, [f"{lo:g}-{hi:g}" if hi < 1e8 else f">{lo:g}" for lo, hi in zip(SNR_BINS[:-1], SNR_BINS[1:])])
    ax.set_xlabel("injected planet's total S/N")
    ax.set_ylabel("called planet-transit, " + ("on its transit" if single else "at its period"))
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    ax.set_title("transit_vetter: " + ("single transits" if single else "planets") + " in real vs simulated noise")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"-> {path}")


if __name__ == "__main__":
    raise SystemExit(main())
