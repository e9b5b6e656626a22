"""Checks of image generators against held-out simulations: shape statistics of noiseless
images, two-sample KS distances, class accuracy of conditional samples (judged by the
galaxy_morphology classifier), and a Gaussian-in-PCA-space baseline generator."""

from __future__ import annotations

import numpy as np

from ..inputs import GEN_SCALE

STAT_THRESHOLD = 0.1  # counts (sky-noise rms units): pixels below it do not enter shapes
STATS = ("flux", "hlr_arcsec", "ellipticity")


def galaxy_stats(images: np.ndarray, pixel_scale: float = 0.2) -> dict[str, np.ndarray]:
    """Per-image total flux (sum of pixels), half-light radius (arcsec, circular, about the
    light centroid) and ellipticity |e| from second moments, of noiseless images [N, (1,) H, W].
    Radius and shape use the pixels above ``STAT_THRESHOLD``, the same rule for any image."""
    x = np.asarray(images, np.float64).reshape(len(images), *np.shape(images)[-2:])
    n, h, w = x.shape
    pos = np.where(x > STAT_THRESHOLD, x, 0.0)
    tot = pos.sum(axis=(1, 2)) + 1e-12
    yy, xx = np.mgrid[:h, :w].astype(np.float64)
    cy = (pos * yy).sum(axis=(1, 2)) / tot
    cx = (pos * xx).sum(axis=(1, 2)) / tot
    dy, dx = yy[None] - cy[:, None, None], xx[None] - cx[:, None, None]
    qxx = (pos * dx * dx).sum(axis=(1, 2)) / tot
    qyy = (pos * dy * dy).sum(axis=(1, 2)) / tot
    qxy = (pos * dx * dy).sum(axis=(1, 2)) / tot
    ell = np.hypot(qxx - qyy, 2 * qxy) / np.maximum(qxx + qyy, 1e-12)
    r = np.hypot(dy, dx).reshape(n, -1)
    order = np.argsort(r, axis=1)
    cum = np.cumsum(np.take_along_axis(pos.reshape(n, -1), order, axis=1), axis=1)
    half = np.argmax(cum >= 0.5 * cum[:, -1:], axis=1)
    hlr = np.take_along_axis(np.take_along_axis(r, order, axis=1), half[:, None], axis=1)[:, 0] * pixel_scale
    return {"flux": x.sum(axis=(1, 2)), "hlr_arcsec": hlr, "ellipticity": ell}


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov distance sup |F_a - F_b|."""
    a, b = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(fa - fb)))


def ks_critical(n: int, m: int, alpha: float = 0.05) -> float:
    """Asymptotic two-sample KS critical distance at level ``alpha``."""
    c = np.sqrt(-0.5 * np.log(alpha / 2))
    return float(c * np.sqrt((n + m) / (n * m)))


def ks_report(generated: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """KS distance of each of :data:`STATS` between two sets of noiseless images."""
    sg, sr = galaxy_stats(generated), galaxy_stats(reference)
    return {k: ks_statistic(sg[k], sr[k]) for k in STATS}


def observe(images: np.ndarray, seed: int) -> np.ndarray:
    """Add the survey's unit-rms Gaussian sky noise to noiseless images (what a telescope sees)."""
    rng = np.random.default_rng(seed)
    x = np.asarray(images, np.float32)
    return (x + rng.normal(0.0, 1.0, x.shape)).astype(np.float32)


def class_accuracy(classifier, images: np.ndarray, classes: np.ndarray, seed: int) -> dict:
    """Fraction of noiseless ``images`` (plus survey noise) that ``classifier`` assigns to the class
    each was generated for; overall, per class, and the predicted-class histogram."""
    pred = classifier.predict(observe(images, seed)[:, 0] if np.ndim(images) == 4 else observe(images, seed),
                              mc_samples=0).labels
    names = classifier.class_names
    out = {"accuracy": float((pred == classes).mean()),
           "per_class": {names[c]: float((pred[classes == c] == c).mean()) for c in np.unique(classes)},
           "predicted_histogram": {names[k]: int(v) for k, v in enumerate(np.bincount(pred, minlength=len(names)))}}
    return out


class PCAGaussian:
    """Baseline generator: PCA of arcsinh(truth / 3) images, a Gaussian (mean, covariance) in
    the space of the first ``k`` components, per class and pooled."""

    def __init__(self, truth: np.ndarray, labels: np.ndarray, k: int = 32):
        u = np.arcsinh(np.asarray(truth, np.float64).reshape(len(truth), -1) / GEN_SCALE)
        self.shape = np.shape(truth)[-2:]
        self.mean = u.mean(0)
        _, _, vt = np.linalg.svd(u - self.mean, full_matrices=False)
        self.components = vt[:k]
        c = (u - self.mean) @ self.components.T
        self.stats = {None: (c.mean(0), np.cov(c, rowvar=False))}
        for lab in np.unique(labels):
            cl = c[labels == lab]
            self.stats[int(lab)] = (cl.mean(0), np.cov(cl, rowvar=False))

    def project(self, noisy: np.ndarray) -> np.ndarray:
        """Reconstruction of noisy images from their first ``k`` PCA coefficients, counts."""
        u = np.arcsinh(np.asarray(noisy, np.float64).reshape(len(noisy), -1) / GEN_SCALE)
        c = (u - self.mean) @ self.components.T
        return (np.sinh(c @ self.components + self.mean) * GEN_SCALE).reshape(len(noisy), *self.shape)

    def sample(self, n: int, seed: int, cls: int | None = None) -> np.ndarray:
        rng = np.random.default_rng(seed)
        mu, cov = self.stats[cls]
        c = rng.multivariate_normal(mu, cov, size=n, method="svd")
        return (np.sinh(c @ self.components + self.mean) * GEN_SCALE).reshape(n, *self.shape).astype(np.float32)
