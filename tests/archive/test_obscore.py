"""ivoa.obscore, SIA v2 and DataLink on the live archive: every demo product and the real-survey resource."""

import io
import urllib.parse
import urllib.request

import numpy as np
import pytest
from astropy.io import fits
from astropy.io.votable import parse_single_table

from astrohub.archive.builder import SIZES

pytestmark = pytest.mark.archive

SMALL = SIZES["small"]


def tap(live, adql: str):
    """A TAP sync query's result table (astropy), failing with the service's message on an error."""
    body = urllib.parse.urlencode({"LANG": "ADQL", "REQUEST": "doQuery", "QUERY": adql}).encode()
    with urllib.request.urlopen(live.tap_url + "/sync", data=body, timeout=60) as r:
        return parse_single_table(io.BytesIO(r.read())).to_table()


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as r:
        assert r.status == 200, url
        return r.read()


def datalink(url: str, did: str):
    return parse_single_table(io.BytesIO(get(f"{url}?ID={urllib.parse.quote(did)}"))).to_table()


def test_obscore_publishes_every_demo_product(live):
    t = tap(live, "SELECT source_table, dataproduct_type, COUNT(*) AS n FROM ivoa.obscore "
                  "WHERE obs_collection='astrohub-demo' GROUP BY source_table, dataproduct_type")
    got = {(str(s), str(d)): int(n) for s, d, n in zip(t["source_table"], t["dataproduct_type"], t["n"])}
    assert got == {("astrohub.cutouts", "image"): SMALL.morphology + SMALL.lens + SMALL.transient
                   + 3 * SMALL.colour,
                   ("astrohub.spectra", "spectrum"): SMALL.spectra,
                   ("astrohub.lightcurves", "timeseries"): SMALL.lightcurves}


@pytest.mark.parametrize("ptype", ["image", "spectrum", "timeseries"])
def test_obscore_rows_carry_the_core_fields(live, ptype):
    t = tap(live, "SELECT obs_publisher_did, access_url, access_format, s_ra, s_dec, s_fov, s_region, em_min, "
                  "em_max, t_min, t_max, s_resolution, s_pixel_scale, o_ucd FROM ivoa.obscore "
                  f"WHERE obs_collection='astrohub-demo' AND dataproduct_type='{ptype}'")
    for col in ("obs_publisher_did", "access_url", "access_format", "s_ra", "s_dec", "s_fov", "s_region",
                "em_min", "em_max", "t_min", "t_max", "o_ucd"):
        assert not np.ma.is_masked(t[col]) or not t[col].mask.any(), f"{ptype}: {col} has NULLs"
    assert all(str(d).startswith("ivo://astrohub.local/~?astrohub/data/") for d in t["obs_publisher_did"])
    assert len(set(t["obs_publisher_did"])) == len(t)
    assert (t["em_min"] < t["em_max"]).all() and (t["t_min"] <= t["t_max"]).all()
    assert (t["t_min"] > 60000).all()                      # MJD of 2023 or later, not relative days
    if ptype == "image":
        assert not t["s_resolution"].mask.any() and not t["s_pixel_scale"].mask.any()
        assert set(np.round(t["s_pixel_scale"], 3)) == {0.2, 1.01, 0.396}
    # the product at access_url is the FITS file the row describes
    row = t[0]
    with fits.open(io.BytesIO(get(str(row["access_url"])))) as h:
        hdr = h[0].header
        if ptype == "image":
            assert abs(hdr["CRVAL1"] - row["s_ra"]) < 1e-3 and abs(hdr["CRVAL2"] - row["s_dec"]) < 1e-3
        else:
            assert abs(hdr["RA"] - row["s_ra"]) < 1e-7 and abs(hdr["DEC"] - row["s_dec"]) < 1e-7  # spoint: radians


