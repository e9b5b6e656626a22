"""Seeded image simulators for the model zoo and the demo archive.

``simulate_images(task, n, seed, size)`` returns an :class:`ImageBatch` of
sky-subtracted cutouts at 0.2 arcsec/pixel with a Moffat (GalSim) or Gaussian
(lenstronomy) PSF and Gaussian sky noise of unit rms, so pixel values are in
units of the sky noise. Every object draws its parameters from its own
generator ``default_rng([seed, task_id, i])``: batches are reproducible and a
range of a batch can be simulated on its own (:func:`simulate_range`), which
is how the trainers parallelise generation.

Tasks
-----
``morphology``  elliptical / spiral-disk / edge-on / irregular-merger / star
``lens``        non-lens / lens (SIE + external shear, lenstronomy)
``transient``   bogus / real; images are [n, 3, size, size] ZTF-like alert triplets
                (science, reference, difference) at 1.01"/px (``ZTF_PIXEL_SCALE``) in raw
                counts: science and reference keep their sky, ~2" Moffat PSFs that vary,
                a deeper reference, NaN masks; bogus = bad subtractions, dipoles, cosmic
                rays, hot pixels, bad columns, masked-region rims and noise (63 = ZTF's size)
``denoise``     noisy galaxy cutouts; ``meta['truth']`` is the noiseless image
                and ``meta['lowres']`` a noisy 2x2-binned version for 2x
                super-resolution
``morphology_truth``  the ``morphology`` distribution (same classes, sizes, SNR,
                PSF, noise) with the noiseless image in ``meta['truth']``;
                independent draws (its own task id), used by the generators
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

PIXEL_SCALE = 0.2  # arcsec / pixel
TASKS = ("morphology", "lens", "transient", "denoise", "morphology_truth")
CLASS_NAMES = {
    "morphology": ["elliptical", "spiral-disk", "edge-on", "irregular-merger", "star"],
    "lens": ["non-lens", "lens"],
    "transient": ["bogus", "real"],
    "denoise": ["galaxy"],
    "morphology_truth": ["elliptical", "spiral-disk", "edge-on", "irregular-merger", "star"],
}
BOGUS_TYPES = ["bad-subtraction", "dipole", "cosmic-ray", "hot-pixel", "bad-column", "masked", "noise"]
ZTF_PIXEL_SCALE = 1.01  # arcsec / pixel of the transient task (ZTF alert stamps)
_TASK_ID = {t: i for i, t in enumerate(TASKS)}


@dataclass
class ImageBatch:
    """Simulated cutouts with integer labels and per-object metadata arrays."""

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    meta: dict[str, np.ndarray] = field(default_factory=dict)
    task: str = ""
    seed: int = 0

    def __len__(self) -> int:
        return len(self.labels)


def simulate_images(task: str, n: int, seed: int, size: int = 64) -> ImageBatch:
    """Simulate ``n`` cutouts of ``size``x``size`` pixels for ``task`` from ``seed``."""
    return simulate_range(task, 0, n, seed, size)


def simulate_range(task: str, start: int, stop: int, seed: int, size: int = 64) -> ImageBatch:
    """Objects ``start..stop-1`` of ``simulate_images(task, stop, seed, size)``."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if task == "transient":  # ZTF's alert stamps are 63x63: odd sizes centre the candidate on a pixel
        if not (isinstance(size, (int, np.integer)) and size >= 16):
            raise ValueError(f"size must be an integer >= 16 (ZTF alert stamps are 63), got {size!r}")
    elif not (isinstance(size, (int, np.integer)) and size >= 16 and size % 2 == 0):
        raise ValueError(f"size must be an even integer >= 16, got {size!r}")
    if stop < start or start < 0:
        raise ValueError(f"need 0 <= start <= stop, got start={start}, stop={stop}")
    one = _SIMULATORS[task]
    rows = [one(np.random.default_rng([int(seed), _TASK_ID[task], i]), int(size)) for i in range(start, stop)]
    n = stop - start
    shape = (3, size, size) if task == "transient" else (size, size)
    images = np.stack([r[0] for r in rows]).astype(np.float32) if n else np.zeros((0, *shape), np.float32)
    labels = np.array([r[1] for r in rows], dtype=np.int64)
    keys = rows[0][2].keys() if n else []
    meta = {k: np.stack([np.asarray(r[2][k]) for r in rows]) for k in keys}
    for k, v in meta.items():
        if v.dtype == np.float64:
            meta[k] = v.astype(np.float32)
    return ImageBatch(images, labels, list(CLASS_NAMES[task]), meta, task, int(seed))


