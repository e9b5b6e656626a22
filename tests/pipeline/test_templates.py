"""Every query template of the panels runs against the live archive (DaCHS) and returns rows."""

from __future__ import annotations

import pytest

from astrohub import pipeline

pytestmark = pytest.mark.archive


@pytest.mark.parametrize("name", list(pipeline.TEMPLATES))
def test_template_runs_on_the_archive(name, arc):
    table = pipeline.run_query(arc, pipeline.TEMPLATES[name], maxrec=1000)
    assert len(table) > 0, f"template {name!r} returned no rows"
    assert "obj_id" in table.colnames


def test_bright_galaxies_are_bright_and_not_stars(arc):
    t = pipeline.run_query(arc, pipeline.TEMPLATES["bright galaxies"])
    assert "star" not in set(t["class_name"]) and (t["mag_r"] < 20).all()
    assert list(t["mag_r"]) == sorted(t["mag_r"])
