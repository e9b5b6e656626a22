"""TAP through astrohub.vo against the live DaCHS: sync, async (resumable), uploads, cache, errors."""

import os

import numpy as np
import pytest
from astropy.table import Table

from astrohub.vo import ADQLError, Archive, JobError, RowLimitExceeded, ServiceUnreachable
from astrohub.vo.arrays import table_to_dask, table_to_numpy

pytestmark = pytest.mark.archive


def test_sync_returns_all_rows_with_units(arc, live):
    n = int(arc.query("SELECT COUNT(*) AS n FROM astrohub.objects")["n"][0])
    t = arc.query("SELECT * FROM astrohub.objects", maxrec=100000)
    assert n == live.survey()["catalog_rows"] == len(t)
    assert str(t["ra"].unit) == "deg" and str(t["mag_r"].unit) == "mag"
    assert len(set(t["obj_id"])) == n


def test_async_job_persists_and_resumes(arc, tmp_path):
    url = arc.submit("SELECT obj_id, mag_r FROM astrohub.objects WHERE mag_r < 19", name="bright")
    # a new client on the same cache directory (as after a kernel restart) finds and fetches it
    again = Archive.local(arc.urls["tap"], cache_dir=arc.cache.directory, progress=False)
    jobs = again.jobs()
    assert [j["url"] for j in jobs] == [url] and jobs[0]["name"] == "bright"
    t = again.fetch(url)
    ref = arc.query("SELECT obj_id FROM astrohub.objects WHERE mag_r < 19")
    assert sorted(t["obj_id"]) == sorted(ref["obj_id"]) and len(t) > 0
    assert np.all(t["mag_r"] < 19)


def test_async_mode_equals_sync(arc):
    q = "SELECT TOP 50 obj_id, ra FROM astrohub.objects ORDER BY obj_id"
    a, s = arc.query(q, mode="async", cache=False), arc.query(q, cache=False)
    np.testing.assert_array_equal(a["obj_id"], s["obj_id"])


def test_upload_join(arc):
    mine = Table({"obj_id": np.array([5, 17, 999, 123456789], dtype=np.int64)})
    for mode in ("sync", "async"):
        t = arc.query("SELECT o.obj_id, o.mag_r FROM astrohub.objects AS o "
                      "JOIN TAP_UPLOAD.mine AS m ON o.obj_id = m.obj_id", upload={"mine": mine}, mode=mode)
        assert sorted(t["obj_id"]) == [5, 17, 999]


def test_cache_hit_and_expiry(arc):
    q = "SELECT TOP 7 obj_id, mag_g FROM astrohub.objects ORDER BY mag_g"
    first = arc.query(q)
    files = list((arc.cache.directory / "tables").glob("*.vot"))
    assert len(files) == 1
    # prove the second call reads the cache: tamper with the stored copy
    from astrohub.vo.cache import query_key
    key = query_key(arc.urls["tap"], q, maxrec=None, upload={})
    stored = arc.cache.get(key)
    stored["obj_id"][0] = -1
    arc.cache.put(key, stored)
    second = arc.query(q)
    assert second["obj_id"][0] == -1
    np.testing.assert_array_equal(first["obj_id"][1:], second["obj_id"][1:])
    assert str(second["mag_g"].unit) == "mag"
    # an expired entry is not reused: the file is replaced by a fresh fetch
    arc.cache.ttl = 0
    os.utime(files[0], (1, 1))
    third = arc.query(q)
    np.testing.assert_array_equal(first["obj_id"], third["obj_id"])       # fresh, untampered
    assert files[0].stat().st_mtime > 1


def test_row_limit_says_how_many_and_what_to_do(arc):
    with pytest.raises(RowLimitExceeded) as e:
        arc.query("SELECT obj_id FROM astrohub.objects", maxrec=100)
    msg = str(e.value)
    assert f"{e.value.rows} rows returned" in msg and "maxrec=100" in msg and "raise maxrec" in msg
    assert e.value.rows >= 100 and len(e.value.table) == e.value.rows
    kept = arc.query("SELECT obj_id FROM astrohub.objects", maxrec=100, allow_truncated=True)
    assert kept.meta["truncated"] is True