# ----------------------------------------------------------------------------- helpers
def _galsim():
    import galsim

    return galsim


def _moffat(rng, fwhm_range=(0.6, 1.0)):
    g = _galsim()
    fwhm = float(rng.uniform(*fwhm_range))
    beta = float(np.round(rng.uniform(2.5, 4.5), 1))
    return g.Moffat(beta=beta, fwhm=fwhm), fwhm


@lru_cache(maxsize=1)
def _gsparams():
    # looser FFT accuracy (folding 1%) makes deV stamps ~3x faster; errors stay far below the noise
    return _galsim().GSParams(folding_threshold=1e-2, maxk_threshold=5e-3)


def _draw(obj, size, offset=(0.0, 0.0)):
    obj = (_galsim().Convolve(obj, gsparams=_gsparams()) if not hasattr(obj, "obj_list")
           else obj.withGSParams(_gsparams()))
    return obj.drawImage(nx=size, ny=size, scale=PIXEL_SCALE, offset=offset).array.astype(np.float64)


def _snr_scale(img, snr, sigma=1.0):
    """Factor that gives ``img`` an optimal (matched-filter) S/N of ``snr``."""
    power = float(np.sqrt(np.sum(img**2)))
    return snr * sigma / max(power, 1e-12)


def _shear(rng, q_range):
    g = _galsim()
    q = float(rng.uniform(*q_range))
    return g.Shear(q=q, beta=float(rng.uniform(0, 180)) * g.degrees)


def _galaxy(rng, kind, hlr):
    """A GalSim profile of morphological ``kind`` with half-light radius ~``hlr`` arcsec."""
    g = _galsim()
    seed = int(rng.integers(1, 2**31 - 1))
    if kind == "elliptical":
        return g.DeVaucouleurs(half_light_radius=hlr).shear(_shear(rng, (0.6, 1.0)))
    if kind in ("spiral-disk", "edge-on"):
        if kind == "spiral-disk":
            incl = float(np.degrees(np.arccos(rng.uniform(0.35, 1.0))))  # up to ~70 deg
        else:
            incl = float(rng.uniform(84, 90))
        h_over_r = float(rng.uniform(0.06, 0.14))
        disk = g.InclinedExponential(incl * g.degrees, half_light_radius=hlr, scale_h_over_r=h_over_r)
        parts = [disk.withFlux(1.0)]
        bulge_frac = float(rng.uniform(0.0, 0.3))
        if bulge_frac > 0.02:
            parts.append(g.DeVaucouleurs(half_light_radius=float(rng.uniform(0.15, 0.3)) * hlr).withFlux(bulge_frac))
        if kind == "spiral-disk":
            knots = g.RandomKnots(int(rng.integers(15, 40)), half_light_radius=hlr, rng=g.BaseDeviate(seed))
            knots = knots.shear(g.Shear(q=max(float(np.cos(np.radians(incl))), 0.2), beta=0 * g.degrees))
            parts.append(knots.withFlux(float(rng.uniform(0.25, 0.5))))
        return g.Add(parts).rotate(float(rng.uniform(0, 360)) * g.degrees)
    if kind == "irregular-merger":
        if rng.random() < 0.5:  # merger: two galaxies 0.8-2.5" apart
            sep = float(rng.uniform(0.8, 2.5))
            ang = float(rng.uniform(0, 2 * np.pi))
            a = g.Exponential(half_light_radius=hlr).shear(_shear(rng, (0.4, 1.0))).withFlux(1.0)
            b_prof = g.DeVaucouleurs if rng.random() < 0.5 else g.Exponential
            b = b_prof(half_light_radius=hlr * float(rng.uniform(0.5, 1.0))).shear(_shear(rng, (0.4, 1.0)))
            b = b.withFlux(float(rng.uniform(0.3, 1.0)))
            dx, dy = 0.5 * sep * np.cos(ang), 0.5 * sep * np.sin(ang)
            return g.Add([a.shift(-dx, -dy), b.shift(dx, dy)])
        # irregular: clumpy star-forming knots dominate a lopsided diffuse component
        knots = g.RandomKnots(int(rng.integers(5, 15)), half_light_radius=hlr * 1.2, rng=g.BaseDeviate(seed))
        diffuse = g.Exponential(half_light_radius=hlr).shear(_shear(rng, (0.3, 1.0)))
        off = rng.uniform(-0.4, 0.4, 2) * hlr
        return g.Add([knots.withFlux(float(rng.uniform(0.5, 0.8))), diffuse.shift(*off).withFlux(0.4)])
    if kind == "star":
        return g.DeltaFunction()
    raise ValueError(kind)


