"""Running a zoo model on archive rows: :func:`classify`, and one function per modality (cutouts,
colour composites, light curves, spectra, catalogue photometry). Each returns a :class:`Classification`: the rows
annotated with the predictions, plus what a gallery shows (pixels or curves with saliency, redshift
PDFs)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from astropy.table import Table

from astrohub.models.cli import NOT_VALIDATED
from astrohub.vo import metadata

from .compatible import NO_MODEL_HINT, compatible_models, modality_of, why_none

SHARD_ABOVE = 2000  # rows: larger results are classified on the Dask cluster
PRODUCT_HINTS = {"cutout": "ObsCore records with dataproduct_type 'image', SIA results, or the demo's "
                            "JOIN astrohub.cutouts",
                 "colour": "ObsCore records with dataproduct_type 'image' in image/jpeg or image/png, SIA "
                           "results of colour cutouts, or galaxies whose g, r and i FITS images are in ObsCore",
                 "lightcurve": "ObsCore records with dataproduct_type 'timeseries', or the demo's "
                               "FROM astrohub.lightcurves",
                 "spectrum": "ObsCore records with dataproduct_type 'spectrum', SSA results, or the demo's "
                             "FROM astrohub.spectra"}
PDF_POINTS = 600


@dataclass
class Classification:
    """Rows with their predictions and what a gallery shows for the first rows.

    Classifiers add ``pred_class``, ``pred_prob``, ``pred_uncertainty`` and ``p_<class>``
    (``class_names`` is set); regressors add the columns named in ``values`` (with ``*_err``
    or ``z_std``). ``images``/``saliency`` hold cutouts (colour models: uint8 RGB [n, h, w, 3]),
    ``series``/``series_saliency`` 1-D curves (x, y) on ``series_axes``; ``prediction`` is the model's raw
    output (photo-z PDFs: :meth:`pdfs`).

    Every row gets ``ood`` (bool) and ``ood_reason`` (text, "" when in range) when the model checks its
    inputs against what it was trained on; a model that does not fill its predictions' ``ood`` gets no
    such columns (never a False it did not establish) and a line in ``notes``. ``validated_on_real`` and
    ``real_summary`` say what the model card says about real data (e.g. ``"real ZTF alerts (held-out
    split): AUC 0.961 [0.942, 0.978]; ..."``, or ``"not validated on real data"``).
    """

    table: Table
    model: str
    class_names: list[str]
    images: np.ndarray | None = None
    saliency: np.ndarray | None = None
    sharded: bool = False
    notes: list[str] = field(default_factory=list)
    modality: str = "cutout"
    values: list[str] = field(default_factory=list)
    series: list[tuple[np.ndarray, np.ndarray]] | None = None
    series_saliency: np.ndarray | None = None
    series_axes: tuple[str, str] = ("", "")
    prediction: object = None
    validated_on_real: bool = False
    real_summary: str = NOT_VALIDATED

    @property
    def ood_checked(self) -> bool:
        """Whether the model flagged out-of-distribution rows (the ``ood`` / ``ood_reason`` columns)."""
        return "ood" in self.table.colnames

    @property
    def n_ood(self) -> int:
        return int(np.sum(self.table["ood"])) if self.ood_checked else 0

    @property
    def has_pdfs(self) -> bool:
        return hasattr(self.prediction, "pdf")

    def pdfs(self, rows, z_max: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
        """(grid, PDFs [len(rows), grid]) of the redshift PDFs of ``rows`` (indices into ``table``); NaN for rows
        that were not estimated (a band not measured: see their ``ood_reason``)."""
        if not self.has_pdfs:
            raise ValueError(f"{self.model} gives no PDFs (only photo-z models do)")
        idx = np.asarray(rows, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self.table)):
            raise IndexError(f"rows must be between 0 and {len(self.table) - 1}")
        grid = np.linspace(0.0, z_max, PDF_POINTS)
        return grid, self.prediction.select(idx).pdf(grid)


def fetch(archive, table: Table, kind: str):
    """The rows' products in row order: images [n, ...] (cutouts), a list of files' bytes (colour images) or a
    list of Tables; every row must have one, else a ValueError naming the first row without."""
    return fetch_products(archive, table, kind).in_row_order()


def fetch_products(archive, table: Table, kind: str):
    """As :func:`fetch`, but the ImageSet / TableSet itself (products with their FITS headers)."""
    from astrohub.vo.products import PRODUCT_NAMES

    got = archive.products(table, kind)
    if got.missing:
        raise ValueError(f"{len(got.missing)} row(s) have no {PRODUCT_NAMES[kind]} (first: row {got.missing[0]}); "
                         f"query rows that have one (e.g. {PRODUCT_HINTS[kind]})")
    return got


def annotate_classes(table: Table, pred) -> Table:
    """A copy of ``table`` with pred_class, pred_prob, pred_uncertainty and p_<class> columns."""
    out = table.copy()
    out["pred_class"] = pred.names
    out["pred_prob"] = pred.probabilities.max(1)
    out["pred_uncertainty"] = pred.uncertainty
    for k, c in enumerate(pred.class_names):
        out[f"p_{c}"] = pred.probabilities[:, k]
    return out


def annotate_ood(table: Table, pred) -> Table:
    """``table`` (in place) with ``ood`` / ``ood_reason`` columns from the prediction's fields; unchanged
    when the model leaves them None (it does not check its inputs). Returns ``table``."""
    ood = getattr(pred, "ood", None)
    if ood is None:
        return table
    ood = np.asarray(ood, bool).reshape(-1)
    reasons = getattr(pred, "ood_reason", None)
    reasons = [""] * len(ood) if reasons is None else [str(r or "") for r in reasons]
    if len(ood) != len(table) or len(reasons) != len(table):
        raise ValueError(f"the model flagged {len(ood)} rows (with {len(reasons)} reasons) out of distribution "
                         f"for {len(table)} rows")
    table["ood"] = ood
    table["ood_reason"] = np.array(reasons, dtype=str) if any(reasons) else np.full(len(table), "", "U1")
    table["ood"].description = "input outside what the model was trained on (see ood_reason)"
    table["ood_reason"].description = "why the input is out of distribution ('' when in range)"
    return table


def finish(result: Classification, card: dict) -> Classification:
    """Add the OOD columns (from ``result.prediction``) and the card's real-data validation to ``result``."""
    from astrohub.models.cli import real_summary

    annotate_ood(result.table, result.prediction)
    if not result.ood_checked:
        result.notes.append(f"{result.model} does not flag inputs outside its training range (no ood column)")
    result.validated_on_real = bool(card.get("validated_on_real"))
    result.real_summary = real_summary(card)
    return result


