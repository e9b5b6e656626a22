"""Saliency of the 1-D models: where in the folded light curve / spectrum the decision comes from."""

from __future__ import annotations

import numpy as np
import pytest

from astrohub.models.inputs import InputError
from astrohub.sims.lightcurves import simulate_lightcurves
from astrohub.sims.spectra import simulate_spectra


def test_transit_saliency_sits_on_the_transit(loaded):
    lc = simulate_lightcurves(12, 777, labels=np.zeros(12, dtype=np.int64))  # planets only, fresh seed
    vet = loaded("transit_vetter")
    sal = vet.explain(lc.flux, time=lc.time, target="planet-transit")
    assert sal.shape == (12, 256) and np.isfinite(sal).all() and (sal >= 0).all()
    centre = sal[:, 115:141].mean(1)  # the BLS fold puts the transit at bin 128
    rest = np.concatenate([sal[:, :115], sal[:, 141:]], 1).mean(1)
    assert np.median(centre / rest) > 3


def test_spectrum_saliency_on_the_model_grid(loaded):
    sp = simulate_spectra(6, 778)
    clf, reg = loaded("spectral_class"), loaded("stellar_params")
    for model, kw in ((clf, {}), (clf, {"target": "qso"}), (reg, {"target": "logg"})):
        sal = model.explain(sp.flux, wave=sp.wave, **kw)
        assert sal.shape == (6, len(model.wave())) and np.isfinite(sal).all() and sal.max() > 0
    assert clf.resample(sp.flux, wave=sp.wave).shape == (6, len(clf.wave()))


def test_bad_saliency_targets_are_named(loaded):
    sp = simulate_spectra(2, 779)
    with pytest.raises(InputError, match="unknown target class 'planet'; classes: star, galaxy, qso"):
        loaded("spectral_class").explain(sp.flux, wave=sp.wave, target="planet")
    with pytest.raises(InputError, match="unknown target parameter 'mass'; parameters: teff, logg, feh"):
        loaded("stellar_params").explain(sp.flux, wave=sp.wave, target="mass")
