"""Simulated Galaxy Zoo 1 subject images: SDSS gri colour composites as Galaxy Zoo serves them (423-px JPEG stamps
scaled to each galaxy's Petrosian size), framed at :data:`FRAME` px as the ``galaxy_zoo`` colour model frames them.
For pretraining before the real kit (benchmarks/galaxy_zoo_simpretrain.py measures what it gives on the kit's val
split).

The simulator draws, in g, r and i (fluxes from colours), per class:
- elliptical: a Sersic (n 2.5-5) spheroid, red (g-r ~0.8), axis ratio 0.5-1; 30% also have a smooth red disk
  (lenticulars, which Galaxy Zoo 1 volunteers call elliptical);
- spiral-disk: a red bulge and a blue exponential disk (g-r ~0.3) with logarithmic arms
  (1-4 of them, pitch 10-35 deg, amplitude 0.3-0.9; winding one way, or either way with their labels:
  ``simulate_gz_colour(..., winding=True)``) and blue star-forming knots along them, inclination short of
  edge-on (axis ratio 0.3-1), bulge/total 0-0.4;
- edge-on: a thin disk (axis ratio 0.15-0.35), bulge/total 0-0.4, often a dust lane reddening its midplane;
- irregular-merger: two galaxies of either kind 0.4-1.6 Petrosian radii apart (flux ratio 1-4), and most often
  a tidal tail of blue clumps;
then neighbours (stars and small galaxies), a Gaussian PSF of SDSS seeing (1.4" FWHM: 1-9 frame px as the
galaxy's size varies), sky noise, Lupton et al. (2004) asinh gri -> RGB composite, and JPEG quantisation.
"""

from __future__ import annotations

import io
import math

import numpy as np

GZ_CLASSES = ["elliptical", "spiral-disk", "edge-on", "irregular-merger"]
FRAME = 160  # px: the galaxy_zoo recipe's frame of the 423-px stamp
R90_FRAME = (11.0, 19.0)  # px: a galaxy's size parameter in the frame (its profiles' radii scale with it)
SKY_NOISE = (0.25, 0.6)  # the sky noise per frame px, in the composite's stretch units
ALPHA, Q = (0.08, 0.16), 8.0  # the asinh stretch (Lupton et al. 2004): softening alpha drawn per stamp, Q fixed
BALANCE = (1.0, 1.1, 1.5)  # R, G, B lifted to the colour balance of the SDSS composites


def _sersic(x, y, re, n):
    r = np.hypot(x, y) / re
    b = 2.0 * n - 1.0 / 3.0
    return np.exp(-b * (np.power(r + 1e-6, 1.0 / n) - 1.0))


def _rot(xx, yy, pa, q):
    c, s = math.cos(pa), math.sin(pa)
    return c * xx + s * yy, (-s * xx + c * yy) / q


def _blob(xx, yy, x0, y0, sigma):
    """A circular Gaussian of width ``sigma`` px at (``x0``, ``y0``), peak 1."""
    return np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * sigma ** 2))


def _bands(img, gr, ri):
    """One profile [H, W] as g, r, i fluxes [3, H, W] from its colours (r-band flux = img)."""
    return np.stack([img * 10 ** (-0.4 * gr), img, img * 10 ** (0.4 * ri)])


def _spheroid(rng, xx, yy, re, q, pa, n=(2.5, 5.0)):
    x, y = _rot(xx, yy, pa, q)
    return _bands(_sersic(x, y, re, rng.uniform(*n)), rng.normal(0.82, 0.06), rng.normal(0.42, 0.04))


