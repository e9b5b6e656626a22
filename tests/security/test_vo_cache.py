"""Issue 18, item 8: the VO cache never gives a silent wrong answer and never fails a good query.

Against the live DaCHS archive:
- two queries that differ only in whitespace inside a string literal get their own answers;
- after the archive is rebuilt, results and products cached from the old build are not used;
- a cache folder that cannot be written (another user's read-only folder; a file in the way)
  gives the query's result with a warning, never an error;
- ``jobs.json`` and cache files are replaced atomically (a temporary file in the same folder, then
  a rename): a reader holding the old file keeps it whole, and nothing half-written is left.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap

import numpy as np
import pytest

from astrohub.vo import Archive
from astrohub.vo.cache import CacheWriteWarning, normalise_adql, query_key

from .throwaway import as_user, remove, scratch, user

CAT = ("SELECT TOP 2 o.* FROM astrohub.objects AS o JOIN astrohub.cutouts AS c ON o.obj_id = c.obj_id "
       "WHERE c.task = 'morphology' ORDER BY o.obj_id")


def test_whitespace_inside_string_literals_is_part_of_the_key(arc):
    two = arc.query("SELECT TOP 1 'a  b' AS s FROM astrohub.objects")
    one = arc.query("SELECT TOP 1 'a b' AS s FROM astrohub.objects")
    assert str(two["s"][0]) == "a  b" and str(one["s"][0]) == "a b"
    # whitespace outside literals still does not matter: the same entry answers
    assert normalise_adql("SELECT  TOP 1\n 'a  b'  AS s   FROM t") == "SELECT TOP 1 'a  b' AS s FROM t"
    assert query_key("u", "SELECT 'x' FROM t") == query_key("u", "SELECT\n  'x'   FROM t")
    assert query_key("u", "SELECT 'x ' FROM t") != query_key("u", "SELECT 'x' FROM t")
    assert query_key("u", 'SELECT "my  col" FROM t') != query_key("u", 'SELECT "my col" FROM t')
    assert len(list((arc.cache.directory / "tables").glob("*.vot"))) == 2


def test_a_rebuilt_archive_does_not_answer_from_the_old_builds_cache(arc, live):
    q = "SELECT TOP 5 obj_id, mag_r FROM astrohub.objects ORDER BY obj_id"
    first = arc.query(q)
    cat = arc.query(CAT)
    imgs = arc.cutouts(cat)
    # what the old build served, as the cache holds it: mark it so that reuse shows
    key = query_key(arc.urls["tap"], q, maxrec=None, upload={})
    stale = arc.cache.get(key)
    stale["mag_r"][:] = -99.0
    arc.cache.put(key, stale)
    product = arc.cache.file_path(imgs.urls[0])
    product.write_bytes(b"the old build's product")
    assert arc.query(q)["mag_r"][0] == -99.0          # unchanged archive: the cache answers
    old_build = arc.build_identity()

    live.import_survey(0, "small")                    # the archive is rebuilt
    assert arc.build_identity() != old_build
    again = arc.query(q)
    np.testing.assert_array_equal(again["mag_r"], first["mag_r"])  # the service's answer, not the cache's
    fresh = arc.cutouts(cat)
    np.testing.assert_array_equal(fresh.images[0], imgs.images[0])
    assert product.read_bytes() == b"the old build's product"   # left behind, never read again


def test_a_restart_keeps_the_build(arc, live):
    """A restart is not a rebuild: cached results stay usable (what lets a fetch resume after a crash)."""
    before = arc.build_identity()
    assert before
    live.stop()
    try:
        assert arc.build_identity() == before   # down: the last identity seen from this cache
    finally:
        live.start()
    assert arc.build_identity() == before


READ_ONLY = textwrap.dedent("""
    import sys, warnings
    from astrohub.vo import Archive
    arc = Archive.local(sys.argv[1], cache_dir=sys.argv[2], retries=1, backoff=0.1, progress=False)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = arc.query("SELECT TOP 4 obj_id FROM astrohub.objects ORDER BY obj_id")
        cat = arc.query(sys.argv[3], cache=False)
        imgs = arc.cutouts(cat)
        job = arc.submit("SELECT TOP 3 obj_id FROM astrohub.objects")
        a = arc.fetch(job)
    print("ROWS", len(t), len(imgs), len(a))
    for x in w:
        print("WARNING", type(x.message).__name__, str(x.message).splitlines()[0])
""")


def test_a_read_only_cache_never_fails_a_query(live):
    """A second Unix user whose cache folder is not writable (root's, 0555) still gets every answer."""
    root = scratch()
    cache = root / "cache"
    cache.mkdir(mode=0o555)
    os.chmod(cache, 0o555)
    try:
        with user() as entry:
            proc = as_user(entry, [sys.executable, "-c", READ_ONLY, live.base_url, str(cache), CAT], timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "ROWS 4 2 3" in proc.stdout
        warned = [line for line in proc.stdout.splitlines() if line.startswith("WARNING CacheWriteWarning")]
        assert any("could not write a query result to its cache" in line for line in warned), proc.stdout
        assert any("could not write a downloaded product" in line for line in warned), proc.stdout
        assert any("could not record async job" in line for line in warned), proc.stdout
        assert os.listdir(cache) == []
    finally:
        remove(root)


def test_a_cache_write_that_fails_only_warns(live, tmp_path):
    """As root (whom permissions do not stop): files where the cache's folders should be."""
    cache = tmp_path / "cache"
    cache.mkdir()
    for name in ("tables", "files"):
        (cache / name).write_text("not a folder")
    arc = Archive.local(live.base_url, cache_dir=cache, retries=1, backoff=0.1, progress=False)
    with pytest.warns(CacheWriteWarning, match="the result is returned but not cached"):
        t = arc.query("SELECT TOP 4 obj_id FROM astrohub.objects ORDER BY obj_id")
    assert len(t) == 4
    with pytest.warns(CacheWriteWarning, match="could not write a downloaded product"):
        imgs = arc.cutouts(arc.query(CAT, cache=False))
    assert len(imgs) == 2


def test_jobs_and_cache_files_are_replaced_atomically(arc):
    jobs = arc.cache.directory / "jobs.json"
    first = arc.submit("SELECT TOP 2 obj_id FROM astrohub.objects")
    with open(jobs) as reader:                       # a reader that opened the old file ...
        inode = os.fstat(reader.fileno()).st_ino
        second = arc.submit("SELECT TOP 3 obj_id FROM astrohub.objects")
        assert json.loads(reader.read()).keys() == {first}   # ... keeps reading it whole
    assert os.stat(jobs).st_ino != inode                # the new one was renamed into place
    assert set(json.loads(jobs.read_text())) == {first, second}
    q = "SELECT TOP 3 obj_id FROM astrohub.objects ORDER BY obj_id"
    arc.query(q)
    entry = arc.cache._path(query_key(arc.urls["tap"], q, maxrec=None, upload={}))
    with open(entry, "rb") as reader:
        inode = os.fstat(reader.fileno()).st_ino
        arc.cache.put(query_key(arc.urls["tap"], q, maxrec=None, upload={}), arc.query(q, cache=False))
    assert os.stat(entry).st_ino != inode
    leftovers = [p.name for p in arc.cache.directory.rglob("*") if p.name.endswith((".tmp", ".part"))]
    assert leftovers == []
