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
