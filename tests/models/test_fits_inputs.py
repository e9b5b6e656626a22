"""FITS cutouts with a WCS go into the image models as surveys serve them: resampled to the pixel scale
the model was trained at and cut to its input around the centre, or refused with a message naming the
mismatch. Survey adapters named on a card (``inputs.adapter``) come first."""

from __future__ import annotations

import copy
import sys
import types

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from scipy.ndimage import map_coordinates

from astrohub.models.inputs import InputError, OODFlags
from astrohub.models.inputs import adapters as A
from astrohub.sims.images import simulate_images


def wcs_header(shape, scale_arcsec, naxis=2):
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.cdelt = [-scale_arcsec / 3600.0, scale_arcsec / 3600.0]
    w.wcs.crpix = [shape[-1] / 2 + 0.5, shape[-2] / 2 + 0.5]
    w.wcs.crval = [150.1, 2.2]
    return w.to_header()


def hdu(img, scale_arcsec, **cards):
    h = wcs_header(img.shape, scale_arcsec)
    for k, v in cards.items():
        h[k] = v
    return fits.ImageHDU(np.asarray(img, np.float32), header=h)


def test_fits_at_the_trained_scale_is_centre_cut_like_the_array(loaded, tmp_path):
    m = loaded("galaxy_morphology")
    big = simulate_images("morphology", 6, seed=301, size=80).images  # archive-like larger stamps
    paths = []
    for i, img in enumerate(big):
        p = tmp_path / f"cut{i}.fits"
        fits.PrimaryHDU(img, header=wcs_header(img.shape, 0.2)).writeto(p)
        paths.append(str(p) if i % 2 else p)  # str and Path both work
    got = m.predict(paths, mc_samples=0, tta=False)
    ref = m.predict(big[:, 8:72, 8:72], mc_samples=0, tta=False)
    np.testing.assert_allclose(got.probabilities, ref.probabilities, rtol=1e-5, atol=1e-6)
    assert not got.ood.any() or all("pixel scale" not in r for r in got.ood_reason)
    # HDUs, an HDUList and a gzipped file read the same
    gz = tmp_path / "cut0.fits.gz"
    fits.PrimaryHDU(big[0], header=wcs_header(big[0].shape, 0.2)).writeto(gz)
    one = m.predict([fits.HDUList([fits.PrimaryHDU(), hdu(big[0], 0.2)]), str(gz)], mc_samples=0, tta=False)
    np.testing.assert_allclose(one.probabilities, ref.probabilities[[0, 0]], rtol=1e-5, atol=1e-6)


def test_rebinned_fits_at_0p4_arcsec_classify_like_the_originals(loaded, tmp_path):
    for name, task, want in (("galaxy_morphology", "morphology", 0.75), ("lens_finder", "lens", 0.85)):
        m = loaded(name)
        b = simulate_images(task, 48, seed=302)
        orig = m.predict(b.images, mc_samples=0, tta=False)
        coarse = b.images.reshape(-1, 32, 2, 32, 2).sum((2, 4))  # a 0.4"/px survey: 2x2 blocks summed
        files = []
        for i, img in enumerate(coarse):
            files.append(tmp_path / f"{name}{i}.fits")
            fits.PrimaryHDU(img, header=wcs_header(img.shape, 0.4)).writeto(files[-1])
        got = m.predict(files, mc_samples=0, tta=False)
        agree = float(np.mean(got.labels == orig.labels))
        assert agree >= want, f"{name}: only {agree:.2f} of the 0.4\"/px cutouts agree with the originals"
        assert got.ood.all() and all('pixel scale 0.4"/px resampled to the trained 0.2"/px' in r
                                     for r in got.ood_reason)
        again = m.predict(files[:3], mc_samples=0, tta=False)  # resampling noise is seeded by the image:
        np.testing.assert_allclose(again.probabilities, got.probabilities[:3], rtol=1e-4, atol=1e-6)  # same answer


def test_oversampled_fits_at_0p1_arcsec_classify_like_the_originals(loaded):
    m = loaded("galaxy_morphology")
    b = simulate_images("morphology_truth", 48, seed=303)
    truth = b.meta["truth"].astype(np.float64)
    # the same galaxies observed at 0.1"/px: the noiseless image interpolated (flux per pixel / 4) with
    # white noise of rms 0.5 per 0.1" pixel (the same sky noise per area as rms 1 per 0.2" pixel)
    c = (np.arange(128) - 63.5) / 2 + 31.5
    yy, xx = np.meshgrid(c, c, indexing="ij")
    rng = np.random.default_rng(3)
    fine = np.stack([map_coordinates(t, [yy, xx], order=3, mode="nearest") / 4 for t in truth])
    fine += rng.normal(0, 0.5, fine.shape)
    orig = m.predict(b.images, mc_samples=0, tta=False)
    got = m.predict([hdu(f, 0.1) for f in fine], mc_samples=0, tta=False)
    assert np.mean(got.labels == orig.labels) >= 0.75
    assert np.mean(got.labels == b.labels) >= np.mean(orig.labels == b.labels) - 0.1


