"""What the classify panel's plain function costs on top of the model, per modality.

For each zoo model the panel offers, one run measures side by side (interleaved, median of
``--repeats``): ``pipeline.classify`` on archive rows (product fetch from a warm cache, prediction,
annotated table, saliency gallery of the first 12 rows) and the bare predictor on the same
inputs already in memory. Ratio = panel / model. Uses ``--tap-url`` if given, else starts a
LocalArchive in .astrohub/bench-archive. Writes results/widgets_bench.json and .png.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from common import RESULTS, archive_base, write

CASES = [  # (template, model, rows)
    ("morphology cutouts", "galaxy_morphology", 100),
    ("light curves", "transit_vetter", 100),
    ("spectra", "spectral_class", 100),
    ("spectra", "stellar_params", 100),
    ("galaxies and QSOs (photo-z)", "photoz_mdn", 500),
    ("Galaxy Zoo colour images via ObsCore", "galaxy_zoo", 100),  # real SDSS JPEGs: the served bytes
]


def bare_inputs(arc, rows, model, predictor):
    """The model's inputs for ``rows``, fetched once (what the panel fetches on each run)."""
    from astrohub.models.inputs import fit_cutouts
    from astrohub.models.kinds import modality
    from astrohub.pipeline import fetch

    kind = modality(predictor.card)
    if kind == "photometry":
        return rows
    got = fetch(arc, rows, kind)
    return fit_cutouts(got, predictor.card["inputs"]) if kind == "cutout" else got


def bare_predict(predictor, x):
    kw = {"mc_samples": 20} if "classes" in predictor.card["outputs"] else {}
    return predictor.predict(x, **kw)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tap-url", help="TAP URL of a running astrohub archive")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    from astrohub import models, pipeline
    from astrohub.vo import Archive

    base, live = archive_base(args.tap_url)
    arc = Archive.local(base, cache_dir=Path(tempfile.mkdtemp(prefix="widgets-bench-")), progress=False)
    figures = {}
    try:
        for template, model, n in CASES:
            rows = arc.query(pipeline.TEMPLATES[template].replace("TOP 100", f"TOP {n}").replace("TOP 500", f"TOP {n}"))
            predictor = models.load(model)
            x = bare_inputs(arc, rows, model, predictor)          # also warms the product cache
            pipeline.classify(rows, model, arc)                   # warm-up
            t_panel, t_model = [], []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                pipeline.classify(rows, model, arc)
                t_panel.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                bare_predict(predictor, x)
                t_model.append(time.perf_counter() - t0)
            p, m = statistics.median(t_panel), statistics.median(t_model)
            figures[model] = {"rows": len(rows), "panel_s": round(p, 3), "model_s": round(m, 3),
                              "panel_rows_per_s": round(len(rows) / p, 1), "model_rows_per_s": round(len(rows) / m, 1),
                              "panel_over_model": round(p / m, 2)}
    finally:
        if live is not None:
            live.stop()
    write("widgets_bench", {"repeats": args.repeats, "mc_samples": 20, "cases": figures})
    plot(figures, RESULTS / "widgets_bench.png")
    return 0


def plot(figures: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    names = list(figures)
    fig = Figure(figsize=(6, 3), dpi=100)
    ax = fig.add_axes((0.3, 0.18, 0.65, 0.72))
    ax.barh(names, [figures[k]["panel_over_model"] for k in names], color="#1f77b4")
    ax.axvline(1, color="black", linewidth=0.8)
    ax.set_xlabel("pipeline.classify time / bare predictor time")
    ax.set_title("classify panel overhead per model (same run)", fontsize=9)
    fig.savefig(path)
    print(f"-> {path}")


if __name__ == "__main__":
    raise SystemExit(main())
