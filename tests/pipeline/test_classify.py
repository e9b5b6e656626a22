"""classify and the plain functions around it, against the live archive (no panel involved)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from astrohub import pipeline
from astrohub.compute import cluster
from astrohub.pipeline import classification

pytestmark = pytest.mark.archive
MORPH = pipeline.TEMPLATES["morphology cutouts"].replace("TOP 100", "TOP 24")


@pytest.fixture(scope="module")
def client():
    c = cluster(n_workers=2, threads_per_worker=1, memory_limit="3GiB")
    yield c
    c.close()
    c.cluster.close()


def test_classify_uses_the_psf_each_cutout_records(arc):
    """The archive writes each cutout's PSF FWHM in its header; classifying the rows passes it to
    the model's PSF-aware head (the card's headline accuracy), not the PSF-blind one."""
    from astrohub import models
    from astrohub.models.inputs import fit_cutouts

    rows = arc.query(MORPH)
    got = arc.cutouts(rows)
    psf = got.header_values("PSF_FWHM")
    assert np.isfinite(psf).all() and ((psf >= 0.6) & (psf <= 1.0)).all()
    m = models.load("galaxy_morphology")
    images = fit_cutouts(got.in_row_order(), m.card["inputs"])
    result = pipeline.classify(rows, "galaxy_morphology", arc, mc_samples=0, explain_first=4)
    probs = np.stack([result.table[f"p_{k}"] for k in m.class_names], 1)
    np.testing.assert_allclose(probs, m.predict_proba(images, psf_fwhm=psf), atol=1e-5)
    assert not np.allclose(probs, m.predict_proba(images), atol=1e-3)
    # the gallery's saliency comes from the same (PSF-aware) head
    np.testing.assert_allclose(result.saliency, m.explain(images[:4], psf_fwhm=psf[:4]), rtol=1e-4, atol=1e-6)
    assert not np.allclose(result.saliency, m.explain(images[:4]), rtol=1e-3)


def test_incompatible_model_is_a_message(arc):
    lens_rows = arc.query(pipeline.TEMPLATES["lens candidates"].replace("TOP 100", "TOP 5"))
    with pytest.raises(ValueError, match="model 'galaxy_morphology' does not apply to these rows; "
                                         "compatible models: lens_finder, photoz_mdn, photoz_sim"):
        pipeline.classify(lens_rows, "galaxy_morphology", arc)


def test_plain_functions_refuse_bad_input(arc):
    with pytest.raises(ValueError, match="give an ADQL query, or a cone"):
        pipeline.run_query(arc)
    with pytest.raises(ValueError, match="classify it first"):
        pipeline.filter_rows(Table({"a": [1]}))
    with pytest.raises(ValueError, match="unknown export format"):
        pipeline.export(Table({"a": [1]}), "out.docx")
    with pytest.raises(ValueError, match="no rows"):
        pipeline.classify(Table({"task": np.array([], dtype=str)}), "galaxy_morphology", arc)


def test_more_rows_than_the_threshold_go_to_the_default_client(arc, client, monkeypatch):
    monkeypatch.setattr(classification, "SHARD_ABOVE", 10)
    rows = arc.query(pipeline.TEMPLATES["galaxies and QSOs (photo-z)"].replace("TOP 500", "TOP 30"))
    with client.as_current():
        result = pipeline.classify(rows, "photoz_mdn", arc)
        small = pipeline.classify(rows[:10], "photoz_mdn", arc)
    assert result.sharded and not small.sharded
    np.testing.assert_allclose(result.table["z_phot"][:10], small.table["z_phot"], atol=1e-6)