def _sharded(name, table, archive, client, progress, **kw):
    from astrohub.compute import predict

    from .files import Files

    if isinstance(archive, Files):  # the user's files: the workers read them by path (photo-z: the rows themselves)
        data = table if archive.is_catalogue else archive.paths(table)
        return predict(name, data, client=client, progress=progress, **kw)
    return predict(name, table, client=client, archive=archive, progress=progress, **kw)


def run_cutouts(name, predictor, table, archive, client, mc_samples, explain_first, progress) -> Classification:
    """Image classifier on the rows' cutouts, passed to the model as the archive serves them (an
    ImageSet: the predictor crops them, fills masked pixels, uses the PSF their headers record when it
    takes one, and flags headers and pixels unlike its training data), or, for your files
    (:class:`~.files.Files`), by path (resampled to the model's pixel scale) unless the model has a survey adapter
    (then read here as the survey serves them, and with a client their stamps sent to the workers); saliency maps of
    the first rows."""
    from astrohub.models.inputs import image_inputs

    from .files import Files

    paths = isinstance(archive, Files) and Files.by_path(predictor.card)  # your FITS files: resampled by the model

    def cutouts(rows):
        return archive.paths(rows) if paths else fetch_products(archive, rows, "cutout")

    if client is not None and isinstance(archive, Files) and not paths:  # a survey adapter (ZTF): the stamps are read
        from astrohub.compute import predict  # here as served (FITS, alert files) and classified on the workers

        pred = predict(name, cutouts(table).in_row_order(), client=client, progress=progress, mc_samples=mc_samples)
    elif client is not None:
        pred = _sharded(name, table, archive, client, progress, mc_samples=mc_samples)
    else:
        pred = predictor.predict(cutouts(table), mc_samples=mc_samples)
    images, sal = None, None
    if explain_first:  # the gallery: the first rows' stamps (cached), saliency from the head that answered
        first = cutouts(table[:explain_first])
        inputs = predictor.card["inputs"]
        if inputs.get("adapter") or paths:  # stamps as the model reads them: a survey's (ZTF 63x63), or resampled
            from astrohub.models.predictors.images import prepare_images

            images = prepare_images(first, inputs, name=name).batch
        else:
            images = image_inputs(first, inputs)[0]
        sal = predictor.explain(first) if len(images) else None
    return finish(Classification(annotate_classes(table, pred), name, list(pred.class_names), images, sal,
                                 sharded=client is not None, modality="cutout", prediction=pred), predictor.card)


