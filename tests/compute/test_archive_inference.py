"""Sharded inference on archive rows: each worker fetches its rows' cutouts from the live DaCHS."""

from __future__ import annotations

import numpy as np
import pytest

from astrohub.compute import BlockError, predict
from astrohub.compute.plugin import load_model

pytestmark = pytest.mark.archive
ROWS = ("SELECT TOP 40 o.* FROM astrohub.objects AS o JOIN astrohub.cutouts AS c ON o.obj_id = c.obj_id "
        "WHERE c.task = 'morphology' ORDER BY o.obj_id")


def test_table_rows_predict_like_a_single_process(client, arc):
    rows = arc.query(ROWS)
    assert len(rows) >= 20
    pixels = arc.cutouts(rows)
    order = np.argsort(pixels.rows)
    psf = pixels.header_values("PSF_FWHM")  # the archive records each cutout's PSF; the workers pass it on
    assert np.isfinite(psf).all() and ((psf >= 0.6) & (psf <= 1.0)).all()
    single = load_model("galaxy_morphology").predict(pixels.array()[order], mc_samples=0, psf_fwhm=psf)
    sharded = predict("galaxy_morphology", rows, client=client, archive=arc, chunk_size=8, progress=False,
                      mc_samples=0)
    assert sharded.labels.tolist() == single.labels.tolist()
    # the predictor takes the archive's products itself (crop + each header's PSF), and without a
    # client compute.predict runs the same chunks in this process
    products = load_model("galaxy_morphology").predict(pixels, mc_samples=0)
    np.testing.assert_allclose(products.probabilities, single.probabilities, rtol=1e-5, atol=1e-6)
    in_process = predict("galaxy_morphology", rows, archive=arc, chunk_size=8, progress=False, mc_samples=0)
    np.testing.assert_allclose(in_process.probabilities, sharded.probabilities, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sharded.probabilities, single.probabilities, rtol=1e-5, atol=1e-6)
    # the same from the ADQL text
    again = predict("galaxy_morphology", ROWS, client=client, archive=arc, chunk_size=8, progress=False,
                    mc_samples=0)
    assert again.labels.tolist() == single.labels.tolist()


def test_rows_without_cutouts_are_named(client, arc):
    rows = arc.query("SELECT TOP 12 o.* FROM astrohub.objects AS o WHERE o.obj_id NOT IN "
                     "(SELECT c.obj_id FROM astrohub.cutouts AS c) ORDER BY o.obj_id")
    # both chunks fail; whichever fails first is reported, with its own rows
    with pytest.raises(BlockError, match=r"rows (0-5: no cutout for row\(s\) \[0, 1, 2, 3, 4, 5\]|"
                                         r"6-11: no cutout for row\(s\) \[6, 7, 8, 9, 10, 11\])"):
        predict("galaxy_morphology", rows, client=client, archive=arc, chunk_size=6, progress=False)


def test_one_dimensional_models_shard_like_a_single_process(client, arc):
    """Light curves and spectra are fetched by the workers; photo-z reads the rows themselves."""
    from astrohub.models.predictors.spectra import StellarPrediction

    for model, adql, fetch in (
            ("transit_vetter", "SELECT TOP 24 * FROM astrohub.lightcurves ORDER BY obj_id", arc.lightcurves),
            ("spectral_class", "SELECT TOP 24 * FROM astrohub.spectra ORDER BY obj_id", arc.spectra),
            ("stellar_params", "SELECT TOP 24 * FROM astrohub.spectra ORDER BY obj_id", arc.spectra),
            ("photoz_mdn", "SELECT TOP 40 * FROM astrohub.objects WHERE class_name = 'galaxy' ORDER BY obj_id",
             None)):
        rows = arc.query(adql)
        if fetch is None:
            local = load_model(model).predict(rows)
        else:
            got = fetch(rows)
            local = load_model(model).predict([got.tables[i] for i in np.argsort(got.rows)],
                                              **({} if model == "stellar_params" else {"mc_samples": 0}))
        kw = {} if model in ("stellar_params", "photoz_mdn") else {"mc_samples": 0}
        sharded = predict(model, rows, client=client, archive=arc, chunk_size=7, progress=False, **kw)
        if model == "photoz_mdn":
            np.testing.assert_allclose(sharded.z_mode, local.z_mode, atol=1e-5)
            np.testing.assert_allclose(sharded.weights, local.weights, rtol=1e-5, atol=1e-6)
        elif isinstance(local, StellarPrediction):
            assert sharded.names == local.names == ["teff", "logg", "feh"]  # parameter names are not rows
            np.testing.assert_allclose(sharded.values, local.values, rtol=1e-5)
        else:
            assert sharded.labels.tolist() == local.labels.tolist()
            np.testing.assert_allclose(sharded.probabilities, local.probabilities, rtol=1e-5, atol=1e-6)


def test_rows_without_light_curves_are_named(client, arc):
    rows = arc.query("SELECT TOP 4 o.* FROM astrohub.objects AS o WHERE o.obj_id NOT IN "
                     "(SELECT l.obj_id FROM astrohub.lightcurves AS l) ORDER BY o.obj_id")
    with pytest.raises(BlockError, match=r"rows 0-3: no light curve for row\(s\) \[0, 1, 2, 3\]"):
        predict("transit_vetter", rows, client=client, archive=arc, chunk_size=4, progress=False)


def test_colour_images_are_fetched_by_the_workers(client, arc):
    """Galaxy Zoo subjects' JPEGs from the real-survey resource: each worker fetches its rows' files and the
    colour model reads their bytes; the answer is the single process's."""
    rows = arc.query("SELECT TOP 10 * FROM realsurvey.galaxyzoo ORDER BY dr7_objid")
    local = load_model("galaxy_zoo").predict(arc.colour_images(rows).in_row_order(), mc_samples=0)
    sharded = predict("galaxy_zoo", rows, client=client, archive=arc, chunk_size=4, progress=False, mc_samples=0)
    assert sharded.labels.tolist() == local.labels.tolist() and len(sharded.ood) == 10
    np.testing.assert_allclose(sharded.probabilities, local.probabilities, rtol=1e-5, atol=1e-6)


def test_galaxies_served_band_by_band_are_composed_by_the_workers(client, arc):
    """ObsCore records of single g, r, i images, in chunks of 4 that split galaxies' records between workers: each
    worker finds its rows' three bands by position, and the answer is the single process's."""
    rows = arc.obscore("obs_collection = 'astrohub-demo' AND dataproduct_type = 'image' "
                       "AND s_pixel_scale BETWEEN 0.3 AND 0.5 ORDER BY obs_publisher_did", top=9)
    local = load_model("galaxy_zoo").predict(arc.colour_images(rows).in_row_order(), mc_samples=0)
    sharded = predict("galaxy_zoo", rows, client=client, archive=arc, chunk_size=4, progress=False, mc_samples=0)
    assert sharded.labels.tolist() == local.labels.tolist() and sharded.ood.all()
    np.testing.assert_allclose(sharded.probabilities, local.probabilities, rtol=1e-5, atol=1e-6)
