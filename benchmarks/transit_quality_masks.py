"""Which flagged cadences should the transit vetter drop? The kit's FITS files read with each QUALITY mask.

``lightcurves.read(path, quality=...)`` names its masks as lightkurve's ``quality_bitmask``: "hardest" (any flag
the mission defines: what the vetter reads) and "default" (only the flags that mark a cadence useless; lightkurve's
default, which keeps e.g. a Kepler quarter's rolling-band cadences). This benchmark reads every FITS file of the
kepler_lightcurves kit with each mask, counts the cadences kept, and vets every window with the shipped weights:
per file, the cadences and each window's verdict, period and p(eclipsing-binary); per mask, the windows called
right. The text tables of the kit have no flags and are left out. Writes results/transit_quality_masks.json.

    python benchmarks/transit_quality_masks.py [--masks hardest default] [--data DIR]
"""

from __future__ import annotations

import argparse
import time

from common import write

from astrohub import models
from astrohub.models.evaluation.kits import kepler_lightcurves as K
from astrohub.models.evaluation.kits import kit_dir


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--masks", nargs="+", default=["hardest", "default"])
    ap.add_argument("--data", default=None, help="folder holding the kits (default: $ASTROHUB_REAL_DATA)")
    a = ap.parse_args(argv)
    t0 = time.time()
    kit = kit_dir("kepler_lightcurves", a.data)
    vet = models.load("transit_vetter", device="cpu")
    eb = vet.class_names.index("eclipsing-binary")
    out = {"kit": str(kit), "files": {}, "right": {}}
    for mask in a.masks:
        right = n = 0
        for c in K.load(kit, quality=mask):
            if "n_flagged" not in c.meta:  # the text tables and the phase-folded EBs: no QUALITY column
                continue
            pw = vet.predict_windows(c.flux, time=c.time, mc_samples=0)
            wins = [{"window": [round(float(v), 2) for v in pw.window[j]], "predicted": pw.names[j],
                     "period": round(float(pw.period[j]), 4), "p_eb": round(float(pw.probabilities[j][eb]), 3)}
                    for j in range(len(pw.names))]
            right += sum(w["predicted"] == c.label for w in wins)
            n += len(wins)
            out["files"].setdefault(c.file, {"label": c.label})[mask] = {
                "cadences": len(c.time), "flagged": c.meta["n_flagged"], "dropped": c.meta["n_dropped"],
                "windows": wins}
            print(f"{mask:8} {c.file[:44]:44} {len(c.time):6} cadences  "
                  + " ".join(f"{w['predicted'][:8]}({w['period']:.2f})" for w in wins), flush=True)
        out["right"][mask] = {"windows": n, "called_right": right}
    out["minutes"] = round((time.time() - t0) / 60, 2)
    write("transit_quality_masks", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
