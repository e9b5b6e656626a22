"""The query panel's "your files" tab (issue #17: real survey files brought by the user): paths, folders, patterns
and uploads listed by kind, then the classify panel, its badge, gallery, sky view and export work on them as on
an archive's rows; a bad listing is a message and the last rows stay."""

from __future__ import annotations

import datetime
import shutil

import numpy as np
from astropy.table import Table

from astrohub.models.evaluation import kits
from astrohub.widgets import Explorer
from astrohub.widgets.panels import FILES_TAB

KEPLER = kits.kit_dir("kepler_lightcurves")


def _upload(path):
    return {"name": path.name, "type": "", "size": path.stat().st_size, "content": memoryview(path.read_bytes()),
            "last_modified": datetime.datetime.now(datetime.timezone.utc)}


def test_files_tab_lists_uploads_and_paths_then_classifies_them(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    e = Explorer()
    q, c = e.query, e.classify
    q.tabs.selected_index = FILES_TAB
    assert q.file_kind.label == "any kind"  # a label shown (a Dropdown shows none for a value of None)
    assert q.run_button.description == "List files"
    q.run_button.click()
    assert "no files named: write a path, folder or pattern" in q.status.value and q.result is None

    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(KEPLER / "kplr002306740-2009259160929_llc.fits", mine)
    shutil.copy(KEPLER / "WASP_6_lc.tran", mine)
    (mine / "readme.md").write_text("# my light curves")
    shutil.copy(KEPLER / "kplr5957123.dat", mine / "<img src=x onerror=alert(1)>.dat")  # a name is text, not HTML
    q.upload.value = (_upload(KEPLER / "hlsp_tess-data-alerts_tess_phot_00025155310-s01_tess_v1_lc.fits"),)
    q.file_paths.value = str(mine)
    q.run_button.click()
    assert "4 files: 4 light curves; 1 skipped (readme.md: not a JPEG/PNG image" in q.status.value
    saved = tmp_path / "home" / "astrohub-uploads" / "hlsp_tess-data-alerts_tess_phot_00025155310-s01_tess_v1_lc.fits"
    assert q.file_paths.value.splitlines() == [str(mine), str(saved)] and saved.is_file() and q.upload.value == ()
    assert list(q.result["name"]) == ["<img src=x onerror=alert(1)>.dat", "WASP_6_lc.tran",
                                      "kplr002306740-2009259160929_llc.fits", saved.name]
    assert "<img" not in q.table_view.value and "&lt;img src=x onerror=alert(1)&gt;.dat" in q.table_view.value
    assert list(c.model.options) == ["transit_vetter"]
    # the Kepler and TESS files' headers put them on the sky; the two text tables have no position
    assert "2 row(s) without a position not shown" in e.sky.legend.value

    c.run_button.click()
    assert "4 rows classified with transit_vetter" in c.status.value
    assert "astrohub-badge" in c.badge.value and len(c.gallery.children) == 4
    assert "<img" not in c.table_view.value and "&lt;img src=x" in c.table_view.value
    assert "WASP_6_lc.tran" in c.table_view.value  # the file's name is in the results
    c.filename.value = str(tmp_path / "vetted")
    out = c.export()
    back = Table.read(out)
    assert list(back["name"]) == list(q.result["name"]) and set(back["pred_class"]) <= set(c.result.class_names)
    assert np.isfinite(back["planet_score"]).all()

    q.file_paths.value = str(KEPLER / "kplr002306740-*_llc.fits")  # one star's quarters: one row when stitched
    q.group.value = True
    q.run_button.click()
    assert "4 files: 1 light curve (one per object: 4 files of KIC 2306740 stitched)" in q.status.value
    assert list(q.result["name"]) == ["KIC 2306740"]
    c.run_button.click()
    assert "1 rows classified with transit_vetter" in c.status.value and c.result.table["pred_class"][0] == (
        "eclipsing-binary")

    q.file_paths.value = str(tmp_path / "nothere")  # a bad listing: a message, the rows and predictions stay
    q.run_button.click()
    assert "no file to classify (nothere: no such file or folder)" in q.status.value
    assert len(q.result) == 1 and c.result is not None

    q.file_paths.value = "\n".join([str(mine / "WASP_6_lc.tran"), str(KEPLER / "04377638.00.lc.data")])
    q.file_kind.value = "spectrum"  # only spectra: none here
    q.run_button.click()
    assert "a light curve, not a spectrum (kind=&#x27;spectrum&#x27;)" in q.status.value
