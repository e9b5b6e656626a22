"""Shared fixtures for the model-zoo tests."""

ZOO_MODELS = ["cutout_denoiser", "galaxy_morphology", "lens_finder", "transient_realbogus"]
CLASSIFIERS = ["galaxy_morphology", "lens_finder", "transient_realbogus"]

