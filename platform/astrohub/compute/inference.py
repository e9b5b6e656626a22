"""Sharded inference: each worker loads the model once and predicts its chunks; results come
back in input order, one per row."""

from __future__ import annotations

import dataclasses
import uuid

import numpy as np
from distributed import Client, as_completed

from .plugin import worker_model
from .sources import Chunk, Simulated, array_chunks, file_chunks, is_file_list, table_chunks


class BlockError(ValueError):
    """A chunk of the input could not be predicted; the message names its rows."""


def _predict_chunk(ref, chunk: Chunk, kwargs: dict):
    """The one prediction path: a worker's (or, without a client, this process's) model on a chunk."""
    from astrohub.models.inputs import InputError

    from .sources import SimChunk, TableChunk

    model = worker_model(ref)
    takes_psf = "psf_fwhm" in model.card["inputs"]
    try:
        if isinstance(chunk, TableChunk) and chunk.kind == "cutout":
            x = chunk.load_products()  # the predictor crops the stamps and reads the PSF from their headers
        elif isinstance(chunk, SimChunk) and takes_psf:  # the PSF each object was simulated with
            b = chunk.batch()
            x, kwargs = b.images, {"psf_fwhm": b.meta["psf_fwhm"], **kwargs}
        else:
            x = chunk.load()
        return model.predict(x, **kwargs)
    except (InputError, LookupError, ValueError) as e:
        raise BlockError(f"rows {chunk.start}-{chunk.stop - 1}: {e}") from None


def _predict_block(ref, block: np.ndarray, start: int, kwargs: dict):
    from .sources import ArrayChunk

    return _predict_chunk(ref, ArrayChunk(start, start + len(block), block), kwargs)


def concat(parts: list):
    """Concatenate per-chunk predictions (dataclasses of arrays/lists, or arrays) in order."""
    first = parts[0]
    if isinstance(first, np.ndarray):
        return np.concatenate(parts)
    if dataclasses.is_dataclass(first):
        out = {}
        for f in dataclasses.fields(first):
            vals = [getattr(p, f.name) for p in parts]
            if isinstance(vals[0], np.ndarray) and vals[0].ndim > 0:
                out[f.name] = np.concatenate(vals)
            elif isinstance(vals[0], list) and f.metadata.get("per_row", f.name != "class_names"):
                out[f.name] = [v for part in vals for v in part]
            else:
                out[f.name] = vals[0]
        return type(first)(**out)
    raise TypeError(f"cannot combine predictions of type {type(first).__name__}")


