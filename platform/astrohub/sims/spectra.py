"""Seeded toy 1-D spectra of stars, galaxies and quasars.

``simulate_spectra(n, seed)`` returns a :class:`SpectrumBatch` on a common
log-linear observed-frame wavelength grid (Angstrom, 3800-9200 by default):
flux densities f_lambda in units of 1e-17 erg/s/cm2/A, Gaussian errors,
integer labels (``CLASS_NAMES``) and per-object metadata (redshift, Teff,
logg, [Fe/H], S/N). The noiseless rest-frame models are also exposed
(:func:`sed`) so photometry and spectra of one object come from one SED.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CLASS_NAMES = ["star", "galaxy", "qso"]
WAVE_MIN, WAVE_MAX = 3800.0, 9200.0

# rest wavelengths (Angstrom)
_STAR_LINES = {"Hdelta": 4102.9, "Hgamma": 4341.7, "Hbeta": 4862.7, "Halpha": 6564.6,
               "CaK": 3934.8, "CaH": 3969.6, "Mgb": 5175.0, "NaD": 5894.0, "CaT": 8542.0}
_GAL_EMISSION = {"OII": 3728.5, "Hbeta": 4862.7, "OIII": 5008.2, "Halpha": 6564.6, "NII": 6585.3,
                 "SII": 6718.3}
_GAL_ABSORPTION = {"CaK": 3934.8, "CaH": 3969.6, "Gband": 4305.0, "Mgb": 5175.0, "NaD": 5894.0}
_QSO_LINES = {"Lyalpha": (1215.7, 0.25), "CIV": (1549.1, 0.10), "CIII]": (1908.7, 0.06),
              "MgII": (2799.1, 0.08), "Hbeta": (4862.7, 0.05), "Halpha": (6564.6, 0.20)}


@dataclass
class SpectrumBatch:
    """Spectra ``flux``/``error`` [n, n_pix] on the grid ``wave`` [n_pix] with labels."""

    wave: np.ndarray
    flux: np.ndarray
    error: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    meta: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)


def wavelength_grid(n_pix: int = 1024, wmin: float = WAVE_MIN, wmax: float = WAVE_MAX) -> np.ndarray:
    """A log-linear wavelength grid in Angstrom."""
    return np.geomspace(wmin, wmax, n_pix)


def _gauss(w, mu, sigma):
    return np.exp(-0.5 * ((w - mu) / sigma) ** 2)


def _planck(w_ang, teff):
    w = w_ang * 1e-8  # cm
    x = np.clip(1.4388 / (w * teff), None, 700.0)
    return 1.0 / (w ** 5 * np.expm1(x))


def star_sed(rest_wave, teff, logg, feh):
    """Noiseless stellar f_lambda (arbitrary scale): blackbody times absorption lines."""
    f = _planck(rest_wave, teff)
    f = f / np.median(f)
    hot = np.clip((teff - 4000.0) / 6000.0, 0.0, 1.0)          # Balmer strongest near A stars
    balmer = 0.5 * hot * np.exp(-((teff - 9500.0) / 4000.0) ** 2) + 0.05
    metal = np.clip(0.3 * (1 - hot) * 10 ** (0.4 * feh), 0.02, 0.6)
    width = 2.0 + 6.0 * hot * (logg / 4.5)
    absorb = np.zeros_like(rest_wave)
    for name, mu in _STAR_LINES.items():
        depth = balmer if name.startswith("H") else metal
        absorb += depth * _gauss(rest_wave, mu, width)
    return f * np.clip(1.0 - absorb, 0.05, None)


def galaxy_sed(rest_wave, age, sfr):
    """Noiseless galaxy f_lambda: old/young continuum, 4000 A break, lines. ``age`` in [0,1]."""
    blue = (rest_wave / 5000.0) ** (-1.5 + 2.5 * age)
    brk = 1.0 - 0.6 * age / (1.0 + np.exp((rest_wave - 4000.0) / 40.0))
    f = blue * brk
    for mu in _GAL_ABSORPTION.values():
        f *= 1.0 - 0.15 * age * _gauss(rest_wave, mu, 6.0)
    for name, mu in _GAL_EMISSION.items():
        amp = {"Halpha": 3.0, "OIII": 2.0, "OII": 2.0, "Hbeta": 1.0, "NII": 1.0, "SII": 0.6}[name]
        f = f + sfr * amp * 0.3 * _gauss(rest_wave, mu, 3.0)
    return f


def qso_sed(rest_wave, alpha):
    """Noiseless quasar f_lambda: power law, broad lines and a Lyman-alpha forest drop."""
    f = (rest_wave / 3000.0) ** (-(2.0 + alpha))
    for mu, ew in _QSO_LINES.values():
        f = f + ew * 12.0 * (mu / 3000.0) ** (-(2.0 + alpha)) * _gauss(rest_wave, mu, mu * 0.015)
    f = np.where(rest_wave < 1216.0, f * 0.45, f)
    return np.where(rest_wave < 912.0, f * 0.02, f)


def draw_params(rng: np.random.Generator, label: int) -> dict:
    """Physical parameters of one object of class ``label`` (index into CLASS_NAMES)."""
    if label == 0:
        return {"redshift": rng.normal(0.0, 1e-4), "teff": rng.uniform(3500.0, 12000.0),
                "logg": rng.uniform(1.0, 5.0), "feh": rng.uniform(-2.0, 0.5), "age": np.nan,
                "sfr": np.nan, "alpha": np.nan}
    if label == 1:
        return {"redshift": rng.gamma(2.0, 0.12), "teff": np.nan, "logg": np.nan, "feh": np.nan,
                "age": rng.uniform(0.0, 1.0), "sfr": rng.exponential(0.7), "alpha": np.nan}
    return {"redshift": rng.uniform(0.3, 3.5), "teff": np.nan, "logg": np.nan, "feh": np.nan,
            "age": np.nan, "sfr": np.nan, "alpha": rng.normal(-0.5, 0.3)}


def sed(obs_wave: np.ndarray, label: int, p: dict) -> np.ndarray:
    """Noiseless observed-frame f_lambda of a class ``label`` object with parameters ``p``."""
    rest = obs_wave / (1.0 + p["redshift"])
    if label == 0:
        f = star_sed(rest, p["teff"], p["logg"], p["feh"])
    elif label == 1:
        f = galaxy_sed(rest, p["age"], p["sfr"])
    else:
        f = qso_sed(rest, p["alpha"])
    return f / (1.0 + p["redshift"])


def simulate_one(rng, label, wave, snr=None, norm=None, redshift=None):
    """One noisy spectrum: (flux, error, params); ``norm`` is the median flux, ``redshift`` fixes z."""
    p = draw_params(rng, label)
    if redshift is not None:
        p["redshift"] = float(redshift)
    f = sed(wave, label, p)
    f = f / np.median(f) * (norm if norm is not None else 10.0 ** rng.uniform(0.5, 1.5))
    snr = snr if snr is not None else rng.uniform(5.0, 40.0)
    err = np.full_like(f, np.median(np.abs(f)) / snr)
    flux = f + rng.normal(0.0, 1.0, f.shape) * err
    p["snr"] = snr
    return flux, err, p


def simulate_spectra(n: int, seed: int, n_pix: int = 1024, labels=None) -> SpectrumBatch:
    """Simulate ``n`` spectra from ``seed``; object i uses ``default_rng([seed, 7, i])``.

    ``labels`` (optional int array of length n) fixes the classes; otherwise they
    are drawn 40% star, 40% galaxy, 20% QSO.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n_pix < 16:
        raise ValueError(f"n_pix must be >= 16, got {n_pix}")
    wave = wavelength_grid(n_pix)
    if labels is None:
        labels = np.random.default_rng([int(seed), 7]).choice(3, size=n, p=[0.4, 0.4, 0.2])
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) != n:
        raise ValueError("labels must have length n")
    flux = np.zeros((n, n_pix), np.float32)
    err = np.zeros((n, n_pix), np.float32)
    keys = ["redshift", "teff", "logg", "feh", "age", "sfr", "alpha", "snr"]
    meta = {k: np.zeros(n, np.float32) for k in keys}
    for i in range(n):
        f, e, p = simulate_one(np.random.default_rng([int(seed), 7, i]), int(labels[i]), wave)
        flux[i], err[i] = f, e
        for k in keys:
            meta[k][i] = p[k]
    return SpectrumBatch(wave.astype(np.float32), flux, err, labels, list(CLASS_NAMES), meta)
