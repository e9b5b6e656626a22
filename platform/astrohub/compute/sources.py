"""Where a shard's inputs come from. A chunk is small to ship and loads its data on the worker."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Chunk:
    """Rows ``start..stop-1`` of a dataset; ``load()`` runs on the worker."""

    start: int
    stop: int

    def __len__(self) -> int:
        return self.stop - self.start

    def load(self) -> np.ndarray:
        raise NotImplementedError

    def labels(self) -> np.ndarray | None:
        return None


@dataclass(frozen=True)
class ArrayChunk(Chunk):
    """A slice of an in-memory array (the only case where pixels travel from the client)."""

    data: np.ndarray = None

    def load(self) -> np.ndarray:
        return self.data


@dataclass(frozen=True)
class SimChunk(Chunk):
    """Objects ``start..stop-1`` of a seeded simulation, generated on the worker."""

    task: str = ""
    seed: int = 0
    size: int = 64

    def batch(self):
        """The simulated objects: images, labels and per-object meta (e.g. ``psf_fwhm``)."""
        from astrohub.sims.images import simulate_range

        return simulate_range(self.task, self.start, self.stop, self.seed, self.size)

    def load(self) -> np.ndarray:
        return self.batch().images

    def load_with_labels(self) -> tuple[np.ndarray, np.ndarray]:
        b = self.batch()
        return b.images, b.labels


@dataclass(frozen=True)
class Simulated:
    """A dataset generated on the workers: ``n`` objects of ``sims.images.simulate_images(task, n, seed, size)``."""

    task: str
    n: int
    seed: int
    size: int = 64

    def __post_init__(self):
        from astrohub.sims.images import TASKS

        if self.task not in TASKS:
            raise ValueError(f"unknown simulation task {self.task!r}; choose one of {', '.join(TASKS)}")
        if self.n < 1:
            raise ValueError(f"a simulated dataset needs n >= 1 objects, got {self.n}")

    def __len__(self) -> int:
        return self.n

    def chunks(self, size: int) -> list[SimChunk]:
        return [SimChunk(a, min(a + size, self.n), self.task, self.seed, self.size) for a in range(0, self.n, size)]


@dataclass(frozen=True)
class TableChunk(Chunk):
    """Archive rows whose data the worker fetches (only rows travel): cutouts, light curves or
    spectra (``kind``), or the rows themselves for catalogue photometry."""

    rows: object = None  # astropy Table
    urls: dict = None  # the archive's service URLs (Archive.urls)
    kind: str = "cutout"  # a model modality: cutout, lightcurve, spectrum or photometry
    cache_dir: str | None = None  # the client's cache: shared by workers on the same machine
    archive: object = None  # in-process runs (compute.predict without a client): the caller's Archive

    def load(self):
        """Images [n, ...] in row order (cutouts), a list of Tables in row order, or the rows."""
        return self.rows if self.kind == "photometry" else self.load_products().in_row_order()

    def load_products(self):
        """The rows' products as fetched (an ImageSet or TableSet, with their FITS headers)."""
        from astrohub.vo import Archive
        from astrohub.vo.products import PRODUCT_NAMES

        archive = self.archive
        if archive is None:
            archive = Archive.from_urls(self.urls, cache_dir=_writable(self.cache_dir), progress=False)
        got = archive.products(self.rows, self.kind)
        if got.missing or len(got) != len(self.rows):
            missing = [self.start + int(i) for i in got.missing]
            what = PRODUCT_NAMES[self.kind]
            raise LookupError(f"no {what} for row(s) {missing[:10]}{' ...' if len(missing) > 10 else ''}; "
                              f"select rows that have a {what} (e.g. from the table that lists them)")
        return got


def _writable(path: str | None) -> Path | None:
    """``path`` if this process may create or write it (a worker on the client's machine), else None
    (the worker's own default cache)."""
    if not path:
        return None
    p = Path(path)
    while not p.exists() and p != p.parent:
        p = p.parent
    return Path(path) if os.access(p, os.W_OK) else None


def table_chunks(table, archive, size: int, kind: str = "cutout", local: bool = False) -> list[TableChunk]:
    """Split a table of archive rows into chunks that fetch their own products of ``kind`` (``local``:
    through ``archive`` itself, for chunks that stay in this process)."""
    if len(table) == 0:
        raise ValueError("the table has no rows to predict on")
    from astrohub.vo.products import PRODUCT_KINDS

    if kind not in ("photometry", *PRODUCT_KINDS):
        raise ValueError(f"unknown row data kind {kind!r}; one of cutout, lightcurve, spectrum, photometry")
    cache = str(archive.cache.directory)
    return [TableChunk(a, min(a + size, len(table)), table[a:a + size], dict(archive.urls), kind, cache,
                       archive if local else None)
            for a in range(0, len(table), size)]


def array_chunks(x, size: int) -> list[ArrayChunk]:
    """Split an in-memory array (numpy or torch) into row chunks."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"expected a batch of images shaped [N, ...] with N >= 1, got shape {x.shape}")
    return [ArrayChunk(a, min(a + size, len(x)), x[a:a + size]) for a in range(0, len(x), size)]


@dataclass(frozen=True)
class FileChunk(Chunk):
    """Rows of a list of files, one item per row: a path, the file's bytes, or an inner tuple of paths read as
    one row (a star's light-curve files, a galaxy's g, r, i cutouts). The worker reads the files, as the model's
    ``predict`` reads such a list; only the paths travel (the workers share the client's file system)."""

    items: tuple = ()

    def load(self) -> list:
        return [list(v) if isinstance(v, tuple) else v for v in self.items]


def _path_like(v) -> bool:
    return isinstance(v, (str, os.PathLike))


def is_file_list(x) -> bool:
    """True for one row per file: a list or tuple of paths, bytes or inner lists of paths, a 1-D array of
    path strings or a pandas Series of them."""
    from astrohub.models.inputs.columns import listed

    x = listed(x)
    if not isinstance(x, (list, tuple)) or not x:
        return False
    return all(_path_like(v) or isinstance(v, (bytes, bytearray)) or (isinstance(v, (list, tuple)) and v
                                                                        and all(_path_like(u) for u in v)) for v in x)


def file_chunks(x, size: int) -> list[FileChunk]:
    """Split one-file-per-row input (see :func:`is_file_list`) into row chunks, each path made absolute (the
    workers may run elsewhere in the file system) and checked to exist first: a missing file is named with its
    row before any work is sent."""
    from astrohub.models.inputs.columns import listed

    items = list(listed(x))

    def resolve(v, row: int):
        p = Path(v).expanduser().absolute()
        if not p.is_file():
            raise ValueError(f"row {row}: no such file {str(p)!r}; the workers read the files from the paths given "
                             "(a file system they share with this process)")
        return str(p)

    rows = []
    for i, v in enumerate(items):
        if _path_like(v):
            rows.append(resolve(v, i))
        elif isinstance(v, (list, tuple)):
            rows.append(tuple(resolve(u, i) for u in v))
        else:
            rows.append(bytes(v))
    return [FileChunk(a, min(a + size, len(rows)), tuple(rows[a:a + size])) for a in range(0, len(rows), size)]