def test_obscore_says_each_cutouts_band(live):
    """Each cutout's ObsCore record carries its own band (em_min/em_max from its FITS header): the demo's cutouts
    are r, and a galaxy of task colour has three records at one position, g, r and i, which do not overlap."""
    t = tap(live, "SELECT target_name, em_min, em_max, s_ra, s_dec FROM ivoa.obscore "
                  "WHERE obs_collection='astrohub-demo' AND dataproduct_type='image'")
    colour = {f"obj-{int(v)}" for v in tap(live, "SELECT obj_id FROM astrohub.cutouts WHERE task='colour'")["obj_id"]}
    assert len(t) == SMALL.morphology + SMALL.lens + SMALL.transient + 3 * SMALL.colour and len(colour) == SMALL.colour
    band = {(float(lo), float(hi)) for lo, hi in zip(t["em_min"], t["em_max"])}
    assert len(band) == 3
    g, r, i = sorted(band)
    assert g[0] < g[1] <= r[0] < r[1] <= i[0] < i[1]
    is_colour = np.array([str(v) in colour for v in t["target_name"]])
    assert {(float(lo), float(hi)) for lo, hi in zip(t["em_min"][~is_colour], t["em_max"][~is_colour])} == {r}
    for name in colour:
        one = t[np.array([str(v) == name for v in t["target_name"]])]
        assert sorted(zip(np.asarray(one["em_min"], float), np.asarray(one["em_max"], float))) == [g, r, i]
        assert np.ptp(np.asarray(one["s_ra"], float)) < 1e-9 and np.ptp(np.asarray(one["s_dec"], float)) < 1e-9


def test_obscore_spatial_query_matches_catalogue_position(live):
    """An ADQL INTERSECTS on s_region finds a cutout at its object's catalogue position."""
    ref = tap(live, "SELECT TOP 1 c.obj_id, o.ra, o.dec FROM astrohub.cutouts AS c "
                    "JOIN astrohub.objects AS o ON c.obj_id=o.obj_id WHERE c.task='morphology'")
    ra, dec = float(ref["ra"][0]), float(ref["dec"][0])
    hits = tap(live, "SELECT target_name FROM ivoa.obscore WHERE dataproduct_type='image' AND "
                     f"1=INTERSECTS(s_region, CIRCLE('ICRS', {ra}, {dec}, 0.0001))")
    assert f"obj-{int(ref['obj_id'][0])}" in [str(x) for x in hits["target_name"]]


def test_sia2_serves_images_from_obscore(live):
    ref = tap(live, "SELECT TOP 1 s_ra, s_dec, obs_publisher_did FROM ivoa.obscore "
                    "WHERE obs_collection='astrohub-demo' AND dataproduct_type='image'")
    ra, dec = float(ref["s_ra"][0]), float(ref["s_dec"][0])
    url = live.service_urls()["sia2"] + "?" + urllib.parse.urlencode(
        {"POS": f"CIRCLE {ra} {dec} 0.001", "COLLECTION": "astrohub-demo"})
    t = parse_single_table(io.BytesIO(get(url))).to_table()
    assert str(ref["obs_publisher_did"][0]) in [str(x) for x in t["obs_publisher_did"]]
    assert set(str(x) for x in t["dataproduct_type"]) == {"image"}
    far = parse_single_table(io.BytesIO(get(live.service_urls()["sia2"] + "?POS=CIRCLE+10+-60+0.1"))).to_table()
    assert not any(str(c) == "astrohub-demo" for c in far["obs_collection"])


def test_sia2_rejects_bad_pos(live):
    url = live.service_urls()["sia2"] + "?POS=CIRCLE+150"
    try:
        body = get(url)
    except urllib.error.HTTPError as e:
        body = e.read()
    assert b"QUERY_STATUS" in body and b"ERROR" in body


@pytest.mark.parametrize("ptype", ["image", "spectrum", "timeseries"])
def test_obscore_datalink_this_is_the_product(live, ptype):
    row = tap(live, "SELECT TOP 1 obs_publisher_did, access_url FROM ivoa.obscore "
                    f"WHERE obs_collection='astrohub-demo' AND dataproduct_type='{ptype}'")
    did, url = str(row["obs_publisher_did"][0]), str(row["access_url"][0])
    links = datalink(live.service_urls()["obscore_datalink"], did)
    this = links[links["semantics"] == "#this"]
    assert len(this) == 1 and str(this["access_url"][0]) == url
    previews = links[links["semantics"] == "#preview"]
    if ptype == "image":                     # DaCHS renders FITS images as JPEG previews
        assert len(previews) == 1 and get(str(previews["access_url"][0]))[:3] == b"\xff\xd8\xff"
    else:                                    # no preview is offered for table products
        assert len(previews) == 0


