"""The Explorer's sky view (#19 item 4): Aladin Lite overlays carry the rows' positions and their predicted
classes (or binned photo-z), a new query replaces them, rows without positions say which columns are missing,
and Aladin Lite's JavaScript is the local npm bundle (no CDN)."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from astrohub.widgets import Explorer, bokehjs, sky

from .explorer import MORPH, PHOTO_Z, classify, query


def markers(spec: dict) -> dict[tuple[float, float], str]:
    return {(s[0], s[1]): o["name"] for o in spec["overlays"] for s in o["sources"]}


@pytest.mark.archive
def test_overlays_carry_positions_and_predicted_classes_and_follow_new_queries(arc):
    e = Explorer(arc)
    query(e, MORPH)
    rows = e.state.rows
    spec = e.sky.spec
    assert [o["name"] for o in spec["overlays"]] == ["query rows"]
    assert len(markers(spec)) == len(rows)
    assert e.sky.view is not None and e.sky.view.overlays == spec["overlays"]

    classify(e, "galaxy_morphology")
    t = e.state.result.table
    spec = e.sky.spec
    assert spec["colour_by"] == "pred_class"
    # one overlay per class of the model, each with its own colour
    assert [o["name"] for o in spec["overlays"]] == [f"predicted {c}" for c in e.state.result.class_names]
    assert len({o["color"] for o in spec["overlays"]}) == len(spec["overlays"])
    got = markers(spec)
    assert len(got) == len(t)
    for r in t:
        assert got[(float(r["ra"]), float(r["dec"]))] == f"predicted {r['pred_class']}"
    assert e.sky.view.overlays == spec["overlays"]
    assert "predicted" in e.sky.legend.value

    # a new query replaces the classified overlays with its own rows
    query(e, PHOTO_Z)
    spec = e.sky.spec
    assert [o["name"] for o in spec["overlays"]] == ["query rows"]
    assert set(markers(spec)) == {(float(r["ra"]), float(r["dec"])) for r in e.state.rows}
    assert e.sky.view.overlays == spec["overlays"]

    # a regression (photo-z): the predicted value binned on a colour map, every row in the bin of its value
    classify(e, "photoz_sim")
    spec = e.sky.spec
    col = spec["colour_by"]
    assert col in e.state.result.values
    assert len(spec["overlays"]) >= 6 and all(o["name"].startswith(col) for o in spec["overlays"])
    t = e.state.result.table
    got = markers(spec)
    for r in t:
        name = got[(float(r["ra"]), float(r["dec"]))]
        lo, hi = (float(x) for x in re.findall(r"[-+]?\d*\.?\d+(?:e[-+]?\d+)?", name.split(" ", 1)[1])[:2])
        assert lo - 1e-3 <= float(r[col]) <= hi + 1e-3, (name, float(r[col]))


def test_rows_without_positions_name_the_missing_ucds():
    t = Table({"objid": [1, 2], "mag_r": [18.0, 19.0]})
    with pytest.raises(ValueError, match=r"pos\.eq\.ra and pos\.eq\.dec.*columns: objid, mag_r"):
        sky.sky_overlays(t)
    # the panel shows the message instead of a view, and the Explorer goes on working
    e = Explorer()
    e.state.set_rows(t)
    assert "pos.eq.ra" in e.sky.legend.value and e.sky.spec is None
    assert e.sky.view is None


def test_positions_found_by_ucd_whatever_the_names_and_empty_ones_skipped():
    t = Table({"alpha": [10.0, np.nan, 10.2], "delta": [-5.0, -5.1, -5.2], "src": ["a", "b", "c"]})
    t["alpha"].meta["ucd"] = "pos.eq.ra;meta.main"
    t["delta"].meta["ucd"] = "pos.eq.dec;meta.main"
    t["src"].meta["ucd"] = "meta.id;meta.main"
    spec = sky.sky_overlays(t)
    assert set(markers(spec)) == {(10.0, -5.0), (10.2, -5.2)}
    assert spec["skipped"] == 1
    assert [s[2] for s in spec["overlays"][0]["sources"]] == ["a", "c"]
    assert abs(spec["target"][0] - 10.1) < 0.01 and abs(spec["target"][1] + 5.1) < 0.01
    with pytest.raises(ValueError, match="none of the 1 rows has a sky position"):
        sky.sky_overlays(Table({"ra": [np.nan], "dec": [1.0]}))


def test_blank_background_is_a_fits_of_the_field():
    hdu = fits.open(__import__("io").BytesIO(base64.b64decode(sky.blank_fits(150.0, 2.0, 0.5))))[0]
    assert hdu.header["CRVAL1"] == 150.0 and hdu.header["CRVAL2"] == 2.0
    assert hdu.data.shape == (64, 64)


def test_aladin_lite_comes_from_the_local_bundle_not_a_cdn(tmp_path, monkeypatch):
    js = sky.aladin_bundle()
    assert "export{" in js.replace(" ", "") and "data:application/wasm;base64," in js  # ES module, wasm inlined
    # the widget's own module imports nothing from the network
    assert not re.search(r"""import\s*(\(|[^;]*from)\s*["']https?:""", sky.ESM)
    assert "http" not in sky.ESM
    # JupyterLab pages get it from the @astrohub/bokehjs lab extension: notebooks do not carry 2.4 MB of it
    view = sky.SkyView()
    assert view._lib == "" and view.lib_file == sky.aladin_static_name()
    ext = bokehjs.install(tmp_path / "prefix")
    assert (ext / "static" / view.lib_file).read_text(encoding="utf-8") == js
    assert sky.SkyView(inline=True)._lib == js
    monkeypatch.setenv("ASTROHUB_ALADIN_JS", str(tmp_path / "nowhere.js"))
    with pytest.raises(FileNotFoundError, match="scripts/install.sh.*ASTROHUB_ALADIN_JS"):
        sky.aladin_bundle()