@pytest.mark.parametrize("adql, message", [
    ("SELECT rmag FROM astrohub.objects", "column 'rmag' not in table astrohub.objects (did you mean 'mag_r'?)"),
    ("SELECT * FROM astrohub.objectz", "table 'astrohub.objectz' not found on astrohub-local "
                                       "(did you mean 'astrohub.objects'?)"),
    ("SELEC * FROM astrohub.objects", "Could not parse your query"),
])
def test_adql_errors(arc, adql, message):
    with pytest.raises(ADQLError) as e:
        arc.query(adql)
    assert message in str(e.value)


def test_bad_arguments(arc):
    with pytest.raises(ValueError, match="mode must be 'sync' or 'async'"):
        arc.query("SELECT 1 FROM astrohub.objects", mode="fast")
    with pytest.raises(ValueError, match="adql must be a non-empty ADQL string"):
        arc.query("  ")
    with pytest.raises(ValueError, match="maxrec must be a non-negative integer"):
        arc.query("SELECT 1 FROM astrohub.objects", maxrec=-5)
    with pytest.raises(ValueError, match="upload must map names to astropy Tables"):
        arc.query("SELECT 1 FROM astrohub.objects", upload={"t": [1, 2]})
    with pytest.raises(ValueError, match="tap must be an http"):
        Archive("ftp://example.org/tap")
    with pytest.raises(ValueError, match=r"unknown service 'gaai' \(did you mean 'gaia'\?\)"):
        Archive.named("gaai")
    with pytest.raises(JobError, match="is not available any more"):
        arc.fetch(arc.urls["tap"].replace("/tap", "/__system__/tap/run/async/nosuchjob"))


def test_unreachable_service_message(tmp_path):
    dead = Archive("http://127.0.0.1:9/tap", cache_dir=tmp_path, retries=1, backoff=0.01)
    with pytest.raises(ServiceUnreachable) as e:
        dead.query("SELECT 1 FROM x")
    assert "did not answer a sync TAP query at http://127.0.0.1:9/tap after 1 retries" in str(e.value)
    assert "astrohub archive status" in str(e.value)


def test_named_service_code_path_against_local_archive(arc, tmp_path):
    """The code used for remote archives (Archive(url)) works on the local one by URL."""
    plain = Archive(arc.urls["tap"], cache_dir=tmp_path)
    assert "astrohub.objects" in plain.tables()
    t = plain.cone(150.0, 2.2, 0.05, table="astrohub.objects")
    assert len(t) > 0


def test_table_to_numpy_and_dask(arc):
    t = arc.query("SELECT TOP 200 obj_id, mag_u, mag_g, mag_r, redshift FROM astrohub.objects ORDER BY obj_id")
    x = table_to_numpy(t, ["mag_u", "mag_g", "mag_r"])
    assert isinstance(x, np.ndarray) and x.dtype == np.float32
    np.testing.assert_allclose(x, np.array([[float(r[c]) for c in ("mag_u", "mag_g", "mag_r")] for r in t]))
    z = table_to_numpy(t, ["redshift"])[:, 0]
    assert np.array_equal(np.isnan(z), np.array([v is np.ma.masked for v in t["redshift"]]))
    assert np.isnan(z).any() and not np.isnan(z).all()
    s = table_to_numpy(t, ["mag_r"], normalize="standardize")
    assert abs(s.mean()) < 1e-5 and abs(s.std() - 1) < 1e-4
    d = table_to_dask(t, ["mag_r"], chunk=64)
    assert d.chunks[0][0] == 64
    np.testing.assert_allclose(d.compute(), x[:, 2:3])
    with pytest.raises(ValueError, match="normalize must be one of none, standardize, minmax"):
        table_to_numpy(t, ["mag_r"], normalize="max")
    with pytest.raises(KeyError, match="column 'rmag' not in table"):
        table_to_numpy(t, ["rmag"])


def test_registry_discovery_errors():
    import pyvo

    before = pyvo.registry.regtap.REGISTRY_BASEURL
    with pytest.raises(ServiceUnreachable, match="the registry did not answer .*needs the internet"):
        Archive.discover("galaxies", registry="http://127.0.0.1:9/tap")
    assert pyvo.registry.regtap.REGISTRY_BASEURL == before
    with pytest.raises(ValueError, match="keywords must be a non-empty string"):
        Archive.discover("  ")
