"""Seeded light curves: batman planet transits versus look-alikes.

Classes (``CLASS_NAMES``): ``planet-transit`` (batman, quadratic limb
darkening), ``eclipsing-binary`` (deep, V-shaped primary plus a secondary
eclipse), ``variable`` (pulsator / spotted star) and ``noise`` (systematics
only). Every curve carries white noise and instrumental systematics (a slow
drift and a red-noise random walk). Fluxes are relative (median ~1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CLASS_NAMES = ["planet-transit", "eclipsing-binary", "variable", "noise"]
META_KEYS = ["period", "t0", "depth", "duration", "rp_rs", "amplitude", "noise"]


@dataclass
class LightCurveBatch:
    """``flux``/``flux_err`` [n, n_points] sampled at ``time`` [n_points] (days) with labels."""

    time: np.ndarray
    flux: np.ndarray
    flux_err: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    meta: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)


def transit_model(t, period, t0, rp_rs, a_rs, inc, u=(0.4, 0.25)):
    """Relative flux of a planetary transit (batman, quadratic limb darkening)."""
    import batman

    p = batman.TransitParams()
    p.t0, p.per, p.rp, p.a, p.inc = t0, period, rp_rs, a_rs, inc
    p.ecc, p.w, p.limb_dark, p.u = 0.0, 90.0, "quadratic", list(u)
    return batman.TransitModel(p, np.asarray(t, dtype=float)).light_curve(p)


def _phase(t, period, t0):
    return ((t - t0) / period + 0.5) % 1.0 - 0.5


def _duration(period, a_rs, inc_deg, rp_rs):
    b = a_rs * np.cos(np.radians(inc_deg))
    arg = np.sqrt(max((1 + rp_rs) ** 2 - b ** 2, 0.0)) / a_rs
    return period / np.pi * np.arcsin(min(arg, 1.0))


def _one(rng, label, t):
    m = dict.fromkeys(META_KEYS, np.nan)
    span = t[-1] - t[0]
    if label == 0:
        period = rng.uniform(0.8, span / 3.0)
        t0 = t[0] + rng.uniform(0.0, period)
        rp = rng.uniform(0.05, 0.15)
        a = rng.uniform(5.0, 20.0)
        inc = np.degrees(np.arccos(rng.uniform(0.0, 0.6) / a))
        f = transit_model(t, period, t0, rp, a, inc)
        m.update(period=period, t0=t0, rp_rs=rp, depth=1 - f.min(), duration=_duration(period, a, inc, rp))
    elif label == 1:
        period = rng.uniform(0.5, span / 3.0)
        t0 = t[0] + rng.uniform(0.0, period)
        width = rng.uniform(0.03, 0.08)
        d1, d2 = rng.uniform(0.1, 0.5), rng.uniform(0.02, 0.2)
        ph = _phase(t, period, t0)
        ph2 = _phase(t, period, t0 + period / 2)
        f = 1 - d1 * np.clip(1 - np.abs(ph) / width, 0, 1) - d2 * np.clip(1 - np.abs(ph2) / width, 0, 1)
        f = f * (1 + 0.01 * rng.uniform() * np.cos(4 * np.pi * ph))   # ellipsoidal
        m.update(period=period, t0=t0, depth=d1, duration=2 * width * period)
    elif label == 2:
        period = rng.uniform(0.1, 10.0)
        t0 = t[0] + rng.uniform(0.0, period)
        amp = rng.uniform(0.002, 0.05)
        ph = (t - t0) / period
        shape = rng.integers(2)
        f = 1 + amp * (np.sin(2 * np.pi * ph) if shape == 0 else 2 * ((ph % 1.0) - 0.5))
        m.update(period=period, t0=t0, amplitude=amp)
    else:
        f = np.ones_like(t)
    noise = 10 ** rng.uniform(-3.7, -2.5)
    drift = rng.normal(0, 2 * noise) * (t - t.mean()) / span
    red = np.cumsum(rng.normal(0.0, noise * 0.05, t.size))
    flux = f + drift + red - red.mean() + rng.normal(0.0, noise, t.size)
    m["noise"] = noise
    return flux, np.full_like(t, noise), m


def simulate_lightcurves(n: int, seed: int, n_points: int = 1000, baseline: float = 27.0,
                         labels=None) -> LightCurveBatch:
    """Simulate ``n`` light curves over ``baseline`` days; object i uses ``default_rng([seed, 13, i])``.

    Labels default to 30% transit, 25% eclipsing binary, 25% variable, 20% noise.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n_points < 32:
        raise ValueError(f"n_points must be >= 32, got {n_points}")
    t = np.linspace(0.0, baseline, n_points)
    if labels is None:
        labels = np.random.default_rng([int(seed), 13]).choice(4, size=n, p=[0.3, 0.25, 0.25, 0.2])
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) != n:
        raise ValueError("labels must have length n")
    flux = np.zeros((n, n_points), np.float32)
    err = np.zeros((n, n_points), np.float32)
    meta = {k: np.zeros(n, np.float32) for k in META_KEYS}
    for i in range(n):
        f, e, m = _one(np.random.default_rng([int(seed), 13, i]), int(labels[i]), t)
        flux[i], err[i] = f, e
        for k in META_KEYS:
            meta[k][i] = m[k]
    return LightCurveBatch(t.astype(np.float32), flux, err, labels, list(CLASS_NAMES), meta)
