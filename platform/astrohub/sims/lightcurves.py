"""Seeded light curves as Kepler and TESS serve them: planet transits versus look-alikes, with the
instruments' systematics.

Classes (``CLASS_NAMES``):

- ``planet-transit``: batman (quadratic limb darkening) with depths from 100 ppm to 2% (log-uniform),
  impact parameters up to grazing, orbits from Kepler's law for main-sequence densities; some with a second
  planet, some with periods longer than half the window (one or two transits);
- ``eclipsing-binary``: detached (circular or eccentric, secondary eclipse at phase 0.5 or offset, ellipsoidal
  and reflection terms), grazing (V-shaped), background (diluted to planet-like depths of 0.05-2%) and contact
  (W UMa) binaries, and close (0.3-3 d) ellipsoidal / reflection-dominated binaries whose shallow, often grazing
  eclipses (0.1-1.5%) sit on an out-of-eclipse modulation at P/2 of comparable size (the BEER terms of Faigler &
  Mazeh 2011: ellipsoidal, reflection, Doppler beaming); eccentric binaries may show one eclipse only;
- ``variable``: spotted rotators (evolving quasi-periodic modulation), pulsators (sinusoidal / RR Lyrae-like
  sawtooth / multi-periodic) and heartbeat stars (tidal brightening at periastron, no eclipses);
- ``noise``: quiet stars (granulation red noise and systematics only).

Every curve carries white noise, red noise (an Ornstein-Uhlenbeck process) and the systematics of one mission
(``MISSIONS``): TESS (the mid-sector downlink gap, momentum dumps every few days with flagged cadences and flux
steps, ramps at orbit starts), Kepler (monthly downlink gaps, thermal ramps after them, cosmic rays, sudden
pixel-sensitivity dropouts) or K2 (6-hour roll sawtooth residuals); plus PDC residual trends and flagged
(NaN) cadences, slow PDC residual trends of 30 ppm - 2 ppt (whatever the noise) and, for Kepler, the quarter
boundary (a ~1-d gap, a flux jump and a new residual trend after it, as PDC treats each quarter on its own).
Fluxes are relative (median ~1), NaN where a cadence was flagged or in a gap (the archive's
fixed-grid batch, :func:`simulate_lightcurves`, keeps those cadences by default).

:func:`simulate_lightcurves` gives a batch on one shared time grid (the archive's light curves);
:func:`simulate_curve` one curve on any time stamps (training uses it with many spans and cadences).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CLASS_NAMES = ["planet-transit", "eclipsing-binary", "variable", "noise"]
META_KEYS = ["period", "t0", "depth", "duration", "rp_rs", "amplitude", "noise", "subtype", "snr"]
# snr: the signal's total S/N, sqrt(sum((flux - median)^2)) / white noise, before red noise and systematics
MISSIONS = ("tess", "kepler", "k2")
# subtypes (meta["subtype"]): planet 0 normal / 1 grazing / 2 long period (<= 2 transits) / 3 two planets;
# EB 0 detached / 1 eccentric / 2 grazing / 3 background (diluted) / 4 contact / 5 close ellipsoidal with shallow
# eclipses; variable 0 spotted /
# 1 pulsator / 2 sawtooth pulsator / 3 multi-periodic / 4 heartbeat; noise 0
SIM_VERSION = 2  # bumped whenever a change alters the simulated curves (cache names carry it)
CADENCE_DAYS = 0.0204335  # Kepler long cadence (29.4 min), the grid the transit vetter bins onto


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


def transit_model(t, period, t0, rp_rs, a_rs, inc, u=(0.4, 0.25), ecc=0.0, w=90.0):
    """Relative flux of a planetary transit (batman, quadratic limb darkening)."""
    import batman

    p = batman.TransitParams()
    p.t0, p.per, p.rp, p.a, p.inc = t0, period, rp_rs, a_rs, inc
    p.ecc, p.w, p.limb_dark, p.u = ecc, w, "quadratic", list(u)
    return batman.TransitModel(p, np.asarray(t, dtype=float)).light_curve(p)


def _phase(t, period, t0):
    return ((t - t0) / period + 0.5) % 1.0 - 0.5


def _duration(period, a_rs, inc_deg, rp_rs):
    b = a_rs * np.cos(np.radians(inc_deg))
    arg = np.sqrt(max((1 + rp_rs) ** 2 - b ** 2, 0.0)) / a_rs
    return period / np.pi * np.arcsin(min(arg, 1.0))


def _a_rs(rng, period):
    """a / R* from Kepler's third law for a main-sequence stellar density of 0.2-5 solar."""
    rho = 10 ** rng.uniform(np.log10(0.2), np.log10(5.0))
    return max(4.206 * period ** (2 / 3) * rho ** (1 / 3), 1.5)


