"""SCS, SIA, SSA and DataLink round trips; arrays equal the FITS pixels; malformed answers."""

import os
import threading
import time
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from astropy.io import fits

from astrohub.archive.builder import SIZES
from astrohub.vo import Archive, MalformedResponse
from astrohub.vo.arrays import normalize_images

pytestmark = pytest.mark.archive

CAT = "SELECT o.* FROM astrohub.objects AS o JOIN astrohub.{t} AS x ON o.obj_id = x.obj_id"


def _local_file(live, url):
    return live.resdir / url.split("/getproduct/astrohub/", 1)[1]


def test_cone_scs_matches_adql(arc):
    scs = arc.cone(150.0, 2.2, 0.2)
    adql = arc.cone(150.0, 2.2, 0.2, table="astrohub.objects")
    assert len(scs) > 0
    assert sorted(int(v) for v in scs["obj_id"]) == sorted(int(v) for v in adql["obj_id"])


def test_cone_bad_input(arc):
    with pytest.raises(ValueError, match=r"dec must be a number in \[-90, 90\] degrees, got 95"):
        arc.cone(150.0, 95, 0.1)
    with pytest.raises(ValueError, match=r"radius must be a number in \(0, 180\] degrees, got 0"):
        arc.cone(150.0, 2.0, 0)
    with pytest.raises(ValueError, match="has no cone-search URL"):
        Archive(arc.urls["tap"]).cone(150.0, 2.0, 0.1)


def test_sia_cutouts_equal_fits_pixels(arc, live):
    ref = arc.query("SELECT TOP 1 centerAlpha, centerDelta, obj_id FROM astrohub.cutouts WHERE task='morphology'")
    ra, dec = float(ref["centerAlpha"][0]), float(ref["centerDelta"][0])
    found = arc.sia(ra, dec, 0.001)
    assert int(ref["obj_id"][0]) in list(found["obj_id"])
    imgs = arc.cutouts(found)
    assert len(imgs) == len(found) and not imgs.missing
    for img, url in zip(imgs.images, imgs.urls):
        np.testing.assert_array_equal(img, fits.getdata(_local_file(live, url)).astype(np.float32))
    two_d = [i for i, im in enumerate(imgs.images) if im.ndim == 2]
    x = imgs.__class__([imgs.images[i] for i in two_d], [], np.array(two_d), [], []).array()
    assert isinstance(x, np.ndarray) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0], fits.getdata(_local_file(live, imgs.urls[two_d[0]])))


def test_datalink_catalog_rows_to_cutouts(arc, live):
    cat = arc.query(CAT.format(t="cutouts") + " WHERE x.task = 'transient'")
    assert cat.meta["datalink_id"] == "obj_id"
    imgs = arc.cutouts(cat)
    assert len(imgs) == len(cat) == SIZES["small"].transient
    assert not imgs.missing
    t = imgs.array()
    assert tuple(t.shape) == (len(cat), 3, 64, 64)
    for k in (0, len(cat) - 1):
        h = imgs.headers[k]
        assert h["OBJ_ID"] == cat["obj_id"][imgs.rows[k]]
        np.testing.assert_array_equal(t[k], fits.getdata(_local_file(live, imgs.urls[k])))
    z = imgs.array("zscore")
    np.testing.assert_allclose(z, normalize_images(t, "zscore"))
    d = imgs.to_dask(chunk=16)
    np.testing.assert_array_equal(d[:16].compute(), t[:16])


def test_cached_products_expire_and_headers_give_values_in_row_order(arc):
    """A rebuilt archive serves new products at the same URLs: a cached copy older than the cache's
    ttl is fetched again. Header keywords come back per row (NaN where a header lacks one)."""
    cat = arc.query(CAT.format(t="cutouts") + " WHERE x.task = 'morphology'")[:6]
    first = arc.cutouts(cat)
    order = np.argsort(first.rows)
    psf = first.header_values("PSF_FWHM")
    assert psf.tolist() == [first.headers[i]["PSF_FWHM"] for i in order]
    assert np.isnan(first.header_values("NO_SUCH")).all()
    path = arc.cache.file_path(first.urls[0])
    path.write_bytes(b"what an older build served")
    with pytest.raises(MalformedResponse, match="is not a readable FITS file"):  # still fresh: used as is
        arc.cutouts(cat)
    old = time.time() - arc.cache.ttl - 60
    os.utime(path, (old, old))
    again = arc.cutouts(cat)
    np.testing.assert_array_equal(again.images[0], first.images[0])
    assert path.read_bytes() != b"what an older build served"


