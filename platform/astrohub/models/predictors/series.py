"""Predictors of the 1-D models: transit vetting, spectral class, photo-z PDFs, stellar parameters.

>>> vet = models.load("transit_vetter"); vet.predict(tableset).planet_score
>>> models.load("photoz_mdn").predict(objects_table).z_mode
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ..inputs import InputError
from ..inputs import series as P
from ..nets import series as series_nets
from .base import Prediction, device_of


@dataclass
class TransitPrediction(Prediction):
    """Class prediction plus the planet score and the BLS ephemeris used to fold each curve."""

    planet_score: np.ndarray = None  # [N] calibrated P(planet-transit)
    period: np.ndarray = None  # [N] days
    t0: np.ndarray = None
    duration: np.ndarray = None


@dataclass
class PhotoZPrediction:
    """Gaussian-mixture redshift PDFs: ``weights``/``means``/``sigmas`` [N, K]."""

    weights: np.ndarray
    means: np.ndarray
    sigmas: np.ndarray
    z_mode: np.ndarray  # [N] PDF peak
    z_mean: np.ndarray
    z_std: np.ndarray

    def select(self, rows) -> "PhotoZPrediction":
        """The predictions of ``rows`` (indices, a mask or a slice)."""
        return PhotoZPrediction(*(getattr(self, f)[rows] for f in ("weights", "means", "sigmas", "z_mode",
                                                                  "z_mean", "z_std")))

    def pdf(self, grid) -> np.ndarray:
        """PDFs [N, G] on redshift ``grid``."""
        g = np.asarray(grid, float)[None, :, None]
        z = (g - self.means[:, None]) / self.sigmas[:, None]
        return (self.weights[:, None] * np.exp(-0.5 * z ** 2) / (self.sigmas[:, None] * 2.5066282746)).sum(2)

    def cdf(self, grid) -> np.ndarray:
        """CDFs [N, G] on redshift ``grid``."""
        from scipy.special import ndtr

        g = np.asarray(grid, float)[None, :, None]
        return (self.weights[:, None] * ndtr((g - self.means[:, None]) / self.sigmas[:, None])).sum(2)


@dataclass
class StellarPrediction:
    """Stellar parameters ``values`` and 1-sigma ``sigmas`` [N, 3] in the order of ``names``."""

    values: np.ndarray
    sigmas: np.ndarray
    names: list[str] = field(metadata={"per_row": False})  # parameter names, not one per row

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[:, self.names.index(name)]


class SeriesPredictor:
    """Common part: the network of the card's ``arch`` with its weights, in eval mode."""

    def __init__(self, card: dict, state: dict[str, torch.Tensor], device=None):
        self.card, self.name = card, card["name"]
        self.device = device_of(device)
        self.net = series_nets.build(card["arch"])
        self.net.load_state_dict(state)
        self.net.to(self.device).eval()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} v{self.card['version']} on {self.device}>"

    def _t(self, a) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(self.device)

    def _gradient(self, inputs: tuple, wrt: int, score) -> np.ndarray:
        """Saliency: |d score / d inputs[wrt]| summed over channels, [N, L]; ``score(out)`` -> [N]."""
        xs = [self._t(a).requires_grad_(i == wrt) for i, a in enumerate(inputs)]
        with torch.enable_grad():
            score(self.net(*xs)).sum().backward()
        g = xs[wrt].grad.abs()
        return (g.sum(1) if g.ndim == 3 else g).cpu().numpy().astype(np.float64)


class _ClassifierMixin:
    @property
    def class_names(self) -> list[str]:
        return list(self.card["outputs"]["classes"])

    def _classify(self, inputs: tuple, mc_samples, batch_size, cls=Prediction, **extra):
        T = float(self.card.get("calibration", {}).get("temperature", 1.0))
        emb = []
        with torch.inference_mode():
            for i in range(0, len(inputs[0]), batch_size):
                emb.append(self.net.embed(*[self._t(a[i:i + batch_size]) for a in inputs]))
            emb = torch.cat(emb)
            probs = F.softmax(self.net.head(emb) / T, 1)
            top = probs.argmax(1)
            n_mc = int(mc_samples if mc_samples is not None else self.card["outputs"].get("mc_samples", 20))
            unc = torch.zeros(len(emb))
            if n_mc > 1:
                p = self.net.dropout.p
                s = torch.stack([F.softmax(self.net.head_fc(F.dropout(emb, p, training=True)) / T, 1)
                                 for _ in range(n_mc)])
                unc = s.gather(2, top.view(1, -1, 1).expand(n_mc, -1, 1)).squeeze(2).std(0)
        pr = probs.cpu().numpy().astype(np.float64)
        ent = -(pr * np.log(np.clip(pr, 1e-12, 1))).sum(1)
        lab = top.cpu().numpy().astype(np.int64)
        return cls(lab, [self.class_names[i] for i in lab], pr, unc.cpu().numpy(), ent, self.class_names, **extra)

    def _explain(self, inputs: tuple, wrt: int, target) -> np.ndarray:
        if target is not None and target not in self.class_names:
            raise InputError(f"{self.name}: unknown target class {target!r}; classes: {', '.join(self.class_names)}")

        def score(logits):
            idx = logits.argmax(1) if target is None else torch.full((len(logits),), self.class_names.index(target),
                                                                      device=logits.device)
            return logits.gather(1, idx.view(-1, 1)).squeeze(1)
        return self._gradient(inputs, wrt, score)

    def predict_proba(self, x, **kw) -> np.ndarray:
        """Calibrated class probabilities [N, K]."""
        return self.predict(x, mc_samples=0, **kw).probabilities


