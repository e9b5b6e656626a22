"""Astropy Tables, images and series to numpy and dask arrays, with documented normalisation.

Everything here is numpy / dask (float32); a model that wants torch takes ``torch.from_numpy(x)``.

Table columns (``table_to_numpy``, ``table_to_dask``), ``normalize``:
  "none"         values as stored (float32); masked / NULL values become NaN.
  "standardize"  per column (x - mean) / std over the finite values (NaNs stay NaN).
  "minmax"       per column (x - min) / (max - min) into [0, 1].
Images (``images_to_numpy``, ``images_to_dask``), per image (per plane for triplets):
  "none"   FITS pixel values unchanged (float32) -- equal to the file's pixels.
  "zscore" (x - median) / (1.4826 * MAD): sky ~0, sky noise ~1.
  There is no "asinh" mode here: the asinh stretch is the models' one image normalisation
  (``astrohub.models.inputs.normalise``, arcsinh(x / sigma)), which the zoo models apply themselves;
  hand them the images as they are ("none").
Series (spectra / light curves, ``series_to_numpy``), per object and column:
  "none", "median" (divide by the median), "zscore" ((x - median) / (1.4826 * MAD)).
"""

from __future__ import annotations

import numpy as np
from astropy.table import Table

TABLE_NORMS = ("none", "standardize", "minmax")
IMAGE_NORMS = ("none", "zscore")
SERIES_NORMS = ("none", "median", "zscore")


def _check(norm, allowed):
    if norm not in allowed:
        raise ValueError(f"normalize must be one of {', '.join(allowed)}, got {norm!r}")


def table_to_numpy(table: Table, columns=None, normalize: str = "none") -> np.ndarray:
    """A float32 [n_rows, n_columns] array of numeric ``columns`` (default: all numeric), NULL -> NaN
    (see module doc for ``normalize``)."""
    _check(normalize, TABLE_NORMS)
    return _norm_columns(_columns(table, columns), normalize)


def _columns(table: Table, columns) -> np.ndarray:
    if columns is None:
        columns = [c for c in table.colnames if table[c].dtype.kind in "biuf"]
    elif isinstance(columns, str):
        columns = [columns]
    out = np.empty((len(table), len(columns)), dtype=np.float32)
    for j, c in enumerate(columns):
        if c not in table.colnames:
            raise KeyError(f"column {c!r} not in table (columns: {', '.join(table.colnames)})")
        col = table[c]
        if col.dtype.kind not in "biuf":
            raise TypeError(f"column {c!r} is not numeric ({col.dtype}); pick numeric columns")
        if getattr(col, "mask", None) is not None and np.any(col.mask):
            out[:, j] = np.where(np.asarray(col.mask), np.nan, np.asarray(col.data, dtype=np.float32))
        else:
            out[:, j] = np.asarray(col, dtype=np.float32)
    return out


def _norm_columns(x: np.ndarray, normalize: str) -> np.ndarray:
    if normalize == "standardize":
        mu, sd = np.nanmean(x, axis=0), np.nanstd(x, axis=0)
        return (x - mu) / np.where(sd > 0, sd, 1.0)
    if normalize == "minmax":
        lo, hi = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
        return (x - lo) / np.where(hi > lo, hi - lo, 1.0)
    return x


def table_to_dask(table: Table, columns=None, normalize: str = "none", chunk: int = 100_000):
    """A dask array [n_rows, n_columns] (``chunk`` rows per block) of the same values."""
    import dask.array as da

    return da.from_array(table_to_numpy(table, columns, normalize), chunks=(chunk, -1))


def _robust(x, axes):
    med = np.median(x, axis=axes, keepdims=True)
    mad = 1.4826 * np.median(np.abs(x - med), axis=axes, keepdims=True)
    return med, np.where(mad > 0, mad, 1.0)


def normalize_images(stack: np.ndarray, normalize: str = "none") -> np.ndarray:
    """Normalise a float32 image stack [n, (planes,) h, w] per image and plane."""
    if normalize == "asinh":
        raise ValueError("normalize='asinh' is not an astrohub.vo mode: the asinh stretch is the models' own "
                         "normalisation (astrohub.models.inputs.normalise, arcsinh(x / sigma)), which the zoo "
                         "models apply themselves; pass the images as they are (normalize='none'), or use "
                         "'zscore' for a robust standardisation")
    _check(normalize, IMAGE_NORMS)
    if normalize == "none":
        return stack
    med, mad = _robust(stack, (-2, -1))
    return ((stack - med) / mad).astype(np.float32)


def _stack(images):
    if not images:
        raise ValueError("no images to stack (the fetch returned none)")
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        raise ValueError(f"images have different shapes {sorted(shapes)}; select one kind (e.g. task) first")
    return np.stack(images).astype(np.float32, copy=False)


def images_to_numpy(images, normalize: str = "none") -> np.ndarray:
    """A float32 array [n, (planes,) h, w] of equally shaped images (see module doc for ``normalize``)."""
    return np.ascontiguousarray(normalize_images(_stack(images), normalize))


def images_to_dask(images, normalize: str = "none", chunk: int = 64):
    """A dask array of the stacked images, ``chunk`` images per block."""
    import dask.array as da

    x = images_to_numpy(images, normalize)
    return da.from_array(x, chunks=(chunk,) + x.shape[1:])


def series_to_numpy(tables, columns="FLUX", normalize: str = "none") -> np.ndarray:
    """A float32 array [n, n_columns, n_samples] ([n, n_samples] if ``columns`` is a str)."""
    _check(normalize, SERIES_NORMS)
    single = isinstance(columns, str)
    cols = [columns] if single else list(columns)
    if not tables:
        raise ValueError("no tables to stack (the fetch returned none)")
    lengths = {len(t) for t in tables}
    if len(lengths) > 1:
        raise ValueError(f"series have different lengths {sorted(lengths)}; resample them first")
    x = np.stack([_columns(t, cols).T for t in tables]).astype(np.float32)
    if normalize == "median":
        med = np.nanmedian(x, axis=-1, keepdims=True)
        x = x / np.where(med != 0, med, 1.0)
    elif normalize == "zscore":
        med, mad = _robust(x, (-1,))
        x = (x - med) / mad
    x = x[:, 0] if single else x
    return np.ascontiguousarray(x)