def test_rows_of_the_same_object_each_get_its_products(arc):
    """A JOIN repeats an object (one row per band of a galaxy served band by band; a catalogue row twice): every
    row gets its products through DataLink, the identifier asked for once. (Each ID of a batch used to map to its
    last row only, so the earlier rows of an object came back as missing.)"""
    from astropy.table import vstack

    cat = arc.query(CAT.format(t="cutouts") + " WHERE x.task = 'colour' ORDER BY o.obj_id", maxrec=9,
                    allow_truncated=True)
    assert cat.meta["datalink_id"] == "obj_id" and len(set(cat["obj_id"])) == 3  # three rows per galaxy
    imgs = arc.cutouts(cat)
    assert not imgs.missing and [h["OBJ_ID"] for h in imgs.headers] == [int(v) for v in cat["obj_id"]]
    links = arc.datalinks(cat)
    assert [int(np.sum(links["row"] == r)) for r in range(9)] == [3] * 9  # each galaxy's three bands, per row
    twice = vstack([cat[:1], arc.query(CAT.format(t="spectra") + " ORDER BY o.obj_id", maxrec=2,
                                       allow_truncated=True), cat[:1]])
    assert arc.datalinks(twice)["row"].tolist().count(3) == arc.datalinks(twice)["row"].tolist().count(0) == 3
    ztf = arc.obscore("obs_collection = 'ZTF alerts' ORDER BY obs_publisher_did", top=2)  # DataLink documents
    again = arc.cutouts(vstack([ztf, ztf[:1]]))
    assert not again.missing and again.urls[2] == again.urls[0] != again.urls[1]


def test_datalink_rows_without_products_are_reported(arc):
    cat = arc.query("SELECT TOP 30 o.* FROM astrohub.objects AS o WHERE o.obj_id NOT IN "
                    "(SELECT c.obj_id FROM astrohub.cutouts AS c) ORDER BY o.obj_id")
    imgs = arc.cutouts(cat)
    assert len(imgs) == 0 and imgs.missing == list(range(30))


def test_ssa_spectra_round_trip(arc, live):
    res = arc.ssa(150.0, 2.2, 1.0)
    assert len(res) > 0
    specs = arc.spectra(res)
    assert len(specs) == len(res)
    x = specs.array(("WAVE", "FLUX", "ERROR"))
    assert tuple(x.shape) == (len(res), 3, 1024)
    f = fits.getdata(_local_file(live, specs.urls[0]), 1)
    np.testing.assert_array_equal(x[0, 1], f["FLUX"])
    assert str(specs.tables[0]["WAVE"].unit) == "Angstrom"


def test_spectra_and_lightcurves_via_datalink_match_catalog(arc):
    for kind, table, fetch in (("spectrum", "spectra", arc.spectra), ("lightcurve", "lightcurves", arc.lightcurves)):
        cat = arc.query(CAT.format(t=table) + " ORDER BY o.obj_id", maxrec=100000)
        got = fetch(cat)
        assert len(got) == len(cat) and not got.missing, kind
        assert [h["OBJ_ID"] for h in got.headers] == [int(cat["obj_id"][r]) for r in got.rows]
    lc = arc.lightcurves(arc.query(CAT.format(t="lightcurves") + " ORDER BY o.obj_id", maxrec=20, allow_truncated=True))
    x = lc.array("FLUX", normalize="median")
    assert abs(float(np.median(x)) - 1.0) < 1e-2


def test_datalink_table_lists_links(arc):
    cat = arc.query("SELECT TOP 5 o.* FROM astrohub.objects AS o JOIN astrohub.spectra AS s "
                    "ON o.obj_id = s.obj_id ORDER BY o.obj_id")
    links = arc.datalinks(cat)
    assert set(links["row"]) == set(range(5))
    assert "spectrum" in set(links["local_semantics"])


def test_series_bad_input(arc):
    specs = arc.spectra(arc.query("SELECT TOP 3 * FROM astrohub.spectra"))
    with pytest.raises(ValueError, match="normalize must be one of none, median, zscore"):
        specs.array("FLUX", normalize="log")
    with pytest.raises(KeyError, match="column 'FLUXX' not in table"):
        specs.array("FLUXX")


def test_mixed_shapes_say_what_to_do(arc):
    cat = arc.query("SELECT * FROM astrohub.cutouts WHERE task IN ('morphology', 'transient')")
    imgs = arc.cutouts(cat)
    with pytest.raises(ValueError, match="images have different shapes .* select one kind"):
        imgs.array()


class _Handler(BaseHTTPRequestHandler):
    def __init__(self, body, *a, **kw):
        self.body = body
        super().__init__(*a, **kw)

    def _send(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/x-votable+xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = _send

    def log_message(self, *a):
        pass


@pytest.fixture
def truncated_server(live):
    """A 127.0.0.1 server replaying the first half of a real DaCHS VOTable / FITS answer."""
    servers = []

    def serve(body: bytes) -> str:
        srv = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, body))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}"

    yield serve
    for s in servers:
        s.shutdown()