class TransitVetter(_ClassifierMixin, SeriesPredictor):
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


class SpectrumClassifier(_ClassifierMixin, SeriesPredictor):
    """Star / galaxy / QSO from a 1-D spectrum on the card's wavelength grid (resampled if needed)."""

    def wave(self) -> np.ndarray:
        i = self.card["inputs"]
        return np.geomspace(i["wave_min"], i["wave_max"], i["shape"][-1])

    def predict(self, x, wave=None, mc_samples: int | None = None, batch_size: int = 256) -> Prediction:
        """Classify spectra: a TableSet / Tables (WAVE, FLUX) or flux [N, n_pix] (``wave`` to resample)."""
        flux, _ = P.spectra(x, self.name, self.wave(), wave)
        return self._classify((P.spectrum_input(flux),), mc_samples, batch_size)

    def resample(self, x, wave=None) -> np.ndarray:
        """Flux [N, n_pix] of the spectra on the model's wavelength grid :meth:`wave` (validated)."""
        return P.spectra(x, self.name, self.wave(), wave)[0]

    def explain(self, x, wave=None, target: str | None = None) -> np.ndarray:
        """Saliency [N, n_pix] on the :meth:`wave` grid for class ``target`` (default: predicted class)."""
        return self._explain((P.spectrum_input(self.resample(x, wave)),), 0, target)


class StellarParams(SpectrumClassifier):
    """Teff, log g, [Fe/H] of stellar spectra with per-object 1-sigma uncertainties."""

    def predict(self, x, wave=None, batch_size: int = 256) -> StellarPrediction:
        """Parameters of stellar spectra (same inputs as :class:`SpectrumClassifier`)."""
        flux, _ = P.spectra(x, self.name, self.wave(), wave)
        xin = P.spectrum_input(flux)
        out = []
        with torch.inference_mode():
            for i in range(0, len(xin), batch_size):
                out.append(self.net(self._t(xin[i:i + batch_size])))
        o = torch.cat(out).cpu().numpy().astype(np.float64)
        names = list(self.card["outputs"]["parameters"])
        mu, sd = np.array(self.card["outputs"]["mean"]), np.array(self.card["outputs"]["std"])
        k = len(names)
        return StellarPrediction(o[:, :k] * sd + mu, np.exp(o[:, k:]) * sd, names)

    def explain(self, x, wave=None, target: str = "teff") -> np.ndarray:
        """Saliency [N, n_pix] on the :meth:`wave` grid of parameter ``target`` (teff, logg or feh)."""
        names = list(self.card["outputs"]["parameters"])
        if target not in names:
            raise InputError(f"{self.name}: unknown target parameter {target!r}; parameters: {', '.join(names)}")
        k = names.index(target)
        return self._gradient((P.spectrum_input(self.resample(x, wave)),), 0, lambda o: o[:, k])


class PhotoZ(SeriesPredictor):
    """Photometric redshift PDFs (Gaussian mixture) from ugriz magnitudes and their errors."""

    def predict(self, x, errors=None, batch_size: int = 4096) -> PhotoZPrediction:
        """PDFs for a Table / dict with mag_u..mag_z and err_u..err_z, or mags [N, 5] + ``errors``."""
        mags, errs = P.photometry(x, self.name, errors, tuple(self.card["inputs"]["bands"]))
        norm = self.card["inputs"]["normalisation"]
        f = (P.photometry_features(mags, errs) - np.array(norm["mean"])) / np.array(norm["std"])
        parts = []
        with torch.inference_mode():
            for i in range(0, len(f), batch_size):
                parts.append([a.cpu().numpy().astype(np.float64) for a in self.net(self._t(f[i:i + batch_size]))])
        logw, mu, log_s = (np.concatenate(z) for z in zip(*parts))
        w, s = np.exp(logw), np.exp(log_s)
        mean = (w * mu).sum(1)
        std = np.sqrt((w * (s ** 2 + mu ** 2)).sum(1) - mean ** 2)
        res = PhotoZPrediction(w, mu, s, mean.copy(), mean, std)
        grid = np.linspace(-0.05, float(self.card["outputs"].get("z_max", 4.0)), 1200)
        for i in range(0, len(mean), 2000):
            res.z_mode[i:i + 2000] = grid[np.argmax(res.select(slice(i, i + 2000)).pdf(grid), 1)]
        return res