def _disk(rng, xx, yy, rd, q, pa, arms: float, knots: int, wind: int = 1):
    """An exponential disk (and its arms and knots), r-band flux normalised to 1 before the colours. ``wind``: the
    arms' winding as the frame shows it (+1: outwards they turn clockwise, as the rows of the frame run down; -1:
    mirrored)."""
    x, y = _rot(xx, yy, pa, q)
    r = np.hypot(x, y)
    base = np.exp(-r / rd)
    if arms > 0:
        m = int(rng.choice([1, 2, 2, 2, 3, 4]))
        pitch = math.radians(rng.uniform(10, 35))
        phi0 = rng.uniform(0, 2 * math.pi)
        phase = m * (np.arctan2(y, x) - wind * np.log(r / rd + 1e-3) / math.tan(pitch)) + phi0
        wave = ((1 + np.cos(phase)) / 2) ** rng.uniform(1, 4)
        base = base * ((1 - arms) + 2 * arms * wave) * (1 - np.exp(-(r / (0.5 * rd)) ** 2) * 0.3)
    out = _bands(base / base.sum(), rng.normal(0.3, 0.08), rng.normal(0.15, 0.05))
    if knots:
        rad = rd * rng.gamma(2.0, 1.0, knots)
        ang = rng.uniform(0, 2 * math.pi, knots)
        kx, ky = rad * np.cos(ang), rad * np.sin(ang) * q
        c, s = math.cos(pa), math.sin(pa)
        px, py = c * kx - s * ky, s * kx + c * ky
        k = np.zeros_like(xx)
        for i in range(knots):
            k += _blob(xx, yy, px[i], py[i], rng.uniform(0.6, 1.5))
        out += _bands(k / max(k.sum(), 1e-9) * rng.uniform(0.05, 0.25), rng.normal(0.15, 0.1), rng.normal(0.0, 0.05))
    return out


def _galaxy(rng, kind, xx, yy, r90, wind: int = 1):
    pa = rng.uniform(0, math.pi)
    if kind == "elliptical":
        img = _spheroid(rng, xx, yy, r90 / rng.uniform(1.6, 2.4), rng.uniform(0.5, 1.0), pa)
        if rng.random() < 0.3:  # a lenticular: a smooth, red, armless disk around it (GZ1 calls it elliptical)
            q = rng.uniform(0.4, 1.0)
            disk = _bands(_sersic(*_rot(xx, yy, pa, q), r90 / 2.5, 1.0), rng.normal(0.75, 0.06),
                          rng.normal(0.38, 0.04))
            img = img / img[1].sum() + disk / disk[1].sum() * rng.uniform(0.2, 1.0)
        return img
    q = rng.uniform(0.3, 1.0) if kind == "spiral-disk" else rng.uniform(0.15, 0.35)
    rd = r90 / rng.uniform(2.6, 3.4)
    arms = rng.uniform(0.3, 0.9) if kind == "spiral-disk" else 0.0
    disk = _disk(rng, xx, yy, rd, q, pa, arms, int(rng.integers(0, 25)) if kind == "spiral-disk" else 0, wind)
    bt = rng.uniform(0.0, 0.4)
    bulge = _spheroid(rng, xx, yy, rd * rng.uniform(0.3, 0.7), rng.uniform(0.6, 1.0), pa)
    img = (1 - bt) * disk / disk[1].sum() + bt * bulge / bulge[1].sum()
    if kind == "edge-on" and rng.random() < 0.6:  # a dust lane: the midplane dimmed, more in g than in i
        x, y = _rot(xx, yy, pa, 1.0)
        lane = np.exp(-(y / (rd * q * rng.uniform(0.3, 0.8))) ** 2) * np.exp(-(np.abs(x) / (3 * rd)))
        d = rng.uniform(0.3, 0.8)
        img = img * (1 - d * np.array([1.0, 0.8, 0.6])[:, None, None] * lane)
    return img


def gz_scene(rng: np.random.Generator, kind: str, xx: np.ndarray, yy: np.ndarray, r90: float,
             wind: int = 1) -> np.ndarray:
    """The light of a simulated Galaxy Zoo 1 subject of class ``kind`` on the grid ``xx``, ``yy`` (px from the
    centre), before seeing and noise: g, r, i float [3, H, W] with the galaxy's r-band flux 1 (neighbours, stars and
    small galaxies anywhere in the grid, add their own). ``r90``: the galaxy's size parameter in px (its
    profiles' radii scale with it: R90 measured as SDSS does, the galaxy deblended from its neighbours, comes out
    at a median 0.89-1.07 times it per class and 1.13 for mergers; 1.53 with the pair measured as one)."""
    if kind == "irregular-merger":
        img = _galaxy(rng, rng.choice(["elliptical", "spiral-disk", "spiral-disk"]), xx, yy, r90)
        img /= img[1].sum()
        sep, ang = r90 * rng.uniform(0.4, 1.6), rng.uniform(0, 2 * math.pi)
        ox, oy = sep * math.cos(ang), sep * math.sin(ang)
        other = _galaxy(rng, rng.choice(["elliptical", "spiral-disk"]), xx - ox, yy - oy, r90 * rng.uniform(0.5, 1))
        img += other / other[1].sum() / rng.uniform(1, 4)
        if rng.random() < 0.7:  # a tidal tail: an arc of blue clumps
            t = np.linspace(0, 1, 12)
            a0, curl = rng.uniform(0, 2 * math.pi), rng.uniform(-2.5, 2.5)
            rad = r90 * (0.6 + 1.6 * t)
            tx, ty = rad * np.cos(a0 + curl * t), rad * np.sin(a0 + curl * t)
            tail = sum(_blob(xx, yy, tx[i], ty[i], 2 + 3 * t[i]) for i in range(12))
            img += _bands(tail / tail.sum() * rng.uniform(0.05, 0.25), rng.normal(0.35, 0.1), rng.normal(0.15, 0.05))
    else:
        img = _galaxy(rng, kind, xx, yy, r90, wind)
        img /= img[1].sum()
    half = xx.shape[1] / 2
    for _ in range(int(rng.poisson(1.5))):  # neighbours: stars and small galaxies anywhere in the frame
        nx, ny = rng.uniform(-half, half, 2)
        blob = _blob(xx, yy, nx, ny, rng.uniform(0.8, 3.0))
        img += _bands(blob / blob.sum() * 10 ** rng.uniform(-2.5, -0.7), rng.uniform(0.2, 1.4), rng.uniform(0.0, 0.6))
    return img