def test_datalink_unknown_id_is_an_error_row(live):
    links = datalink(live.service_urls()["obscore_datalink"], "ivo://astrohub.local/~?astrohub/data/nothere.fits")
    assert "NotFoundFault" in str(links["error_message"][0])


# -- the real-survey resource -------------------------------------------------------------------------------

def test_real_survey_has_no_astrohub_columns(live):
    cols = tap(live, "SELECT table_name, column_name FROM tap_schema.columns WHERE table_name LIKE 'realsurvey.%'")
    names = {str(c) for c in cols["column_name"]}
    assert not names & {"task", "obj_id", "label", "class_name", "mag_u", "err_u"}
    assert {"objid", "modelmag_u", "modelmagerr_z", "class", "z", "candid", "objectid", "dr7_objid",
            "gz1_class"} <= names


def test_sdss_table_declares_ucds(live):
    cols = tap(live, "SELECT column_name, ucd FROM tap_schema.columns WHERE table_name='realsurvey.specphoto'")
    ucd = {str(n): str(u) for n, u in zip(cols["column_name"], cols["ucd"])}
    assert ucd["ra"] == "pos.eq.ra;meta.main" and ucd["dec"] == "pos.eq.dec;meta.main"
    assert ucd["z"] == "src.redshift" and ucd["class"] == "src.class"
    assert ucd["modelmag_u"] == "phot.mag;em.opt.U" and ucd["modelmagerr_u"] == "stat.error;phot.mag;em.opt.U"
    assert ucd["modelmag_r"] == "phot.mag;em.opt.R"


def test_sdss_rows_are_the_kit(live):
    import csv

    from astrohub.defaults import real_data_dir

    rows = list(csv.DictReader(open(real_data_dir() / "sdss_photoz" / "sdss_dr14_skyserver_trainhalf.csv")))
    t = tap(live, "SELECT COUNT(*) AS n, COUNT(DISTINCT objid) AS nid FROM realsurvey.specphoto")
    assert int(t["n"][0]) == len(rows) == int(t["nid"][0])          # objid unique despite the kit's truncation
    first = rows[0]
    hit = tap(live, "SELECT objid, modelmag_g, class, z, run, field FROM realsurvey.specphoto WHERE "
                    f"1=CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {first['ra']}, {first['dec']}, 0.00001))")
    assert len(hit) == 1 and str(hit["class"][0]) == first["class"]
    assert float(hit["modelmag_g"][0]) == pytest.approx(float(first["g"]), abs=1e-4)
    assert float(hit["z"][0]) == pytest.approx(float(first["redshift"]), abs=1e-6)
    # the SDSS objID bit layout: run and field decode back
    objid = int(hit["objid"][0])
    assert (objid >> 32) & 0xFFFF == int(first["run"]) and (objid >> 16) & 0xFFF == int(first["field"])


