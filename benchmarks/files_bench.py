"""What classifying your own files costs on top of the model (issue #17: real survey files brought by the user).

For each kind of real file in the kits, one run measures side by side (interleaved, median of ``--repeats``):
``pipeline.Files`` listing the folder (each file's kind read from its contents, its header's target and position),
``pipeline.classify`` on those rows (the panel's *Run model*: prediction, annotated table, saliency gallery of the
first 12 rows) and the bare predictor on the same paths. The folders are the kits' files, linked (not copied) under
new names until each holds ``--files`` of them: Kepler/TESS light-curve FITS, Galaxy Zoo JPEGs, the
sdss_spectra_lowz spectra written as SDSS spec files, and the ztf_alerts kit's alerts written as ZTF's Avro alert
files (one alert per ``<candid>.avro``, as ZTF's public alert archive holds them). Beside them,
``pipeline.save_uploads`` unpacking the same files uploaded as one .tar.gz bundle laid out as MAST's are (each file in
its own subfolder), which the *your files* tab does before listing. Writes results/files_bench.json and .png.

    python benchmarks/files_bench.py [--files 60] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import RESULTS, write

CASES = [("Kepler/TESS light-curve FITS", "transit_vetter"), ("Galaxy Zoo JPEGs", "galaxy_zoo"),
         ("SDSS spec files", "spectral_class"), ("ZTF alert Avro files", "transient_realbogus")]


def _link(sources: list[Path], folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    for k in range(n):
        src = sources[k % len(sources)]
        dst = folder / f"{k:05d}-{src.name}"
        try:
            os.link(src, dst)
        except OSError:  # another file system: a copy
            dst.write_bytes(src.read_bytes())
    return folder


def folders(root: Path, n: int) -> dict[str, Path]:
    from astropy.io import fits

    from astrohub.models.evaluation import kits
    from astrohub.models.evaluation.kits import galaxyzoo1, sdss_spectra_lowz

    lc = sorted(kits.kit_dir("kepler_lightcurves").glob("*.fits"))
    jpegs = [Path(p) for p in galaxyzoo1.load(kits.kit_dir(galaxyzoo1.KIT))["paths"]]
    spec_dir = root / "spec-src"
    spec_dir.mkdir()
    specs = []
    for i, t in enumerate(sdss_spectra_lowz.load(kits.kit_dir(sdss_spectra_lowz.KIT))["spectra"]):
        cols = [fits.Column("flux", "E", array=np.asarray(t["FLUX"])),
                fits.Column("loglam", "E", array=np.log10(np.asarray(t["WAVE"]))),
                fits.Column("ivar", "E", array=np.ones(len(t), np.float32))]
        specs.append(spec_dir / f"spec-{i:04d}.fits")
        fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols, name="COADD")]).writeto(specs[-1])
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' ZTF packet writer
    from tests.pipeline import ztf_avro

    stamps, meta = ztf_avro.kit()
    (root / "ztf-src").mkdir()
    alerts = [ztf_avro.write(root / "ztf-src" / f"{int(meta['candid'][i])}.avro", [ztf_avro.packet(stamps, meta, i)])
              for i in range(min(n, len(meta)))]
    return {CASES[0][0]: _link(lc, root / "lc", n), CASES[1][0]: _link(jpegs, root / "jpeg", n),
            CASES[2][0]: _link(specs, root / "spec", n), CASES[3][0]: _link(alerts, root / "ztf", n)}


def bundle(folder: Path) -> bytes:
    """The folder's files as a MAST-like .tar.gz upload: ``mastDownload/<collection>/<file stem>/<file>``."""
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for f in sorted(folder.iterdir()):
            t.add(f, arcname=f"mastDownload/{folder.name}/{f.name.split('.')[0]}/{f.name}")
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=60, help="files per kind")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from astrohub import models, pipeline

    out = {"files": args.files, "repeats": args.repeats, "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        where = folders(Path(tmp), args.files)
        for what, model in CASES:
            predictor = models.load(model)
            times: dict[str, list[float]] = {"unpack": [], "list": [], "classify": [], "predict": []}
            upload = bundle(where[what])
            for k in range(args.repeats):  # interleaved: a slow moment of the machine hits all four
                t = time.perf_counter()
                (unpacked,), missed = pipeline.save_uploads([(f"{where[what].name}.tar.gz", upload)],
                                                            Path(tmp) / f"uploads-{where[what].name}-{k}")
                times["unpack"].append(time.perf_counter() - t)
                assert len(list(unpacked.iterdir())) == args.files and not missed
                t = time.perf_counter()
                mine = pipeline.Files(where[what])
                times["list"].append(time.perf_counter() - t)
                t = time.perf_counter()
                result = pipeline.classify(mine.table, model, mine, mc_samples=0)
                times["classify"].append(time.perf_counter() - t)
                t = time.perf_counter()
                predictor.predict(mine.paths(mine.table), mc_samples=0)
                times["predict"].append(time.perf_counter() - t)
            med = {k: statistics.median(v) for k, v in times.items()}
            out["cases"][what] = {
                "model": model, "rows": len(mine.table), "skipped": len(mine.skipped),
                "unpack_s": med["unpack"], "bundle_mb": len(upload) / 2**20,
                "list_s": med["list"], "classify_s": med["classify"], "predict_s": med["predict"],
                "list_ms_per_file": 1000 * med["list"] / args.files,
                "classify_over_predict": med["classify"] / med["predict"],
                "classes": {c: int(np.sum(result.table["pred_class"] == c)) for c in result.class_names}}
    path = write("files_bench", out)
    plot(out, path.with_suffix(".png"))


def plot(out: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(out["cases"])
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(8, 4))
    bars = [("unpack_s", "unpack the .tar.gz upload (save_uploads)"), ("list_s", "list the folder (Files)"),
            ("predict_s", "model.predict(paths)"), ("classify_s", "pipeline.classify (panel)")]
    for k, (key, label) in enumerate(bars):
        ax.bar(x + (k - 1.5) * 0.2, [out["cases"][n][key] for n in names], 0.2, label=label)
    ax.set_xticks(x, [f"{n}\n({out['cases'][n]['model']})" for n in names], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel(f"seconds for {out['files']} files (median of {out['repeats']})")
    ax.set_title("your files: unpacking, listing and classifying, next to the bare model")
    ax.legend(fontsize=8)
    fig.tight_layout()
    RESULTS.mkdir(exist_ok=True)
    fig.savefig(png, dpi=110)


if __name__ == "__main__":
    main()