def seeing(img: np.ndarray, fwhm_px: float) -> np.ndarray:
    """Bands [C, H, W] convolved with a circular Gaussian PSF of ``fwhm_px`` (periodic: the grid's edges wrap)."""
    ky, kx = np.fft.fftfreq(img.shape[-2]), np.fft.fftfreq(img.shape[-1])
    otf = np.exp(-2 * (math.pi * fwhm_px / 2.3548) ** 2 * (ky[:, None] ** 2 + kx[None, :] ** 2))
    return np.real(np.fft.ifft2(np.fft.fft2(img) * otf))


def lupton_rgb(img: np.ndarray, alpha: float, q: float = Q) -> np.ndarray:
    """Lupton et al. (2004) composite of g, r, i bands [3, H, W] (sky-subtracted, in the stretch's units):
    I = the bands' mean, every band scaled by asinh(q alpha I) / (q I); RGB = i, r, g with G and B lifted
    (:data:`BALANCE`) to the colour balance of the SDSS composites; saturated without changing the colour.
    uint8 [H, W, 3]."""
    inten = np.maximum(img.mean(0), 1e-6)
    rgb = img[::-1] * (np.arcsinh(q * alpha * inten) / (q * inten))[None] * np.array(BALANCE)[:, None, None]
    rgb = np.clip(rgb, 0, None)
    rgb /= np.maximum(rgb.max(0, keepdims=True), 1.0)  # saturate without changing the colour
    return (np.moveaxis(rgb, 0, -1) * 255).round().astype(np.uint8)


def gz_stamp(rng: np.random.Generator, kind: str, wind: int = 1) -> np.ndarray:
    """One simulated Galaxy Zoo 1 stamp of class ``kind`` (one of :data:`GZ_CLASSES`), framed as the colour model
    frames the 423-px stamps it is served: uint8 [FRAME, FRAME, 3]. ``wind`` (+1 or -1): a spiral's winding (see
    :func:`_disk`); the same random numbers are drawn either way, so the two windings are mirror twins in the arms
    alone."""
    if kind not in GZ_CLASSES:
        raise ValueError(f"unknown Galaxy Zoo class {kind!r}: one of {', '.join(GZ_CLASSES)}")
    if wind not in (1, -1):
        raise ValueError(f"wind is +1 or -1, got {wind!r}")
    yy, xx = np.mgrid[:FRAME, :FRAME].astype(np.float64) - (FRAME - 1) / 2 - rng.uniform(-1, 1, 2)[:, None, None]
    r90 = rng.uniform(*R90_FRAME)
    img = gz_scene(rng, kind, xx, yy, r90, wind)
    # SDSS seeing: 1.4" FWHM; the frame's pixel is R90 / (R90 in px) arcsec, R90 of GZ1 galaxies ~3-14"
    img = seeing(img, 1.4 / (rng.uniform(3.0, 14.0) / r90))
    peak = img[1].max()
    img = img / peak * 10 ** rng.uniform(1.3, 2.5)  # the r-band peak: 20-316 in the stretch's units ...
    img += rng.normal(0, 1, img.shape) * rng.uniform(*SKY_NOISE)  # ... where the sky noise is 0.25-0.6
    u8 = lupton_rgb(img, rng.uniform(*ALPHA))
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(u8).save(buf, format="JPEG", quality=int(rng.integers(70, 92)))
    return np.asarray(Image.open(buf).convert("RGB"))


