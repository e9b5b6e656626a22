"""Simulated training/validation/test sets, generated in parallel and cached on disk."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from astrohub.sims.images import ImageBatch, simulate_range

CHUNK = 250


def cache_dir() -> Path:
    """Where simulated sets are cached (``$ASTROHUB_CACHE`` or ``./.astrohub/cache``); never committed."""
    d = Path(os.environ.get("ASTROHUB_CACHE", Path.cwd() / ".astrohub" / "cache"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def _chunk(args):
    task, start, stop, seed, size = args
    return simulate_range(task, start, stop, seed, size)


def simulate(task: str, n: int, seed: int, size: int, workers: int | None = None, cache: bool = True,
             progress: bool = False) -> ImageBatch:
    """``simulate_images(task, n, seed, size)``, computed in ``workers`` processes and cached as .npz."""
    path = cache_dir() / f"{task}_s{seed}_n{n}_px{size}.npz" if cache else None
    if path is not None:  # objects are independent draws, so a larger cached set's prefix is exact
        for cand in sorted(cache_dir().glob(f"{task}_s{seed}_n*_px{size}.npz"), key=lambda p: int(p.stem.split("_n")[1].split("_")[0])):
            if int(cand.stem.split("_n")[1].split("_")[0]) >= n:
                z = np.load(cand, allow_pickle=False)
                meta = {k[5:]: z[k][:n] for k in z.files if k.startswith("meta_")}
                return ImageBatch(z["images"][:n], z["labels"][:n], [str(c) for c in z["class_names"]], meta, task, seed)
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
