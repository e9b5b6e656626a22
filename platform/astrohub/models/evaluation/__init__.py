"""Evaluation: metrics with intervals (:mod:`.metrics`, :mod:`.series_metrics`), the classical
baselines (:mod:`.baselines`), checks of generators (:mod:`.generative`) and `astrohub eval`
(:mod:`.evaluate`). Imports nothing from training."""
