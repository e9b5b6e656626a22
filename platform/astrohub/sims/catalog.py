"""A seeded source catalogue: positions, ugriz photometry with errors, redshifts, classes.

``simulate_catalog(n, seed)`` returns a dict of equal-length numpy arrays
(the demo survey's ``objects`` table and the photo-z / star-galaxy-QSO
training sets). Positions are uniform on the sky inside a circular field.
``class`` indexes ``CLASS_NAMES``; ``class_known`` marks the ~60% of rows
with a spectroscopic label (the rest are -1 in ``class_label``).
"""

from __future__ import annotations

import numpy as np

from . import photometry, spectra

CLASS_NAMES = list(spectra.CLASS_NAMES)
FIELD_RA, FIELD_DEC, FIELD_RADIUS = 150.0, 2.2, 1.0   # degrees (a COSMOS-like field)


def random_positions(rng, n, ra0=FIELD_RA, dec0=FIELD_DEC, radius=FIELD_RADIUS):
    """``n`` (ra, dec) in degrees, uniform on the sphere within ``radius`` of (ra0, dec0)."""
    cosr = np.cos(np.radians(radius))
    ct = rng.uniform(cosr, 1.0, n)
    st = np.sqrt(1 - ct ** 2)
    phi = rng.uniform(0, 2 * np.pi, n)
    x, y, z = st * np.cos(phi), st * np.sin(phi), ct            # around the pole
    d0, a0 = np.radians(dec0), np.radians(ra0)
    # rotate pole to (ra0, dec0)
    xr = x * np.sin(d0) + z * np.cos(d0)
    zr = -x * np.cos(d0) + z * np.sin(d0)
    xr, yr = xr * np.cos(a0) - y * np.sin(a0), xr * np.sin(a0) + y * np.cos(a0)
    ra = np.degrees(np.arctan2(yr, xr)) % 360.0
    dec = np.degrees(np.arcsin(np.clip(zr, -1, 1)))
    return ra, dec


def simulate_catalog(n: int, seed: int, ra0: float = FIELD_RA, dec0: float = FIELD_DEC,
                     radius: float = FIELD_RADIUS, known_fraction: float = 0.6) -> dict[str, np.ndarray]:
    """Simulate ``n`` catalogue rows; keys: obj_id, ra, dec, mag_u..mag_z, err_u..err_z,
    redshift, redshift_err, class (true), class_label (-1 where unknown), and the SED parameters."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0 < radius <= 90:
        raise ValueError(f"radius must be in (0, 90] degrees, got {radius}")
    rng = np.random.default_rng([int(seed), 17])
    ra, dec = random_positions(rng, n, ra0, dec0, radius)
    labels = rng.choice(3, size=n, p=[0.4, 0.45, 0.15])
    phot = photometry.simulate_photometry(n, seed, labels=labels)
    known = rng.uniform(size=n) < known_fraction
    out = {"obj_id": np.arange(1, n + 1, dtype=np.int64), "ra": ra, "dec": dec}
    for b, band in enumerate(photometry.BANDS):
        out[f"mag_{band}"] = phot.mags[:, b]
    for b, band in enumerate(photometry.BANDS):
        out[f"err_{band}"] = phot.errors[:, b]
    z = np.clip(phot.redshift, 0.0, None).astype(np.float32)
    zerr = np.where(known, 1e-4, np.nan).astype(np.float32)
    out.update({"redshift": np.where(known, z, np.nan).astype(np.float32), "redshift_err": zerr,
                "true_redshift": z, "class": labels.astype(np.int16),
                "class_label": np.where(known, labels, -1).astype(np.int16)})
    return out