# ----------------------------------------------------------------------------- tasks
def _one_morphology(rng, size):
    img, label, meta, _ = _morphology_draw(rng, size)
    return img, label, meta


def _one_morphology_truth(rng, size):
    img, label, meta, clean = _morphology_draw(rng, size)
    return img, label, {**meta, "truth": clean}


def _morphology_draw(rng, size):
    label = int(rng.integers(5))
    kind = CLASS_NAMES["morphology"][label]
    psf, fwhm = _moffat(rng)
    hlr = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
    gal = _galaxy(rng, kind, hlr)
    offset = tuple(rng.uniform(-1.0, 1.0, 2))
    clean = _draw(_galsim().Convolve(gal, psf), size, offset)
    snr = float(np.exp(rng.uniform(np.log(12.0), np.log(300.0))))  # faint objects included
    clean *= _snr_scale(clean, snr)
    img = clean + rng.normal(0.0, 1.0, clean.shape)
    return img, label, {"snr": snr, "hlr": hlr if kind != "star" else 0.0, "flux": clean.sum(), "psf_fwhm": fwhm}, clean


@lru_cache(maxsize=64)
def _lens_image_model(size, fwhm_q):
    import lenstronomy.Util.simulation_util as sim_util
    from lenstronomy.Data.imaging_data import ImageData
    from lenstronomy.Data.psf import PSF
    from lenstronomy.ImSim.image_model import ImageModel
    from lenstronomy.LensModel.lens_model import LensModel
    from lenstronomy.LightModel.light_model import LightModel

    data = ImageData(**sim_util.data_configure_simple(size, PIXEL_SCALE, exposure_time=100.0, background_rms=1.0))
    psf = PSF(psf_type="GAUSSIAN", fwhm=fwhm_q, pixel_size=PIXEL_SCALE, truncation=5)
    return ImageModel(
        data,
        psf,
        lens_model_class=LensModel(["SIE", "SHEAR"]),
        source_model_class=LightModel(["SERSIC_ELLIPSE"]),
        lens_light_model_class=LightModel(["SERSIC_ELLIPSE"]),
        kwargs_numerics={"supersampling_factor": 1},
    )


def _e12(rng, qmin):
    q = rng.uniform(qmin, 1.0)
    phi = rng.uniform(0, np.pi)
    e = (1 - q) / (1 + q)
    return float(e * np.cos(2 * phi)), float(e * np.sin(2 * phi))


