"""ZTF alerts as ZTF serves them (issue #17): Avro files of alert packets, one alert per file as in ZTF's public alert
archive (its nightly ``ztf_public_YYYYMMDD.tar.gz``) or many per file as a broker's download, read by
``pipeline.Files`` (one row per alert, with ZTF's own candidate figures beside it) and by
``transient_realbogus.predict`` directly. Built from the ztf_alerts kit's real stamps and candidate records
(tests/pipeline/ztf_avro.py); the answers equal ``predict`` on the kit's arrays. What cannot be read is named, alert
by alert."""

from __future__ import annotations

import gzip
import io
import tarfile

import fastavro
import numpy as np
import pytest

from astrohub import models, pipeline
from astrohub.models.inputs.images import InputError

from . import ztf_avro


def _probs(result) -> np.ndarray:
    return np.stack([np.asarray(result.table[f"p_{c}"], float) for c in result.class_names], 1)


@pytest.fixture(scope="module")
def kit():
    return ztf_avro.kit()


def test_an_alert_archive_tarball_and_a_brokers_file_are_one_row_per_alert_classified_as_predict_does(kit, tmp_path):
    """A night of ZTF's public alert archive uploaded (single-alert files, one gzipped) beside a broker's file of ten:
    fifteen rows whose candidate figures are the kit's, classified (and read by predict) as the kit's arrays are."""
    stamps, meta = kit
    drb = np.ma.filled(meta["drb"].astype(float), np.nan)
    pick = [*np.flatnonzero(np.isnan(drb))[:5], *np.flatnonzero(np.isfinite(drb))[:10]]  # 2018's alerts predate drb
    packets = [ztf_avro.packet(stamps, meta, i) for i in pick]
    night = io.BytesIO()  # ZTF's public alert archive: a .tar.gz of <candid>.avro, one alert each
    with tarfile.open(fileobj=night, mode="w:gz") as t:
        for p in packets[:5]:
            buf = io.BytesIO()
            fastavro.writer(buf, ztf_avro.SCHEMA, [p])
            info = tarfile.TarInfo(f"{p['candid']}.avro")
            info.size = len(buf.getvalue())
            t.addfile(info, io.BytesIO(buf.getvalue()))
    saved, not_unpacked = pipeline.save_uploads([("ztf_public_20180131.tar.gz", night.getvalue())], tmp_path / "up")
    assert not_unpacked == [] and saved == [tmp_path / "up" / "ztf_public_20180131"]
    ztf_avro.write(saved[0] / "broker.avro", packets[5:])  # a broker's download: ten alerts in one file
    first = sorted(saved[0].glob("*.avro"))[0]  # one alert file gzipped, as some mirrors keep them
    first.with_name(first.name + ".gz").write_bytes(gzip.compress(first.read_bytes()))
    first.unlink()

    got = pipeline.Files(saved[0])
    assert got.summary() == "6 files: 15 ZTF alerts" and got.skipped == []
    t = got.table
    order = [int(c) for c in t["candid"]]
    assert sorted(order[:5]) == order[:5] and order[5:] == [int(c) for c in meta["candid"][pick[5:]]]
    rows = [int(np.flatnonzero(meta["candid"] == c)[0]) for c in order]  # the kit's row of each listed alert
    assert list(t["name"]) == list(t["target"]) == [str(meta["objectId"][i]) for i in rows]
    assert list(t["kind"]) == ["cutout"] * 15 and list(t["alert"]) == [0] * 5 + list(range(10))
    assert list(t["band"]) == [{1: "g", 2: "r"}[int(meta["fid"][i])] for i in rows]
    np.testing.assert_allclose(t["ra"], meta["ra"][rows])
    np.testing.assert_allclose(t["dec"], meta["dec"][rows])
    np.testing.assert_allclose(t["drb"], drb[rows], rtol=1e-6)
    assert list(t["isdiffpos"]) == [str(meta["isdiffpos"][i]) for i in rows]

    assert pipeline.compatible_models(t, got) == ["transient_realbogus"]
    result = pipeline.classify(t, "transient_realbogus", got)
    rb = models.load("transient_realbogus")
    ref = rb.predict(stamps[rows])
    assert list(result.table["pred_class"]) == ref.names
    np.testing.assert_allclose(_probs(result), ref.probabilities, atol=1e-6)
    assert np.isnan(t["drb"]).sum() == 5
    np.testing.assert_array_equal(result.table["drb"], t["drb"])  # ZTF's own score stays beside the model's
    # the predictor reads the files themselves: every alert of each file, in order
    files = sorted(saved[0].glob("*.avro*"))
    direct = rb.predict([str(f) for f in files])
    want = [int(np.flatnonzero(meta["candid"] == c)[0]) for f in files for c in
            ([int(f.name.split(".")[0])] if not f.name.startswith("broker") else list(meta["candid"][pick[5:]]))]
    np.testing.assert_allclose(direct.probabilities, rb.predict(stamps[want]).probabilities, atol=1e-6)