REFRAME_SHARE = 0.5  # more than this share of a batch's stamps framed otherwise than Galaxy Zoo's: all re-framed


def reframe_notes(reasons) -> list[str]:
    """The note saying a colour batch is re-framed (``predict(..., reframe=True)``), given its first run's
    ``ood_reason``: when more than :data:`REFRAME_SHARE` of its JPEG/PNG stamps are flagged as framed otherwise than
    Galaxy Zoo frames them; else none. Galaxies served as g, r, i FITS images are framed from their cutouts, so
    they are not counted."""
    from astrohub.models.inputs.colour_fits import NOT_VALIDATED as FITS_UNVALIDATED
    from astrohub.models.predictors.colour import REFRAME_HINT

    reasons = [str(r) for r in (reasons if reasons is not None else [])]
    framed = [REFRAME_HINT in r for r in reasons if not r.startswith(FITS_UNVALIDATED)]
    if not framed or np.mean(framed) <= REFRAME_SHARE:
        return []
    return [f"{sum(framed)} of {len(framed)} stamps are not framed as Galaxy Zoo frames them (the galaxy's size in "
            "the stamp; fixed-scale cutouts?): all were re-framed before classifying (predict(..., reframe=True))"]


REFRAME_ASKED = ("all stamps were re-framed before classifying, as asked (reframe=True; galaxies made from g, r, i "
                 "FITS images are framed from their cutouts)")


def run_colour(name, predictor, table, archive, client, mc_samples, explain_first, progress,
               reframe: bool | None = None) -> Classification:
    """Colour-composite classifier (Galaxy Zoo's classes) on the rows' JPEG/PNG images (passed to the model as the
    files' bytes) or g, r, i FITS images; the gallery shows what the network sees of the first rows (RGB) with
    saliency. ``reframe`` None (auto): when most stamps are framed otherwise than Galaxy Zoo frames them (fixed-scale
    cutouts: their reason says so), the batch is classified again with ``reframe=True``, and ``notes`` says so;
    True: every stamp re-framed (a fixed-scale cutout service, known as such); False: as served."""
    files = None if client is not None else fetch(archive, table, "colour")

    def run(**kw):
        if client is not None:
            return _sharded(name, table, archive, client, progress, mc_samples=mc_samples, **kw)
        return predictor.predict(files, mc_samples=mc_samples, progress=progress, **kw)

    pred = run(reframe=bool(reframe))
    notes = [REFRAME_ASKED] if reframe else reframe_notes(pred.ood_reason) if reframe is None else []
    if reframe is None and notes:
        pred = run(reframe=True)
    reframe = bool(reframe) or bool(notes)
    first = files[:explain_first] if files is not None else (
        fetch(archive, table[:explain_first], "colour") if explain_first else [])
    images = predictor.view(first, reframe=reframe) if len(first) else None
    sal = predictor.explain(first, reframe=reframe) if len(first) else None
    result = Classification(annotate_classes(table, pred), name, list(pred.class_names), images, sal,
                            sharded=client is not None, modality="colour", prediction=pred, notes=notes)
    return finish(result, predictor.card)