def _one_lens(rng, size):
    label = int(rng.integers(2))
    fwhm = float(np.round(rng.uniform(0.6, 1.0), 2))
    model = _lens_image_model(size, fwhm)
    theta_e = float(rng.uniform(0.8, 2.0))
    cx, cy = rng.uniform(-0.1, 0.1, 2)
    e1, e2 = _e12(rng, 0.6)
    g1, g2 = rng.normal(0, 0.04, 2)
    kwargs_lens = [
        {"theta_E": theta_e, "e1": e1, "e2": e2, "center_x": float(cx), "center_y": float(cy)},
        {"gamma1": float(g1), "gamma2": float(g2), "ra_0": 0.0, "dec_0": 0.0},
    ]
    le1, le2 = _e12(rng, 0.6)
    lens_r = float(rng.uniform(0.5, 1.5))
    kwargs_ll = [{"amp": 1.0, "R_sersic": lens_r, "n_sersic": float(rng.uniform(3.0, 5.0)),
                  "e1": le1, "e2": le2, "center_x": float(cx), "center_y": float(cy)}]
    lens_light = model.image(kwargs_lens, None, kwargs_ll, source_add=False, lens_light_add=True)
    lens_snr = float(np.exp(rng.uniform(np.log(40), np.log(400))))
    lens_light *= _snr_scale(lens_light, lens_snr)
    if label == 1:  # source behind the deflector, within ~0.6 theta_E of the caustic centre
        r = theta_e * 0.6 * np.sqrt(rng.random())
        a = rng.uniform(0, 2 * np.pi)
        se1, se2 = _e12(rng, 0.5)
        kwargs_src = [{"amp": 1.0, "R_sersic": float(rng.uniform(0.1, 0.4)), "n_sersic": float(rng.uniform(0.8, 2.0)),
                       "e1": se1, "e2": se2, "center_x": float(cx + r * np.cos(a)),
                       "center_y": float(cy + r * np.sin(a))}]
        extra = model.image(kwargs_lens, kwargs_src, None, source_add=True, lens_light_add=False)
    else:  # unlensed neighbours (0-2) of similar size and brightness
        extra = np.zeros_like(lens_light)
        no_lens = [{"theta_E": 0.0, "e1": 0.0, "e2": 0.0, "center_x": 0.0, "center_y": 0.0},
                   {"gamma1": 0.0, "gamma2": 0.0, "ra_0": 0.0, "dec_0": 0.0}]
        for _ in range(int(rng.integers(0, 3))):
            r = rng.uniform(1.0, 0.4 * size * PIXEL_SCALE)
            a = rng.uniform(0, 2 * np.pi)
            se1, se2 = _e12(rng, 0.3)
            kw = [{"amp": 1.0, "R_sersic": float(rng.uniform(0.1, 0.5)), "n_sersic": float(rng.uniform(0.8, 2.0)),
                   "e1": se1, "e2": se2, "center_x": float(r * np.cos(a)), "center_y": float(r * np.sin(a))}]
            comp = model.image(no_lens, kw, None, source_add=True, lens_light_add=False)
            extra += comp * _snr_scale(comp, float(np.exp(rng.uniform(np.log(10), np.log(80)))))
    src_snr = 0.0
    if label == 1:
        src_snr = float(np.exp(rng.uniform(np.log(12), np.log(150))))  # faint arcs included
        extra *= _snr_scale(extra, src_snr)
    clean = lens_light + extra
    img = clean + rng.normal(0.0, 1.0, clean.shape)
    return img, label, {"theta_e": theta_e if label else 0.0, "source_snr": src_snr, "lens_snr": lens_snr,
                        "psf_fwhm": fwhm, "flux": clean.sum()}


