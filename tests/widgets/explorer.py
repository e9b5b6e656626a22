"""Driving an Explorer as a person does: run a query, classify with a model (shared by the panel tests)."""

from __future__ import annotations

from astrohub.widgets import Explorer, actions

MORPH = actions.TEMPLATES["morphology cutouts"].replace("TOP 100", "TOP 24")
PHOTO_Z = actions.TEMPLATES["galaxies and QSOs (photo-z)"].replace("TOP 500", "TOP 40")


def query(e: Explorer, adql: str) -> None:
    e.query.tabs.selected_index = 0
    e.query.adql.value = adql
    e.query.run_button.click()
    assert e.query.result is not None, e.query.status.value


def classify(e: Explorer, model: str) -> None:
    e.classify.model.value = model
    e.classify.mc.value = 0
    e.classify.run_button.click()
    assert e.classify.result is not None, e.classify.status.value
