"""Out-of-distribution flags of the image models: every prediction says, per row, whether its input lies
outside what the model was trained on (S/N, masked pixels, saturation, pixel scale, PSF) and why; the
ranges are on the cards (``inputs.ranges``)."""

from __future__ import annotations

import numpy as np
import pytest

from astrohub.models.inputs import InputError
from astrohub.sims.images import simulate_images

from .test_fits_inputs import hdu


@pytest.fixture(scope="module")
def galaxies():
    """Noisy cutouts with their noiseless images (the morphology distribution)."""
    return simulate_images("morphology_truth", 60, seed=401)


def test_cards_carry_the_trained_ranges(loaded):
    from astrohub import models

    for name in ("galaxy_morphology", "lens_finder", "cutout_denoiser"):
        r = loaded(name).card["inputs"]["ranges"]
        assert 0 < r["snr"][0] < r["snr"][1] and r["nan_fraction"] == [0.0, 0.0]
        assert r["pixel_scale_arcsec"][0] < 0.2 < r["pixel_scale_arcsec"][1] and r["psf_fwhm_arcsec"] == [0.6, 1.0]
    assert models.load("galaxy_vae", device="cpu").card["inputs"]["ranges"]["snr"][0] > 0


def test_in_range_simulations_are_rarely_flagged(loaded, galaxies):
    m = loaded("galaxy_morphology")
    p = m.predict(simulate_images("morphology", 120, seed=402).images, mc_samples=0, tta=False)
    assert p.ood.shape == (120,) and len(p.ood_reason) == 120
    assert p.ood.mean() <= 0.03, [r for r in p.ood_reason if r]
    assert all(r == "" for r, o in zip(p.ood_reason, p.ood) if not o)
    lens = loaded("lens_finder").predict(simulate_images("lens", 40, seed=403).images, mc_samples=0, tta=False)
    assert lens.ood.mean() <= 0.05
    ood, _ = loaded("cutout_denoiser").check(galaxies.images)
    assert ood.mean() <= 0.05


def test_faint_and_saturated_objects_are_flagged(loaded, galaxies):
    m = loaded("galaxy_morphology")
    rng = np.random.default_rng(4)
    truth = galaxies.meta["truth"]
    faint = truth * 0.02 + rng.normal(size=truth.shape)  # 50x fainter: most at the noise level
    p = m.predict(faint, mc_samples=0, tta=False)
    assert p.ood.mean() >= 0.9
    assert sum("S/N" in r and "outside the trained 5.68..284" in r for r in p.ood_reason) >= 0.9 * len(truth)
    # bright objects whose cores the detector clipped (a flat top at the saturation level)
    bright = truth[:10] * 40 + rng.normal(size=truth[:10].shape)
    clipped = np.minimum(bright, 0.2 * bright.max(axis=(1, 2), keepdims=True))
    s = m.predict(clipped, mc_samples=0, tta=False)
    assert s.ood.all()
    assert all("saturated:" in r and "pixel(s) at a clipped maximum" in r for r in s.ood_reason)
    assert sum("S/N" in r for r in s.ood_reason) >= 5  # the brightest are beyond the trained S/N as well


def test_nan_laden_cutouts_are_filled_and_flagged(loaded, galaxies):
    m = loaded("galaxy_morphology")
    x = galaxies.images[:6].copy()
    x[1, :16, :] = np.nan  # a masked strip: 25% of the pixels
    x[4, 30:34, 30:34] = np.nan
    with pytest.raises(InputError, match=r"NaN or infinite pixels in image\(s\) \[1, 4\]; mask or inpaint them first "
                                         r"\(or pass fill_nan=True"):
        m.predict(x)
    p = m.predict(x, fill_nan=True, mc_samples=0, tta=False)
    assert p.ood.tolist() == [False, True, False, False, True, False] or \
        (p.ood[[1, 4]].all() and p.ood.sum() <= 3)
    assert p.ood_reason[1].startswith("25.0% of pixels were NaN (masked; filled with sky noise), trained on 0%")
    assert "0.4% of pixels were NaN" in p.ood_reason[4]
    assert np.isfinite(p.probabilities).all()
    half = x[:1].copy()
    half[0, :40] = np.nan
    with pytest.raises(InputError, match=r"image\(s\) \[0\] have 62% NaN \(masked\) pixels; at most 50% can be filled"):
        m.predict(half, fill_nan=True)
    # FITS cutouts (as surveys serve them) carry NaN for masked pixels: filled without asking
    f = m.predict([hdu(x[1], 0.2), hdu(x[0], 0.2)], mc_samples=0, tta=False)
    assert f.ood[0] and "25.0% of pixels were NaN" in f.ood_reason[0]
    np.testing.assert_allclose(f.probabilities[0], p.probabilities[1], rtol=1e-5, atol=1e-6)