def test_malformed_votable(arc, truncated_server, tmp_path):
    import requests

    real = requests.post(arc.urls["tap"] + "/sync", data={"REQUEST": "doQuery", "LANG": "ADQL",
                         "QUERY": "SELECT TOP 200 * FROM astrohub.objects"}).content
    url = truncated_server(real[: len(real) // 2])
    broken = Archive(url + "/tap", cache_dir=tmp_path, retries=0)
    with pytest.raises(MalformedResponse, match="is not a valid VOTable"):
        broken.query("SELECT TOP 200 * FROM astrohub.objects")


def test_malformed_fits(arc, live, truncated_server):
    cat = arc.query("SELECT TOP 1 * FROM astrohub.cutouts")
    real = _local_file(live, str(cat["accref"][0])).read_bytes()
    url = truncated_server(real[:1000])
    cat["accref"] = [url + "/cutout.fits"]
    with pytest.raises(MalformedResponse, match="cutout.fits is not a readable FITS file"):
        arc.cutouts(cat)


def test_a_fits_or_gzip_bomb_is_refused_before_it_is_decoded(arc, live, truncated_server, monkeypatch,
                                                             compressed_fits_declaring):
    """A hostile archive's product: a few kB of tile-compressed FITS declaring a 30000 x 30000 image (3.6 GB as
    floats), refused from its header; a gzip stream that decompresses past the limit, refused at the limit."""
    import gzip
    import io

    cat = arc.query("SELECT TOP 1 accref, obj_id FROM astrohub.cutouts WHERE task = 'morphology'")
    cat["accref"] = [truncated_server(compressed_fits_declaring(30000)) + "/bomb.fits"]
    with pytest.raises(MalformedResponse, match=r"bomb\.fits is refused: its header declares a 30000 x 30000 image "
                                                r"\(900,000,000 px; at most 100,000,000\).*pixels are not read"):
        arc.cutouts(cat)
    monkeypatch.setattr("astrohub.defaults.MAX_GUNZIP_BYTES", 1 << 20)  # 1 MiB, so the test stays small
    cat["accref"] = [truncated_server(gzip.compress(bytes(3 << 20))) + "/bomb.fits.gz"]
    with pytest.raises(MalformedResponse, match=r"bomb\.fits\.gz is refused: it decompresses to more than 1,048,576 "
                                                r"bytes"):
        arc.cutouts(cat)
    real = _local_file(live, str(arc.query("SELECT TOP 1 accref FROM astrohub.cutouts")["accref"][0])).read_bytes()
    cat["accref"] = [truncated_server(gzip.compress(real)) + "/fine.fits.gz"]  # gzip under the limit reads
    np.testing.assert_array_equal(arc.cutouts(cat).images[0], fits.getdata(io.BytesIO(real)))


def test_sia_task_filter_gives_model_ready_batch(arc, live):
    found = arc.sia(150.0, 2.2, 2.5, task="lens")
    assert set(found["task"]) == {"lens"} and len(found) == SIZES["small"].lens
    imgs = arc.cutouts(found)
    x = imgs.array()
    assert tuple(x.shape) == (SIZES["small"].lens, 64, 64) and x.dtype == np.float32
    # one asinh normalisation in the package: the models' own (they apply it); vo refuses the name
    with pytest.raises(ValueError, match=r"normalize='asinh' is not an astrohub.vo mode: .*astrohub.models"):
        imgs.array("asinh")
    with pytest.raises(ValueError, match="normalize must be one of none, zscore, got 'log'"):
        imgs.array("log")
    labels = [h["LABEL"] for h in imgs.headers]
    assert labels == [int(found["label"][r]) for r in imgs.rows] and set(labels) == {0, 1}


def test_colour_images_are_the_served_bytes_and_a_non_image_is_named(arc, truncated_server):
    """Galaxy Zoo subjects' rows (an access reference per row): the kit's JPEGs byte for byte; a product that is
    not a JPEG or PNG (here a FITS cutout, then an HTML error page) is refused with its URL."""
    from astrohub.defaults import real_data_dir

    rows = arc.query("SELECT TOP 3 * FROM realsurvey.galaxyzoo ORDER BY dr7_objid")
    got = arc.colour_images(rows)
    assert len(got) == 3 and not got.missing
    files = got.in_row_order()
    kit = real_data_dir() / "galaxyzoo1_jpeg" / "images"
    assert files == [(kit / f"{n}.jpeg").read_bytes() for n in rows["dr7_objid"]] and files[0][:3] == b"\xff\xd8\xff"
    assert arc.product_kinds(rows) == {"colour"}
    fits_row = arc.query("SELECT TOP 1 accref, obj_id FROM astrohub.cutouts WHERE task = 'morphology'")
    with pytest.raises(MalformedResponse, match=r"\.fits is not a JPEG or PNG colour image \(it starts b'SIMPLE"):
        arc.colour_images(fits_row)
    r_band = arc.query("SELECT TOP 1 * FROM astrohub.cutouts WHERE task = 'morphology'")  # says its band: r
    assert arc.colour_images(r_band).missing == [0]  # one band alone is no colour image
    page = rows[:1]
    page["accref"] = [truncated_server(b"<html><body>503 Service Unavailable</body></html>") + "/g.jpeg"]
    with pytest.raises(MalformedResponse, match=r"g\.jpeg is not a JPEG or PNG colour image \(it starts b'<html>"):
        arc.colour_images(page)
    with pytest.raises(ValueError, match=r"unknown product kind 'rgb'; one of cutout, colour, lightcurve, spectrum"):
        arc.products(rows, "rgb")
