"""The ``sdss_spectra_lowz`` kit: 98 real SDSS optical spectra with the SDSS pipeline's redshifts (89 galaxies, 8
stars, 1 QSO; the class is derived from the redshift: |z| < 0.002 star, z > 1 QSO, else galaxy; see its
PROVENANCE.md). Too few to train or to split, it is ``spectral_class``'s real smoke test: every spectrum is scored,
as SDSS serves it (its own wavelength grid; the ends a spectrum misses of the model's 3800-9200 A filled and flagged
by the predictor), per class with 95% intervals, next to the card's classical baseline (a random forest trained on
the same simulated set as the network) when the trainer passes it. The kit also showed the simulator's galaxy gap,
and two simulators built to close it were measured on it (not shipped), so its figures are not a clean validation
(``selection_on_kit``)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from . import real_section
from .kepler_lightcurves import wilson

KIT = "sdss_spectra_lowz"
CLASSES = ["star", "galaxy", "qso"]
NOTE = ("a smoke test, not a validation: 98 real SDSS spectra whose class is derived from the SDSS redshift "
        "(89 galaxies, 8 stars, 1 QSO); no spectrum was trained on, but two simulator changes were measured on the "
        "kit, each once against a rule fixed before it (galaxies >= 71/89 and stars not worse than 5/8), and not "
        "shipped: galaxies as broadened composites of the simulator's stars, 89/89 galaxies but 2/8 stars; the same "
        "with the stars given metal-line blanketing and TiO bands, 86/89 and 3/8. So the kit also guided design "
        "(selection_on_kit)")


def load(kit_dir) -> dict:
    """The kit's spectra as SDSS serves them: ``spectra`` (a list of astropy Tables, WAVE [A] and FLUX, each on its
    own grid, the file's NaN padding cut), ``labels`` (class names), ``z`` and ``objid``."""
    from astropy.table import Table

    kit_dir = Path(kit_dir)
    with open(kit_dir / "spectra_meta.csv", newline="") as fh:
        meta = list(csv.DictReader(fh))
    with np.load(kit_dir / "sdss_spectra_lowz.npz") as z:
        flux, wave = z["flux"], z["wave"]
    spectra = []
    for i, row in enumerate(meta):
        n = int(row["npix"])
        spectra.append(Table({"WAVE": wave[i, :n].astype(np.float64), "FLUX": flux[i, :n].astype(np.float64)}))
    return {"spectra": spectra, "labels": [row["class_derived_from_z"] for row in meta],
            "z": np.array([float(row["z_sdss_pipeline"]) for row in meta]),
            "objid": [int(row["sdss_objid"]) for row in meta]}


def _report(names, labels) -> dict:
    k = sum(a == b for a, b in zip(names, labels))
    out = {"n": len(labels), "accuracy": k / len(labels), "accuracy_ci95": wilson(k, len(labels))}
    for c in CLASSES:
        sel = [n for n, y in zip(names, labels) if y == c]
        kc = sum(n == c for n in sel)
        out[f"{c}_recall"] = {"k": int(kc), "n": len(sel), "fraction": kc / len(sel) if sel else float("nan"),
                              "ci95": wilson(kc, len(sel))}
    out["confusion"] = {c: {d: int(sum(1 for n, y in zip(names, labels) if y == c and n == d)) for d in CLASSES}
                        for c in CLASSES if c in labels}
    return out


def card_forest(name: str = "spectral_class"):
    """The card's classical baseline refitted as its trainer fits it: the random forest
    (:func:`astrohub.models.evaluation.baselines.forest`, the recipe's seed) on the recipe's simulated training set."""
    from ...datasets import simulate_series
    from ...evaluation.baselines import baseline_features, forest
    from ...recipes import RECIPES

    spec = RECIPES[name]
    tr = simulate_series(spec.task, spec.n_train, spec.split_seeds()["train"])
    return forest(False, spec.seed).fit(baseline_features(spec.task, tr), tr["labels"])


def measure(model, kit_dir, baseline="refit") -> dict:
    """``spectral_class``'s real section on the kit: every spectrum scored through ``predict`` (per-class recall,
    k of n with 95% Wilson intervals, accuracy, confusion, the spectra whose ends were filled); ``baseline``: a
    fitted classifier on :func:`astrohub.models.evaluation.baselines.baseline_features` (the trainer passes the
    card's random forest; ``"refit"`` fits it again the same way, :func:`card_forest`; None: none), scored on the
    same spectra."""
    from ...evaluation.baselines import baseline_features

    if isinstance(baseline, str) and baseline == "refit":
        baseline = card_forest(model.name)

    kit = load(kit_dir)
    pred = model.predict(kit["spectra"], mc_samples=0)
    m = _report(list(pred.names), kit["labels"])
    m["edges_filled"] = int(np.sum(pred.ood))
    gal = m["galaxy_recall"]
    headline = (f"real SDSS smoke test (98 spectra; labels from the SDSS redshift): galaxies {gal['k']}/{gal['n']} "
                "[{:.2f}, {:.2f}]".format(*gal["ci95"]) +
                f", stars {m['star_recall']['k']}/{m['star_recall']['n']}, QSO {m['qso_recall']['k']}/"
                f"{m['qso_recall']['n']}")
    base = {"method": "random forest (200 trees) on the normalised spectrum in 128 bins, trained on the same simulated "
                      "training set (the card's baseline)", "metrics": {}}
    if baseline is not None:
        flux = model.resample(kit["spectra"])
        names = [CLASSES[int(k)] for k in baseline.predict(baseline_features("spectral_class", {"flux": flux}))]
        base["metrics"] = _report(names, kit["labels"])
        bg = base["metrics"]["galaxy_recall"]
        bs = base["metrics"]["star_recall"]
        headline += f"; baseline galaxies {bg['k']}/{bg['n']}, stars {bs['k']}/{bs['n']}"
    split = {"rule": "none: every spectrum is scored (a smoke test)", "n": len(kit["labels"]),
             "classes": {c: kit["labels"].count(c) for c in CLASSES}}
    return real_section(KIT, split, m, base, {}, headline=headline, note=NOTE, selection_on_kit=True,
                        smoke_test=True)
