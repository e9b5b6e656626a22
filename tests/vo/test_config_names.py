"""Traitlets configuration of the client and name resolution of demo objects."""

import pytest
from traitlets.config import Config

from astrohub.vo import Archive, resolve

pytestmark = pytest.mark.archive


def test_traitlets_config_sets_defaults(tmp_path):
    c = Config()
    c.VOConfig.retries = 7
    c.VOConfig.backoff = 0.25
    c.VOConfig.cache_dir = str(tmp_path / "c")
    a = Archive("http://127.0.0.1:9/tap", config=c)
    assert (a.retries, a.backoff, a.cache.directory) == (7, 0.25, tmp_path / "c")
    assert Archive("http://127.0.0.1:9/tap", config=c, retries=1).retries == 1
    with pytest.raises(ValueError, match="retries and backoff must be >= 0 and timeout > 0"):
        Archive("http://127.0.0.1:9/tap", timeout=0)


def test_resolve_demo_object(arc):
    row = arc.query("SELECT ra, dec FROM astrohub.objects WHERE obj_id = 42")
    pos = resolve("obj-42", arc)
    assert abs(pos.ra.deg - float(row["ra"][0])) < 1e-9 and abs(pos.dec.deg - float(row["dec"][0])) < 1e-9


@pytest.mark.parametrize("name, message", [
    ("", "name must be a non-empty object name"),
    ("obj-999999999", "no object 'obj-999999999' in astrohub.objects"),
])
def test_resolve_bad_input(arc, name, message):
    with pytest.raises(ValueError, match=message):
        resolve(name, arc)


def test_resolve_demo_name_needs_archive():
    with pytest.raises(ValueError, match="pass archive=Archive.local"):
        resolve("obj-1")