def _default_chunk(device_batch: int, n: int, workers: int) -> int:
    # enough chunks to balance and to rerun cheaply after a failure, each a multiple of the batch
    target = max(device_batch, n // max(1, 4 * workers))
    return int(np.ceil(target / device_batch) * device_batch)


def predict(model: str, data, client: Client | None = None, chunk_size: int | None = None,
            progress: bool = True, retries: int = 2, archive=None, **predict_kwargs):
    """Predict with zoo model ``model`` (a name, or a directory with card.json) on ``data``, sharded
    over the Dask workers of ``client``; without a client, the same chunks run in this process.

    ``data`` is a :class:`Simulated` dataset (generated on the workers), a dask array (its blocks are
    computed on the workers), an astropy Table of archive rows or an ADQL query string (each worker
    fetches its rows' cutouts, light curves or spectra, as the model reads, from ``archive``, default
    ``astrohub.vo.Archive.local()``; photometry models read the rows themselves), files one per row (a list,
    1-D array or pandas Series of paths, or of inner lists of paths read as one row, such as a star's
    light-curve files or a galaxy's g, r, i cutouts: each worker reads its rows' files, so only the paths
    travel), or an in-memory numpy array / torch tensor (sent in chunks).
    Returns the same type as ``astrohub.models.load(model).predict`` on the whole input, rows in
    input order (a per-row ``psf_fwhm`` keyword is split with the rows). A chunk the model rejects
    raises :class:`BlockError` naming its rows.
    """
    local = client is None
    workers = 1 if local else max(1, len(client.sync(client.scheduler.identity, n_workers=-1)["workers"]))
    token = uuid.uuid4().hex[:8]
    import dask.array as da

    if isinstance(data, da.Array) and local:
        data = data.compute()
    if isinstance(data, da.Array):
        offsets = np.concatenate([[0], np.cumsum(data.chunks[0])])[:-1]
        blocks = data.to_delayed().ravel()
        n = data.shape[0]
        futures = [client.compute(_delayed_predict(model, b, int(o), _rows_of(predict_kwargs, int(o), int(o) + k, n)),
                                  retries=retries)
                   for b, o, k in zip(blocks, offsets, data.chunks[0])]
    else:
        from astropy.table import Table

        if isinstance(data, str) or isinstance(data, Table):
            from astrohub.vo import Archive

            archive = archive or Archive.local()
            if isinstance(data, str):
                data = archive.query(data)
        n = len(data)
        size = chunk_size or _default_chunk(32, n, workers)
        if size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {size}")
        if isinstance(data, Simulated):
            chunks = data.chunks(size)
        elif isinstance(data, Table):
            chunks = table_chunks(data, archive, size, _modality(model), local=local)
        elif is_file_list(data):
            chunks = file_chunks(data, size)
        else:
            chunks = array_chunks(data, size)
        if local:
            return _run_local(model, chunks, predict_kwargs, n, progress)
        futures = [client.submit(_predict_chunk, model, c, _rows_of(predict_kwargs, c.start, c.stop, n),
                                 key=f"astrohub-predict-{token}-{i}", retries=retries, pure=False)
                   for i, c in enumerate(chunks)]
    return _gather(futures, n, progress, str(model))


def _rows_of(kwargs: dict, start: int, stop: int, n: int) -> dict:
    """``predict`` keywords for rows ``start..stop-1``: a per-row ``psf_fwhm`` array is sliced."""
    f = kwargs.get("psf_fwhm")
    if f is None or np.ndim(f) == 0:
        return kwargs
    if np.ndim(f) != 1 or len(f) != n:
        raise ValueError(f"psf_fwhm needs one value per row ({n}) or a single number, got shape {np.shape(f)}")
    return {**kwargs, "psf_fwhm": np.asarray(f)[start:stop]}


def _modality(model) -> str:
    """The data kind ``model`` (a zoo name or a directory with card.json) reads from archive rows."""
    from astrohub.models.cards import read_card
    from astrohub.models.kinds import modality
    from astrohub.models.registry import ref_dir

    return modality(read_card(ref_dir(model) / "card.json"))


def _run_local(model, chunks: list[Chunk], kwargs: dict, n: int, progress: bool):
    """The chunks through :func:`_predict_chunk` in this process, in order."""
    from tqdm.auto import tqdm

    parts = []
    with tqdm(total=n, desc=f"predict {model}", unit="row", disable=not progress) as bar:
        for c in chunks:
            parts.append(_predict_chunk(model, c, _rows_of(kwargs, c.start, c.stop, n)))
            bar.update(c.stop - c.start)
    out = concat(parts)
    if _rows(out) != n:
        raise RuntimeError(f"prediction returned {_rows(out)} rows for {n} inputs")
    return out


def _delayed_predict(model, block, start, kwargs):
    from dask import delayed

    return delayed(_predict_block, pure=True)(model, block, start, kwargs)


def _gather(futures, n: int, progress: bool, desc: str):
    order = {f.key: i for i, f in enumerate(futures)}
    parts: list = [None] * len(futures)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc=f"predict {desc}", unit="row")
    try:
        for fut in as_completed(futures):
            result = fut.result()  # re-raises BlockError with its rows
            parts[order[fut.key]] = result
            if bar is not None:
                bar.update(_rows(result))
    except Exception:
        for f in futures:
            f.cancel()
        raise
    finally:
        if bar is not None:
            bar.close()
    out = concat(parts)
    if _rows(out) != n:
        raise RuntimeError(f"sharded prediction returned {_rows(out)} rows for {n} inputs")
    return out


def _rows(pred) -> int:
    if isinstance(pred, np.ndarray):
        return len(pred)
    for f in dataclasses.fields(pred):
        v = getattr(pred, f.name)
        if isinstance(v, np.ndarray) and v.ndim > 0:
            return len(v)
    raise TypeError(f"prediction of type {type(pred).__name__} has no per-row array")
