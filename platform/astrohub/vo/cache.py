"""On-disk cache of query results, keyed by service URL + query + limits + uploads.

Tables are stored as binary2 VOTables (units and descriptions survive); nothing
is pickled. Entries are kept per build of the service (:attr:`QueryCache.build`, set by the
Archive from the service's build identity), so a rebuilt archive never answers from the old
build's cache. Every file is written atomically (a temporary file in the same folder, then a
rename), and a cache that cannot be written (read-only, full) only warns. The default location
is ``astrohub.defaults.cache_dir("vo")``: ``$ASTROHUB_CACHE/vo``,
else ``~/.cache/astrohub/vo``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
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


class CacheWriteWarning(UserWarning):
    """A result could not be stored in the cache (read-only or full disk); the result itself is fine."""


def normalise_adql(query: str) -> str:
    """``query`` with runs of whitespace outside string literals ('...') and delimited identifiers
    ("...") collapsed to one space; the text inside them is kept exactly as written (whitespace
    inside quotes changes what a query means)."""
    out: list[str] = []
    i, n = 0, len(query)
    space = False
    while i < n:
        ch = query[i]
        if ch in "'\"":
            j = i + 1
            while j < n:
                if query[j] == ch:
                    if j + 1 < n and query[j + 1] == ch:  # a doubled quote escapes itself
                        j += 2
                        continue
                    break
                j += 1
            if space and out:
                out.append(" ")
            space = False
            out.append(query[i:j + 1])
            i = j + 1
        elif ch.isspace():
            space = True
            i += 1
        else:
            if space and out:
                out.append(" ")
            space = False
            out.append(ch)
            i += 1
    return "".join(out)


def query_key(url: str, query: str, **params) -> str:
    """A stable key for a query: sha256 over the URL, query text (see :func:`normalise_adql`) and parameters."""
    clean = {}
    for k, v in sorted(params.items()):
        if isinstance(v, dict):
            v = {n: _table_digest(t) if isinstance(t, Table) else str(t) for n, t in sorted(v.items())}
        clean[k] = v
    blob = json.dumps([url, normalise_adql(query), clean], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def atomic_write(path: Path, write) -> None:
    """Create ``path`` atomically: ``write(tmp)`` fills a new temporary file in the same folder, which
    then replaces ``path`` in one rename (a reader sees the old file or the whole new one, never part)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def _warn_unwritable(what: str, path: Path, e: OSError) -> None:
    warnings.warn(f"astrohub could not write {what} to its cache ({path}: {e.strerror or e}); the result is "
                  "returned but not cached. Free space or fix the folder's permissions, or choose another cache "
                  "folder (Archive(cache_dir=...) or VOConfig.cache_dir)", CacheWriteWarning, stacklevel=3)


class QueryCache:
    """Tables on disk under ``directory/tables/<key>.vot``; bytes under ``directory/files``."""

    def __init__(self, directory: Path | None = None, ttl: float = 86400.0, build: str = ""):
        self.directory = Path(directory) if directory else default_cache_dir()
        self.ttl = ttl          # seconds a cached table or product stays valid (archives change when rebuilt)
        self.build = build      # the service's build identity: entries of another build are never used

    def _scoped(self, key: str) -> str:
        """``key`` within the current build (the key itself while the build is unknown)."""
        return hashlib.sha256(f"{self.build}\n{key}".encode()).hexdigest() if self.build else key

    def _path(self, key: str) -> Path:
        return self.directory / "tables" / f"{self._scoped(key)}.vot"

    def _fresh(self, path: Path) -> Path | None:
        """``path`` if it exists and is younger than ``ttl``; an expired entry is removed."""
        try:
            if not path.exists():
                return None
            if time.time() - path.stat().st_mtime > self.ttl:
                _discard(path)
                return None
        except OSError:  # unreadable cache: a miss
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
                _discard(path)
                return None

    def put(self, key: str, table: Table) -> bool:
        """Store ``table`` under ``key`` atomically; a cache that cannot be written warns
        (:class:`CacheWriteWarning`) and returns False, it never raises."""
        path = self._path(key)

        def write(tmp: Path) -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                table.write(tmp, format="votable", tabledata_format="binary2", overwrite=True)

        try:
            atomic_write(path, write)
            return True
        except OSError as e:
            _warn_unwritable("a query result", path, e)
            return False
        except (ValueError, TypeError) as e:  # astropy's BINARY2 writer fails on some columns (empty arrays)
            warnings.warn(f"astrohub does not cache this query result: the VOTable writer cannot store it "
                          f"({str(e).strip()[:200]}); the result is returned, a repeated query asks the service "
                          "again", CacheWriteWarning, stacklevel=3)
            return False

    def file_path(self, url: str) -> Path:
        """Where a downloaded product for ``url`` is kept (per build of the service)."""
        return self.directory / "files" / hashlib.sha256(self._scoped(url).encode()).hexdigest()

    def put_file(self, url: str, data: bytes) -> bool:
        """Keep the product ``data`` downloaded from ``url``, atomically; like :meth:`put`, a cache that
        cannot be written warns and returns False."""
        path = self.file_path(url)
        try:
            write_bytes_atomic(path, data)
            return True
        except OSError as e:
            _warn_unwritable("a downloaded product", path, e)
            return False

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


def _discard(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:  # a read-only cache keeps its stale entry; it is not used
        pass
