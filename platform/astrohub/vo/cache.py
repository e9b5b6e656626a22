"""On-disk cache of query results, keyed by service URL + query + limits + uploads.

Tables are stored as binary2 VOTables (units and descriptions survive); nothing
is pickled. The default location is ``astrohub.defaults.cache_dir("vo")``: ``$ASTROHUB_CACHE/vo``,
else ``~/.cache/astrohub/vo``.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from pathlib import Path

from astropy.table import Table

from astrohub.defaults import cache_dir


def default_cache_dir() -> Path:
    """Where query results and products are cached unless an Archive is given a folder."""
    return cache_dir("vo")


def _table_digest(t: Table) -> str:
    h = hashlib.sha256()
    h.update(repr(t.colnames).encode())
    for name in t.colnames:
        h.update(bytes(memoryview(t[name].data.tobytes() if hasattr(t[name], "data") else b"")))
    return h.hexdigest()


def query_key(url: str, query: str, **params) -> str:
    """A stable key for a query: sha256 over the URL, query text and parameters."""
    clean = {}
    for k, v in sorted(params.items()):
        if isinstance(v, dict):
            v = {n: _table_digest(t) if isinstance(t, Table) else str(t) for n, t in sorted(v.items())}
        clean[k] = v
    blob = json.dumps([url, " ".join(query.split()), clean], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class QueryCache:
    """Tables on disk under ``directory/tables/<key>.vot``; bytes under ``directory/files``."""

    def __init__(self, directory: Path | None = None, ttl: float = 86400.0):
        self.directory = Path(directory) if directory else default_cache_dir()
        self.ttl = ttl          # seconds a cached table or product stays valid (archives change when rebuilt)

    def _path(self, key: str) -> Path:
        return self.directory / "tables" / f"{key}.vot"

    def _fresh(self, path: Path) -> Path | None:
        """``path`` if it exists and is younger than ``ttl``; an expired entry is removed."""
        if not path.exists():
            return None
        if time.time() - path.stat().st_mtime > self.ttl:
            path.unlink(missing_ok=True)
            return None
        return path

    def get(self, key: str) -> Table | None:
        path = self._fresh(self._path(key))
        if path is None:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return Table.read(path, format="votable")
            except Exception:  # noqa: BLE001 - a damaged cache entry is a miss
                path.unlink(missing_ok=True)
                return None

    def put(self, key: str, table: Table) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table.write(tmp, format="votable", tabledata_format="binary2", overwrite=True)
        tmp.replace(path)

    def file_path(self, url: str) -> Path:
        """Where a downloaded product for ``url`` is kept."""
        return self.directory / "files" / hashlib.sha256(url.encode()).hexdigest()

    def cached_file(self, url: str) -> Path | None:
        """The kept product for ``url`` if it is younger than ``ttl`` (a rebuilt archive serves new
        products at the same URLs), else None (and an expired copy is removed)."""
        return self._fresh(self.file_path(url))

    def clear(self) -> None:
        for sub in ("tables", "files"):
            d = self.directory / sub
            if d.exists():
                for f in d.iterdir():
                    f.unlink()
