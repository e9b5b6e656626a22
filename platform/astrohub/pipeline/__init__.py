"""astrohub.pipeline: query an archive, classify the rows with a zoo model, filter and export the
predictions; plain functions, no UI (a batch job or a notebook imports neither ipywidgets nor bokeh).

>>> from astrohub import pipeline
>>> from astrohub.vo import Archive
>>> rows = pipeline.run_query(Archive.local(), pipeline.TEMPLATES["morphology cutouts"])
>>> result = pipeline.classify(rows, "galaxy_morphology", Archive.local())
>>> pipeline.export(pipeline.filter_rows(result.table, "spiral-disk", 0.9), "spirals.xml")
>>> pz = pipeline.classify(pipeline.run_query(Archive.local(), pipeline.TEMPLATES["galaxies and QSOs (photo-z)"]),
...                        "photoz_mdn", Archive.local())
>>> pipeline.filter_range(pz.table, "z_phot", 0.5, 1.0), pz.pdfs([0, 1])

Modules: :mod:`.query` (run_query, TEMPLATES), :mod:`.compatible` (row_data, compatible_models),
:mod:`.classification` (classify, Classification with its ``ood`` / ``ood_reason`` columns and the
card's ``validated_on_real`` / ``real_summary``, the per-modality runs, fetch; its
``SHARD_ABOVE`` is the row count above which classify uses the default Dask client), :mod:`.filters`
(filter_rows, filter_range), :mod:`.files` (Files: your own files as rows, served to classify as an archive serves its
products; save_uploads), :mod:`.output` (export, FORMATS, send_samp). The widgets in
:mod:`astrohub.widgets` are buttons on these functions.
"""

from .classification import (
    NOT_VALIDATED,
    RUNS,
    Classification,
    annotate_classes,
    annotate_ood,
    classify,
    fetch,
    fetch_products,
    run_cutouts,
    run_lightcurves,
    run_photometry,
    run_spectra,
)
from .compatible import NO_MODEL_HINT, PHOTOMETRY_COLUMNS, compatible_models, modality_of, row_data, why_none
from .files import Files, save_uploads
from .filters import filter_range, filter_rows
from .output import FORMATS, SAMP_TABLE_MTYPE, export, send_samp
from .query import TEMPLATES, run_query

__all__ = [
    "run_query", "TEMPLATES", "Files", "save_uploads",
    "row_data", "compatible_models", "why_none", "modality_of", "PHOTOMETRY_COLUMNS", "NO_MODEL_HINT",
    "classify", "Classification", "fetch", "fetch_products", "annotate_classes", "annotate_ood",
    "NOT_VALIDATED",
    "run_cutouts", "run_lightcurves", "run_spectra", "run_photometry", "RUNS",
    "filter_rows", "filter_range",
    "export", "FORMATS", "SAMP_TABLE_MTYPE", "send_samp",
]
