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
``transient``   bogus / real; images are [n, 3, size, size] triplets
                (science, reference, difference)
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
BOGUS_TYPES = ["bad-subtraction", "dipole", "cosmic-ray", "hot-pixel"]
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
    if not (isinstance(size, (int, np.integer)) and size >= 16 and size % 2 == 0):
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
    """Science / reference / difference triplet; real = new point source at the centre."""
    g = _galsim()
    label = int(rng.integers(2))
    psf_ref, fwhm_ref = _moffat(rng, (0.6, 0.9))
    psf_sci, fwhm_sci = _moffat(rng, (0.7, 1.2))
    sig_ref = 0.5  # deeper reference coadd
    parts = []  # static scene: host galaxy near the centre and a few field stars
    if rng.random() < 0.7:
        host = g.Exponential(half_light_radius=float(rng.uniform(0.4, 1.5))).shear(_shear(rng, (0.3, 1.0)))
        off = rng.uniform(-1.5, 1.5, 2)
        parts.append(host.shift(*off).withFlux(float(np.exp(rng.uniform(np.log(300), np.log(5000))))))
    half = 0.45 * size * PIXEL_SCALE
    for _ in range(int(rng.integers(0, 3))):
        pos = rng.uniform(-half, half, 2)
        parts.append(g.DeltaFunction().shift(*pos).withFlux(float(np.exp(rng.uniform(np.log(200), np.log(20000))))))
    bogus = "" if label == 1 else BOGUS_TYPES[int(rng.integers(len(BOGUS_TYPES)))]
    centre = rng.uniform(-0.5, 0.5, 2) * PIXEL_SCALE
    if bogus in ("bad-subtraction", "dipole"):  # a bright static source at the candidate position
        parts.append(g.DeltaFunction().shift(*centre).withFlux(float(np.exp(rng.uniform(np.log(2000), np.log(30000))))))
    scene = g.Add(parts) if parts else g.DeltaFunction().withFlux(0.0)

    ref = _draw(g.Convolve(scene, psf_ref), size)
    shift = (0.0, 0.0)
    if bogus == "dipole":
        r, a = rng.uniform(0.3, 1.2), rng.uniform(0, 2 * np.pi)
        shift = (float(r * np.cos(a)), float(r * np.sin(a)))
    sci = _draw(g.Convolve(scene, psf_sci), size, shift)
    # PSF-matched model of the reference subtracted from the science image
    mis = 1.0 + (rng.uniform(0.15, 0.4) * rng.choice([-1, 1]) if bogus == "bad-subtraction"
                 else rng.uniform(-0.05, 0.05))
    matched = _draw(g.Convolve(scene, psf_sci.dilate(mis)), size)
    snr = 0.0
    if label == 1:
        pt = _draw(g.Convolve(g.DeltaFunction(), psf_sci).shift(*centre), size)
        snr = float(np.exp(rng.uniform(np.log(8), np.log(150))))
        sci = sci + pt * _snr_scale(pt, snr)
    elif bogus == "cosmic-ray":
        sci = sci + _cosmic_ray(rng, size)
    elif bogus == "hot-pixel":
        c = size // 2 + rng.integers(-1, 2, 2)
        sci = sci.copy()
        sci[c[0], c[1]] += float(np.exp(rng.uniform(np.log(15), np.log(500))))
        if rng.random() < 0.5:
            sci[c[0], c[1] + 1] += float(np.exp(rng.uniform(np.log(10), np.log(200))))
    noise_ref = rng.normal(0.0, sig_ref, (size, size))
    sci = sci + rng.normal(0.0, 1.0, (size, size))
    ref = ref + noise_ref
    from scipy.ndimage import gaussian_filter

    k = max(fwhm_sci**2 - fwhm_ref**2, 0.0) ** 0.5 / 2.355 / PIXEL_SCALE
    diff = sci - (matched + gaussian_filter(noise_ref, k) if k > 0 else matched + noise_ref)
    return np.stack([sci, ref, diff]), label, {"snr": snr, "psf_fwhm": fwhm_sci,
                                               "bogus_type": np.int64(BOGUS_TYPES.index(bogus) if bogus else -1)}


def _cosmic_ray(rng, size):
    """An unconvolved track (length 1-8 px) through the stamp centre."""
    img = np.zeros((size, size))
    length = int(rng.integers(1, 9))
    ang = rng.uniform(0, np.pi)
    amp = float(np.exp(rng.uniform(np.log(10), np.log(300))))
    c = size / 2 - 0.5 + rng.uniform(-0.7, 0.7, 2)
    for t in np.linspace(-length / 2, length / 2, 4 * length + 1):
        y, x = c[0] + t * np.sin(ang), c[1] + t * np.cos(ang)
        iy, ix = int(round(y)), int(round(x))
        if 0 <= iy < size and 0 <= ix < size:
            img[iy, ix] = amp * float(rng.uniform(0.6, 1.0))
    return img


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
