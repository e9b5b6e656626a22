"""The 1-D predictors take what astrohub.vo returns: TableSets / astropy Tables of archive FITS
files (TIME/FLUX/FLUX_ERR light curves, WAVE/FLUX/ERROR spectra, the objects table's mag_/err_)."""

import numpy as np
from astropy.io import fits
from astropy.table import Table

from astrohub.vo.products import TableSet


def _fits_table(path, cols):
    """Write like the archive builder does and read back like astrohub.vo does."""
    from astrohub.archive.builder import write_table

    write_table(path, {k: (np.asarray(v, np.float32), None) for k, v in cols.items()}, {"OBJ_ID": 1})
    with fits.open(path) as hdul:
        return Table.read(next(h for h in hdul if isinstance(h, fits.BinTableHDU)))


def test_transit_tableset_equals_arrays(loaded, curves, tmp_path):
    tabs = [_fits_table(tmp_path / f"lc{i}.fits", {"TIME": curves.time, "FLUX": curves.flux[i],
                                                  "FLUX_ERR": curves.flux_err[i]}) for i in range(4)]
    ts = TableSet(tabs, [fits.Header() for _ in tabs], np.arange(4), ["x"] * 4)
    m = loaded("transit_vetter")
    a = m.predict(ts, mc_samples=0)
    b = m.predict(curves.flux[:4], time=curves.time, mc_samples=0)
    np.testing.assert_allclose(a.probabilities, b.probabilities, rtol=1e-4, atol=1e-5)
    assert a.probabilities.shape == (4, 4) and np.allclose(a.probabilities.sum(1), 1)
    assert np.all((a.planet_score >= 0) & (a.planet_score <= 1))


def test_transit_finds_planet_period_and_uncertainty(loaded):
    """BLS recovers the period of clearly detected single planets (total S/N >= 20). The simulator also makes
    grazing, marginal (S/N 8-20), single-transit and two-planet systems, whose period BLS may miss or alias."""
    from astrohub.sims.lightcurves import simulate_lightcurves

    b = simulate_lightcurves(40, 4242, labels=np.zeros(40, dtype=np.int64))
    sel = np.flatnonzero((b.meta["snr"] >= 20) & (b.meta["subtype"] == 0))[:6]
    assert len(sel) == 6
    pr = loaded("transit_vetter").predict(b.flux[sel], time=b.time, mc_samples=10)
    ratio = pr.period / b.meta["period"][sel]
    assert np.all(np.min(np.abs(ratio[:, None] - np.array([0.5, 1, 2])[None]), 1) < 0.03)
    assert pr.uncertainty.shape == (6,) and np.all(pr.uncertainty >= 0)
    t0_off = ((pr.t0 - b.meta["t0"][sel]) / b.meta["period"][sel] + 0.5) % 1 - 0.5  # t0 on a transit (the
    assert np.all(np.abs(t0_off) * b.meta["period"][sel] < 0.5 * b.meta["duration"][sel] + 0.03)  # true one)


def test_spectrum_tables_and_resampling(loaded, tmp_path):
    from astrohub.sims.spectra import simulate_spectra

    b = simulate_spectra(6, 31)
    m = loaded("spectral_class")
    tabs = [_fits_table(tmp_path / f"s{i}.fits", {"WAVE": b.wave, "FLUX": b.flux[i], "ERROR": b.error[i]})
            for i in range(6)]
    p_tab = m.predict_proba(TableSet(tabs, [fits.Header()] * 6, np.arange(6), ["x"] * 6))
    np.testing.assert_allclose(p_tab, m.predict_proba(b.flux), rtol=1e-4, atol=1e-5)
    fine = np.geomspace(3700, 9300, 3000)  # another grid covering the model's: resampled
    f2 = np.stack([np.interp(fine, b.wave, f) for f in b.flux])
    assert m.predict(f2, wave=fine).probabilities.shape == (6, 3)


def test_stellar_params_named_outputs(loaded):
    from astrohub.sims.spectra import simulate_spectra

    b = simulate_spectra(5, 32, labels=np.zeros(5, int))
    r = loaded("stellar_params").predict(b.flux)
    assert r.names == ["teff", "logg", "feh"]
    assert r["teff"].shape == (5,) and np.all(r.sigmas > 0)
    assert np.all((r["teff"] > 2000) & (r["teff"] < 15000))


def test_photoz_from_catalog_table(loaded):
    from astrohub.sims.catalog import simulate_catalog

    cat = simulate_catalog(50, 77)
    t = Table({k: v for k, v in cat.items()})
    m = loaded("photoz_mdn")
    r = m.predict(t)
    mags = np.stack([cat[f"mag_{b}"] for b in "ugriz"], 1)
    errs = np.stack([cat[f"err_{b}"] for b in "ugriz"], 1)
    np.testing.assert_allclose(r.z_mean, m.predict(mags, errs).z_mean, rtol=1e-5)
    assert r.weights.shape[0] == 50 and np.allclose(r.weights.sum(1), 1)
    assert np.all(r.z_std > 0)
