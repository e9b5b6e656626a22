"""Everything that comes from outside (a TAP service's table and column names, cell values, error
messages; a model's class names and notes) reaches the panels' HTML escaped (#18 item 6): each surface
is given markup that would run script if it were inserted as HTML."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from astrohub.pipeline import Classification
from astrohub.widgets import ClassifyPanel, QueryPanel, plots
from astrohub.widgets.panels import table_html

BAD = "<img src=x onerror=window.__xss=1>"
SAFE = "&lt;img src=x onerror=window.__xss=1&gt;"
BAD_ATTR = "x' onmouseover='window.__xss=1"  # breaks out of a single-quoted attribute if unescaped


def hostile_table(n: int = 3) -> Table:
    t = Table({"obj_id": np.arange(n), "ra": np.linspace(150, 150.5, n), "dec": np.linspace(2, 2.5, n),
               BAD: [BAD] * n})
    t["pred_class"] = np.array([BAD, "spiral", BAD][:n], dtype=object)
    t["pred_prob"] = [0.9, 0.6, 0.95][:n]
    t[f"p_{BAD}"] = t["pred_prob"]
    t["p_spiral"] = 1 - np.asarray(t["pred_prob"])
    t["ood"] = [True, False, False][:n]
    t["ood_reason"] = [BAD_ATTR, "", ""][:n]
    return t


def assert_escaped(markup: str) -> None:
    assert "<img" not in markup and "onerror=window" not in markup.replace(SAFE, "")
    assert "' onmouseover='" not in markup


def test_table_names_values_and_ood_reasons_are_escaped():
    markup = table_html(hostile_table())
    assert_escaped(markup)
    assert markup.count(SAFE) >= 4  # the column name, a cell, a class, a p_ column name
    assert "x&#x27; onmouseover=&#x27;window.__xss=1" in markup  # the OOD tooltip, quotes escaped


def test_gallery_captions_badge_and_notes_are_escaped():
    t = hostile_table()
    images = np.random.default_rng(0).normal(size=(3, 16, 16))
    result = Classification(table=t, model="galaxy_morphology", class_names=[BAD, "spiral"], images=images,
                            saliency=np.abs(images), validated_on_real=True, real_summary=BAD)
    c = ClassifyPanel()
    c.state.set_rows(t)  # rows without an archive: the model list says why, escaped too
    c.state.set_result(result)
    assert_escaped(c.badge.value) and SAFE in c.badge.value
    assert_escaped(c.table_view.value)
    captions = [tile.children[1].value for tile in c.gallery.children]
    assert len(captions) == 3 and SAFE in captions[0] and SAFE not in captions[1]
    for caption in captions:
        assert_escaped(caption)
    assert c.cls.options == ("any", BAD, "spiral")  # a Dropdown shows options as text, not HTML
    c.cls.value = BAD
    assert_escaped(c.table_view.value) and len(c.gallery.children) == 2


def test_error_messages_from_a_service_are_escaped():
    p = QueryPanel()
    p.archive_picker.value = "other TAP URL…"
    p.custom_url.value = f"http://127.0.0.1:9/tap?{BAD}"
    p.tabs.selected_index = 0
    p.adql.value = f"SELECT TOP 1 * FROM \"{BAD}\""
    p.run_button.click()
    assert "astrohub-error" in p.status.value
    assert_escaped(p.status.value)


def test_plot_labels_and_tooltips_are_text():
    source = plots.source_for(hostile_table())
    assert set(source.data["label"]) == {BAD, "spiral"}  # data for BokehJS to draw as text
    tips = plots.tooltips(source)
    assert tips == [("object", "@obj_id"), ("class", "@label")]
    assert not any("{safe}" in field for _, field in tips)
    layout = plots.result_plots(source)
    hovers = [t for f in layout.children for t in f.tools if type(t).__name__ == "HoverTool"]
    assert hovers and all(h.tooltips == tips for h in hovers)


@pytest.mark.archive
def test_table_and_column_names_from_the_service_are_escaped(arc):
    p = QueryPanel(arc)
    p.tables.options = ["astrohub.objects", BAD]
    p.tables.value = BAD  # as if the service listed a table named so
    assert BAD not in p.status.value and SAFE in p.status.value
    p.tables.value = "astrohub.objects"
    assert "columns in astrohub.objects" in p.status.value