def _limb(rng):
    return (rng.uniform(0.15, 0.6), rng.uniform(0.0, 0.35))


# ----------------------------------------------------------------------------- classes
def _planet(rng, t, m):
    span = t[-1] - t[0]
    sub = rng.choice(4, p=[0.55, 0.15, 0.15, 0.15])
    f = np.ones_like(t)
    for k in range(2 if sub == 3 else 1):
        if sub == 2 and k == 0:
            period = rng.uniform(span / 2, 3 * span)
            t0 = t[0] + rng.uniform(0.05, 0.95) * span  # one transit inside the window for sure
        else:
            period = 10 ** rng.uniform(np.log10(0.5), np.log10(max(span / 2.2, 0.6)))
            t0 = t[0] + rng.uniform(0.0, period)
        depth = 10 ** rng.uniform(-4.0, np.log10(0.02)) if k == 0 else 10 ** rng.uniform(-4.0, -2.3)
        rp = np.sqrt(depth) * rng.uniform(0.95, 1.1)
        a = _a_rs(rng, period)
        b = rng.uniform(1 - rp, 1 + 0.5 * rp) if (sub == 1 and k == 0) else rng.uniform(0.0, 0.85)
        b = min(b, a * 0.99)
        inc = np.degrees(np.arccos(b / a))
        fk = transit_model(t, period, t0, rp, a, inc, _limb(rng))
        if 1 - fk.min() <= 0:  # a grazing draw that misses the star: make it a normal one
            inc = np.degrees(np.arccos(0.5 / a))
            fk = transit_model(t, period, t0, rp, a, inc, _limb(rng))
        f = f * fk
        if k == 0:
            m.update(period=period, t0=t0, rp_rs=rp, depth=1 - fk.min(), duration=_duration(period, a, inc, rp))
    m["subtype"] = sub
    return f


def _eclipse(t, period, t0, k, b, a, u, ecc=0.0, w=90.0):
    """Normalised eclipse shape (0 out of eclipse, 1 at the deepest point) of two stars."""
    s = 1.0 - transit_model(t, period, t0, k, a, np.degrees(np.arccos(min(b / a, 0.999))), u, ecc, w)
    return s / s.max() if s.max() > 0 else s


