"""Simulated training / test sets of the 1-D models (light curves, spectra, photometry), cached.

Each task wraps one of the archive's simulators (:mod:`astrohub.sims`), so a model trained
here applies to the demo archive's rows unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import series_prep as P

CACHE = Path(os.environ.get("ASTROHUB_CACHE", ".astrohub/cache")) / "series"
TASKS = ("transit", "spectral_class", "photoz", "stellar_params")


def _lc_chunk(args):
    n, seed, start, stop = args
    from ..sims.lightcurves import simulate_lightcurves

    b = simulate_lightcurves(n, seed)
    t = b.time.astype(np.float64)
    g, loc, s = P.lightcurve_batch([(t, b.flux[i].astype(np.float64)) for i in range(start, stop)])
    return g, loc, s


def _transit(n, seed, workers=1):
    from ..sims.lightcurves import simulate_lightcurves

    b = simulate_lightcurves(n, seed)
    edges = np.linspace(0, n, max(workers * 4, 1) + 1).astype(int)
    jobs = [(n, seed, int(a), int(c)) for a, c in zip(edges[:-1], edges[1:]) if c > a]
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as ex:
            parts = list(ex.map(_lc_chunk, jobs))
    else:
        parts = [_lc_chunk(j) for j in jobs]
    g, loc, s = (np.concatenate(z) for z in zip(*parts))
    return {"global": g, "local": loc, "scalars": s, "labels": b.labels, "period": b.meta["period"]}


def _spectra(n, seed, stars_only=False):
    from ..sims.spectra import simulate_spectra

    b = simulate_spectra(n, seed, labels=np.zeros(n, np.int64) if stars_only else None)
    out = {"flux": b.flux, "error": b.error, "labels": b.labels, "wave": b.wave}
    out.update({k: b.meta[k] for k in ("redshift", "teff", "logg", "feh", "snr")})
    return out


def _photoz(n, seed):
    from ..sims.photometry import simulate_photometry

    b = simulate_photometry(n, seed)
    return {"mags": b.mags, "errors": b.errors, "redshift": b.redshift, "labels": b.labels}


def simulate(task: str, n: int, seed: int, cache: bool = True, workers: int = 1) -> dict[str, np.ndarray]:
    """Arrays of ``n`` simulated objects for ``task`` (one of ``TASKS``) from ``seed``."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; tasks are {', '.join(TASKS)}")
    path = CACHE / f"{task}-{n}-{seed}.npz"
    if cache and path.is_file():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    if task == "transit":
        d = _transit(n, seed, workers)
    elif task == "photoz":
        d = _photoz(n, seed)
    else:
        d = _spectra(n, seed, stars_only=task == "stellar_params")
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **d)
        tmp.replace(path)
    return d
