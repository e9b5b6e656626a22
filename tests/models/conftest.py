"""Shared fixtures for the model-zoo tests."""

import pytest

from astrohub import models

ZOO_MODELS = ["cutout_denoiser", "galaxy_morphology", "lens_finder", "transient_realbogus"]
CLASSIFIERS = ["galaxy_morphology", "lens_finder", "transient_realbogus"]


@pytest.fixture(scope="session")
def loaded():
    """Each zoo model loaded once per session (CPU)."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = models.load(name, device="cpu")
        return cache[name]

    return get