def _binary(rng, t, m):
    span = t[-1] - t[0]
    sub = rng.choice(6, p=[0.22, 0.13, 0.12, 0.15, 0.15, 0.23])
    if sub == 5:
        return _close_binary(rng, t, m)
    if sub == 4:  # contact / ellipsoidal binary: continuous light variation, unequal minima and maxima
        period = 10 ** rng.uniform(np.log10(0.22), np.log10(5.0))
        t0 = t[0] + rng.uniform(0.0, period)
        amp = 10 ** rng.uniform(np.log10(0.002), np.log10(0.3))
        ph = _phase(t, period, t0)
        f = 1 - amp * (0.5 * (1 - np.cos(4 * np.pi * ph)) + rng.uniform(0.03, 0.2) * np.cos(2 * np.pi * ph)
                       + rng.uniform(-0.1, 0.1) * np.sin(2 * np.pi * ph))
        m.update(period=period, t0=t0, depth=1 - f.min(), duration=0.5 * period)
        m["subtype"] = sub
        return f
    period = 10 ** rng.uniform(np.log10(0.4), np.log10(max(span / 1.8, 0.5)))
    t0 = t[0] + rng.uniform(0.0, period)
    a = max(_a_rs(rng, period) * rng.uniform(0.6, 1.3), 2.2)
    k = rng.uniform(0.3, 1.0)  # radius ratio of the two stars
    u = _limb(rng)
    ecc, w = (rng.uniform(0.05, 0.5), rng.uniform(0, 360)) if sub == 1 else (0.0, 90.0)
    b = rng.uniform(1.0 - 0.3 * k, 1.0 + 0.8 * k) if sub == 2 else rng.uniform(0.0, 0.9)
    d1 = 10 ** rng.uniform(np.log10(0.01), np.log10(0.6))
    if sub == 3:  # a background binary diluted by the target's light
        d1 = 10 ** rng.uniform(np.log10(5e-4), np.log10(0.02))
    ratio = rng.uniform(0.0, 1.0) ** 1.5 if rng.uniform() < 0.85 else rng.uniform(0.8, 1.0)
    if sub == 1 and rng.uniform() < 0.3:  # eccentric: the secondary conjunction misses the disk (one eclipse only)
        ratio = 0.0
    prim = _eclipse(t, period, t0, k, b, a, u, ecc, w)
    # the secondary: the other star behind; its time from the orbit (eccentric: offset from phase 0.5) and its
    # duration relative to the primary's ~ (1 - e sin w) / (1 + e sin w) (Winn 2010)
    t_sec = t0 + period * (0.5 + 2 / np.pi * ecc * np.cos(np.radians(w)))
    esw = ecc * np.sin(np.radians(w))
    sec = _eclipse(t, period, t_sec, k, b, a * rng.uniform(0.9, 1.1) * (1 + esw) / (1 - esw), u)
    f = 1 - d1 * prim - d1 * ratio * sec
    ph = _phase(t, period, t0)
    ell = d1 * rng.uniform(0.0, 0.3) * min((3.0 / a) ** 3, 1.0)  # ellipsoidal + reflection
    f = f - ell * np.cos(4 * np.pi * ph) - ell * rng.uniform(0, 0.5) * np.cos(2 * np.pi * ph)
    m.update(period=period, t0=t0, depth=1 - f.min(), rp_rs=k,
             duration=_duration(period, a, np.degrees(np.arccos(min(b / a, 0.999))), k))
    m["subtype"] = sub
    return f


def _close_binary(rng, t, m):
    """A close binary (0.3-3 d) whose out-of-eclipse light is dominated by the BEER terms (Faigler & Mazeh 2011):
    ellipsoidal variation at P/2 (minima at both conjunctions, unequal when gravity darkening differs), reflection
    at P (brightest at phase 0.5), Doppler beaming at P, a small O'Connell asymmetry; on top, shallow (0.1-1.5%),
    often grazing eclipses (V-shaped, the secondary shallower or absent) of depth comparable to the modulation."""
    period = 10 ** rng.uniform(np.log10(0.3), np.log10(3.0))
    t0 = t[0] + rng.uniform(0.0, period)
    a = max(_a_rs(rng, period) * rng.uniform(0.5, 1.0), 1.8)
    k = rng.uniform(0.2, 1.0)
    d1 = 10 ** rng.uniform(np.log10(1e-3), np.log10(0.015))
    ell = d1 * 10 ** rng.uniform(np.log10(0.2), np.log10(1.5))  # ellipsoidal semi-amplitude vs eclipse depth
    b = rng.uniform(0.5, 1.0 + 0.7 * k) if rng.uniform() < 0.6 else rng.uniform(0.0, 0.9)  # mostly grazing
    u = _limb(rng)
    prim = _eclipse(t, period, t0, k, b, a, u)
    sec = _eclipse(t, period, t0 + 0.5 * period, k, b, a, u)
    ratio = rng.uniform(0.0, 1.0) if rng.uniform() < 0.7 else 0.0
    ph = _phase(t, period, t0)
    f = (1 - d1 * prim - d1 * ratio * sec
         - ell * np.cos(4 * np.pi * ph) * (1 + rng.uniform(-0.15, 0.15) * np.cos(2 * np.pi * ph))
         - ell * rng.uniform(0.0, 0.6) * np.cos(2 * np.pi * ph)  # reflection
         + ell * rng.uniform(0.0, 0.15) * np.sin(2 * np.pi * ph)  # beaming
         + ell * rng.uniform(-0.1, 0.1) * np.sin(4 * np.pi * ph))  # O'Connell asymmetry
    m.update(period=period, t0=t0, depth=1 - f.min(), rp_rs=k,
             duration=_duration(period, a, np.degrees(np.arccos(min(b / a, 0.999))), k))
    m["subtype"] = 5
    return f