def test_fits_headers_flag_saturation_and_an_untrained_psf(loaded, galaxies):
    m = loaded("galaxy_morphology")
    x = galaxies.images[:3]
    p = m.predict([hdu(x[0], 0.2, PSF_FWHM=1.6), hdu(x[1], 0.2, PSF_FWHM=0.8),
                   hdu(x[2], 0.2, SATURATE=float(x[2].max() - 1e-3))], mc_samples=0, tta=False)
    assert 'PSF FWHM 1.6" outside the trained 0.6..1"' in p.ood_reason[0]
    assert "PSF FWHM" not in p.ood_reason[1]
    assert "saturated: 1 pixel(s) at or above the header's SATURATE level" in p.ood_reason[2]
    # a PSF outside the trained range is not used: the PSF-blind head answers, as without headers
    blind = m.predict(x[:2], mc_samples=0, tta=False)
    np.testing.assert_allclose(p.probabilities[:2], blind.probabilities, rtol=1e-5, atol=1e-6)
    both = m.predict([hdu(x[0], 0.2, PSF_FWHM=0.7), hdu(x[1], 0.2, PSF_FWHM=0.8)], mc_samples=0, tta=False)
    given = m.predict(x[:2], psf_fwhm=[0.7, 0.8], mc_samples=0, tta=False)
    np.testing.assert_allclose(both.probabilities, given.probabilities, rtol=1e-5, atol=1e-6)


def test_generators_check_their_inputs(loaded, galaxies):
    from astrohub import models

    rng = np.random.default_rng(5)
    noise = rng.normal(size=(4, 64, 64))
    for g in (loaded("cutout_denoiser"), models.load("galaxy_vae", device="cpu")):
        ood, reason = g.check(noise)
        assert ood.all() and all(r.startswith("S/N ") for r in reason)
    low = simulate_images("denoise", 4, seed=404).meta["lowres"]
    ood, reason = loaded("cutout_denoiser").check(low, super_resolution=True)
    assert ood.shape == (4,) and len(reason) == 4


def test_chunked_predictions_carry_the_flags_per_row(loaded, galaxies):
    """compute.predict concatenates the chunks' flags in row order (in-process here; the archive test does
    the same with rows fetched from the archive)."""
    from astrohub.compute import predict

    x = galaxies.images[:12].copy()
    x[[3, 10]] = np.random.default_rng(6).normal(size=(2, 64, 64))  # blank sky: nothing to classify
    whole = loaded("galaxy_morphology").predict(x, mc_samples=0, tta=False)
    got = predict("galaxy_morphology", x, chunk_size=5, progress=False, mc_samples=0, tta=False)
    assert got.ood.tolist() == whole.ood.tolist() and got.ood_reason == whole.ood_reason
    assert got.ood[[3, 10]].all() and len(got.ood_reason) == 12


@pytest.mark.archive
def test_archive_rows_carry_the_flags(arc):
    from astrohub.compute import predict
    from astrohub.compute.plugin import load_model

    rows = arc.query("SELECT TOP 16 o.* FROM astrohub.objects AS o JOIN astrohub.cutouts AS c ON o.obj_id = c.obj_id "
                     "WHERE c.task = 'morphology' ORDER BY o.obj_id")
    got = predict("galaxy_morphology", rows, archive=arc, chunk_size=8, progress=False, mc_samples=0, tta=False)
    assert got.ood.shape == (len(rows),) and len(got.ood_reason) == len(rows)
    single = load_model("galaxy_morphology").predict(arc.cutouts(rows), mc_samples=0, tta=False)
    assert got.ood.tolist() == single.ood.tolist() and got.ood_reason == single.ood_reason
    assert got.ood.mean() <= 0.25  # the archive serves the simulated survey the model was trained on
