"""Every 1-D entry point rejects bad input with a message that says what to fix."""

import numpy as np
import pytest
from astropy.table import Table

from astrohub.models.datasets import simulate_series as simulate
from astrohub.models.evaluation.evaluate import evaluate
from astrohub.models.inputs import InputError
from astrohub.models.training import train


@pytest.fixture(scope="module")
def spec1():
    from astrohub.sims.spectra import simulate_spectra

    return simulate_spectra(2, 99)


def test_transit_rejects_time_flux_length_mismatch(loaded, curves):
    with pytest.raises(InputError, match=r"time has shape \(999,\) but flux has shape \(8, 1000\)"):
        loaded("transit_vetter").predict(curves.flux, time=curves.time[:-1])


def test_transit_rejects_unsorted_time(loaded, curves):
    t = curves.time.copy()
    t[[10, 11]] = t[[11, 10]]
    with pytest.raises(InputError, match="time stamps must be strictly increasing"):
        loaded("transit_vetter").predict(curves.flux[:1], time=t)


def test_transit_rejects_nan_time(loaded, curves):
    t = curves.time.copy()
    t[5] = np.nan
    with pytest.raises(InputError, match="light curve 0 has NaN/inf time stamps"):
        loaded("transit_vetter").predict(curves.flux[:1], time=t)


def test_transit_rejects_too_few_points(loaded, curves):
    with pytest.raises(InputError, match="has 50 finite points; need at least 100"):
        loaded("transit_vetter").predict(curves.flux[:1, :50], time=curves.time[:50])


def test_transit_needs_time_for_arrays(loaded, curves):
    with pytest.raises(InputError, match="pass the time stamps"):
        loaded("transit_vetter").predict(curves.flux)


def test_transit_table_without_flux_column(loaded, curves):
    t = Table({"TIME": curves.time, "RATE": curves.flux[0]})
    with pytest.raises(InputError, match="table has no FLUX column"):
        loaded("transit_vetter").predict([t])


def test_transit_table_length_mismatch_between_columns(loaded, curves):
    t = Table({"TIME": curves.time, "FLUX": curves.flux[0]})
    t["TIME"][3] = t["TIME"][2]  # duplicate stamp
    with pytest.raises(InputError, match="strictly increasing"):
        loaded("transit_vetter").predict(t)


def test_spectrum_wrong_length_without_wave(loaded, spec1):
    with pytest.raises(InputError, match=r"spectra have 1000 pixels but the model expects 1024"):
        loaded("spectral_class").predict(spec1.flux[:, :1000])


def test_spectrum_nan_flux(loaded, spec1):
    f = spec1.flux.copy()
    f[1, 7] = np.nan
    with pytest.raises(InputError, match=r"spectra \[1\] contain NaN/inf fluxes"):
        loaded("spectral_class").predict(f)


def test_spectrum_wave_not_covering_grid(loaded, spec1):
    with pytest.raises(InputError, match=r"covers 4000-9200 A; the model needs 3800-9200 A \(at least 3866-9042 A, "
                                         r"the rest filled with the edge's flux\)"):
        loaded("stellar_params").predict(spec1.flux, wave=np.geomspace(4000, 9200, 1024))
    with pytest.raises(InputError, match="covers 3800-9000 A; the model needs"):
        loaded("spectral_class").predict(spec1.flux, wave=np.geomspace(3800, 9000, 1024))


def test_a_spectrum_short_of_the_grid_by_a_few_pixels_is_filled_and_flagged(loaded, spec1):
    """SDSS spectra start at 3800-3830 A and end at 9180-9245 A: up to 2% of the model's grid missing at either end
    is filled with the nearest measured flux (what np.interp does), and the row says so; a full one is not
    flagged."""
    m = loaded("spectral_class")
    w = np.geomspace(3825.0, 9180.0, 3000)
    short = np.stack([np.interp(w, spec1.wave, f) for f in spec1.flux])
    got = m.predict(short, wave=w, mc_samples=0)
    same = m.predict(np.stack([np.interp(m.wave(), w, f) for f in short]), mc_samples=0)
    np.testing.assert_allclose(got.probabilities, same.probabilities, rtol=1e-6)
    assert got.ood.all() and got.ood_reason == ["covers 3825-9180 A: 3800-3825 A and 9180-9200 A filled with the "
                                                "edge's flux"] * 2
    assert not same.ood.any() and same.ood_reason == ["", ""]
    stars = loaded("stellar_params").predict(short, wave=w)
    assert stars.ood.all() and "3800-3825 A" in stars.ood_reason[0]


