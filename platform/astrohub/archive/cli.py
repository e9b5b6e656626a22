"""``astrohub archive build|import|start|stop|status``: the local DaCHS archive from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from astrohub.defaults import ARCHIVE_PORT, LOOPBACK

DEFAULT_DIR = ".astrohub/archive"


def _archive(args):
    from .server import LocalArchive

    return LocalArchive(Path(args.data_dir), port=args.port, bind=args.bind, url=args.url)


def _fail(cmd: str, e: Exception) -> int:
    print(f"astrohub archive {cmd}: {e}", file=sys.stderr)
    return 2


def cmd_build(args) -> int:
    from .server import ArchiveError

    try:
        if args.no_import:
            from .builder import build
            summary = build(args.seed, args.size, Path(args.data_dir) / "survey", progress=True)
        else:
            summary = _archive(args).import_survey(args.seed, args.size, progress=True)
    except (ArchiveError, ValueError) as e:
        return _fail("build", e)
    print(json.dumps(summary))
    return 0


def cmd_start(args) -> int:
    from .server import ArchiveError

    try:
        print(_archive(args).start(seed=args.seed, size=args.size))
    except (ArchiveError, ValueError) as e:
        return _fail("start", e)
    return 0


def cmd_stop(args) -> int:
    try:
        _archive(args).stop()
    except ValueError as e:
        return _fail("stop", e)
    return 0


def cmd_status(args) -> int:
    try:
        st = _archive(args).status()
    except ValueError as e:
        return _fail("status", e)
    print(json.dumps(st, indent=1))
    return 0 if st["running"] else 1


def _common(p, seed=False):
    p.add_argument("--data-dir", default=DEFAULT_DIR, help=f"archive state directory (default: {DEFAULT_DIR})")
    p.add_argument("--port", type=int, default=ARCHIVE_PORT, help=f"port (default: {ARCHIVE_PORT})")
    p.add_argument("--bind", default=LOOPBACK, metavar="ADDRESS",
                   help=f"IP address DaCHS listens on (default: {LOOPBACK}; 0.0.0.0 only inside a pod or "
                        "behind a firewall, with --url)")
    p.add_argument("--url", default=None,
                   help="root URL clients reach the archive at, written into its responses "
                        "(default: http://ADDRESS:PORT; required with --bind 0.0.0.0)")
    if seed:
        p.add_argument("--seed", type=int, default=0, help="simulation seed (default: 0)")
        p.add_argument("--size", choices=["small", "full"], default="small", help="survey size (default: small)")


def _nonneg(v: str) -> int:
    import argparse

    n = int(v)
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {n}")
    return n


def register(subparsers) -> None:
    """Add the ``archive`` command group to the astrohub CLI."""
    p = subparsers.add_parser("archive", help="the local VO archive (DaCHS) serving the demo survey")
    sub = p.add_subparsers(dest="archive_command", required=True)
    b = sub.add_parser("build", help="simulate the demo survey and import it into DaCHS")
    _common(b, seed=True)
    b.set_defaults(seed=0)
    for a in b._actions:
        if a.dest == "seed":
            a.type = _nonneg
    b.add_argument("--no-import", action="store_true", help="only write the files (under DATA_DIR/survey)")
    b.set_defaults(func=cmd_build)
    s = sub.add_parser("start", help="start PostgreSQL and DaCHS (building a survey first if none)")
    _common(s, seed=True)
    s.set_defaults(func=cmd_start)
    s = sub.add_parser("stop", help="stop DaCHS")
    _common(s)
    s.set_defaults(func=cmd_stop)
    s = sub.add_parser("status", help="print the archive's state as JSON (exit 1 if not running)")
    _common(s)
    s.set_defaults(func=cmd_status)
