"""Classical baselines on the same splits: random forest on simple image features, and
Gaussian / median filtering and bicubic interpolation for the generator."""

from __future__ import annotations

import numpy as np

from ..inputs import series as P


def image_features(xn: np.ndarray) -> np.ndarray:
    """Simple features of normalised images [N, C, H, W]: 8x8 block means, the central 8x8
    pixels, and per-band flux, peak, minimum and second moments of the positive light."""
    n, c, h, w = xn.shape
    pooled = xn.reshape(n, c, 8, h // 8, 8, w // 8).mean(axis=(3, 5)).reshape(n, -1)
    cy, cx = h // 2, w // 2
    centre = xn[:, :, cy - 4:cy + 4, cx - 4:cx + 4].reshape(n, -1)
    pos = np.clip(xn, 0, None)
    yy, xx = np.mgrid[:h, :w] - np.array([cy - 0.5, cx - 0.5])[:, None, None]
    tot = pos.sum(axis=(2, 3)) + 1e-6
    mxx = (pos * xx**2).sum(axis=(2, 3)) / tot
    myy = (pos * yy**2).sum(axis=(2, 3)) / tot
    mxy = (pos * xx * yy).sum(axis=(2, 3)) / tot
    stats = np.concatenate([tot, xn.max(axis=(2, 3)), xn.min(axis=(2, 3)), mxx + myy,
                            (mxx - myy) / (mxx + myy + 1e-6), 2 * mxy / (mxx + myy + 1e-6)], axis=1)
    return np.concatenate([pooled, centre, stats], axis=1).astype(np.float32)


def forest_features(xn: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
    """:func:`image_features`, then the columns of ``extra`` [N, k] (e.g. each image's PSF FWHM)."""
    f = image_features(xn)
    return f if extra is None else np.concatenate([f, np.asarray(extra, np.float32).reshape(len(f), -1)], axis=1)


def forest(reg: bool, seed: int):
    """The 1-D models' classical baseline, unfitted: a random forest (200 trees), a regressor when ``reg``."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestRegressor if reg else RandomForestClassifier
    return cls(n_estimators=200, min_samples_leaf=2, n_jobs=2, random_state=seed)


def fit_forest(xn: np.ndarray, y: np.ndarray, seed: int, n_max: int = 8000, extra: np.ndarray | None = None):
    """Random forest (300 trees) on :func:`forest_features` of at most ``n_max`` training images."""
    from sklearn.ensemble import RandomForestClassifier

    rf = RandomForestClassifier(n_estimators=300, min_samples_leaf=2, n_jobs=2, random_state=seed)
    rf.fit(forest_features(xn[:n_max], None if extra is None else extra[:n_max]), y[:n_max])
    return rf


def gaussian_denoise(x: np.ndarray, sigma_px: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    return np.stack([gaussian_filter(a, sigma_px) for a in x])


def median_denoise(x: np.ndarray, size: int = 3) -> np.ndarray:
    from scipy.ndimage import median_filter

    return np.stack([median_filter(a, size) for a in x])


def bicubic_upsample(x: np.ndarray) -> np.ndarray:
    """2x cubic-spline upsampling of [N, H, W] images (mean-preserving per pixel)."""
    from scipy.ndimage import zoom

    return np.stack([zoom(a, 2, order=3, mode="nearest") for a in x])


def best_gaussian_sigma(noisy: np.ndarray, truth: np.ndarray, grid=(0.5, 0.75, 1.0, 1.5, 2.0)) -> float:
    """Gaussian-filter width (pixels) with the lowest MSE on a validation set."""
    errs = [np.mean((gaussian_denoise(noisy, s) - truth) ** 2) for s in grid]
    return float(grid[int(np.argmin(errs))])


def baseline_features(task: str, d: dict) -> np.ndarray:
    """Features of the classical baselines: light curves -> binned views + BLS scalars; spectra ->
    the normalised spectrum averaged into 128 bins; photometry -> colours, r and errors."""
    if task == "transit":
        (n, c, _), cl = d["global"].shape, d["local"].shape[1]
        g = d["global"].reshape(n, c, 32, -1).mean(3).reshape(n, -1)
        loc = d["local"].reshape(n, cl, 16, -1).mean(3).reshape(n, -1)
        return np.concatenate([g, loc, d["scalars"]], 1)
    if task == "photoz":
        return P.photometry_features(d["mags"].astype(np.float64), d["errors"].astype(np.float64))
    x = P.spectrum_input(d["flux"].astype(np.float64))[:, 0]
    return x.reshape(len(x), 128, -1).mean(2)