def test_generators_and_the_vae_read_fits(loaded):
    from astrohub import models

    g = loaded("cutout_denoiser")
    b = simulate_images("denoise", 3, seed=304)
    np.testing.assert_allclose(g.denoise([hdu(x, 0.2) for x in b.images]), g.denoise(b.images), rtol=1e-4,
                               atol=1e-4)
    low = b.meta["lowres"]  # the 2x SR input is at twice the model's pixel scale
    np.testing.assert_allclose(g.super_resolve([hdu(x, 0.4) for x in low]), g.super_resolve(low), rtol=1e-4,
                               atol=1e-4)
    ood, reason = g.check([hdu(x, 0.2) for x in b.images])
    assert ood.shape == (3,) and len(reason) == 3
    v = models.load("galaxy_vae", device="cpu")
    np.testing.assert_allclose(v.reconstruct([hdu(x, 0.2) for x in b.images]), v.reconstruct(b.images),
                               rtol=1e-4, atol=1e-4)


def test_a_cutout_whose_header_names_another_band_is_flagged(loaded):
    """The image models were trained on r-band images: a cutout whose FILTER names u, i (OmegaCAM's 'i_SDSS') or
    'HSC-Z' is classified but flagged with its band; r by any name, or no FILTER, is not."""
    m = loaded("galaxy_morphology")
    stamps = simulate_images("morphology", 6, seed=306).images
    filters = ["u", "i_SDSS", "HSC-Z", "r.MP9601", "SDSS r", None]
    cuts = [hdu(img, 0.2, **({"FILTER": f} if f else {})) for img, f in zip(stamps, filters)]
    got = m.predict(cuts, mc_samples=0, tta=False)
    said = [[p for p in r.split("; ") if p.startswith("band ")] for r in got.ood_reason]
    flag = "band {} (its header's filter): the model was trained on r-band images"
    assert said == [[flag.format(b)] for b in "uiz"] + [[]] * 3
    assert got.ood[:3].all()
    same = m.predict([hdu(img, 0.2) for img in stamps], mc_samples=0, tta=False)  # a flag, not another answer
    np.testing.assert_allclose(got.probabilities, same.probabilities, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- refused, with the reason
@pytest.fixture(scope="module")
def stamp():
    return simulate_images("morphology", 1, seed=305).images[0]


def test_no_wcs_is_refused(loaded, stamp):
    m = loaded("galaxy_morphology")
    with pytest.raises(InputError, match=r"input 0 has no celestial WCS \(CTYPE1/2 such as RA---TAN/DEC--TAN"):
        m.predict(fits.ImageHDU(stamp))
    h = fits.Header()
    h["CTYPE1"], h["CTYPE2"], h["CDELT1"], h["CDELT2"] = "LINEAR", "LINEAR", 1.0, 1.0
    with pytest.raises(InputError, match="has no celestial WCS"):
        m.predict(fits.ImageHDU(stamp, header=h))


def test_a_pixel_scale_too_different_is_refused(loaded, stamp):
    m = loaded("galaxy_morphology")
    with pytest.raises(InputError, match=r'input 0 has a pixel scale of 1"/px, too different from the 0.2"/px the '
                                         r'model was trained at to resample safely \(from 0.02 to 0.5"/px accepted\)'):
        m.predict(hdu(stamp, 1.0))
    with pytest.raises(InputError, match=r'pixel scale of 0.01"/px, too different'):
        m.predict(hdu(stamp, 0.01))


def test_too_few_pixels_after_resampling_is_refused(loaded, stamp):
    m = loaded("galaxy_morphology")
    with pytest.raises(InputError, match=r'input 0 is too small: 20x20 pixels at 0.4"/px cover 8.00"x8.00", giving '
                                         r'40.0x40.0 pixels at the model\'s 0.2"/px; it needs 64x64'):
        m.predict(hdu(stamp[:20, :20], 0.4))
    with pytest.raises(InputError, match=r"is too small: 60x60 pixels"):
        m.predict(hdu(stamp[2:62, 2:62], 0.2))


def test_wrong_number_of_planes_is_refused(loaded, stamp):
    m = loaded("galaxy_morphology")
    cube = np.stack([stamp] * 3)
    h = wcs_header(stamp.shape, 0.2)
    with pytest.raises(InputError, match=r"input 0 has 3 image plane\(s\) but the model expects 1 band\(s\) \['r'\]"):
        m.predict(fits.ImageHDU(cube, header=h))


def test_unknown_or_missing_files_are_refused(loaded, stamp, tmp_path):
    m = loaded("galaxy_morphology")
    png = tmp_path / "galaxy.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(InputError, match=r"unknown file type '.png' for .*galaxy.png: it reads FITS cutouts with "
                                         r"a WCS.*models.load\('galaxy_zoo'\) reads those"):
        m.predict([png])
    txt = tmp_path / "galaxy.txt"
    txt.write_text("not an image")
    with pytest.raises(InputError, match=r"unknown file type '.txt' .*convert other formats first$"):
        m.predict([txt])
    with pytest.raises(InputError, match=r"no such file .*nothing.fits"):
        m.predict(str(tmp_path / "nothing.fits"))
    table = fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns([fits.Column("a", "E", array=[1.0])])])
    with pytest.raises(InputError, match="input 0 holds no image data"):
        m.predict(table)
    bad = tmp_path / "bad.fits"
    bad.write_bytes(b"SIMPLE  =    garbage" + bytes(50))
    with pytest.raises(InputError, match="could not read .*bad.fits as FITS"):
        m.predict(bad)