def _heartbeat(t, period, t0, ecc, inc, w, amp):
    """Kumar et al. (1995) tidal flux variation of an eccentric binary: a brightening at periastron."""
    M = 2 * np.pi * (t - t0) / period
    E = M.copy()
    for _ in range(30):
        E = E - (E - ecc * np.sin(E) - M) / (1 - ecc * np.cos(E))
    nu = 2 * np.arctan2(np.sqrt(1 + ecc) * np.sin(E / 2), np.sqrt(1 - ecc) * np.cos(E / 2))
    r = (1 - ecc * np.cos(E))
    s = (1 - 3 * np.sin(inc) ** 2 * np.sin(nu + w) ** 2) / r ** 3
    s = (s - np.median(s)) / (np.ptp(s) or 1.0)
    return 1 + amp * s


def _variable(rng, t, m):
    sub = rng.choice(5, p=[0.35, 0.2, 0.1, 0.15, 0.2])
    amp = 10 ** rng.uniform(np.log10(3e-4), np.log10(0.05))
    if sub == 0:  # spotted rotator: two spot groups with evolving amplitudes and phases
        period = 10 ** rng.uniform(np.log10(0.3), np.log10(30.0))
        f = np.ones_like(t)
        for h in (1, 2):
            tau = rng.uniform(3.0, 20.0)
            a1 = amp / h * (1 + 0.5 * np.sin(2 * np.pi * (t - t[0]) / tau + rng.uniform(0, 6.3)))
            f = f + a1 * np.sin(2 * np.pi * h * (t - t[0]) / period + rng.uniform(0, 6.3))
        t0 = t[0]
    elif sub in (1, 2, 3):  # pulsators
        period = 10 ** rng.uniform(np.log10(0.05), np.log10(5.0))
        t0 = t[0] + rng.uniform(0.0, period)
        ph = (t - t0) / period
        if sub == 1:
            f = 1 + amp * np.sin(2 * np.pi * ph)
        elif sub == 2:  # RR Lyrae-like: fast rise, slow decline
            x = ph % 1.0
            rise = rng.uniform(0.1, 0.3)
            f = 1 + amp * np.where(x < rise, x / rise, 1 - (x - rise) / (1 - rise))
        else:
            f = np.ones_like(t)
            for _ in range(rng.integers(2, 6)):
                p = period * rng.uniform(0.5, 2.0)
                f = f + amp * rng.uniform(0.2, 1.0) * np.sin(2 * np.pi * (t - t0) / p + rng.uniform(0, 6.3))
    else:  # heartbeat star
        period = 10 ** rng.uniform(np.log10(1.0), np.log10(25.0))
        t0 = t[0] + rng.uniform(0.0, period)
        amp = 10 ** rng.uniform(np.log10(3e-4), np.log10(0.01))
        f = _heartbeat(t, period, t0, rng.uniform(0.15, 0.7), np.radians(rng.uniform(20, 90)),
                       rng.uniform(0, 2 * np.pi), amp)
    m.update(period=period, t0=t0, amplitude=amp)
    m["subtype"] = sub
    return f


