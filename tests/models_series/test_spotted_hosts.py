"""Planets on active stars (issue #17): a transit on a host whose spots modulate it more than the transit is deep
is still a planet. The shipped vetter recognises such a planet when its period search finds the transit, but on
hosts varying by more than 1% the search mostly locks onto the spots: a known limitation, held by a strict xfail.
Also the simulator's edge case of a planet whose every transit falls in a gap."""

from __future__ import annotations

import numpy as np
import pytest

from astrohub.sims import lightcurves as S

GRID = np.arange(0.0, 27.4, S.CADENCE_DAYS)


def test_a_planet_whose_transits_all_fall_in_gaps_is_simulated():
    t = np.concatenate([np.arange(0.0, 0.5, S.CADENCE_DAYS), np.arange(26.9, 27.4, S.CADENCE_DAYS)])
    missed = 0
    for seed in range(100):  # a spotted host drawn for a planet with no transit in t raised before
        flux, _, meta = S.simulate_curve(np.random.default_rng(seed), 0, t, mission="kepler", noise=1e-3)
        assert flux.shape == t.shape and np.isfinite(flux).any()
        missed += meta["depth"] == 0 or np.isnan(meta["depth"])
    assert missed > 0  # the case was exercised


@pytest.fixture(scope="module")
def spotted_planets():
    """Planets 0.3-1% deep (S/N > 30) on the simulator's spotted rotators varying by 1-5% peak to peak, the
    vetter's verdicts and whether its period search found each planet's period (or its half or double)."""
    from astrohub import models

    rng = np.random.default_rng(7)
    curves, periods = [], []
    while len(curves) < 40:
        f, _, m = S.simulate_curve(rng, 2, GRID, mission="kepler", noise=2e-4)
        if m["subtype"] != 0 or not 0.01 <= np.nanpercentile(f, 95) - np.nanpercentile(f, 5) <= 0.05:
            continue
        period = 10 ** rng.uniform(0.0, np.log10(12.0))
        a = 4.206 * period ** (2 / 3)
        model = S.transit_model(GRID, period, rng.uniform(0, period), np.sqrt(10 ** rng.uniform(-2.5, -2.0)), a,
                                np.degrees(np.arccos(0.3 / a)))
        curves.append(f * model)
        periods.append(period)
    pr = models.load("transit_vetter", device="cpu").predict(np.array(curves), time=np.tile(GRID, (40, 1)),
                                                              mc_samples=0)
    ratio = np.asarray(pr.period) / np.array(periods)
    found = np.any([np.abs(ratio / k - 1) < 0.01 for k in (0.5, 1.0, 2.0)], axis=0)
    return np.asarray(pr.names) == "planet-transit", found


def test_a_planet_found_on_a_spotted_host_is_called_a_planet(spotted_planets):
    called, found = spotted_planets
    assert found.sum() >= 5
    assert called[found].mean() >= 0.8, f"{called[found].sum()} of {found.sum()} found planets called planet"


@pytest.mark.xfail(strict=True, reason="known limitation (issue #17): on hosts varying by more than 1% the period "
                                       "search (2-d running median, then BLS) mostly finds the spots, not the transit")
def test_most_planets_on_strongly_spotted_hosts_are_recognised(spotted_planets):
    called, found = spotted_planets
    assert called.mean() >= 0.7, f"{called.sum()} of {len(called)} called planet-transit ({found.sum()} found)"
