"""Every query template of the panels runs against the live archive (DaCHS) and returns rows: the demo
schema's, and the standard ObsCore and real-survey ones (#19) whose rows are found by their metadata."""

from __future__ import annotations

import pytest

from astrohub import pipeline
from astrohub.vo import metadata

pytestmark = pytest.mark.archive

DEMO = [n for n, q in pipeline.TEMPLATES.items() if "astrohub." in q]
STANDARD = [n for n in pipeline.TEMPLATES if n not in DEMO]


def test_templates_cover_more_than_the_demo_schema():
    queries = " ".join(pipeline.TEMPLATES[n] for n in STANDARD)
    assert "ivoa.obscore" in queries and "realsurvey.specphoto" in queries


@pytest.mark.parametrize("name", DEMO)
def test_template_runs_on_the_archive(name, arc):
    table = pipeline.run_query(arc, pipeline.TEMPLATES[name], maxrec=1000)
    assert len(table) > 0, f"template {name!r} returned no rows"
    assert "obj_id" in table.colnames


@pytest.mark.parametrize("name", STANDARD)
def test_standard_template_runs_and_its_rows_have_positions(name, arc):
    table = pipeline.run_query(arc, pipeline.TEMPLATES[name], maxrec=1000)
    assert len(table) > 0, f"template {name!r} returned no rows"
    assert metadata.position(table) is not None, table.colnames  # pos.eq.ra/dec (s_ra/s_dec, ra/dec)


def test_obscore_templates_return_the_products_they_name(arc):
    images = pipeline.run_query(arc, pipeline.TEMPLATES["ObsCore images near a position"])
    assert set(images["dataproduct_type"]) == {"image"}
    ra, dec = images["s_ra"].astype(float), images["s_dec"].astype(float)
    assert ((ra - 150.0) ** 2 * 0.9985 + (dec - 2.2) ** 2 <= 1.0 + 1e-6).all()  # in the 1 degree cone
    ztf = pipeline.run_query(arc, pipeline.TEMPLATES["ZTF alert stamps via ObsCore"])
    assert set(ztf["obs_collection"]) == {"ZTF alerts"} and set(ztf["dataproduct_subtype"]) == {"alert-triplet"}
    lcs = pipeline.run_query(arc, pipeline.TEMPLATES["Kepler/TESS light curves via ObsCore"])
    assert set(lcs["dataproduct_type"]) == {"timeseries"} and set(lcs["facility_name"]) <= {"KEPLER", "TESS"}
    assert len(lcs) == 12
    gz = pipeline.run_query(arc, pipeline.TEMPLATES["Galaxy Zoo colour images via ObsCore"])
    assert len(gz) == 100 and set(gz["access_format"]) == {"image/jpeg"} and set(gz["calib_level"]) == {3}


def test_sdss_like_photometry_has_ugriz_and_no_stars(arc):
    t = pipeline.run_query(arc, pipeline.TEMPLATES["SDSS-like photometry (realsurvey.specphoto) for photo-z"])
    assert set(t["class"]) <= {"GALAXY", "QSO"} and len(t) == 500
    assert metadata.photometry(t).complete(), metadata.photometry(t).missing()
    assert metadata.redshift(t) == "z"


def test_bright_galaxies_are_bright_and_not_stars(arc):
    t = pipeline.run_query(arc, pipeline.TEMPLATES["bright galaxies"])
    assert "star" not in set(t["class_name"]) and (t["mag_r"] < 20).all()
    assert list(t["mag_r"]) == sorted(t["mag_r"])


def test_galaxies_served_band_by_band_offer_the_colour_model(arc):
    """The demo's galaxies served as one FITS image per band: the template's catalogue rows offer galaxy_zoo (their
    g, r and i images found in ObsCore), one row per galaxy, and photo-z on their magnitudes."""
    from astrohub.archive.builder import SIZES

    t = pipeline.run_query(arc, pipeline.TEMPLATES["galaxies served as g, r, i FITS images"])
    assert len(t) == SIZES["small"].colour == len(set(t["obj_id"]))
    assert pipeline.compatible_models(t, arc) == ["galaxy_zoo", "photoz_mdn", "photoz_sim"]
