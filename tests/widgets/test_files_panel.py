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


def test_an_uploaded_bundle_and_a_target_list_in_the_files_tab(tmp_path, monkeypatch, arc):
    """A MAST-like .tar.gz upload (quarters in subfolders, and a link member) is unpacked and listed, the link named;
    a folder of subfolders needs *subfolders too*; a CSV of target positions with *find their products in the
    archive* is classified with the archive's cutouts at those positions, as the archive's own rows are."""
    import io
    import tarfile

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    e = Explorer(arc)
    q, c = e.query, e.classify
    q.tabs.selected_index = FILES_TAB
    buf = io.BytesIO()
    quarters = sorted(KEPLER.glob("kplr002306740-*_llc.fits"))
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for k, path in enumerate(quarters):
            t.add(path, arcname=f"mastDownload/Kepler/kplr002306740_lc_Q{k}/{path.name}")
        link = tarfile.TarInfo("mastDownload/shadow")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
        t.addfile(link)
    q.upload.value = ({"name": "MAST.tar.gz", "type": "", "size": len(buf.getvalue()),
                       "content": memoryview(buf.getvalue()),
                       "last_modified": datetime.datetime.now(datetime.timezone.utc)},)
    q.group.value = True
    q.run_button.click()
    assert ("4 files: 1 light curve (one per object: 4 files of KIC 2306740 stitched); 1 skipped (MAST.tar.gz: "
            "mastDownload/shadow: a link (links in an archive are not unpacked))") in q.status.value
    assert q.file_paths.value == str(tmp_path / "home" / "astrohub-uploads" / "MAST")

    nested = tmp_path / "nested" / "deeper"
    nested.mkdir(parents=True)
    shutil.copy(KEPLER / "WASP_6_lc.tran", nested)
    q.file_paths.value, q.group.value = str(tmp_path / "nested"), False
    q.run_button.click()
    assert "no file to classify (nested: 1 subfolder not listed (recursive=True, the tab" in q.status.value
    q.recursive.value = True
    q.run_button.click()
    assert "1 file: 1 light curve" in q.status.value and list(q.result["name"]) == ["WASP_6_lc.tran"]

    rows = arc.query("SELECT TOP 5 o.* FROM astrohub.objects AS o JOIN astrohub.cutouts AS c ON o.obj_id = c.obj_id "
                     "WHERE c.task = 'morphology' ORDER BY o.obj_id")
    targets = Table({"target": [f"<b>t{i}</b>" for i in range(6)], "ra": [*rows["ra"], 10.0],
                     "dec": [*rows["dec"], -30.0]})  # the last: nothing in the archive there
    targets.write(tmp_path / "targets.csv")
    q.file_paths.value, q.recursive.value = str(tmp_path / "targets.csv"), False
    q.match.value = True
    q.run_button.click()
    assert (f"5 of 6 targets of targets.csv have products in {arc.name} within 1\u2033 (5 with a cutout"
            in q.status.value)
    assert (f"1 skipped (targets.csv: row 6 (&lt;b&gt;t5&lt;/b&gt;): no product in {arc.name} within 1\u2033 of RA "
            "10.00000 Dec -30.00000)") in q.status.value
    assert list(c.model.options)[:1] == ["galaxy_morphology"]
    c.model.value = "galaxy_morphology"
    c.run_button.click()
    assert "5 rows classified with galaxy_morphology" in c.status.value and len(c.gallery.children) == 5
    assert "<b>t0" not in c.table_view.value and "&lt;b&gt;t0&lt;/b&gt;" in c.table_view.value
    truth = c.result.table["pred_class"]
    from astrohub import pipeline

    assert list(truth) == list(pipeline.classify(rows, "galaxy_morphology", arc, mc_samples=0).table["pred_class"])

    q.file_kind.value = "lightcurve"  # with a target list, *only* says which product to look up
    q.run_button.click()
    assert (f"none of the 6 targets of targets.csv has a light curve in {arc.name} within 1\u2033 of its position"
            in q.status.value) and len(q.result) == 5
    q.file_kind.value = "any"
    (tmp_path / "nopos.csv").write_text("name,mag\nA,12.0\nB,13.5\n")
    q.file_paths.value = str(tmp_path / "nopos.csv")
    q.run_button.click()
    assert "nopos.csv has no positions to look up in an archive" in q.status.value and len(q.result) == 5
    q.file_paths.value = str(KEPLER / "WASP_6_lc.tran")
    q.run_button.click()
    assert "is for a catalogue of targets (a table of positions), not for files" in q.status.value
    # a list from another catalogue, 3″ off the archive's positions: found within the radius given
    Table({"target": ["a", "b"], "ra": rows["ra"][:2], "dec": np.asarray(rows["dec"][:2]) + 3 / 3600}).write(
        tmp_path / "off.csv")
    q.file_paths.value = str(tmp_path / "off.csv")
    q.run_button.click()
    assert "none of the 2 targets of off.csv has a product" in q.status.value and len(q.result) == 5
    q.match_radius.value = 5
    q.run_button.click()
    assert f"2 of 2 targets of off.csv have products in {arc.name} within 5\u2033" in q.status.value
    c.run_button.click()
    assert "2 rows classified with galaxy_morphology" in c.status.value
    assert list(c.result.table["pred_class"]) == list(truth[:2])


def test_ztf_alert_files_in_the_files_tab(tmp_path, monkeypatch):
    """Uploaded ZTF alert packets (.avro, as ZTF's public alert archive and the brokers serve them; built from the
    ztf_alerts kit's real stamps) are one row per alert with ZTF's drb beside it, offered the real/bogus model, which
    classifies them as its predict does on the kit's arrays; an objectId is text, not HTML."""
    import io

    import fastavro

    from astrohub import models
    from tests.pipeline import ztf_avro

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    stamps, meta = ztf_avro.kit()
    packets = [ztf_avro.packet(stamps, meta, i) for i in range(6)]
    packets[0]["objectId"] = "<img src=x onerror=alert(1)>"
    e = Explorer()
    q, c = e.query, e.classify
    q.tabs.selected_index = FILES_TAB
    uploads = []
    for name, part in (("one.avro", packets[:1]), ("night.avro", packets[1:])):
        buf = io.BytesIO()
        fastavro.writer(buf, ztf_avro.SCHEMA, part)
        uploads.append({"name": name, "type": "", "size": len(buf.getvalue()), "content": memoryview(buf.getvalue()),
                        "last_modified": datetime.datetime.now(datetime.timezone.utc)})
    q.upload.value = tuple(uploads)
    q.run_button.click()
    assert "2 files: 6 ZTF alerts" in q.status.value
    assert list(q.result["alert"]) == [0, 0, 1, 2, 3, 4] and "drb" in q.result.colnames
    assert "<img" not in q.table_view.value and "&lt;img src=x onerror=alert(1)&gt;" in q.table_view.value
    assert list(c.model.options) == ["transient_realbogus"]
    c.run_button.click()
    assert "6 rows classified with transient_realbogus" in c.status.value and len(c.gallery.children) == 6
    assert "<img" not in c.table_view.value
    ref = models.load("transient_realbogus").predict(stamps[:6])
    assert list(c.result.table["pred_class"]) == ref.names
