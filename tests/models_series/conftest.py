"""Shared fixtures of the 1-D model tests."""

import numpy as np
import pytest

SERIES_MODELS = ["photoz_mdn", "spectral_class", "stellar_params", "transit_vetter"]


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    """Never write simulated sets into the user's cache from tests."""
    monkeypatch.setenv("ASTROHUB_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def curves():
    """Eight simulated light curves (two of each class)."""
    from astrohub.sims.lightcurves import simulate_lightcurves

    return simulate_lightcurves(8, 4242, labels=np.repeat(np.arange(4), 2))


@pytest.fixture(scope="session")
def tap_result():
    """A function making a table into what pyvo hands over for a TAP query (TAPResults over its VOTable)."""
    import io

    import pyvo
    from astropy.io.votable import from_table, parse

    def make(table):
        buf = io.BytesIO()
        from_table(table).to_xml(buf)
        buf.seek(0)
        return pyvo.dal.TAPResults(parse(buf))

    return make