# ----------------------------------------------------------------------------- noise and systematics
def _ou(rng, t, sigma, tau):
    """Ornstein-Uhlenbeck (damped random walk) red noise of rms ``sigma`` and time scale ``tau`` days
    (on the median cadence: an AR(1) filter)."""
    from scipy.signal import lfilter

    d = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
    rho = np.exp(-d / tau)
    e = rng.normal(0, sigma * np.sqrt(1 - rho * rho), t.size)
    e[0] = rng.normal(0, sigma)
    return lfilter([1.0], [1.0, -rho], e)


def _systematics(rng, t, sig, mission):
    """Additive instrumental systematics and a mask of flagged / missing cadences (True = lost)."""
    n, span = len(t), t[-1] - t[0]
    s = np.zeros(n)
    lost = rng.uniform(size=n) < rng.uniform(0.0, 0.03)  # scattered flagged cadences
    x = (t - t[0]) / span
    s += np.polynomial.legendre.legval(2 * x - 1, rng.normal(0, 1, 4) * sig * rng.uniform(0, 3))  # PDC residuals
    if mission == "tess":
        gaps = [t[0] + span * rng.uniform(0.42, 0.58)] if span > 8 else []
        for g in gaps:  # the mid-sector data downlink
            lost |= (t > g) & (t < g + rng.uniform(0.7, 1.6))
        starts = [t[0]] + [t[np.searchsorted(t, g + 1.0, side="left").clip(0, n - 1)] for g in gaps]
        for st in starts:  # ramps at the start of each orbit
            s += rng.normal(0, 3) * sig * np.exp(-np.clip(t - st, 0, None) / rng.uniform(0.1, 1.0)) * (t >= st)
        every = rng.uniform(2.5, 4.5)
        for td in np.arange(t[0] + rng.uniform(0, every), t[-1], every):  # momentum dumps
            lost |= np.abs(t - td) < rng.uniform(0.01, 0.06)
            s += (t > td) * rng.normal(0, 0.7) * sig * np.exp(-np.clip(t - td, 0, None) / rng.uniform(0.2, 3))
    elif mission == "kepler":
        g = t[0] + rng.uniform(-0.2, 1.2) * span
        while g < t[-1]:  # monthly downlinks, thermal settling after each
            w = rng.uniform(0.5, 1.2)
            lost |= (t > g) & (t < g + w)
            s += rng.normal(0, 3) * sig * np.exp(-np.clip(t - g - w, 0, None) / rng.uniform(0.2, 1.5)) * (t > g + w)
            g += rng.uniform(28, 34)
        hits = rng.uniform(size=n) < 0.003  # cosmic rays / single-cadence outliers
        s += hits * rng.normal(0, 6, n) * sig
        if rng.uniform() < 0.1:  # sudden pixel sensitivity dropout: a drop with slow recovery
            td = rng.uniform(t[0], t[-1])
            s -= (t > td) * rng.uniform(2, 15) * sig * np.exp(-np.clip(t - td, 0, None) / rng.uniform(0.5, 5))
    else:  # K2: the spacecraft's roll every ~6 h leaves a sawtooth after decorrelation
        roll = rng.uniform(0.24, 0.26)
        s += rng.uniform(0.2, 2.0) * sig * (((t - t[0]) / roll + rng.uniform()) % 1.0 - 0.5)
        lost |= np.abs(((t - t[0]) / roll) % 1.0) < 0.02
    # slow PDC residuals of fixed size whatever the noise (30 ppm - 2 ppt, time scales of 8-60 d)
    s += 10 ** rng.uniform(np.log10(3e-5), np.log10(2e-3)) * np.sin(2 * np.pi * (t - t[0]) / rng.uniform(8, 60)
                                                                      + rng.uniform(0, 2 * np.pi))
    if mission == "kepler":  # quarter boundaries every ~93 d: a gap, a flux jump and a new PDC trend after it
        q = t[0] + rng.uniform(-0.2, 1.0) * 93.0
        while q < t[-1]:
            w = rng.uniform(0.5, 1.5)
            lost |= (t > q) & (t < q + w)
            after = t > q + w
            s += after * (rng.normal(0, 2) * sig + rng.normal(0, 3e-4)
                          + rng.normal(0, 3e-4) * np.clip(t - q - w, 0, None) / 30.0)
            q += rng.uniform(90.0, 96.0)
    return s, lost


