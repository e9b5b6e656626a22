"""Synthetic ugriz-like AB photometry with errors, from the SEDs of :mod:`.spectra`.

The five bands are Gaussian approximations of SDSS u, g, r, i, z (effective
wavelengths and widths below). ``simulate_photometry(n, seed)`` returns a
:class:`PhotometryBatch` of magnitudes, 1-sigma errors, redshifts and labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import spectra

BANDS = ("u", "g", "r", "i", "z")
BAND_CENTER = np.array([3551.0, 4686.0, 6166.0, 7480.0, 8932.0])   # Angstrom
BAND_SIGMA = np.array([250.0, 550.0, 520.0, 520.0, 500.0])        # Angstrom (Gaussian)
DEPTH_5SIGMA = np.array([22.0, 22.2, 22.2, 21.3, 20.5])            # AB mag
_GRID = np.geomspace(1000.0, 11000.0, 1500)


@dataclass
class PhotometryBatch:
    """Noisy magnitudes ``mags`` and errors ``errors`` [n, 5] with labels and metadata."""

    mags: np.ndarray
    errors: np.ndarray
    redshift: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    meta: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)


def colours(wave: np.ndarray, flam: np.ndarray) -> np.ndarray:
    """AB magnitudes (up to a common zero point) of f_lambda on ``wave`` in the five bands."""
    fnu = flam * wave ** 2
    out = np.empty(len(BANDS))
    for b, (mu, s) in enumerate(zip(BAND_CENTER, BAND_SIGMA)):
        w = np.exp(-0.5 * ((wave - mu) / s) ** 2) / wave
        out[b] = -2.5 * np.log10(np.trapezoid(fnu * w, wave) / np.trapezoid(w, wave))
    return out


def magnitude_errors(mags: np.ndarray) -> np.ndarray:
    """1-sigma errors: a 0.01 mag floor plus sky noise reaching 0.2 mag at the 5-sigma depth."""
    return np.sqrt(0.01 ** 2 + (0.2 * 10 ** (0.4 * (mags - DEPTH_5SIGMA))) ** 2)


def observe(rng, label: int, params: dict, r_mag: float):
    """Noisy (mags, errors) of one object with r-band magnitude ``r_mag``."""
    m = colours(_GRID, spectra.sed(_GRID, label, params))
    m = m - m[2] + r_mag
    err = magnitude_errors(m)
    return (m + rng.normal(0.0, 1.0, 5) * err).astype(np.float32), err.astype(np.float32)


def simulate_photometry(n: int, seed: int, labels=None) -> PhotometryBatch:
    """Simulate ``n`` objects (40% star, 40% galaxy, 20% QSO unless ``labels`` given)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if labels is None:
        labels = np.random.default_rng([int(seed), 11]).choice(3, size=n, p=[0.4, 0.4, 0.2])
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) != n:
        raise ValueError("labels must have length n")
    mags = np.zeros((n, 5), np.float32)
    errs = np.zeros((n, 5), np.float32)
    z = np.zeros(n, np.float32)
    for i in range(n):
        rng = np.random.default_rng([int(seed), 11, i])
        p = spectra.draw_params(rng, int(labels[i]))
        mags[i], errs[i] = observe(rng, int(labels[i]), p, rng.uniform(16.0, 21.5))
        z[i] = p["redshift"]
    return PhotometryBatch(mags, errs, z, labels, list(spectra.CLASS_NAMES), {})
