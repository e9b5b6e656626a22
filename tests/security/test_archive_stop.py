"""Issue 18, item 10: ``archive stop`` signals only its own DaCHS.

Performed: the archive's pid file is made to name an unrelated process (a ``sleep`` this test
starts), as a stale or planted pid file would; ``astrohub archive stop`` (and ``kill``/``status``)
must leave that process running and say why.
"""

from __future__ import annotations

import pytest

from astrohub.archive.server import LocalArchive
from astrohub.cli import main

from ..conftest import started_sleep


@pytest.fixture
def bystander():
    proc = started_sleep()
    yield proc
    proc.kill()
    proc.wait()


def test_stop_leaves_an_unrelated_process_named_by_the_pid_file_alone(tmp_path, bystander, capsys):
    arc = LocalArchive(tmp_path / "archive", port=18998)
    arc.data_dir.mkdir()
    pidfile = arc.data_dir / "dachs-serve.pid"
    pidfile.write_text(f"{bystander.pid}\n")

    rc = main(["archive", "stop", "--data-dir", str(arc.data_dir), "--port", "18998"])
    assert rc == 0
    assert bystander.poll() is None  # still running: not signalled
    err = capsys.readouterr().err
    assert f"names pid {bystander.pid} (command 'sleep 600'), which is not this archive's DaCHS server" in err, err
    assert "leaving that process alone and removing the stale pid file" in err
    assert not pidfile.exists()

    for call in (arc.stop, arc.kill, arc.status, arc._reload):
        pidfile.write_text(f"{bystander.pid}\n")
        call()
        assert bystander.poll() is None, call.__name__
    assert arc.is_our_server(bystander.pid) is False