def test_spectrum_unsorted_wave(loaded, spec1):
    w = spec1.wave.copy()[::-1]
    with pytest.raises(InputError, match="wavelengths must be finite and strictly increasing"):
        loaded("spectral_class").predict(spec1.flux, wave=w)


def test_photoz_missing_band_column(loaded):
    row = {f"mag_{b}": [20.0] for b in "ugriz"} | {f"err_{b}": [0.05] for b in "ugri"}
    with pytest.raises(InputError, match=r"missing band\(s\) \['z'\]"):
        loaded("photoz_mdn").predict(Table(row))


def test_photoz_nan_band(loaded):
    mags = np.full((3, 5), 20.0)
    mags[2, 0] = np.nan
    with pytest.raises(InputError, match=r"rows \[2\] have NaN/inf magnitudes"):
        loaded("photoz_mdn").predict(mags, np.full((3, 5), 0.05))


def test_photoz_reads_quantity_and_masked_columns(loaded, tap_result):
    """Magnitudes as an astropy QTable holds them (Quantities in mag) or a pyvo TAP result give the arrays' answer;
    a masked entry is a missing band, named as one (a masked value's hidden number is never used)."""
    import astropy.units as u
    from astropy.table import MaskedColumn, QTable

    mags = np.array([[19.5, 18.2, 17.6, 17.3, 17.1], [20.1, 18.9, 18.1, 17.8, 17.6]])
    errs = np.full_like(mags, 0.05)
    model = loaded("photoz_mdn")
    q = QTable({f"mag_{b}": mags[:, i] * u.mag for i, b in enumerate("ugriz")}
               | {f"err_{b}": errs[:, i] * u.mag for i, b in enumerate("ugriz")})
    np.testing.assert_allclose(model.predict(q).z_mode, model.predict(mags, errs).z_mode)
    np.testing.assert_allclose(model.predict(tap_result(Table(q))).z_mode, model.predict(mags, errs).z_mode)
    masked = Table({f"mag_{b}": MaskedColumn(mags[:, i], mask=[False, b == "u"]) for i, b in enumerate("ugriz")}
                   | {f"err_{b}": errs[:, i] for i, b in enumerate("ugriz")})
    with pytest.raises(InputError, match=r"rows \[1\] have NaN/inf magnitudes or errors \(missing bands\)"):
        model.predict(masked)


def test_photoz_reads_data_frames_and_record_arrays(loaded):
    """A DataFrame or record array with u..z and err_u..err_z columns (as a CasJobs query gives them, an index
    of object ids included) is a table; magnitudes and errors as two frames are still two arrays."""
    import pandas as pd

    mags = np.array([[19.5, 18.2, 17.6, 17.3, 17.1], [20.1, 18.9, 18.1, 17.8, 17.6]])
    errs = np.full_like(mags, 0.05)
    model = loaded("photoz_mdn")
    ref = model.predict(mags, errs).z_mode
    df = pd.DataFrame({b: mags[:, i] for i, b in enumerate("ugriz")} | {f"err_{b}": errs[:, i] for i, b in
                                                                        enumerate("ugriz")})
    for form in (df, df.set_index(pd.Index([7, 8], name="objid")), df.to_records(index=False)):
        np.testing.assert_allclose(model.predict(form).z_mode, ref)
    np.testing.assert_allclose(model.predict(df[list("ugriz")], df[[f"err_{b}" for b in "ugriz"]]).z_mode, ref)


def test_photoz_wrong_number_of_bands(loaded):
    with pytest.raises(InputError, match=r"magnitudes must be \[N, 5\] \(bands u, g, r, i, z\), got shape \(3, 4\)"):
        loaded("photoz_mdn").predict(np.full((3, 4), 20.0), np.full((3, 4), 0.05))


def test_photoz_needs_errors(loaded):
    with pytest.raises(InputError, match="pass the magnitude errors too"):
        loaded("photoz_mdn").predict(np.full((3, 5), 20.0))


def test_photoz_nonpositive_errors(loaded):
    with pytest.raises(InputError, match="errors must be positive"):
        loaded("photoz_mdn").predict(np.full((2, 5), 20.0), np.zeros((2, 5)))


def test_train_and_eval_unknown_name():
    with pytest.raises(ValueError, match=r"unknown model 'transit_vettr' \(did you mean 'transit_vetter'\?\)"):
        train("transit_vettr")
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        evaluate("nope")


def test_simulate_unknown_task():
    with pytest.raises(ValueError, match="unknown task 'lightcurve'; tasks are transit"):
        simulate("lightcurve", 10, 1)
