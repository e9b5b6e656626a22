"""Tables and their columns as the models read them: a table in whatever form it comes (:func:`as_table`:
astropy, lightkurve, pyvo, pandas, numpy, a dict), and whatever astropy, lightkurve or a TAP service put in a
column (astropy ``Time``, Quantities, masked entries) made float64 arrays (:func:`column_values`).

Serving code: imports nothing from training.
"""

from __future__ import annotations

import numpy as np


def column_values(col) -> np.ndarray:
    """A table column as float64, as lightkurve's and astropy's TimeSeries hold them: an astropy ``Time`` in days
    (its own values for day-counting formats: jd, mjd and epoch formats such as lightkurve's btjd and bkjd;
    otherwise its JD), a Quantity as its values, masked entries as NaN."""
    from astropy.time import Time, TimeFromEpoch

    data = col
    if isinstance(col, Time):
        fmt = Time.FORMATS.get(col.format)
        days = col.format in ("jd", "mjd") or (isinstance(fmt, type) and issubclass(fmt, TimeFromEpoch)
                                                and fmt.unit == 1.0)
        data = col.value if days else col.jd
    mask = np.ma.getmaskarray(data) if np.ma.isMaskedArray(data) else np.asarray(getattr(data, "mask", False), bool)
    out = np.array(np.ma.getdata(getattr(data, "unmasked", data)), dtype=np.float64)
    if mask.any():
        out[np.broadcast_to(mask, out.shape)] = np.nan
    return out


def is_pandas(x) -> bool:
    """Whether ``x`` is a pandas object (a DataFrame, a Series)."""
    return type(x).__module__.partition(".")[0] == "pandas"


def listed(x):
    """A column of items as a list: a 1-D string or object array (``df["file"].values``) or a pandas Series
    (``df["file"]``); anything else as it is."""
    if isinstance(x, np.ndarray) and x.ndim == 1 and x.dtype.kind in "USO":
        return x.tolist()
    if is_pandas(x) and not hasattr(x, "columns"):
        return x.tolist()
    return x


def as_table(x):
    """``x`` as an astropy Table when it is one in another form: a Table (a lightkurve LightCurve, a TimeSeries),
    pyvo's results of a TAP or other DAL query, a pandas DataFrame (a named index, such as ``lc.to_pandas()``'s
    time, becomes a column), a structured array, or a dict of equally long 1-D columns; else None."""
    from astropy.table import Table

    if isinstance(x, Table):
        return x
    if callable(getattr(x, "to_table", None)) and not isinstance(x, np.ndarray):  # pyvo's DAL results (a TAP query's)
        return x.to_table()
    if is_pandas(x) and hasattr(x, "columns") and hasattr(x, "reset_index"):  # columns named by numbers (a frame
        x = x.rename(columns=str)  # made from an array) as strings: astropy's column names
        return Table.from_pandas(x.reset_index() if any(n is not None for n in x.index.names) else x)
    if isinstance(x, np.ndarray) and x.dtype.names:
        return Table(x)
    if isinstance(x, dict) and x and all(np.ndim(v) == 1 for v in x.values()) \
            and len({len(v) for v in x.values()}) == 1:
        return Table({str(k): np.asarray(v) for k, v in x.items()})
    return None
