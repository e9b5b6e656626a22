"""Killing DaCHS mid-fetch: a clear error, then after a restart the same call completes (no rows lost).

Named ``zz`` so it runs after the other archive tests; it restarts the server it kills.
"""

import pytest

from astrohub.vo import ServiceUnreachable

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
