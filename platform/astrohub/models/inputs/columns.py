"""Table columns as the models read them: whatever astropy, lightkurve or a TAP service put in a column
(astropy ``Time``, Quantities, masked entries) made float64 arrays.

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
