"""The light-curve views' detrending: a running median that removes drifts but keeps the signal at the BLS
period whole (an ellipsoidal binary as long as the median's window, a transit on a trend)."""

import numpy as np

from astrohub.models.inputs import series as P

T = np.arange(0, 27.4, 29.4 / 1440)  # one Kepler long-cadence window


def _ellipsoidal(period, amp=0.0065, t0=0.3):
    """Two dips per orbit and unequal maxima (they differ by 20% of the amplitude), on a slow drift."""
    ph = ((T - t0) / period + 0.5) % 1 - 0.5
    signal = -amp * (0.5 * (1 - np.cos(4 * np.pi * ph)) + 0.1 * np.cos(2 * np.pi * ph))
    drift = 0.002 * T / T[-1]
    noise = np.random.default_rng(0).normal(0, 1e-4, T.size)
    flux = (1 + signal) * (1 + drift) + noise
    return flux, signal - np.median(signal)


def test_a_periodic_signal_as_long_as_the_window_is_kept_whole():
    flux, truth = _ellipsoidal(2.8)  # the 2.5-d running median alone eats part of it
    blind = P.detrend(T, flux)
    period, t0, *_ = P.bls(T, blind)
    assert abs(period / 2.8 - 0.5) < 0.002 or abs(period / 2.8 - 1) < 0.002  # the orbit or its half (equal dips)
    aware = P.detrend(T, flux, period=2.8, t0=0.3)  # at the orbit, as the views are when BLS finds it
    err = lambda r: float(np.std(r - np.median(r) - truth))  # noqa: E731
    assert err(blind) > 3e-4  # the distortion this guards against (noise is 1e-4)
    assert err(aware) < 1.5e-4
    # the unequal maxima survive: folded on the orbit they still differ by 20% of the amplitude (0.0013)
    ph = ((T - 0.3) / 2.8 + 0.5) % 1 - 0.5
    lower, higher = aware[np.abs(ph) < 0.03].mean(), aware[np.abs(np.abs(ph) - 0.5) < 0.03].mean()
    assert 0.001 < higher - lower < 0.0016


def test_a_wrong_period_still_removes_the_drift():
    flux = 1 + 0.004 * np.sin(2 * np.pi * T / 20.0) + np.random.default_rng(1).normal(0, 1e-4, T.size)
    blind = P.detrend(T, flux)
    r = P.detrend(T, flux, period=1.234, t0=0.1)  # nothing periodic at 1.234 d
    assert np.std(r) < 1.6e-4  # the 0.4% drift gone (the noise is 1e-4)
    assert np.std(r - blind) < 3e-5  # as without a period


def test_a_transit_on_a_trend_keeps_its_depth():
    ph = ((T - 1.0) / 3.3 + 0.5) % 1 - 0.5
    transit = np.where(np.abs(ph) < 0.12 / 3.3 / 2, -0.01, 0.0)
    flux = (1 + transit) * (1 + 0.01 * (T / T[-1]) ** 2) + np.random.default_rng(2).normal(0, 2e-4, T.size)
    blind = P.detrend(T, flux)
    period, t0, duration, depth, _ = P.bls(T, blind)
    assert abs(period - 3.3) < 0.02
    r = P.detrend(T, flux, period=period, t0=t0)
    ph = P._phase(T, period, t0)
    inside, outside = np.abs(ph) < 0.3 * duration / period, np.abs(ph) > 2 * duration / period
    assert abs(np.median(r[outside])) < 4e-5  # the out-of-transit level stays at zero (a fifth of the noise; a
    # 2-min shift of t0 alone moves it between 1e-5 and 3e-5)
    assert abs(-r[inside].mean() - 0.01) < 3e-4


def test_the_vetter_calls_contact_binaries_as_long_as_the_window_eclipsing():
    """Contact binaries of 2-2.8 d (KIC 5957123's kind: 0.65% deep, maxima 20% of it apart) under simulated Kepler
    systematics: most are called eclipsing binaries (the vetter before this detrending: 18 of 60, the rest
    'variable')."""
    from astrohub import models
    from astrohub.sims.lightcurves import simulate_curve

    curves = []
    for period in (2.0, 2.8):
        for i in range(30):
            rng = np.random.default_rng([77, int(period * 10), i])
            quiet, _, _ = simulate_curve(rng, 3, T, mission="kepler", noise=1e-4)  # systematics, gaps, noise
            ph = ((T - rng.uniform(0, period)) / period + 0.5) % 1 - 0.5
            asym = rng.uniform(0.03, 0.2) * np.cos(2 * np.pi * ph) + rng.uniform(-0.1, 0.1) * np.sin(2 * np.pi * ph)
            curves.append(quiet * (1 - 0.0065 * (0.5 * (1 - np.cos(4 * np.pi * ph)) + asym)))
    pr = models.load("transit_vetter").predict(np.array(curves), time=np.tile(T, (len(curves), 1)))
    names = np.asarray(pr.names)
    assert (names == "eclipsing-binary").sum() >= 36, dict(zip(*np.unique(names, return_counts=True)))
    assert (names == "planet-transit").sum() == 0
