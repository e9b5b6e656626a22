"""One state for the Explorer (#20 item 4): a new query clears the views derived from the previous rows;
the class filter and the plots' selection reach the table, the plots, the gallery, the PDFs and the
export. And how the tables print numbers (#20 item 8)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from astrohub.widgets import Explorer
from astrohub.widgets.panels import formatter
from astrohub.widgets.state import PanelState

from .explorer import MORPH, PHOTO_Z, classify, query


def table_rows(markup: str) -> int:
    return markup.count("astrohub-row")


@pytest.mark.archive
def test_a_new_query_clears_predictions_pdfs_and_selection(arc):
    e = Explorer(arc)
    query(e, PHOTO_Z)
    classify(e, "photoz_sim")
    e.select([0, 2])
    assert len(e.classify.pdf_view.children) == 1 and e.classify.pdf_rows == [0, 2]
    assert "2 row(s) selected" in e.selection.value and "validated" in e.classify.badge.value
    query(e, MORPH)
    c = e.classify
    assert c.result is None and c.table is e.query.result and len(c.table) == 24
    assert c.table_view.value == "" and c.gallery.children == () and c.pdf_view.children == ()
    assert c.badge.value == "" and c.ood_view.value == "" and c.class_filters.layout.display == "none"
    assert e.selected is None and e.selection.value == "" and list(e.query.source.selected.indices) == []
    assert "pred_class" not in e.query.table_view.value and table_rows(e.query.table_view.value) == 24
    assert "galaxy_morphology" in c.model.options
    c.export_button.click()
    assert "nothing to export yet: classify first" in c.status.value


@pytest.mark.archive
def test_class_filter_and_selection_reach_plots_gallery_and_export(arc, tmp_path):
    e = Explorer(arc)
    query(e, MORPH)
    classify(e, "galaxy_morphology")
    t, c = e.classify.result.table, e.classify
    assert len(c.gallery.children) == 12 and list(e.query.shown_filter.indices) == list(range(24))
    top = str(t["pred_class"][0])
    keep = np.flatnonzero(np.asarray(t["pred_class"]).astype(str) == top)
    assert 0 < len(keep) < 24, "the first 24 rows hold one class only: pick other rows"
    c.cls.value = top
    # the plots draw only that class; the tables and the gallery show only it
    assert list(e.query.shown_filter.indices) == list(keep)
    assert table_rows(c.table_view.value) == len(keep) == table_rows(e.query.table_view.value)
    tiles = [int(i) for i in keep if i < 12]
    assert len(c.gallery.children) == len(tiles)
    assert all(f"{top} p=" in tile.children[1].value for tile in c.gallery.children)
    # export writes what is shown
    c.fmt.value, c.filename.value = "csv", str(tmp_path / "shown")
    c.export_button.click()
    assert list(Table.read(tmp_path / "shown.csv")["obj_id"]) == list(t["obj_id"][keep])
    # a selection in the plots: rows the filter hides are not selectable; the gallery and export follow it
    hidden = int(np.setdiff1d(np.arange(24), keep)[0])
    e.query.source.selected.indices = [int(keep[0]), hidden]
    assert c.state.selection == [int(keep[0])] and list(e.selected["obj_id"]) == [t["obj_id"][keep[0]]]
    assert list(e.query.source.selected.indices) == [int(keep[0])]
    assert len(c.gallery.children) == (1 if keep[0] < 12 else 0)
    assert c.table_view.value.count("background:#ffe9a8") == 1
    c.filename.value = str(tmp_path / "picked")
    c.export_button.click()
    assert list(Table.read(tmp_path / "picked.csv")["obj_id"]) == [t["obj_id"][keep[0]]]
    # opening the filter again keeps the selection, shows every row in the plots
    c.cls.value = "any"
    assert list(e.query.shown_filter.indices) == list(range(24)) and c.state.selection == [int(keep[0])]


def test_state_refuses_bad_rows_and_keeps_selection_within_the_filter():
    s = PanelState()
    with pytest.raises(ValueError, match="no rows yet: run a query first"):
        s.select([0])
    s.set_rows(Table({"obj_id": np.arange(5)}))
    with pytest.raises(IndexError, match="rows must be between 0 and 4, got 7"):
        s.select([1, 7])
    s.select([1, 3])
    s.set_keep(np.array([True, True, True, False, True]))
    assert s.selection == [1] and list(s.chosen()["obj_id"]) == [1] and len(s.shown()) == 4
    with pytest.raises(ValueError, match="keep needs one True/False per row of the table"):
        s.set_keep(np.ones(3, bool))
    s.set_rows(Table({"obj_id": np.arange(2)}))
    assert s.selection == [] and s.keep is None and list(s.chosen()["obj_id"]) == [0, 1]


def test_numbers_print_per_unit_and_probabilities_rounded():
    t = Table({"ra": [150.123456789012], "dec": [-2.5], "mag_r": [19.87654321], "pred_prob": [8.379e-14],
               "p_spiral": [0.99999], "p_edge": [0.48213], "z": [0.123456789]})
    t["ra"].unit = t["dec"].unit = "deg"
    t["mag_r"].unit = "mag"
    shown = {c: formatter(t[c])(t[c][0]) for c in t.colnames}
    assert shown == {"ra": "150.12345679", "dec": "-2.5", "mag_r": "19.877", "pred_prob": "<0.001",
                     "p_spiral": ">0.999", "p_edge": "0.482", "z": "0.1235"}
    # columns without a unit named ra/dec are degrees (many services leave the unit out)
    assert formatter(Table({"ra": [10.000012345]})["ra"])(10.000012345) == "10.00001235"


def test_sky_legend_has_no_unlabelled_entry():
    from astrohub.widgets import plots

    t = Table({"obj_id": [1, 2, 3], "ra": [1.0, 2.0, 3.0], "dec": [0.0, 1.0, 2.0],
               "class_name": ["galaxy", "", "star"]})
    source = plots.source_for(t)
    assert list(source.data["label"]) == ["galaxy", plots.NO_CLASS, "star"]
    t.remove_column("class_name")
    sky = plots.result_plots(plots.source_for(t)).children[0]
    assert not sky.legend  # no classes at all: no legend
