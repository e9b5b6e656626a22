"""Simulated training / validation / test sets of every model kind, generated in parallel and cached.

:func:`simulate_images` gives image batches (cutouts; :mod:`astrohub.sims.images`),
:func:`simulate_series` the arrays of the 1-D models (light curves, spectra, photometry). Both wrap
the archive's own simulators, so a model trained here applies to the demo archive's rows unchanged.
Caches live under :func:`astrohub.defaults.cache_dir` and are never committed.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from astrohub.sims.images import ImageBatch, simulate_range
from astrohub.sims.lightcurves import SIM_VERSION as LIGHTCURVE_VERSION

from .inputs import series as P

CHUNK = 250


def cache_dir(kind: str = "sims") -> Path:
    """Where simulated sets (``kind`` "sims" for images, "series") and training snapshots are cached."""
    from astrohub.defaults import cache_dir as _cache_dir

    d = _cache_dir(kind)
    d.mkdir(parents=True, exist_ok=True)
    return d


def _chunk(args):
    task, start, stop, seed, size = args
    return simulate_range(task, start, stop, seed, size)


def simulate_images(task: str, n: int, seed: int, size: int, workers: int | None = None, cache: bool = True,
             progress: bool = False) -> ImageBatch:
    """``simulate_images(task, n, seed, size)``, computed in ``workers`` processes and cached as .npz."""
    path = cache_dir() / f"{task}_s{seed}_n{n}_px{size}.npz" if cache else None
    if path is not None:  # objects are independent draws, so a larger cached set's prefix is exact
        for cand in sorted(cache_dir().glob(f"{task}_s{seed}_n*_px{size}.npz"),
                           key=lambda p: int(p.stem.split("_n")[1].split("_")[0])):
            if int(cand.stem.split("_n")[1].split("_")[0]) >= n:
                z = np.load(cand, allow_pickle=False)
                meta = {k[5:]: z[k][:n] for k in z.files if k.startswith("meta_")}
                return ImageBatch(z["images"][:n], z["labels"][:n], [str(c) for c in z["class_names"]], meta, task,
                                  seed)
    workers = workers or min(2, os.cpu_count() or 1)
    parts, start = [], 0
    if path is not None:  # extend the largest smaller cached set instead of simulating its objects again
        smaller = [c for c in cache_dir().glob(f"{task}_s{seed}_n*_px{size}.npz") if _cached_n(c) < n]
        if smaller:
            z = np.load(max(smaller, key=_cached_n), allow_pickle=False)
            parts.append(ImageBatch(z["images"], z["labels"], [str(c) for c in z["class_names"]],
                                    {k[5:]: z[k] for k in z.files if k.startswith("meta_")}, task, seed))
            start = len(z["labels"])
    jobs = [(task, a, min(a + CHUNK, n), seed, size) for a in range(start, n, CHUNK)]
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(workers) as ex:
            parts += list(_progress(ex.map(_chunk, jobs), len(jobs), progress, f"simulating {task}"))
    else:
        parts += [_chunk(j) for j in _progress(jobs, len(jobs), progress, f"simulating {task}")]
    batch = ImageBatch(
        np.concatenate([p.images for p in parts]),
        np.concatenate([p.labels for p in parts]),
        parts[0].class_names,
        {k: np.concatenate([p.meta[k] for p in parts]) for k in parts[0].meta},
        task,
        seed,
    )
    if path is not None:
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, images=batch.images, labels=batch.labels, class_names=np.array(batch.class_names),
                 **{f"meta_{k}": v for k, v in batch.meta.items()})
        tmp.replace(path)
    return batch


def _cached_n(path: Path) -> int:
    return int(path.stem.split("_n")[1].split("_")[0])


def _progress(it, total, enabled, desc):
    if not enabled:
        return it
    from tqdm import tqdm

    return tqdm(it, total=total, desc=desc, unit="chunk")


# ----------------------------------------------------------------------------- 1-D models
SERIES_TASKS = ("transit", "spectral_class", "photoz", "stellar_params")
_VERSIONS = {"transit": f"-v{LIGHTCURVE_VERSION}-f{P.FEATURES_VERSION}"}  # in cache names: a changed simulator or
# changed views never read stale files
STELLAR_NAMES = ["teff", "logg", "feh"]


def series_inputs(task: str, d: dict, norm: dict | None = None) -> tuple:
    """Network input arrays of a simulated 1-D set ``d`` (photometry: standardised with ``norm``)."""
    if task == "transit":
        return d["global"], d["local"], d["scalars"]
    if task == "photoz":
        f = P.photometry_features(d["mags"].astype(np.float64), d["errors"].astype(np.float64))
        return ((f - np.array(norm["mean"])) / np.array(norm["std"])).astype(np.float32),
    return P.spectrum_input(d["flux"].astype(np.float64)),


def stellar_targets(d: dict) -> np.ndarray:
    """[N, 3] Teff, log g, [Fe/H] of a simulated stellar set."""
    return np.stack([d[k] for k in STELLAR_NAMES], 1).astype(np.float64)



def _lc_chunk(args):
    n, seed, start, stop = args
    from astrohub.sims.lightcurves import simulate_lightcurves

    b = simulate_lightcurves(n, seed, rows=range(start, stop))  # only this chunk's objects
    t = b.time.astype(np.float64)
    g, loc, s = P.lightcurve_batch([(t, f.astype(np.float64)) for f in b.flux])
    return g, loc, s, b.labels, b.meta["period"]


def _transit(n, seed, workers=1):
    edges = np.linspace(0, n, max(workers * 4, 1) + 1).astype(int)
    jobs = [(n, seed, int(a), int(c)) for a, c in zip(edges[:-1], edges[1:]) if c > a]
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as ex:
            parts = list(ex.map(_lc_chunk, jobs))
    else:
        parts = [_lc_chunk(j) for j in jobs]
    g, loc, s, labels, period = (np.concatenate(z) for z in zip(*parts))
    return {"global": g, "local": loc, "scalars": s, "labels": labels, "period": period}


def _spectra(n, seed, stars_only=False):
    from astrohub.sims.spectra import simulate_spectra

    b = simulate_spectra(n, seed, labels=np.zeros(n, np.int64) if stars_only else None)
    out = {"flux": b.flux, "error": b.error, "labels": b.labels, "wave": b.wave}
    out.update({k: b.meta[k] for k in ("redshift", "teff", "logg", "feh", "snr")})
    return out


def _photoz(n, seed):
    from astrohub.sims.photometry import simulate_photometry

    b = simulate_photometry(n, seed)
    return {"mags": b.mags, "errors": b.errors, "redshift": b.redshift, "labels": b.labels}


def simulate_series(task: str, n: int, seed: int, cache: bool = True, workers: int = 1) -> dict[str, np.ndarray]:
    """Arrays of ``n`` simulated objects for ``task`` (one of ``TASKS``) from ``seed``."""
    if task not in SERIES_TASKS:
        raise ValueError(f"unknown task {task!r}; tasks are {', '.join(SERIES_TASKS)}")
    path = cache_dir("series") / f"{task}-{n}-{seed}{_VERSIONS.get(task, '')}.npz"
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
