"""The ``astrohub`` command line: ``up``, ``users``, ``kernels`` and the subsystems' commands."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from .defaults import ARCHIVE_PORT, LOOPBACK, PUBLIC_PORT

# Subsystems that add their own subcommands with ``register(subparsers)``.
PLUGINS = ("astrohub.archive.cli", "astrohub.models.cli")


def cmd_up(args) -> int:
    from .archive.server import ArchiveError
    from .hub.launcher import Platform, PlatformError, up

    users = [u for u in args.users.split(",") if u]
    try:
        platform = Platform(Path(args.data_dir), port=args.port, ip=args.ip, admin=args.admin,
                            users=users, with_archive=not args.no_archive, archive_port=args.archive_port,
                            ssl_cert=args.ssl_cert, ssl_key=args.ssl_key, insecure=args.insecure)
        return up(platform)
    except (PlatformError, ArchiveError, ValueError) as e:
        print(f"astrohub up: {e}", file=sys.stderr)
        return 2


def cmd_kernels_install(args) -> int:
    from .hub import paths
    from .hub.kernels import install_kernels

    source = Path(args.source) if args.source else (paths.repo_dir() or Path(".")) / "kernels"
    try:
        names = install_kernels(source, prefix=args.prefix)
    except FileNotFoundError as e:
        print(f"astrohub kernels install: {e}", file=sys.stderr)
        return 2
    print("installed kernelspecs:", ", ".join(names))
    return 0


def cmd_users_add(args) -> int:
    from .hub.users import CredentialStore, UserError

    data = Path(args.data_dir).resolve()
    store = CredentialStore(data)
    try:
        creds = store.ensure(args.names, data / "homes", reset=args.reset_password)
    except UserError as e:
        print(f"astrohub users add: {e}", file=sys.stderr)
        return 2
    for name, pw in creds.items():
        print(f"{name} {pw or '-'}  ({store.notes[name]})")
    print("Add them to the hub with the admin page, or restart `astrohub up --users ...`.")
    return 0


def cmd_users_remove(args) -> int:
    import json

    from .hub.launcher import RUNNING
    from .hub.rest import Hub
    from .hub.secrets import secret_file
    from .hub.users import UserError, remove_account

    data = Path(args.data_dir).resolve()
    hub = None
    running = data / RUNNING
    if running.exists():
        candidate = Hub(json.loads(running.read_text())["hub_api"], secret_file(data, "admin-api-token"))
        if candidate.ready():
            hub = candidate
    status = 0
    for name in args.names:
        try:
            done = remove_account(name, data, args.home, hub=hub)
        except UserError as e:
            print(f"astrohub users remove: {e}", file=sys.stderr)
            status = 2
            continue
        print(f"{name}:")
        for line in done:
            print(f"  {line}")
    return status


def cmd_du(args) -> int:
    """Disk usage of homes: as root every user's under <data-dir>/homes, else your own home."""
    import os

    from .hub.limits import parse_bytes
    from .hub.ops import home_bytes, quota, usage_line

    try:
        limit = parse_bytes(args.quota) if args.quota else quota()
    except ValueError as e:
        print(f"astrohub du: {e}", file=sys.stderr)
        return 2
    homes = Path(args.data_dir).resolve() / "homes"
    if args.names or os.geteuid() == 0:
        if not homes.is_dir():
            print(f"astrohub du: {homes}: no such folder (give the hub's --data-dir)", file=sys.stderr)
            return 2
        names = args.names or sorted(p.name for p in homes.iterdir() if p.is_dir() and not p.is_symlink())
        targets = [(n, homes / n) for n in names]
    else:
        targets = [(os.environ.get("USER") or Path.home().name, Path.home())]
    status = 0
    for name, home in targets:
        if not home.is_dir():
            print(f"astrohub du: {name}: no home at {home}", file=sys.stderr)
            status = 2
            continue
        used = home_bytes(home)
        print(usage_line(name, used, limit))
        if limit and used > limit:
            status = max(status, 1)
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="astrohub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("up", help="start the embedded platform (hub, proxy, archive) until Ctrl-C")
    p.add_argument("--data-dir", default=".astrohub", help="state directory (default: .astrohub)")
    p.add_argument("--ip", default=LOOPBACK, help=f"address to listen on (default: {LOOPBACK})")
    p.add_argument("--port", type=int, default=PUBLIC_PORT, help=f"public port (default: {PUBLIC_PORT})")
    p.add_argument("--admin", default="astroadmin", help="admin account name (default: astroadmin)")
    p.add_argument("--users", default="alice,bob", help="comma-separated demo accounts (default: alice,bob)")
    p.add_argument("--no-archive", action="store_true", help="do not start the local VO archive")
    p.add_argument("--archive-port", type=int, default=ARCHIVE_PORT,
                   help=f"port of the local VO archive (default: {ARCHIVE_PORT})")
    p.add_argument("--ssl-cert", default="", help="TLS certificate (PEM) for the public URL (with --ssl-key)")
    p.add_argument("--ssl-key", default="", help="TLS private key (PEM) for the public URL")
    p.add_argument("--insecure", action="store_true",
                   help="allow plain HTTP on an --ip other than loopback (only behind your own TLS proxy)")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("kernels", help="kernelspecs")
    ksub = p.add_subparsers(dest="kernels_command", required=True)
    k = ksub.add_parser("install", help="install the astrohub CPU and GPU kernelspecs into this environment")
    k.add_argument("--source", help="folder holding astrohub/ and astrohub-gpu/ (default: the repo's kernels/)")
    k.add_argument("--prefix", help="install prefix (default: this environment)")
    k.set_defaults(func=cmd_kernels_install)

    p = sub.add_parser("users", help="local accounts of the embedded deployment")
    usub = p.add_subparsers(dest="users_command", required=True)
    u = usub.add_parser("add", help="create Unix accounts with generated passwords "
                                     "(never system accounts; existing passwords are kept)")
    u.add_argument("names", nargs="+")
    u.add_argument("--data-dir", default=".astrohub")
    u.add_argument("--reset-password", action="store_true",
                   help="set a new generated password on accounts that already exist")
    u.set_defaults(func=cmd_users_add)
    u = usub.add_parser("remove", help="revoke hub access, stop servers, delete the account; "
                                        "keep, archive or delete its home")
    u.add_argument("names", nargs="+")
    u.add_argument("--home", required=True, choices=["keep", "archive", "delete"],
                   help="keep: leave it, root-owned 0700; archive: <data-dir>/removed-homes/NAME-TIME.tar.gz "
                        "(0600) then delete; delete")
    u.add_argument("--data-dir", default=".astrohub")
    u.set_defaults(func=cmd_users_remove)

    p = sub.add_parser("du", help="disk usage of your home (as root: every user's) against the soft quota")
    p.add_argument("names", nargs="*", help="users to measure (root; default: every home)")
    p.add_argument("--data-dir", default=".astrohub", help="the hub's state directory (root)")
    p.add_argument("--quota", default="", help="quota to compare with (default: $ASTROHUB_DISK_QUOTA, the hub's)")
    p.set_defaults(func=cmd_du)

    for name in PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
