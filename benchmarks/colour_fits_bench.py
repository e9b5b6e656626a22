"""galaxy_zoo on FITS cutouts against the simulator's JPEG stamps, side by side in one run (issue #17).

The same classes drawn twice by the simulator (``astrohub.sims.colour``): as g, r, i FITS cutouts at SDSS's
0.396"/px with a WCS (``gz_cutout``: sky, seeing, noise in nanomaggies), which the predictor makes into its frame
(``astrohub.models.inputs.colour_fits``), and as the JPEG stamps the model was pretrained on (``gz_stamp``). The
shipped weights classify both: accuracy and per-class recall per path, the R90 the FITS path measured, and the
seconds per galaxy it took to make the composites. No real FITS cutout with a Galaxy Zoo label was available, so
this is a consistency check of the FITS path, not a real-data metric. Writes results/colour_fits_bench.json and
.png (8 FITS composites and 8 JPEG stamps per class). Usage: python benchmarks/colour_fits_bench.py [--n N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, write  # noqa: E402

from astrohub import models  # noqa: E402
from astrohub.models.inputs.colour_fits import R90_FRAME, SKY_FRAME, composites  # noqa: E402
from astrohub.sims.colour import GZ_CLASSES, cutout_header, gz_cutout, gz_stamp  # noqa: E402


def fits_cube(bands: np.ndarray, scale: float):
    from astropy.io import fits

    return fits.HDUList([fits.PrimaryHDU(bands, header=cutout_header(bands.shape[-1], scale))])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50, help="galaxies per class (default 50)")
    ap.add_argument("--seed", type=int, default=21)
    a = ap.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    items, stamps, y = [], [], []
    for k, kind in enumerate(GZ_CLASSES):
        for _ in range(a.n):
            items.append(fits_cube(gz_cutout(rng, kind)[0], 0.396))
            stamps.append(gz_stamp(rng, kind))
            y.append(k)
    y = np.array(y)
    model = models.load("galaxy_zoo", device="cpu")
    t = time.perf_counter()
    frames, _, info = composites(items, model.frame_px, model.crop_px, "galaxy_zoo")
    per_galaxy = (time.perf_counter() - t) / len(items)
    out = {"n_per_class": a.n, "seed": a.seed, "r90_frame_px": R90_FRAME, "sky_frame": SKY_FRAME,
           "composite_seconds_per_galaxy": round(per_galaxy, 4),
           "r90_arcsec_percentiles_5_50_95": np.round(np.percentile(info["r90_arcsec"], [5, 50, 95]), 2).tolist()}
    for name, x in (("fits", items), ("jpeg_stamps", np.stack(stamps))):
        p = model.predict(x, mc_samples=0)
        out[name] = {"accuracy": round(float((p.labels == y).mean()), 3),
                     "recall": {c: round(float((p.labels[y == k] == k).mean()), 3) for k, c in enumerate(GZ_CLASSES)},
                     "ood_fraction": round(float(p.ood.mean()), 3)}
        out[name + "_labels"] = p.labels.tolist()
    out["agreement"] = round(float(np.mean(np.array(out["fits_labels"]) == np.array(out["jpeg_stamps_labels"]))), 3)
    for k in ("fits_labels", "jpeg_stamps_labels"):
        out.pop(k)
    write("colour_fits_bench", out)
    from PIL import Image

    rows = [np.concatenate(list(src[k * a.n:k * a.n + 8]), 1) for src in (frames, np.stack(stamps))
            for k in range(len(GZ_CLASSES)) if a.n >= 8]
    if rows:
        Image.fromarray(np.concatenate(rows, 0)).save(RESULTS / "colour_fits_bench.png")
        print(f"-> {RESULTS / 'colour_fits_bench.png'} (rows: FITS composites per class, then JPEG stamps)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
