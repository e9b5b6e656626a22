"""The vetter's period search (BLS): phase resolution that follows the period, single-cadence dips kept."""

import numpy as np

from astrohub.models.inputs import series as P

T = np.arange(0, 27.4, 29.4 / 1440)  # one Kepler long-cadence window


def _box(period, t0, duration, depth):
    return np.where(np.abs(P._phase(T, period, t0)) < 0.5 * duration / period, -depth, 0.0)


def test_a_transit_shorter_than_the_cadence_is_found_not_clipped():
    """A grazing planet's 15-min transits fall in one 29.4-min cadence each: isolated dips, which the outlier clip
    took for cosmic rays before (it clips brightenings only now)."""
    rng = np.random.default_rng(3)
    idx = np.array([40, 40 + 446, 40 + 2 * 446])  # three transits 9.1 d apart, one cadence each
    flux = 1 + rng.normal(0, 1e-4, T.size)
    flux[idx] -= 0.003
    flux[[300, 900]] += 0.003  # two cosmic rays
    r = P.detrend(T, flux, window=P.SEARCH_WINDOW)
    keep = P.clip_outliers(r, P._robust_sigma(r))
    assert keep[idx].all() and not keep[[300, 900]].any()
    *_, info = P.lightcurve_features(T, flux, info=True)
    assert abs(info["period"] - (T[idx[1]] - T[idx[0]])) < 0.02
    assert abs(P._phase(T[idx[:1]], info["period"], info["t0"])[0]) * info["period"] < 0.03  # on the transits


def test_long_periods_are_searched_at_hour_resolution():
    """A 1.2-h transit every 11.3 d: in 48 phase bins (5.6 h each) its box would be 5 times too wide; the search's
    bins at that period are under an hour, and the box it returns is about the transit's."""
    rng = np.random.default_rng(4)
    flux = 1 + _box(11.3, 4.2, 0.05, 0.0012) + rng.normal(0, 3e-4, T.size)
    period, t0, duration, depth, snr = P.bls(T, P.detrend(T, flux, window=P.SEARCH_WINDOW))
    assert abs(period - 11.3) < 0.05
    assert abs(P._phase(np.array([4.2]), period, t0)[0]) * period < 0.03
    assert duration < 0.1 and depth > 0.0008 and snr > 7


def test_a_flat_curve_gives_no_dip():
    period, t0, duration, depth, snr = P.bls(T, np.zeros(T.size))
    assert np.isfinite([period, t0, duration]).all() and depth == 0.0 and snr == 0.0


def test_outliers_of_both_signs_are_junk_and_go():
    """K2's thruster firings left unflagged: a cadence every ~6 h 10-20 sigma off, up or down. Once a curve has
    that many brightenings, its single-cadence dips are the same junk and go too, and BLS finds the 0.1%-deep
    planet under them (with the dips kept it found the firings: 0 of 30 such planets were recognised)."""
    rng = np.random.default_rng(5)
    flux = 1 + _box(3.7, 1.1, 0.12, 0.001) + rng.normal(0, 3e-4, T.size)
    fire = np.nonzero(np.diff(np.floor(T / 0.2452 + 0.3)) > 0)[0]
    flux[fire] += rng.choice([-1, 1], fire.size) * rng.uniform(10, 20, fire.size) * 3e-4
    r = P.detrend(T, flux, window=P.SEARCH_WINDOW)
    keep = P.clip_outliers(r, P._robust_sigma(r))
    assert not keep[fire].any() and keep.sum() == T.size - fire.size
    period, t0, *_ = P.bls(T[keep], r[keep])
    assert abs(period - 3.7) < 0.02 and abs(P._phase(np.array([1.1]), period, t0)[0]) * period < 0.05
    few = rng.choice(np.setdiff1d(np.arange(5, T.size - 5), np.r_[fire - 1, fire, fire + 1]), 6, replace=False)
    lone = 1 + rng.normal(0, 1e-4, T.size)  # a few cosmic rays (under TWO_SIGN_OUTLIERS) beside one-cadence dips
    lone[few[:3]] += 0.003
    lone[few[3:]] -= 0.003
    r = P.detrend(T, lone, window=P.SEARCH_WINDOW)
    keep = P.clip_outliers(r, P._robust_sigma(r))
    assert not keep[few[:3]].any() and keep[few[3:]].all()
