"""Query-then-classify panels driven from Python: set values, click, read what they show."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from astrohub.widgets import ClassifyPanel, Explorer, QueryPanel, actions

pytestmark = pytest.mark.archive
MORPH = actions.TEMPLATES["morphology cutouts"].replace("TOP 100", "TOP 24")


def query(panel, adql):
    panel.tabs.selected_index = 0
    panel.adql.value = adql
    panel.run_button.click()


def test_query_panel_shows_rows_and_plots(arc):
    p = QueryPanel(arc)
    query(p, MORPH)
    assert len(p.result) == 24 and set(p.result["task"]) == {"morphology"}
    assert p.table_view.value.count("astrohub-row") == 24
    assert "24 rows" in p.status.value
    assert [type(c).__name__ for c in p.plot_view.children] == ["BokehModel"]  # sky + colour-magnitude
    assert {"ra", "dec", "g_r", "mag_r"} <= set(p.source.data)


def test_templates_and_table_browser(arc):
    p = QueryPanel(arc)
    p.template.value = "lens candidates"
    assert "task = 'lens'" in p.adql.value
    p.browse.click()
    assert "astrohub.objects" in p.tables.options
    p.tables.value = "astrohub.objects"
    assert "mag_r" in p.columns.options


def test_bad_adql_is_a_message_and_the_last_result_stays(arc):
    p = QueryPanel(arc)
    query(p, MORPH)
    before = p.result
    query(p, "SELECT TOP 5 rmag FROM astrohub.objects")
    assert "ADQLError" in p.status.value and "mag_r" in p.status.value  # with a suggestion
    assert p.result is before and p.table_view.value.count("astrohub-row") == 24


def test_unreachable_archive_is_a_message(arc):
    p = QueryPanel(arc)
    p.archive_picker.value = "other TAP URL…"
    p.custom_url.value = "http://127.0.0.1:9/tap"
    query(p, "SELECT TOP 1 * FROM astrohub.objects")
    assert "ServiceUnreachable" in p.status.value
    p.custom_url.value = "not a url"
    query(p, "SELECT TOP 1 * FROM astrohub.objects")
    assert "tap must be an http(s) URL" in p.status.value


def test_cone_by_object_name(arc):
    p = QueryPanel(arc)
    p.tabs.selected_index = 1
    p.name.value = "obj-5"
    p.radius.value = 0.02
    p.run_button.click()
    assert "5" in [str(x) for x in p.result["obj_id"]]
    p.name.value = "obj-99999999"
    p.run_button.click()
    assert "no object" in p.status.value


def test_classify_panel_predicts_filters_and_exports(arc, tmp_path):
    rows = arc.query(MORPH)
    c = ClassifyPanel(rows, archive=arc)
    # cutouts, and ugriz photometry in the rows
    assert c.model.options == ("galaxy_morphology", "photoz_mdn", "photoz_sim")
    c.mc.value = 5
    c.run_button.click()
    t = c.result.table
    assert {"pred_class", "pred_prob", "pred_uncertainty"} <= set(t.colnames)
    probs = np.stack([t[f"p_{k}"] for k in c.result.class_names], 1)
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)
    assert (np.asarray(t["pred_prob"]) == probs.max(1)).all()
    assert len(c.gallery.children) == 12  # thumbnails with saliency of the first rows
    # filters
    top = t["pred_class"][0]
    c.cls.value = top
    c.min_prob.value = 0.5
    shown = c.filtered()
    assert len(shown) >= 1 and set(shown["pred_class"]) == {top} and (shown["pred_prob"] >= 0.5).all()
    assert c.table_view.value.count("astrohub-row") == min(len(shown), 50)
    # export what is shown
    c.filename.value = str(tmp_path / "lenses")
    c.fmt.value = "votable"
    c.export_button.click()
    back = Table.read(tmp_path / "lenses.xml")
    assert len(back) == len(shown) and list(back["obj_id"]) == list(shown["obj_id"])
    c.fmt.value = "csv"
    c.export_button.click()
    assert len(Table.read(tmp_path / "lenses.csv")) == len(shown)


def test_samp_without_a_hub_is_a_message(arc):
    c = ClassifyPanel(arc.query(MORPH), archive=arc)
    c.mc.value = 0
    c.run_button.click()
    c.samp_button.click()
    assert "no SAMP hub is running" in c.status.value


def test_explorer_links_query_classify_and_selection(arc):
    e = Explorer(arc)
    assert "astrohub-explorer" in e._dom_classes  # the page's handle on the whole panel (the browser tests use it)
    query(e.query, MORPH)
    assert e.classify.table is e.query.result
    e.classify.mc.value = 0
    e.classify.run_button.click()
    assert set(e.query.source.data["label"]) <= set(e.classify.result.class_names)  # plots coloured by prediction
    # selecting points in the plot selects rows
    e.query.source.selected.indices = [1, 3, 5]
    assert list(e.selected["obj_id"]) == [e.classify.result.table["obj_id"][i] for i in (1, 3, 5)]
    assert "3 row(s) selected" in e.selection.value
    assert e.query.table_view.value.count("background:#ffe9a8") == 3
