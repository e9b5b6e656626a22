"""The classify panel tells whether the model was validated on real data (a badge next to the
predictions) and marks the rows the model flagged out of distribution (table and gallery), with
everything that comes from a card or a model escaped before it reaches HTML."""

from __future__ import annotations

import pytest

from astrohub.widgets import ClassifyPanel, actions

from ..pipeline.patching import REAL, patch_model

pytestmark = pytest.mark.archive
MORPH = actions.TEMPLATES["morphology cutouts"].replace("TOP 100", "TOP 12")
LIGHT_CURVES = actions.TEMPLATES["light curves"].replace("TOP 100", "TOP 6")
HOSTILE = "<script>alert('x')</script> & co"


def run(arc, adql, model=None):
    c = ClassifyPanel(arc.query(adql), archive=arc)
    if model:
        c.model.value = model
    c.mc.value = 0
    c.run_button.click()
    assert c.result is not None, c.status.value
    return c


def test_green_badge_and_ood_markers_escaped(arc, monkeypatch):
    real = {**REAL, "description": f"ZTF {HOSTILE}"}
    patch_model(monkeypatch, flagged={0: f"pixel scale {HOSTILE}", 3: "S/N 2.1 outside the trained 5..500"},
                card={"validated_on_real": True, "real": real})
    c = run(arc, MORPH)
    badge = c.badge.value
    assert "validated on real data: real ZTF &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co " \
           "(held-out split): AUC 0.961 [0.942, 0.978]" in badge
    assert "astrohub-real" in badge and "<script>" not in badge and "simulations only" not in badge
    # the results table: an OOD column whose marker's tooltip is the reason, on the flagged rows only
    table = c.table_view.value
    assert table.count("astrohub-ood-row") == 2 and table.count("⚠ OOD") == 2
    assert "title='pixel scale &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co'" in table
    assert "<script>" not in table
    assert "2 of 12 row(s) out of distribution" in c.ood_view.value
    # the gallery: flagged thumbnails carry the marker and the reason as tooltip
    tiles = c.gallery.children
    assert len(tiles) == 12
    flagged = [i for i, t in enumerate(tiles) if "astrohub-ood" in t._dom_classes]
    assert flagged == [0, 3]
    caption = tiles[0].children[1].value
    assert "⚠ OOD" in caption and "title='pixel scale &lt;script&gt;" in caption and "<script>" not in caption
    assert "OOD" not in tiles[1].children[1].value
    # hiding the flagged rows hides them from the table and from what is exported
    c.hide_ood.value = True
    assert len(c.filtered()) == 10 and not c.filtered()["ood"].any()
    assert c.table_view.value.count("astrohub-row") == 10


def test_amber_badge_and_a_model_without_ood_flags(arc, monkeypatch):
    patch_model(monkeypatch, no_flags=True, card={"validated_on_real": False})
    c = run(arc, MORPH)
    assert "⚠ not validated on real data (simulations only)" in c.badge.value
    assert "astrohub-sim-only" in c.badge.value and "astrohub-real" not in c.badge.value
    assert "this model does not flag inputs unlike its training data" in c.ood_view.value
    assert c.result.notes and all(f"astrohub-note' style='color:#555'>{n}</span>" in c.status.value
                                  for n in c.result.notes)  # the run's notes under the status line
    assert "astrohub-ood" not in c.table_view.value and c.hide_ood.layout.display == "none"
    assert not any("astrohub-ood" in t._dom_classes for t in c.gallery.children)


def test_amber_badge_with_real_figures_that_are_not_a_clean_validation(arc, monkeypatch):
    """A model trained on a real kit whose split also guided design choices (galaxy_zoo, transit_vetter): its
    real figures, escaped, in amber; neither "validated" nor "simulations only"."""
    real = {**REAL, "selection_on_kit": True, "headline": f"acc 0.85 {HOSTILE}"}
    patch_model(monkeypatch, card={"validated_on_real": False, "real": real})
    badge = run(arc, MORPH).badge.value
    assert ("⚠ not a clean real-data validation (the kit also guided design choices): acc 0.85 "
            "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co") in badge
    assert "astrohub-real-partial" in badge and "<script>" not in badge
    assert "simulations only" not in badge and "✔" not in badge and "astrohub-real'" not in badge


def test_light_curve_tiles_are_marked_too(arc, monkeypatch):
    patch_model(monkeypatch, flagged={2: "cadence 120 s outside the trained 1800 s"})
    c = run(arc, LIGHT_CURVES)
    tiles = c.gallery.children
    assert [i for i, t in enumerate(tiles) if "astrohub-ood" in t._dom_classes] == [2]
    assert "title='cadence 120 s outside the trained 1800 s'" in tiles[2].children[1].value
    assert all("astrohub-tile-lightcurve" in t._dom_classes for t in tiles)
    assert "1 of 6 row(s) out of distribution" in c.ood_view.value
