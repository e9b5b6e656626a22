"""Predictors of spectra: star / galaxy / QSO classes, and stellar parameters with 1-sigma errors."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..inputs import InputError
from ..inputs import series as P
from .base import Prediction
from .series import ClassifierMixin, SeriesPredictor


@dataclass
class StellarPrediction:
    """Stellar parameters ``values`` and 1-sigma ``sigmas`` [N, 3] in the order of ``names``."""

    values: np.ndarray
    sigmas: np.ndarray
    names: list[str] = field(metadata={"per_row": False})  # parameter names, not one per row
    ood: np.ndarray | None = None  # [N] bool: outside what the model was trained on (see ood_reason)
    ood_reason: list[str] | None = None

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[:, self.names.index(name)]


def _flags(notes: list[str]) -> dict:
    """``ood`` / ``ood_reason`` from the reasons :func:`astrohub.models.inputs.series.spectra` gave."""
    return {"ood": np.array([bool(n) for n in notes], bool), "ood_reason": list(notes)}


class SpectrumClassifier(ClassifierMixin, SeriesPredictor):
    """Star / galaxy / QSO from a 1-D spectrum on the card's wavelength grid (resampled if needed)."""

    def wave(self) -> np.ndarray:
        i = self.card["inputs"]
        return np.geomspace(i["wave_min"], i["wave_max"], i["shape"][-1])

    def predict(self, x, wave=None, mc_samples: int | None = None, batch_size: int = 256) -> Prediction:
        """Classify spectra: spectrum files (a path or a list: SDSS spec / spSpec, LAMOST, ESO Phase 3, 1-D FITS images
        with a wavelength WCS, VOTables, text tables), a TableSet / Tables (WAVE, FLUX) or flux [N, n_pix] (``wave`` to
        resample). A spectrum whose ends were filled or with many masked pixels
        (:func:`astrohub.models.inputs.series.spectra`) is flagged (``ood``, ``ood_reason``)."""
        notes: list[str] = []
        flux, _ = P.spectra(x, self.name, self.wave(), wave, notes=notes)
        return self._classify((P.spectrum_input(flux),), mc_samples, batch_size, **_flags(notes))

    def resample(self, x, wave=None) -> np.ndarray:
        """Flux [N, n_pix] of the spectra on the model's wavelength grid :meth:`wave` (validated)."""
        return P.spectra(x, self.name, self.wave(), wave)[0]

    def explain(self, x, wave=None, target: str | None = None) -> np.ndarray:
        """Saliency [N, n_pix] on the :meth:`wave` grid for class ``target`` (default: predicted class)."""
        return self._explain((P.spectrum_input(self.resample(x, wave)),), 0, target)


class StellarParams(SpectrumClassifier):
    """Teff, log g, [Fe/H] of stellar spectra with per-object 1-sigma uncertainties."""

    def predict(self, x, wave=None, batch_size: int = 256) -> StellarPrediction:
        """Parameters of stellar spectra (same inputs and flags as :class:`SpectrumClassifier`)."""
        notes: list[str] = []
        flux, _ = P.spectra(x, self.name, self.wave(), wave, notes=notes)
        xin = P.spectrum_input(flux)
        out = []
        with torch.inference_mode():
            for i in range(0, len(xin), batch_size):
                out.append(self.net(self._t(xin[i:i + batch_size])))
        o = torch.cat(out).cpu().numpy().astype(np.float64)
        names = list(self.card["outputs"]["parameters"])
        mu, sd = np.array(self.card["outputs"]["mean"]), np.array(self.card["outputs"]["std"])
        k = len(names)
        return StellarPrediction(o[:, :k] * sd + mu, np.exp(o[:, k:]) * sd, names, **_flags(notes))

    def explain(self, x, wave=None, target: str = "teff") -> np.ndarray:
        """Saliency [N, n_pix] on the :meth:`wave` grid of parameter ``target`` (teff, logg or feh)."""
        names = list(self.card["outputs"]["parameters"])
        if target not in names:
            raise InputError(f"{self.name}: unknown target parameter {target!r}; parameters: {', '.join(names)}")
        k = names.index(target)
        return self._gradient((P.spectrum_input(self.resample(x, wave)),), 0, lambda o: o[:, k])
