"""The seeded 1-D and tabular simulators: determinism, shapes, labels, bad input."""

import numpy as np
import pytest

from astrohub.sims import catalog, lightcurves, photometry, spectra


def test_spectra_deterministic_and_labelled():
    a, b = spectra.simulate_spectra(12, seed=3, n_pix=256), spectra.simulate_spectra(12, seed=3, n_pix=256)
    c = spectra.simulate_spectra(12, seed=4, n_pix=256)
    assert a.flux.shape == (12, 256) and a.wave.shape == (256,)
    np.testing.assert_array_equal(a.flux, b.flux)
    assert not np.array_equal(a.flux, c.flux)
    assert set(a.labels) <= {0, 1, 2} and a.class_names == ["star", "galaxy", "qso"]
    assert np.all(a.error > 0) and np.isfinite(a.flux).all()
    # quasars sit at higher redshift than stars
    lab = spectra.simulate_spectra(40, seed=1, n_pix=64, labels=[0] * 20 + [2] * 20)
    assert lab.meta["redshift"][20:].min() > abs(lab.meta["redshift"][:20]).max()


def test_photometry_errors_grow_with_magnitude():
    p = photometry.simulate_photometry(300, seed=2)
    assert p.mags.shape == (300, 5) and p.errors.shape == (300, 5)
    faint = p.mags[:, 2] > np.median(p.mags[:, 2])
    assert p.errors[faint, 2].mean() > p.errors[~faint, 2].mean()


def test_lightcurves_classes_and_transit_depth():
    lc = lightcurves.simulate_lightcurves(40, seed=5, n_points=500)
    assert lc.flux.shape == (40, 500) and lc.class_names[0] == "planet-transit"
    planets = lc.labels == 0
    assert planets.any()
    assert np.all(lc.meta["depth"][planets] > 0)
    np.testing.assert_array_equal(lc.flux, lightcurves.simulate_lightcurves(40, seed=5, n_points=500).flux)


def test_catalog_positions_inside_field():
    cat = catalog.simulate_catalog(500, seed=1, ra0=10.0, dec0=-30.0, radius=0.5)
    sep = np.degrees(np.arccos(np.clip(
        np.sin(np.radians(cat["dec"])) * np.sin(np.radians(-30.0))
        + np.cos(np.radians(cat["dec"])) * np.cos(np.radians(-30.0)) * np.cos(np.radians(cat["ra"] - 10.0)), -1, 1)))
    assert sep.max() <= 0.5 + 1e-9
    assert np.all(np.isnan(cat["redshift"][cat["class_label"] == -1]))
    assert np.all(cat["class_label"][cat["class_label"] >= 0] == cat["class"][cat["class_label"] >= 0])


@pytest.mark.parametrize("call, message", [
    (lambda: spectra.simulate_spectra(-1, 0), "n must be >= 0"),
    (lambda: spectra.simulate_spectra(5, 0, n_pix=4), "n_pix must be >= 16"),
    (lambda: lightcurves.simulate_lightcurves(3, 0, labels=[0]), "labels must have length n"),
    (lambda: catalog.simulate_catalog(10, 0, radius=0), "radius must be in"),
    (lambda: photometry.simulate_photometry(-2, 0), "n must be >= 0"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
