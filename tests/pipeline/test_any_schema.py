"""The pipeline on archives whose tables and columns it has never seen: what rows offer is decided from UCDs,
well-known survey names, ObsCore and DataLink, never from astrohub's own schema."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

from astrohub import models, pipeline
from astrohub.sims.catalog import simulate_catalog

DATA = Path(__file__).resolve().parents[1] / "data"
UCD_BAND = {"u": "U", "g": "B", "r": "R", "i": "I", "z": "I"}


def unseen_catalogue(n=300, seed=5) -> tuple[Table, Table]:
    """(simulated rows under astrohub's names, the same rows as a foreign service would send them: other
    column names, the meaning only in the UCDs of the VOTable FIELDs)."""
    sim = Table(simulate_catalog(n, seed))
    cols = {"SRC_NUMBER": (sim["obj_id"], "meta.id;meta.main"), "RA_DEG": (sim["ra"], "pos.eq.ra;meta.main"),
            "DEC_DEG": (sim["dec"], "pos.eq.dec;meta.main")}
    for b in "ugriz":
        cols[f"FLUX_MAG_{b.upper()}"] = (sim[f"mag_{b}"], f"phot.mag;em.opt.{UCD_BAND[b]}")
        cols[f"FLUX_MAGERR_{b.upper()}"] = (sim[f"err_{b}"], f"stat.error;phot.mag;em.opt.{UCD_BAND[b]}")
    t = Table()
    for name, (v, ucd) in cols.items():
        t[name] = v
        t[name].meta["ucd"] = ucd
    buf = io.BytesIO()
    t.write(buf, format="votable")
    buf.seek(0)
    return sim, Table.read(buf, format="votable")


def test_photoz_on_columns_it_has_never_seen():
    sim, rows = unseen_catalogue()
    assert not set(pipeline.PHOTOMETRY_COLUMNS) & set(rows.colnames)
    assert pipeline.row_data(rows) == {"photometry"}
    assert pipeline.compatible_models(rows) == ["photoz_mdn", "photoz_sim"]
    result = pipeline.classify(rows, "photoz_sim", None)
    direct = models.load("photoz_sim").predict(sim[list(pipeline.PHOTOMETRY_COLUMNS)])
    np.testing.assert_allclose(result.table["z_phot"], direct.z_mode, rtol=1e-6)
    np.testing.assert_allclose(result.table["z_std"], direct.z_std, rtol=1e-6)
    assert result.table.colnames[:len(rows.colnames)] == rows.colnames  # the rows keep their own names


def test_recorded_gaia_result_goes_through_compatible_models_and_classify():
    """A real Gaia DR3 answer (tests/data/gaia_dr3_sources.vot): no model reads G/BP/RP photometry, and
    classify says so, naming what the rows have."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gaia = Table.read(DATA / "gaia_dr3_sources.vot", format="votable")
    assert pipeline.row_data(gaia) == set()
    assert pipeline.compatible_models(gaia) == []
    with pytest.raises(ValueError, match=r"model 'photoz_mdn' does not apply to these rows; compatible models: "
                                         r"none \(.*\) \(photometry: no u g r i z magnitude; magnitudes of "
                                         r"another system only \(.*phot_bp_mean_mag.*phot_g_mean_mag"):
        pipeline.classify(gaia, "photoz_mdn", None)


def test_magnitudes_without_errors_are_not_enough():
    """The real SDSS SkyServer result of the sdss_photoz kit carries u..z but no errors: photo-z is not
    offered, and the message names the missing error columns."""
    from astrohub.models.evaluation.kits import kit_dir

    sdss = Table.read(kit_dir("sdss_photoz") / "sdss_dr14_skyserver_trainhalf.csv", format="ascii.csv")[:50]
    assert pipeline.compatible_models(sdss) == []
    with pytest.raises(ValueError, match=r"photometry: no error column for u, g, r, i, z"):
        pipeline.classify(sdss, "photoz_mdn", None)
