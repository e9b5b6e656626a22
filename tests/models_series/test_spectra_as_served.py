"""Spectra as archives and surveys serve them (issue #17): a real SDSS spectrum of the sdss_spectra_lowz kit read in
each form it comes in (a table in A, nm or metres, IVOA's spectral data model with UCDs and no familiar names, SDSS's
loglam, a frequency axis, an astropy Quantity, a VOTable) gives the answer it gives in A; a spectral axis that is
no wavelength, or none at all, is named."""

from __future__ import annotations

import io

import astropy.units as u
import numpy as np
import pytest
from astropy.table import Table

from astrohub.models.evaluation.kits import kit_dir
from astrohub.models.evaluation.kits import sdss_spectra_lowz as K
from astrohub.models.inputs import InputError


@pytest.fixture(scope="module")
def real():
    """The kit's first spectrum that covers the model's whole grid: (wavelength [A], flux)."""
    kit = K.load(kit_dir(K.KIT))
    t = next(t for t in kit["spectra"] if t["WAVE"][0] <= 3800 and t["WAVE"][-1] >= 9200)
    return np.asarray(t["WAVE"], float), np.asarray(t["FLUX"], float)


def _sdm(w_m, f) -> Table:
    t = Table({"spectral": w_m * u.m, "flux": f * u.Unit("1e-17 erg / (s cm2 Angstrom)")})
    t["spectral"].meta["ucd"] = "em.wl"
    t["flux"].meta["ucd"] = "phot.flux.density;em.wl"
    return t


def test_one_real_spectrum_in_every_form_it_is_served_gives_one_answer(loaded, real):
    m = loaded("spectral_class")
    w, f = real
    ref = m.predict(Table({"WAVE": w, "FLUX": f}), mc_samples=0).probabilities
    nu = (w * u.AA).to_value(u.Hz, equivalencies=u.spectral())
    sdm = _sdm(w * 1e-10, f)
    buf = io.BytesIO()
    sdm.write(buf, format="votable")
    buf.seek(0)
    forms = {
        "nm": Table({"WAVELENGTH": w / 10 * u.nm, "FLUX": f}),
        "spectral data model (m, UCDs)": sdm,
        "the same as a VOTable": Table.read(buf, format="votable"),
        "SDSS loglam and ivar": Table({"loglam": np.log10(w), "flux": f, "ivar": np.full(len(f), 4.0)}),
        "frequency (Hz, decreasing wavelength)": Table({"SPECTRAL": nu * u.Hz, "FLUX": f}),
    }
    for what, t in forms.items():
        np.testing.assert_allclose(m.predict(t, mc_samples=0).probabilities, ref, rtol=1e-5, atol=1e-7, err_msg=what)
    np.testing.assert_allclose(m.predict(f, wave=w / 10 * u.nm, mc_samples=0).probabilities, ref, rtol=1e-5,
                               atol=1e-7)
    np.testing.assert_allclose(m.predict(f[::-1], wave=nu[::-1] * u.Hz, mc_samples=0).probabilities, ref,
                               rtol=1e-5, atol=1e-7)


def test_a_spectral_axis_that_is_no_wavelength_or_none_is_named(loaded, real):
    m = loaded("spectral_class")
    w, f = real
    with pytest.raises(InputError, match=r"spectrum 0's spectral axis 'WAVE' is in s, which is no wavelength, "
                                         r"frequency or energy"):
        m.predict(Table({"WAVE": w * u.s, "FLUX": f}))
    with pytest.raises(InputError, match=r"spectrum 1 has no spectral axis \(a column with UCD em.wl / em.freq, or "
                                         r"named WAVE, .*LOGLAM; found \['x', 'FLUX'\]\)"):
        m.predict([Table({"WAVE": w, "FLUX": f}), Table({"x": w, "FLUX": f})])
    with pytest.raises(InputError, match=r"spectrum 0 has no FLUX column \(or one with UCD phot.flux.density; "
                                         r"found \['WAVE', 'counts'\]\)"):
        m.predict(Table({"WAVE": w, "counts": f}))
    with pytest.raises(InputError, match=r"wave is in s, which is no wavelength"):
        m.predict(f, wave=w * u.s)
