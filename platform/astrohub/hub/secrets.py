"""Secrets generated at first start and kept (mode 0600) in the data directory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def secret_file(data_dir: Path, name: str, nbytes: int = 32) -> str:
    """Return the hex secret stored in ``data_dir/secrets/name``, creating it if missing."""
    folder = Path(data_dir) / "secrets"
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    path = folder / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(nbytes))
    return path.read_text().strip()


def new_password(nbytes: int = 12) -> str:
    """A fresh random password, URL- and shell-safe."""
    return secrets.token_urlsafe(nbytes)
