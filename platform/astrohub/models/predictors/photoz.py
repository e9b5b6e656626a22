"""The photo-z predictor: Gaussian-mixture redshift PDFs from ugriz magnitudes and errors.

>>> models.load("photoz_mdn").predict(objects_table).z_mode
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..inputs import series as P
from .series import SeriesPredictor


@dataclass
class PhotoZPrediction:
    """Gaussian-mixture redshift PDFs: ``weights``/``means``/``sigmas`` [N, K]."""

    weights: np.ndarray
    means: np.ndarray
    sigmas: np.ndarray
    z_mode: np.ndarray  # [N] PDF peak
    z_mean: np.ndarray
    z_std: np.ndarray
    ood: np.ndarray | None = None  # [N] bool: outside what the model was trained on (see ood_reason)
    ood_reason: list[str] | None = None

    def select(self, rows) -> "PhotoZPrediction":
        """The predictions of ``rows`` (indices, a mask or a slice)."""
        idx = np.arange(len(self.z_mode))[rows]
        return PhotoZPrediction(*(getattr(self, f)[idx] for f in ("weights", "means", "sigmas", "z_mode",
                                                                 "z_mean", "z_std")),
                                ood=None if self.ood is None else self.ood[idx],
                                ood_reason=None if self.ood_reason is None else [self.ood_reason[i] for i in idx])

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