def simulate_curve(rng, label: int, t, mission: str | None = None, noise: float | None = None, gaps: bool = True):
    """One light curve of class ``label`` on time stamps ``t`` (days): (flux, flux_err, meta); the flux is NaN
    where a cadence is flagged or in a gap (``gaps=False``: those cadences keep their simulated flux, as an
    archive table holding only unflagged rows on a regular grid would). ``mission`` picks the systematics
    (default: drawn); ``noise`` the white noise per cadence
    (default: log-uniform 30 ppm - 4 ppt; signals below a total S/N drawn from 8-100 are scaled up, then the
    noise lowered)."""
    t = np.asarray(t, dtype=np.float64)
    m = dict.fromkeys(META_KEYS, np.nan)
    m["snr"] = 0.0
    f = (_planet, _binary, _variable, lambda r, tt, mm: np.ones_like(tt))[int(label)](rng, t, m)
    if label == 3:
        m["subtype"] = 0
    elif label in (0, 1) and rng.uniform() < 0.25 and (depth := float(np.median(f) - f.min())) > 0:  # a spotted
        # host star under the transits / eclipses (its modulation weaker than the transit or eclipse: the star is
        # catalogued for its dips; none when every dip fell in a gap of ``t``, which raised before)
        period = 10 ** rng.uniform(np.log10(1.0), np.log10(30.0))
        amp = 10 ** rng.uniform(np.log10(min(1e-4, 0.1 * depth)), np.log10(max(min(0.01, 0.3 * depth), 1e-6)))
        f = f * (1 + amp * np.sin(2 * np.pi * (t - t[0]) / period + rng.uniform(0, 6.3))
                 * (1 + 0.4 * np.sin(2 * np.pi * (t - t[0]) / rng.uniform(5, 30) + rng.uniform(0, 6.3))))
    sig = float(noise) if noise is not None else 10 ** rng.uniform(np.log10(3e-5), np.log10(4e-3))
    if label != 3 and noise is None:  # a detected signal: total S/N of at least a draw of 8-100 (a catalogued
        # planet / binary / variable): the signal is scaled up where the noise would have buried it (up to a
        # 3% transit, a 70% eclipse (3% for background and close ellipsoidal binaries), a 10% variation), and the
        # noise lowered beyond that
        med = float(np.median(f))
        energy = float(np.sqrt(np.sum((f - med) ** 2)))
        snr_min = 10 ** rng.uniform(np.log10(8.0), np.log10(100.0))
        if 0 < energy < snr_min * sig:
            amp = float(np.max(np.abs(f - med)))
            cap = 0.03 if label == 1 and m["subtype"] in (3, 5) else (0.03, 0.7, 0.1)[int(label)]  # shallow EBs
            k = min(snr_min * sig / energy, max(cap / max(amp, 1e-12), 1.0))
            f = med + (f - med) * k
            for key in ("depth", "amplitude"):
                m[key] = m[key] * k
            energy *= k
            sig = min(sig, energy / snr_min)
        sig = max(sig, 1e-5)
        m["snr"] = energy / sig
    mission = mission or MISSIONS[rng.choice(3, p=[0.45, 0.4, 0.15])]
    red = _ou(rng, t, sig * rng.uniform(0.0, 1.5), 10 ** rng.uniform(-1.3, 0.3))
    sysm, lost = _systematics(rng, t, sig, mission)
    if label in (0, 1):  # the transit / eclipse is observed: gaps shifted off it when all of it fell in one
        med = float(np.median(f))
        dip = f < med - 0.5 * (med - f.min())
        for _ in range(20):
            if (dip & ~lost).sum() >= 3:
                break
            k = int(rng.integers(1, len(t)))
            lost, sysm = np.roll(lost, k), np.roll(sysm, k)
    flux = f * (1 + red + sysm + rng.normal(0.0, sig, t.size))
    if gaps:
        flux[lost] = np.nan
    m["noise"] = sig
    return flux, np.full_like(t, sig), m