def test_ztf_stamps_behind_obscore_and_datalink(live):
    t = tap(live, "SELECT obs_publisher_did, access_url, access_format, target_name, s_ra, s_dec, t_min "
                  "FROM ivoa.obscore WHERE obs_collection='ZTF alerts' AND dataproduct_type='image'")
    assert len(t) == 1000
    assert set(str(f) for f in t["access_format"]) == {"application/x-votable+xml;content=datalink"}
    row = t[0]
    links = parse_single_table(io.BytesIO(get(str(row["access_url"])))).to_table()
    this = links[links["semantics"] == "#this"]
    assert len(this) == 1 and str(this["content_type"][0]) == "image/fits"
    with fits.open(io.BytesIO(get(str(this["access_url"][0])))) as h:
        img, hdr = h[0].data, h[0].header
    assert img.shape == (3, 63, 63) and hdr["OBJECTID"] == str(row["target_name"])
    assert abs(hdr["CRVAL1"] - row["s_ra"]) < 1e-9
    # the same stamp as the kit's
    from astrohub.defaults import real_data_dir

    kit = np.load(real_data_dir() / "ztf_alerts" / "ztf_triplets_63x63.npz")
    i = int(np.flatnonzero(kit["candid"] == hdr["CANDID"])[0])
    np.testing.assert_array_equal(img, kit["triplets"][i])
    # the alert table's rows carry the DataLink service descriptor
    body = get(live.tap_url + "/sync?" + urllib.parse.urlencode(
        {"LANG": "ADQL", "QUERY": "SELECT TOP 1 candid, pubdid FROM realsurvey.ztf_alerts"}))
    assert b"ivo://ivoa.net/std/DataLink#links" in body and b"realsurvey/q/dl/dlmeta" in body


def test_kepler_tess_lightcurves_behind_obscore(live):
    t = tap(live, "SELECT target_name, access_url, t_min, t_max, t_xel, facility_name FROM ivoa.obscore "
                  "WHERE obs_collection='Kepler/TESS' AND dataproduct_type='timeseries'")
    assert len(t) == 12
    assert {str(f) for f in t["facility_name"]} == {"KEPLER", "TESS"}
    wasp = t[[str(n) == "WASP-126" for n in t["target_name"]]]
    assert len(wasp) == 1
    assert 58300 < float(wasp["t_min"][0]) < float(wasp["t_max"][0]) < 58400      # TESS sector 1, 2018
    with fits.open(io.BytesIO(get(str(wasp["access_url"][0])))) as h:
        assert "PDCSAP_FLUX" in h[1].columns.names and len(h[1].data) >= int(wasp["t_xel"][0])


def test_galaxy_zoo_jpegs_behind_obscore(live):
    """Every kit subject is an ObsCore image in image/jpeg (no position: the JPEGs carry none), and the product
    is the kit's file byte for byte."""
    import csv

    from astrohub.defaults import real_data_dir

    kit = real_data_dir() / "galaxyzoo1_jpeg"
    labels = {r["dr7_objid"]: r["gz1_class"] for r in csv.DictReader(open(kit / "labels.csv"))}
    t = tap(live, "SELECT target_name, access_url, access_format, s_ra, calib_level FROM ivoa.obscore "
                  "WHERE obs_collection='Galaxy Zoo 1' AND dataproduct_type='image'")
    assert len(t) == len(labels) == 2058
    assert {str(f) for f in t["access_format"]} == {"image/jpeg"} and set(t["calib_level"]) == {3}
    assert np.ma.getmaskarray(t["s_ra"]).all()
    assert {str(n) for n in t["target_name"]} == set(labels)
    row = t[0]
    assert get(str(row["access_url"])) == (kit / "images" / f"{row['target_name']}.jpeg").read_bytes()
    one = tap(live, f"SELECT gz1_class FROM realsurvey.galaxyzoo WHERE dr7_objid={row['target_name']}")
    assert str(one["gz1_class"][0]) == labels[str(row["target_name"])]


def test_real_survey_import_is_cached(live):
    """A second import with the same kits rebuilds nothing (the live fixture already imported them)."""
    rd = live.root / "inputs" / "realsurvey" / "q.rd"
    before = rd.stat().st_mtime_ns
    summary = live.import_real_survey()
    assert rd.stat().st_mtime_ns == before
    assert summary == live.status()["realsurvey"] and summary["specphoto"] == 5078 and summary["galaxyzoo"] == 2058


def test_missing_kit_is_named(tmp_path):
    from astrohub.archive.realsurvey import KitMissing, build_real

    (tmp_path / "sdss_photoz").mkdir()
    (tmp_path / "sdss_photoz" / "SHA256SUMS").write_text("")
    with pytest.raises(KitMissing, match=r"real data kit 'ztf_alerts' not found .* set \$ASTROHUB_REAL_DATA"):
        build_real(tmp_path, tmp_path / "out")
