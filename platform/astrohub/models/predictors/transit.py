"""The transit vetter's predictor: BLS ephemeris + folded views -> planet-transit / eclipsing-binary /
variable / noise, with the planet score.

>>> vet = models.load("transit_vetter"); vet.predict(tableset).planet_score
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..inputs import series as P
from .base import Prediction
from .series import ClassifierMixin, SeriesPredictor


@dataclass
class TransitPrediction(Prediction):
    """Class prediction plus the planet score and the BLS ephemeris used to fold each curve."""

    planet_score: np.ndarray = None  # [N] calibrated P(planet-transit)
    period: np.ndarray = None  # [N] days
    t0: np.ndarray = None
    duration: np.ndarray = None


class TransitVetter(ClassifierMixin, SeriesPredictor):
    """Planet transit vs eclipsing binary / variable / systematics on light curves: BLS finds the
    strongest dip; AstroNet-style global + local folded views feed a two-tower 1-D CNN."""

    def features(self, x, time=None):
        """(global, local, scalars) network inputs; scalars[:, 0] is log(BLS period / d)."""
        curves = P.lightcurves(x, self.name, time, min_points=int(self.card["inputs"].get("min_points", 100)))
        return P.lightcurve_batch(curves)

    def predict(self, x, time=None, mc_samples: int | None = None, batch_size: int = 256) -> TransitPrediction:
        """Vet light curves: a TableSet / Tables (TIME, FLUX) or flux [N, T] with ``time`` [T] in days."""
        g, loc, s = self.features(x, time)
        return self.predict_features(g, loc, s, mc_samples, batch_size)

    def predict_features(self, g, loc, s, mc_samples=None, batch_size=256) -> TransitPrediction:
        """Vet precomputed :meth:`features`."""
        pr = self._classify((g, loc, s), mc_samples, batch_size, cls=TransitPrediction)
        pr.planet_score = pr.probabilities[:, self.class_names.index("planet-transit")]
        pr.period = np.exp(s[:, 0])
        pr.duration = pr.period * np.exp(s[:, 1])
        return pr

    def explain(self, x, time=None, target: str | None = None) -> np.ndarray:
        """Saliency [N, 256] over the phase-folded global view (the BLS transit at the centre, bin 128)
        for class ``target`` (default: each curve's predicted class)."""
        return self.explain_features(*self.features(x, time), target=target)

    def explain_features(self, g, loc, s, target: str | None = None) -> np.ndarray:
        """:meth:`explain` on precomputed :meth:`features` (the global view is ``g[:, 0]``)."""
        return self._explain((g, loc, s), 0, target)
