"""Killing DaCHS mid-fetch: a clear error, then after a restart the same call completes (no rows lost).

Named ``zz`` so it runs after the other archive tests; it restarts the server it kills.
"""

import pytest

from astrohub.vo import ServiceUnreachable

pytestmark = pytest.mark.archive

CAT = "SELECT o.* FROM astrohub.objects AS o JOIN astrohub.cutouts AS c ON o.obj_id = c.obj_id ORDER BY o.obj_id"


def test_kill_mid_fetch_then_retry_after_restart(arc, live):
    cat = arc.query(CAT, maxrec=100000)
    expected = sorted(int(v) for v in cat["obj_id"])
    killed_after = 7

    def hook(done):
        if done == killed_after:
            live.kill()

    arc._on_product = hook
    try:
        with pytest.raises(ServiceUnreachable) as e:
            arc.cutouts(cat)
    finally:
        arc._on_product = None
        live.start()
    msg = str(e.value)
    assert f"{killed_after} of {len(cat)} cutouts were fetched and are cached" in msg
    assert "calling again fetches only the rest" in msg and "astrohub archive status" in msg

    imgs = arc.cutouts(cat)                          # resumes: every row, none dropped
    assert len(imgs) == len(cat) and not imgs.missing
    assert sorted(h["OBJ_ID"] for h in imgs.headers) == expected


def test_tap_while_down_then_after_restart(arc, live):
    live.kill()
    try:
        with pytest.raises(ServiceUnreachable, match="did not answer a sync TAP query"):
            arc.query("SELECT obj_id FROM astrohub.objects", maxrec=100000, cache=False)
    finally:
        live.start()
    t = arc.query("SELECT obj_id FROM astrohub.objects", maxrec=100000, cache=False)
    assert len(t) == live.survey()["catalog_rows"]


def test_kill_during_large_tap_fetch_never_returns_partial_rows(arc, live):
    """Kill DaCHS while a ~100k-row answer is produced: a clear error or every row, never fewer."""
    import threading

    from astrohub.vo import MalformedResponse

    n = 100_000
    q = ("SELECT TOP 100000 a.obj_id, a.ra, a.mag_r, b.period FROM astrohub.objects AS a, "
         "astrohub.lightcurves AS b")
    timer = threading.Timer(0.4, live.kill)
    timer.start()
    try:
        t = arc.query(q, maxrec=n, cache=False)
    except (ServiceUnreachable, MalformedResponse) as e:
        assert "did not answer" in str(e) or "not a valid VOTable" in str(e)
    else:
        assert len(t) == n
    finally:
        timer.join()
        live.start()
    assert len(arc.query(q, maxrec=n, cache=False)) == n


def test_jobs_caught_by_a_crash_do_not_block_the_queue(arc, live):
    """Async jobs running when DaCHS dies are failed on restart (clearly), and new jobs still run."""
    from astrohub.vo import JobError

    slow = ("SELECT TOP 300000 a.obj_id, b.obj_id AS other FROM astrohub.objects AS a, astrohub.objects AS b "
            "ORDER BY a.mag_r + b.mag_g")
    jobs = [arc.submit(slow) for _ in range(5)]        # more than the server's 4 running slots
    live.kill()
    assert live.unfinished_jobs() >= 1                 # (at least the fifth is still queued)
    live.start()
    assert live.unfinished_jobs() == 0                 # each was failed before the new server took requests
    for url in jobs:
        try:
            t = arc.fetch(url, timeout=120)
        except JobError as e:
            assert "submit the query again" in str(e)
        else:
            assert len(t) == 300000
    fresh = arc.submit("SELECT TOP 10 obj_id FROM astrohub.objects")
    assert len(arc.fetch(fresh, timeout=120)) == 10


def test_async_adql_error_and_fetch_timeout(arc):
    from astrohub.vo import ADQLError, JobError

    with pytest.raises(ADQLError, match="did you mean 'mag_r'"):
        arc.query("SELECT rmag FROM astrohub.objects", mode="async")
    url = arc.submit("SELECT TOP 300000 a.obj_id FROM astrohub.objects AS a, astrohub.objects AS b "
                     "ORDER BY a.mag_r + b.mag_g")
    with pytest.raises(JobError, match="is still (QUEUED|EXECUTING) after 0 s; it goes on on the server"):
        arc.fetch(url, timeout=0)
    arc.abort(url)


def test_an_archive_of_an_older_format_is_rebuilt_on_start(arc, live):
    """A demo archive built by an older astrohub (e.g. cutouts without PSF_FWHM) is rebuilt, same
    seed and size, the next time it starts."""
    import json

    from astrohub.archive.builder import SURVEY_FORMAT

    before = live.survey()
    live.kill()
    try:
        (live.data_dir / "survey.json").write_text(json.dumps({**before, "format": SURVEY_FORMAT - 1}))
    finally:
        live.start()
    assert live.survey() == before
    t = arc.query("SELECT obj_id FROM astrohub.objects", maxrec=100000, cache=False)
    assert len(t) == before["catalog_rows"]