def run_lightcurves(name, predictor, table, archive, client, mc_samples, explain_first, progress) -> Classification:
    """Transit vetting: BLS + folded views; the gallery shows each folded view with its saliency.
    The light curves go to ``predict`` as the archive serves them (so the vetter sees their cadence,
    gaps and NaNs for its OOD flags); the gallery's folded views are recomputed for its first rows."""
    if client is not None:
        pred = _sharded(name, table, archive, client, progress, mc_samples=mc_samples)
        first = fetch(archive, table[:explain_first], "lightcurve") if explain_first else []
    else:
        curves = fetch(archive, table, "lightcurve")
        pred = predictor.predict(curves, mc_samples=mc_samples)
        first = curves[:explain_first]
    g, loc, s = _deciding_windows(predictor.features(first)) if len(first) else (np.zeros((0, 1, 0)),) * 3
    out = annotate_classes(table, pred)
    out["planet_score"], out["bls_period"], out["bls_duration"] = pred.planet_score, pred.period, pred.duration
    out["bls_t0"] = pred.t0  # the transit epoch: folding on (time - t0) / period centres the transit
    out["bls_period"].unit = out["bls_duration"].unit = out["bls_t0"].unit = "d"
    k = min(explain_first, len(g))
    phase = (np.arange(g.shape[-1]) + 0.5) / g.shape[-1] - 0.5
    sal = predictor.explain_features(g[:k], loc[:k], s[:k]) if k else None
    return finish(Classification(out, name, list(pred.class_names), sharded=client is not None,
                                 modality="lightcurve", series=[(phase, g[i, 0]) for i in range(k)],
                                 series_saliency=sal, series_axes=("phase (BLS period)", "flux [noise units]"),
                                 prediction=pred), predictor.card)


def _deciding_windows(feats):
    """One window per curve of the vetter's features (a curve longer than a window has several): the one with the
    highest BLS S/N, whose ephemeris (bls_period, bls_t0) the curve's row reports; (global, local, scalars)."""
    snr = np.nan_to_num(np.asarray(feats.info.get("snr", np.zeros(len(feats.curve))), float), nan=-1.0)
    pick = [int(r[np.argmax(snr[r])]) for r in (np.flatnonzero(feats.curve == c) for c in np.unique(feats.curve))]
    return tuple(a[pick] for a in feats)


def run_spectra(name, predictor, table, archive, client, mc_samples, explain_first, progress) -> Classification:
    """Spectrum classifier (classes) or regressor (stellar parameters with 1-sigma errors)."""
    classifier = "classes" in predictor.card["outputs"]
    kw = {"mc_samples": mc_samples} if classifier else {}
    if client is not None:
        pred = _sharded(name, table, archive, client, progress, **kw)
        first = fetch(archive, table[:explain_first], "spectrum") if explain_first else []
    else:
        spectra = fetch(archive, table, "spectrum")
        pred = predictor.predict(spectra, **kw)
        first = spectra[:explain_first]
    if classifier:
        out, classes, values = annotate_classes(table, pred), list(pred.class_names), []
    else:
        out, classes, values = table.copy(), [], list(pred.names)
        units = predictor.card["outputs"].get("units", [None] * len(values))
        for k, (v, u) in enumerate(zip(values, units)):
            out[v], out[f"{v}_err"] = pred.values[:, k], pred.sigmas[:, k]
            if u == "K":
                out[v].unit = out[f"{v}_err"].unit = "K"
    series = sal = None
    if len(first):
        wave = predictor.wave()
        series = [(wave, f) for f in predictor.resample(first)]
        sal = predictor.explain(first)
    return finish(Classification(out, name, classes, sharded=client is not None, modality="spectrum",
                                 values=values, series=series, series_saliency=sal,
                                 series_axes=("wavelength [Å]", "flux"), prediction=pred), predictor.card)