def simulate_lightcurves(n: int, seed: int, n_points: int = 1000, baseline: float = 27.0,
                         labels=None, gaps: bool = False, rows: range | None = None) -> LightCurveBatch:
    """Simulate ``n`` light curves over ``baseline`` days on one grid of ``n_points`` time stamps; object i uses
    ``default_rng([seed, 13, i])``. With ``gaps``, flagged cadences and gaps are NaN; by default (the archive's
    light curves: finite FLUX on one regular grid) they keep their simulated flux, systematics included.
    ``rows`` (a sub-range of ``range(n)``) simulates only those objects, identical to the same rows of the
    whole set (parallel chunks).

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
    rows = _rows(rows, n)
    flux = np.zeros((len(rows), n_points), np.float32)
    err = np.zeros((len(rows), n_points), np.float32)
    meta = {k: np.zeros(len(rows), np.float32) for k in META_KEYS}
    for j, i in enumerate(rows):
        f, e, m = simulate_curve(np.random.default_rng([int(seed), 13, i]), int(labels[i]), t, gaps=gaps)
        flux[j], err[j] = f, e
        for k in META_KEYS:
            meta[k][j] = m[k]
    return LightCurveBatch(t.astype(np.float32), flux, err, labels[rows.start:rows.stop], list(CLASS_NAMES), meta)


def _rows(rows: range | None, n: int) -> range:
    rows = range(n) if rows is None else rows
    if rows.step != 1 or not (0 <= rows.start <= rows.stop <= n):
        raise ValueError(f"rows must be a contiguous sub-range of range({n}), got {rows}")
    return rows


def simulate_windows(n: int, seed: int, labels=None, spans=(10.0, 41.0), rows: range | None = None):
    """``n`` curves of varied spans (days; 60% of them 24-30 d, a TESS sector) on the 29.4-min grid, each with
    its own time stamps starting at a random epoch: (list of (time, flux), labels, meta). Object i uses
    ``default_rng([seed, 17, i])``; ``rows`` (a sub-range of ``range(n)``) simulates only those objects, as
    :func:`simulate_lightcurves` does."""
    if labels is None:
        labels = np.random.default_rng([int(seed), 17]).choice(4, size=n, p=[0.3, 0.25, 0.25, 0.2])
    labels = np.asarray(labels, dtype=np.int64)
    rows = _rows(rows, n)
    curves, meta = [], {k: np.zeros(len(rows), np.float32) for k in META_KEYS + ["span"]}
    for j, i in enumerate(rows):
        rng = np.random.default_rng([int(seed), 17, i])
        span = rng.uniform(24.0, 30.0) if rng.uniform() < 0.6 else rng.uniform(*spans)
        start = rng.uniform(0, 3000)
        t = start + np.arange(0.0, span, CADENCE_DAYS * rng.choice([1.0, 1.0, 1.0, 1.33]))
        f, _, m = simulate_curve(rng, int(labels[i]), t)
        curves.append((t, f))
        m["span"] = span
        for k in meta:
            meta[k][j] = m[k]
    return curves, labels[rows.start:rows.stop], meta