def _one_transient(rng, size):
    """A ZTF-like alert triplet (science, reference, difference): ``size``x``size`` stamps at 1.01"/px in raw
    counts (science and reference keep their sky; the reference is a deeper, sharper coadd on the same
    zero point), the difference as ZTF serves it (the candidate is positive: fading sources come
    sign-flipped), NaN where masked or off-chip. Real = a PSF-shaped change at the centre (a new source on or
    off a host, a brightening or fading star); bogus = one of :data:`BOGUS_TYPES` (:func:`_ztf_bogus`)."""
    from scipy.ndimage import gaussian_filter

    label = int(rng.integers(2))
    yy, xx = np.mgrid[:size, :size].astype(np.float64)
    c0 = (size - 1) / 2.0 if size % 2 else size / 2.0  # ZTF's candidate pixel: the centre (31 of 63)
    # seeing: science FWHM ~1.2-4.5" (median 2.2"), the reference coadd sharper; Moffat with some ellipticity
    fwhm = float(np.clip(np.exp(rng.normal(np.log(2.2), 0.25)), 1.2, 4.5))
    fwhm_ref = float(np.clip(fwhm * rng.uniform(0.65, 1.05), 1.1, 4.0))
    sci_psf = (fwhm, (float(rng.uniform(0, 0.12)), float(rng.uniform(0, np.pi))), float(rng.uniform(2.5, 4.5)))
    ref_psf = (fwhm_ref, (float(rng.uniform(0, 0.08)), float(rng.uniform(0, np.pi))), float(rng.uniform(2.5, 4.5)))
    # sky and noise in counts as in ZTF stamps; the reference 2-10x less noisy
    sky = float(np.exp(rng.uniform(np.log(15), np.log(600))))
    sig = float(np.sqrt(0.3 * sky + 4.0) * np.exp(rng.normal(0, 0.2)))
    sig_ref = sig * float(rng.uniform(0.1, 0.5))
    sky_ref = sky * float(rng.uniform(0.97, 1.03)) + float(rng.normal(0, 2))
    zp = sig * 12.0  # flux of a ~4-sigma point source: the scale of fluxes

    def psf(x0, y0, p, flux, dilate=1.0):
        return flux * _moffat_pix(xx, yy, x0, y0, p[0] * dilate / ZTF_PIXEL_SCALE, p[1], p[2])

    # the static scene: field stars (sparse to crowded) and, often, a host galaxy near the centre
    stars = [(*rng.uniform(-1, size, 2), zp * min(0.5 * float(rng.random()) ** (-1 / 0.7), 5000.0))  # dN/dF ~ F^-1.7
             for _ in range(int(rng.poisson(np.exp(rng.uniform(0, np.log(40))))))]
    host = None
    if rng.random() < 0.55:
        off = rng.normal(0, 1.5, 2) if rng.random() < 0.7 else rng.uniform(-6, 6, 2)
        host = (c0 + off[0], c0 + off[1], float(np.exp(rng.uniform(np.log(0.8), np.log(6)))),  # hlr (px)
                float(rng.uniform(0.3, 1.0)), float(rng.uniform(0, np.pi)),
                zp * float(np.exp(rng.uniform(np.log(3), np.log(800)))), float(rng.choice([1.0, 4.0])))

    def scene(p):
        img = np.zeros((size, size))
        for x0, y0, flux in stars:
            img += psf(x0, y0, p, flux)
        if host is not None:
            img += _galaxy_pix(xx, yy, host, p[0] / ZTF_PIXEL_SCALE, p[2])
        return img

    ref_clean, sci_clean = scene(ref_psf), scene(sci_psf)
    matched = sci_clean * (1 + float(rng.normal(0, 0.015)))  # the reference as the subtraction models it
    cx, cy = c0 + float(rng.uniform(-0.6, 0.6)), c0 + float(rng.uniform(-0.6, 0.6))
    bogus, snr = "", 0.0
    if label == 1:
        snr = float(np.exp(rng.uniform(np.log(5.0), np.log(200))))
        kind = rng.random()
        if host is not None and kind > 0.6:  # on its host, near the nucleus
            cx = float(np.clip(host[0] + rng.normal(0, 0.7), c0 - 0.7, c0 + 0.7))
            cy = float(np.clip(host[1] + rng.normal(0, 0.7), c0 - 0.7, c0 + 0.7))
        unit = psf(cx, cy, sci_psf, 1.0)
        amp = snr * sig / float(np.sqrt(np.sum(unit ** 2)))
        if kind < 0.3:  # a variable star: in the reference too, brighter (or, flipped, fainter) now
            fading = rng.random() < 0.45
            base = amp * float(np.exp(rng.uniform(np.log(0.1), np.log(30)))) + (amp if fading else 0.0)
            ref_clean += psf(cx, cy, ref_psf, base)
            matched += base * unit
            sci_clean += (base - amp if fading else base + amp) * unit
            flip = fading
        else:  # a new point source (supernova, nuclear flare, asteroid)
            sci_clean += amp * unit
            flip = False
    else:
        bogus = BOGUS_TYPES[int(rng.integers(len(BOGUS_TYPES)))]
        add_sci, add_ref, add_matched, nan_bogus = _ztf_bogus(rng, bogus, size, xx, yy, (cx, cy), sci_psf, ref_psf,
                                                              sig, zp, psf)
        sci_clean, ref_clean, matched = sci_clean + add_sci, ref_clean + add_ref, matched + add_matched
        model_diff = sci_clean - matched
        flip = model_diff[int(round(cy)), int(round(cx))] < 0
    sci = sci_clean + rng.normal(0, sig, (size, size))
    ref_noise = rng.normal(0, sig_ref, (size, size))
    ref = ref_clean + ref_noise
    k = max(fwhm ** 2 - fwhm_ref ** 2, 0.01) ** 0.5 / 2.355 / ZTF_PIXEL_SCALE  # the PSF-matching kernel
    diff = sci - matched - gaussian_filter(ref_noise, k) - float(rng.normal(0, 0.1 * sig))
    if flip:
        diff = -diff
    nan_mask = nan_bogus if label == 0 else np.zeros((size, size), bool)
    if rng.random() < 0.12:  # chip edges and masked regions, on real and bogus alerts alike
        nan_mask = nan_mask | _edge_mask(rng, size)
    if rng.random() < 0.06:
        a, b = rng.integers(0, size, 2)
        w = rng.integers(2, 12, 2)
        box = np.zeros((size, size), bool)
        box[max(a - w[0], 0):a + w[0], max(b - w[1], 0):b + w[1]] = True
        box[int(c0) - 3:int(c0) + 4, int(c0) - 3:int(c0) + 4] = False
        nan_mask |= box
    out = np.stack([sci + sky, ref + sky_ref, diff])
    out[:, nan_mask] = np.nan
    return out, label, {"snr": snr, "psf_fwhm": fwhm, "sky": sky, "noise": sig,
                        "nan_fraction": float(nan_mask.mean()),
                        "bogus_type": np.int64(BOGUS_TYPES.index(bogus) if bogus else -1)}