def run_photometry(name, predictor, table, archive, client, mc_samples, explain_first, progress) -> Classification:
    """Photo-z PDFs from the rows' ugriz magnitudes: z_phot (PDF peak), z_mean, z_std, 68% interval. The
    magnitudes and errors are found by UCD or well-known survey names (:mod:`astrohub.vo.metadata`) and given
    to the model under its own column names, whatever the archive calls them. Rows the model cannot take (a band
    NULL or with the survey's 'not measured' code, an error <= 0: :func:`~astrohub.models.inputs.photometry.
    row_problems`) are not estimated: NaN values, flagged with the reason, a note; the other rows go on."""
    from astrohub.models.inputs.photometry import row_problems

    bands = tuple(predictor.card.get("inputs", {}).get("bands") or metadata.UGRIZ)
    found = metadata.photometry(table)
    rows = found.canonical(table, bands)
    problems = row_problems(*(np.stack([rows[f"{k}_{b}"] for b in bands], 1) for k in ("mag", "err")), bands)
    keep = np.array([not p for p in problems], bool)
    if not keep.any():
        raise ValueError(f"none of the {len(table)} rows has {' '.join(bands)} photometry the model can take (row 0: "
                         f"{problems[0]}); query rows measured in every band")
    use = rows if keep.all() else rows[keep]
    pred = _sharded(name, use, archive, client, progress) if client is not None else predictor.predict(use)
    notes = []
    if dered := found.dereddened(table, bands):
        notes.append(f"the magnitudes are extinction-corrected ({', '.join(dered)}) and {name} takes them as observed "
                     f"(the reddening in them): add the extinction_{bands[0]}.. columns to the query to add it back")
    if not keep.all():  # rows a band was not measured in: not estimated, flagged; the rest go on
        first = int(np.flatnonzero(~keep)[0])
        pred = pred.placed(keep, problems)
        notes.append(f"{int((~keep).sum())} of {len(table)} rows were not estimated (z_phot NaN, flagged): "
                     f"photometry the model cannot take (row {first}: {problems[first]})")
    out = table.copy()
    out["z_phot"], out["z_mean"], out["z_std"] = pred.z_mode, pred.z_mean, pred.z_std
    grid = np.linspace(0.0, float(predictor.card["outputs"].get("z_max", 4.0)), 2 * PDF_POINTS)
    lo, hi = np.empty(len(out)), np.empty(len(out))
    for a in range(0, len(out), 2000):
        cdf = pred.select(slice(a, a + 2000)).cdf(grid)
        lo[a:a + 2000] = grid[np.argmax(cdf >= 0.16, 1)]
        hi[a:a + 2000] = grid[np.argmax(cdf >= 0.84, 1)]
    lo[~keep] = hi[~keep] = np.nan
    out["z_lo68"], out["z_hi68"] = lo, hi
    return finish(Classification(out, name, [], sharded=client is not None, modality="photometry",
                                 values=["z_phot", "z_mean", "z_std"], prediction=pred, notes=notes), predictor.card)


RUNS = {"cutout": run_cutouts, "colour": run_colour, "lightcurve": run_lightcurves, "spectrum": run_spectra,
        "photometry": run_photometry}


def classify(table: Table, model: str, archive, *, client=None, mc_samples: int = 20,
             explain_first: int = 12, progress: bool = False, reframe: bool | None = None) -> Classification:
    """Run zoo ``model`` on the rows: cutouts, colour images, light curves or spectra fetched from ``archive``, or
    the rows' own photometry. Returns a copy of ``table`` with the predictions (classifiers:
    ``pred_class``, ``pred_prob``, ``pred_uncertainty``, ``p_<class>``; regressors: their values
    and errors, e.g. ``z_phot``/``z_std``, ``teff``/``teff_err``), ``ood`` / ``ood_reason`` when the
    model flags inputs unlike its training data, and a gallery of the first ``explain_first`` rows
    with saliency; ``validated_on_real`` / ``real_summary`` carry what the model card says about real
    data.

    Runs on the Dask cluster (``client``, or the default client for more than ``SHARD_ABOVE``
    rows) via :func:`astrohub.compute.predict`; else in this kernel. ``reframe`` (colour models only): None
    re-frames a batch of stamps mostly framed otherwise than Galaxy Zoo frames them, True every stamp (a fixed-scale
    cutout service), False none (see :func:`run_colour`).
    """
    from astrohub import models

    if len(table) == 0:
        raise ValueError("the query returned no rows: nothing to classify")
    if reframe is not None and not isinstance(reframe, bool):
        raise ValueError(f"reframe must be None (auto), True or False, got {reframe!r}")
    compatible = compatible_models(table, archive)
    if model not in compatible:
        why = "" if compatible else f" ({why_none(table, archive)})"
        raise ValueError(f"model {model!r} does not apply to these rows; compatible models: "
                         f"{', '.join(compatible) or NO_MODEL_HINT}{why}")
    kind = modality_of(model)
    if reframe is not None and kind != "colour":
        raise ValueError(f"reframe= applies to the colour models (galaxy_zoo); {model!r} reads {kind} data")
    predictor = models.load(model)
    client = client or _default_client_if(len(table) > SHARD_ABOVE)
    extra = {"reframe": reframe} if kind == "colour" else {}
    return RUNS[kind](model, predictor, table, archive, client, mc_samples, explain_first, progress, **extra)


def _default_client_if(wanted: bool):
    if not wanted:
        return None
    try:
        from distributed import default_client

        return default_client()
    except ValueError:
        return None