def test_a_compressed_fits_declaring_a_huge_image_is_refused_unread(loaded, tmp_path, compressed_fits_declaring):
    """A few kB of tile-compressed FITS whose header declares 30000 x 30000 pixels: refused from the header (a file
    or its HDUs), not decompressed into gigabytes."""
    from astropy.io import fits

    bomb = tmp_path / "bomb.fits"
    bomb.write_bytes(compressed_fits_declaring(30000))
    m = loaded("galaxy_morphology")
    msg = r"bomb.fits is refused: its header declares a 30000 x 30000 image \(900,000,000 px; at most 100,000,000\)"
    with pytest.raises(InputError, match=msg):
        m.predict([bomb])
    with fits.open(bomb) as hdul, pytest.raises(InputError, match=r"input 0 is refused: its header declares"):
        m.predict(hdul)


# ----------------------------------------------------------------------------- survey adapters
def test_a_card_adapter_prepares_the_inputs_and_its_flags_come_through(loaded, monkeypatch):
    from astrohub import models

    calls = []
    lens = loaded("lens_finder")
    images = simulate_images("lens", 3, seed=306).images

    def prepare(x, card_inputs, name):
        calls.append((x, card_inputs["adapter"], name))
        flags = OODFlags(len(images)).add([False, True, False], "fake survey: bad row")
        return images[:, None].astype(np.float32), flags

    fake = types.ModuleType("astrohub.models.inputs.fake_survey")
    fake.prepare = prepare
    monkeypatch.setitem(sys.modules, "astrohub.models.inputs.fake_survey", fake)
    monkeypatch.setitem(A.ADAPTERS, "fake", "fake_survey:prepare")
    m = models.load("lens_finder", device="cpu")
    m.card = copy.deepcopy(m.card)
    m.card["inputs"]["adapter"] = "fake"
    p = m.predict("raw survey payload", mc_samples=0, tta=False)
    assert calls[0] == ("raw survey payload", "fake", "lens_finder")
    np.testing.assert_allclose(p.probabilities, lens.predict(images, mc_samples=0, tta=False).probabilities, rtol=1e-5,
                               atol=1e-6)
    assert p.ood.tolist() == [False, True, False] and p.ood_reason[1] == "fake survey: bad row"
    assert m.explain("raw survey payload").shape == (3, 64, 64)
    # an adapter the registry does not know, or whose module is missing, is named
    m.card["inputs"]["adapter"] = "hubble"
    with pytest.raises(InputError, match=r"names the input adapter 'hubble', which is not one of \['fake', 'ztf'\]"):
        m.predict(images)
    monkeypatch.setitem(A.ADAPTERS, "gone", "no_such_module:prepare")
    m.card["inputs"]["adapter"] = "gone"
    with pytest.raises(InputError, match=r"input adapter 'gone' \(no_such_module:prepare\) could not be imported"):
        m.predict(images)
    assert A.ADAPTERS["ztf"] == "ztf:prepare" and A.adapt(images, {"shape": [1, 64, 64]}) is None