def _moffat_pix(xx, yy, x0, y0, fwhm_px, e, beta):
    """An elliptical Moffat profile of unit flux (``e`` = (ellipticity, angle)) at the pixel centres,
    2x2 sub-sampled."""
    alpha = fwhm_px / (2 * np.sqrt(2 ** (1 / beta) - 1))
    q, th = 1 - e[0], e[1]
    c, s = np.cos(th), np.sin(th)
    out = 0.0
    for sx in (-0.25, 0.25):
        for sy in (-0.25, 0.25):
            dx, dy = xx + sx - x0, yy + sy - y0
            u, v = dx * c + dy * s, (-dx * s + dy * c) / q
            out = out + (1 + (u * u + v * v) / alpha ** 2) ** (-beta)
    return out * (beta - 1) / (np.pi * alpha ** 2 * q) / 4


def _galaxy_pix(xx, yy, host, fwhm_px, beta):
    """A host galaxy (exponential or de Vaucouleurs-like, ``host`` = (x, y, hlr px, q, angle, flux, n))
    convolved with a round Moffat PSF of ``fwhm_px``."""
    from scipy.signal import fftconvolve

    x0, y0, hlr, q, th, flux, n = host
    c, s = np.cos(th), np.sin(th)
    u = (xx - x0) * c + (yy - y0) * s
    v = (-(xx - x0) * s + (yy - y0) * c) / q
    r = np.sqrt(u * u + v * v)
    bn = 1.678 if n == 1.0 else 7.669
    prof = np.exp(-bn * ((r + 0.3) / hlr) ** (1 / n))
    h = int(min(3 * fwhm_px + 2, xx.shape[0] // 2))
    ky, kx = np.mgrid[-h:h + 1, -h:h + 1].astype(np.float64)
    ker = _moffat_pix(kx, ky, 0.0, 0.0, fwhm_px, (0.0, 0.0), beta)
    img = fftconvolve(prof, ker / ker.sum(), mode="same")
    return flux * img / max(prof.sum(), 1e-12)


def _edge_mask(rng, size):
    """NaN beyond a chip edge (a straight boundary a few to ~30 pixels in)."""
    m = np.zeros((size, size), bool)
    w = int(rng.integers(2, size // 2 - 3))
    side = int(rng.integers(4))
    if side == 0:
        m[:, :w] = True
    elif side == 1:
        m[:, -w:] = True
    elif side == 2:
        m[:w] = True
    else:
        m[-w:] = True
    return m


def _ztf_bogus(rng, bogus, size, xx, yy, centre, sci_psf, ref_psf, sig, zp, psf):
    """One ZTF-like artefact at the candidate position: what it adds to the science image, to the
    reference, to the reference as the subtraction models it, and its NaN mask."""
    from scipy.ndimage import gaussian_filter

    zero = np.zeros((size, size))
    sci_add, ref_add, matched_add, mask = zero.copy(), zero.copy(), zero.copy(), np.zeros((size, size), bool)
    x0, y0 = centre
    bright = zp * float(np.exp(rng.uniform(np.log(30), np.log(20000))))
    if bogus == "bad-subtraction":  # PSF mismatch on a bright static source: core / ring residuals
        mis = float(rng.uniform(0.05, 0.3)) * float(rng.choice([-1, 1]))
        sci_add += psf(x0, y0, sci_psf, bright)
        ref_add += psf(x0, y0, ref_psf, bright)
        matched_add += psf(x0, y0, sci_psf, bright * float(rng.uniform(0.93, 1.07)), 1 + mis)
    elif bogus == "dipole":  # misregistration of a bright source: positive and negative lobes
        r, a = float(rng.uniform(0.15, 1.2)), float(rng.uniform(0, 2 * np.pi))
        sx, sy = x0 - r * np.cos(a), y0 - r * np.sin(a)
        sci_add += psf(x0, y0, sci_psf, bright)
        ref_add += psf(sx, sy, ref_psf, bright)
        matched_add += psf(sx, sy, sci_psf, bright * float(rng.uniform(0.95, 1.05)))
    elif bogus == "cosmic-ray":  # a sharp, unconvolved track through the candidate pixel
        length = int(rng.integers(1, 12))
        ang = float(rng.uniform(0, np.pi))
        amp = sig * float(np.exp(rng.uniform(np.log(6), np.log(300))))
        for t in np.linspace(-length / 2, length / 2, 4 * length + 1):
            iy, ix = int(round(y0 + t * np.sin(ang))), int(round(x0 + t * np.cos(ang)))
            if 0 <= iy < size and 0 <= ix < size:
                sci_add[iy, ix] = amp * float(rng.uniform(0.5, 1.0))
        if rng.random() < 0.4:  # some charge in the neighbours
            sci_add = gaussian_filter(sci_add, float(rng.uniform(0.3, 0.6))) * 2
    elif bogus == "hot-pixel":  # one to a few hot pixels (detector defects)
        for _ in range(int(rng.integers(1, 4))):
            iy, ix = int(round(y0)) + int(rng.integers(-1, 2)), int(round(x0)) + int(rng.integers(-1, 2))
            sci_add[iy, ix] += sig * float(np.exp(rng.uniform(np.log(6), np.log(500))))
    elif bogus == "bad-column":  # a bad column / row or a bleed trail through the candidate
        prof = sig * float(np.exp(rng.uniform(np.log(3), np.log(200)))) * (1 + 0.3 * rng.normal(size=size))
        col, width = int(round(x0)), int(rng.integers(1, 3))
        lo = int(rng.integers(0, size // 2 - 3)) if rng.random() < 0.5 else 0
        hi = size - (int(rng.integers(0, size // 2 - 3)) if rng.random() < 0.5 else 0)
        if rng.random() < 0.7:
            sci_add[lo:hi, col:col + width] = prof[lo:hi, None]
        else:
            col = int(round(y0))
            sci_add[col:col + width, lo:hi] = prof[None, lo:hi]
        if rng.random() < 0.4:  # from a saturated star further along
            sy = y0 + float(rng.uniform(8, 20)) * float(rng.choice([-1, 1]))
            sci_add += psf(x0, sy, sci_psf, bright * 10)
            ref_add += psf(x0, sy, ref_psf, bright * 10)
            matched_add += psf(x0, sy, sci_psf, bright * 10)
    elif bogus == "masked":  # the candidate on the rim of a masked (NaN) saturated star or defect
        r = float(rng.uniform(2, 9))
        a = float(rng.uniform(0, 2 * np.pi))
        mx, my = x0 + (r + 1.5) * np.cos(a), y0 + (r + 1.5) * np.sin(a)
        if rng.random() < 0.5:
            mask = (np.abs(xx - mx) < r) & (np.abs(yy - my) < r)
        else:
            mask = (xx - mx) ** 2 + (yy - my) ** 2 < r * r
        sat, dil = bright * 20, float(rng.uniform(1.5, 3))
        sci_add += psf(mx, my, sci_psf, sat, dil)
        ref_add += psf(mx, my, ref_psf, sat, dil)
        matched_add += psf(mx, my, sci_psf, sat * float(rng.uniform(0.97, 1.03)), dil)
        sci_add += psf(x0, y0, sci_psf, sig * float(np.exp(rng.uniform(np.log(10), np.log(100)))),
                       float(rng.uniform(0.3, 0.8)))
    else:  # "noise": a 3.5-6 sigma fluctuation / ghost, not PSF-shaped
        blob = np.zeros((size, size))
        blob[int(round(y0)), int(round(x0))] = 1.0
        width = float(rng.uniform(0.2, 0.75) if rng.random() < 0.5 else rng.uniform(1.4, 2.2))
        blob = gaussian_filter(blob, width * sci_psf[0] / 2.355 / ZTF_PIXEL_SCALE)
        sci_add += blob * sig * float(rng.uniform(3.5, 6.0)) / max(float(np.sqrt(np.sum(blob ** 2))), 1e-9)
    return sci_add, ref_add, matched_add, mask


def _one_denoise(rng, size):
    kind = ["elliptical", "spiral-disk", "edge-on", "irregular-merger"][int(rng.integers(4))]
    psf, fwhm = _moffat(rng)
    hlr = float(np.exp(rng.uniform(np.log(0.4), np.log(2.0))))
    gal = _galaxy(rng, kind, hlr)
    clean = _draw(_galsim().Convolve(gal, psf), size, tuple(rng.uniform(-1, 1, 2)))
    snr = float(np.exp(rng.uniform(np.log(10.0), np.log(300.0))))
    clean *= _snr_scale(clean, snr)
    noisy = clean + rng.normal(0.0, 1.0, clean.shape)
    # 2x2-binned (mean) low-resolution view with its own unit-rms noise
    low = clean.reshape(size // 2, 2, size // 2, 2).mean(axis=(1, 3)) + rng.normal(0.0, 1.0, (size // 2, size // 2))
    return noisy, 0, {"truth": clean, "lowres": low, "snr": snr, "hlr": hlr, "psf_fwhm": fwhm}


_SIMULATORS = {"morphology": _one_morphology, "lens": _one_lens, "transient": _one_transient, "denoise": _one_denoise,
               "morphology_truth": _one_morphology_truth}