def test_alerts_and_files_that_cannot_be_used_are_named(kit, tmp_path):
    """A null cutout, a stamp that is not FITS, stamps cut short, a truncated file, another codec and Avro data that
    is not alerts: each named with its reason, the good alerts classified; predict names what it cannot read."""
    stamps, meta = kit
    packets = [ztf_avro.packet(stamps, meta, i) for i in range(5)]
    packets[1]["cutoutDifference"] = None  # the schema allows a null cutout
    packets[2]["cutoutScience"] = {"fileName": "x.fits.gz", "stampData": b"\x1f\x8b not gzip at all"}
    short = ztf_avro.packet(stamps[:, :, :, 11:], meta, 4)  # 63x52: cut at a CCD's edge
    packets[4] = short
    ztf_avro.write(tmp_path / "mixed.avro", packets)
    whole = (tmp_path / "mixed.avro").read_bytes()
    (tmp_path / "cut.avro").write_bytes(whole[:len(whole) // 2])
    ztf_avro.write(tmp_path / "bzip.avro", packets[:1], codec="bzip2")
    with open(tmp_path / "other.avro", "wb") as f:  # an Avro file of something else
        fastavro.writer(f, fastavro.parse_schema({"type": "record", "name": "star", "fields": [
            {"name": "ra", "type": "double"}]}), [{"ra": 1.0}])

    got = pipeline.Files(tmp_path)
    assert got.summary().startswith("1 file: 2 ZTF alerts; 6 skipped")
    assert [int(c) for c in got.table["candid"]] == [int(meta["candid"][0]), int(meta["candid"][3])]
    assert list(got.table["alert"]) == [0, 3]
    reasons = {F if ": alert" in F else F.rsplit("/", 1)[-1]: why for F, why in got.skipped}
    assert reasons["mixed.avro: alert 1"] == "alert 1 has no cutoutDifference (the packet's cutout is null)"
    assert reasons["mixed.avro: alert 2"].startswith("alert 2 cutoutScience is not a FITS image (gzip:")
    assert reasons["mixed.avro: alert 4"] == ("alert 4's stamps are 63x52, not ZTF's 63x63 (cut short at a CCD's "
                                              "edge?): the candidate would not be at their centre")
    assert reasons["bzip.avro"] == ("is an Avro file compressed with 'bzip2': astrohub reads null or deflate (ZTF's "
                                    "own alert files are 'null')")
    assert reasons["cut.avro"].startswith("is not a readable Avro file, truncated or damaged, after ")
    assert reasons["other.avro"] == ("an Avro file of 1 record(s) that are not ZTF alert packets (record 0 is not a "
                                     "ZTF alert packet (no candidate record; it has ['ra']))")
    result = pipeline.classify(got.table, "transient_realbogus", got)  # the readable alerts go on
    np.testing.assert_allclose(_probs(result), models.load("transient_realbogus").predict(stamps[[0, 3]]).probabilities,
                               atol=1e-6)

    rb = models.load("transient_realbogus")
    with pytest.raises(InputError, match=r"transient_realbogus: mixed.avro: alert 1 has no cutoutDifference"):
        rb.predict(str(tmp_path / "mixed.avro"))
    (tmp_path / "notes.txt").write_text("not an alert")
    with pytest.raises(InputError, match=r"notes.txt is not an Avro file \(ZTF's alert packets; it starts b'not an "):
        rb.predict([str(tmp_path / "notes.txt")])
    with pytest.raises(InputError, match=r"transient_realbogus: cannot read .*gone.avro \(No such file"):
        rb.predict(str(tmp_path / "gone.avro"))
