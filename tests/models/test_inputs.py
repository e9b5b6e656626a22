"""Bad inputs to predictors give clear errors; good ones in several layouts are accepted."""

import numpy as np
import pytest
import torch

from astrohub.models.inputs import InputError
from astrohub.sims.images import simulate_images


@pytest.fixture(scope="module")
def morph_images():
    return simulate_images("morphology", 4, seed=99, size=64).images


def test_layouts_accepted(loaded, morph_images):
    m = loaded("galaxy_morphology")
    p4 = m.predict_proba(morph_images[:, None])
    np.testing.assert_allclose(m.predict_proba(morph_images), p4, atol=1e-6)
    np.testing.assert_allclose(m.predict_proba(torch.from_numpy(morph_images)), p4, atol=1e-6)
    np.testing.assert_allclose(m.predict_proba(morph_images[0]), p4[:1], atol=1e-6)
    np.testing.assert_allclose(m.predict_proba(morph_images.astype(np.float64) * 7.0), p4, atol=1e-4)  # units cancel
    assert m.predict(morph_images, bands=["r"]).labels.shape == (4,)


def test_wrong_shapes(loaded, morph_images):
    m = loaded("galaxy_morphology")
    with pytest.raises(InputError, match=r"expects 64x64 pixel cutouts at 0.2\"/px, got 32x32"):
        m.predict(morph_images[:, :32, :32])
    with pytest.raises(InputError, match=r"expects images shaped \[N, 1, 64, 64\] or \[N, 64, 64\], "
                                         r"got an array of shape \(64,\)"):
        m.predict(morph_images[0, 0])
    with pytest.raises(InputError, match=r"expects 1 band\(s\) \['r'\] per image, got 3 channels"):
        m.predict(np.repeat(morph_images[:, None], 3, axis=1))
    with pytest.raises(InputError, match="empty input"):
        m.predict(np.zeros((0, 64, 64)))


def test_wrong_bands(loaded):
    t = loaded("transient_realbogus")
    x = simulate_images("transient", 2, seed=98, size=32).images
    with pytest.raises(InputError, match=r"expects bands \['science', 'reference', 'difference'\] \(in this order\)"):
        t.predict(x, bands=["reference", "science", "difference"])
    with pytest.raises(InputError, match=r"expects 3 band\(s\)"):
        t.predict(x[:, :2])
    assert t.predict(x[0]).labels.shape == (1,)


def test_nan_inf_constant_and_dtype(loaded, morph_images):
    m = loaded("galaxy_morphology")
    bad = morph_images.copy()
    bad[1, 10, 10] = np.nan
    bad[3, 0, 0] = np.inf
    with pytest.raises(InputError, match=r"NaN or infinite pixels in image\(s\) \[1, 3\]"):
        m.predict(bad)
    with pytest.raises(InputError, match=r"image\(s\) \[0\] have no measurable sky noise"):
        m.predict(np.zeros((1, 64, 64)))
    with pytest.raises(InputError, match="must be numeric images"):
        m.predict(np.full((1, 64, 64), "a"))
    with pytest.raises(InputError, match="must be real-valued"):
        m.predict(morph_images.astype(np.complex64))


def test_explain_target_errors(loaded, morph_images):
    m = loaded("galaxy_morphology")
    with pytest.raises(InputError, match=r"unknown class 'spiral'; classes are \['elliptical'"):
        m.explain(morph_images, target="spiral")
    with pytest.raises(InputError, match=r"target class index 7 out of range 0..4"):
        m.explain(morph_images, target=7)


def test_generator_input_errors(loaded):
    g = loaded("cutout_denoiser")
    b = simulate_images("denoise", 2, seed=97, size=64)
    with pytest.raises(InputError, match=r"expects 32x32 pixel cutouts .* got 64x64"):
        g.super_resolve(b.images)
    with pytest.raises(InputError, match=r"NaN or infinite pixels"):
        g.denoise(np.where(b.images > 3, np.nan, b.images))
    with pytest.raises(InputError, match="no measurable sky noise"):
        g.denoise(np.ones((1, 64, 64)))


def test_bad_psf_fwhm(loaded, morph_images):
    m = loaded("galaxy_morphology")
    assert m.takes_psf
    with pytest.raises(InputError, match=r"psf_fwhm needs one value per image \(4\) or a single number, "
                                         r"got shape \(3,\)"):
        m.predict(morph_images, psf_fwhm=[0.7, 0.8, 0.9])
    with pytest.raises(InputError, match=r"psf_fwhm of image\(s\) \[2\] is NaN or infinite"):
        m.predict(morph_images, psf_fwhm=[0.7, 0.8, np.nan, 0.9])
    with pytest.raises(InputError, match=r"psf_fwhm 1.4 arcsec \(image 1\) is outside the 0.6-1 arcsec the PSF-aware "
                                         r"head was trained on; omit psf_fwhm to use the PSF-blind head"):
        m.predict(morph_images, psf_fwhm=[0.7, 1.4, 0.8, 0.9])
    with pytest.raises(InputError, match=r"psf_fwhm must be numbers \(arcsec\), got str"):
        m.predict(morph_images, psf_fwhm="seeing")
    with pytest.raises(InputError, match=r"psf_fwhm needs one value per image \(4\)"):
        m.explain(morph_images, psf_fwhm=[0.7])
    lens = loaded("lens_finder")
    with pytest.raises(InputError, match=r"lens_finder does not take a PSF \(its card has no inputs.psf_fwhm\)"):
        lens.predict(simulate_images("lens", 2, seed=98, size=64).images, psf_fwhm=0.8)
    # a single number stands for every image; the PSF-blind head stays available
    one = m.predict_proba(morph_images, psf_fwhm=0.8)
    np.testing.assert_allclose(one, m.predict_proba(morph_images, psf_fwhm=np.full(4, 0.8)), atol=1e-6)
    assert not np.allclose(one, m.predict_proba(morph_images), atol=1e-3)


def test_the_stamps_fast_median_equals_numpys():
    """ztf.nanmedian (one sort of the rows) gives np.nanmedian's values on the kit's real stamps with their masked
    pixels, on rows of odd and even lengths, and NaN for an all-NaN row."""
    import warnings

    from astrohub.models.evaluation import kits
    from astrohub.models.inputs import ztf

    x = np.load(kits.kit_dir("ztf_alerts") / "ztf_triplets_63x63.npz")["triplets"][:200].astype(np.float64)
    flat = x.reshape(200, 3, -1)
    assert np.isnan(flat).any(axis=-1).sum() > 10  # rows with masked pixels
    flat[0, 1] = np.nan
    for rows in (flat, flat[..., :-1], flat[..., :7]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = np.nanmedian(rows, axis=-1)
        np.testing.assert_array_equal(ztf.nanmedian(rows), want)
    assert np.isnan(ztf.nanmedian(flat)[0, 1])