def gz_cutout(rng: np.random.Generator, kind: str, scale: float = 0.396, wind: int = 1, side: float = 16.0):
    """A simulated SDSS g, r, i cutout of a Galaxy Zoo 1 subject of class ``kind`` at the native pixel scale
    ``scale`` ("/px), as an archive serves it: (bands float32 [3, H, W] in nanomaggies with the sky left in, the
    galaxy's size parameter in px). R90 3-14", r 14-17.7 mag (the Main galaxy sample), seeing 1.1-1.6" FWHM,
    sky noise per px 0.025 / 0.03 / 0.045 nmgy in g / r / i; the cutout spans ``side`` times the size."""
    if kind not in GZ_CLASSES:
        raise ValueError(f"unknown Galaxy Zoo class {kind!r}: one of {', '.join(GZ_CLASSES)}")
    r90 = rng.uniform(3.0, 14.0) / scale
    n = int(side * r90) | 1
    yy, xx = np.mgrid[:n, :n].astype(np.float64) - (n - 1) / 2 - rng.uniform(-0.5, 0.5, 2)[:, None, None]
    img = seeing(gz_scene(rng, kind, xx, yy, r90, wind), rng.uniform(1.1, 1.6) / scale)
    img *= 10 ** ((22.5 - rng.uniform(14.0, 17.7)) / 2.5)
    sigma = np.array([0.025, 0.03, 0.045])[:, None, None]
    img += 0.1 + rng.normal(size=img.shape) * sigma
    return img.astype(np.float32), float(r90)


def cutout_header(n: int, scale: float = 0.396, **cards):
    """The FITS header of a simulated n x n px cutout (:func:`gz_cutout`) as an archive would serve it: a north-up
    TAN WCS centred on the cutout at ``scale`` "/px, BUNIT nanomaggy; ``cards`` add or replace cards (None drops
    one), e.g. ``FILTER="r"``."""
    from astropy.io import fits

    h = fits.Header({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 150.0, "CRVAL2": 2.0,
                     "CRPIX1": (n + 1) / 2, "CRPIX2": (n + 1) / 2, "CDELT1": -scale / 3600, "CDELT2": scale / 3600,
                     "BUNIT": "nanomaggy"})
    for key, value in cards.items():
        if value is None:
            h.remove(key, ignore_missing=True)
        else:
            h[key] = value
    return h


def _chunk(args):
    seed, kinds, winds = args
    rng = np.random.default_rng(seed)
    return np.stack([gz_stamp(rng, GZ_CLASSES[k], int(w)) for k, w in zip(kinds, winds)])


def simulate_gz_colour(n: int, seed: int, workers: int = 1, progress: bool = False, winding: bool = False):
    """``n`` simulated Galaxy Zoo 1 stamps (uint8 [n, FRAME, FRAME, 3]) and their classes (indices into
    :data:`GZ_CLASSES`, drawn uniformly), in chunks of 100 (each seeded by ``seed`` and its position, so the result
    does not depend on ``workers``) over ``workers`` processes. With ``winding`` the spirals wind either way (drawn
    by a generator of their own, so every other number is the same) and a third array gives each stamp's winding:
    +1 or -1 for a spiral (:func:`_disk`), 0 for the other classes; without it every spiral winds the +1 way."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n is a positive number of stamps, got {n!r}")
    from tqdm.auto import tqdm

    y = np.random.default_rng(seed).integers(0, len(GZ_CLASSES), n)
    spiral = y == GZ_CLASSES.index("spiral-disk")
    wind = np.where(np.random.default_rng([seed, 1]).random(n) < 0.5, 1, -1) if winding else np.ones(n, int)
    jobs = [((seed, i), y[i:i + 100], wind[i:i + 100]) for i in range(0, n, 100)]
    if workers > 1:
        from multiprocessing import Pool

        with Pool(workers) as pool:
            parts = list(tqdm(pool.imap(_chunk, jobs), total=len(jobs), desc="simulating", leave=False,
                              disable=not progress))
    else:
        parts = [_chunk(j) for j in tqdm(jobs, desc="simulating", leave=False, disable=not progress)]
    if winding:
        return np.concatenate(parts), y, np.where(spiral, wind, 0)
    return np.concatenate(parts), y
