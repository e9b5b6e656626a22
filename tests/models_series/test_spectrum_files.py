"""Spectrum files as surveys write them (issue #17): the spectrum models read a path, by its contents, in each layout a
real SDSS spectrum of the sdss_spectra_lowz kit comes in (SDSS's spec and spSpec files, LAMOST's, ESO's Phase 3
one-row tables, 1-D images with a linear or logarithmic wavelength WCS, VOTables, ECSV and plain text), and answer as
for the same pixels given as a table; the file's own bad pixels (IVAR 0, NaN) are left out, flagged when many and
refused when most; a file that holds no spectrum, or several, is named."""

from __future__ import annotations

import gzip
import io

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from astrohub.models.evaluation.kits import kit_dir
from astrohub.models.evaluation.kits import sdss_spectra_lowz as K
from astrohub.models.inputs import InputError


@pytest.fixture(scope="module")
def real():
    """The kit's first spectrum that covers the model's whole grid: (wavelength [A], flux)."""
    kit = K.load(kit_dir(K.KIT))
    t = next(t for t in kit["spectra"] if t["WAVE"][0] <= 3800 and t["WAVE"][-1] >= 9200)
    return np.asarray(t["WAVE"], float), np.asarray(t["FLUX"], float)


def _sdss_spec(path, loglam, flux, ivar):
    """An SDSS DR8+ spec-PLATE-MJD-FIBER.fits: COADD (flux, loglam, ivar, and_mask ...), then SPECOBJ."""
    cols = [fits.Column("flux", "E", array=flux), fits.Column("loglam", "E", array=loglam),
            fits.Column("ivar", "E", array=ivar), fits.Column("and_mask", "J", array=np.zeros(len(flux), int)),
            fits.Column("model", "E", array=flux)]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols, name="COADD"),
                  fits.BinTableHDU(Table({"CLASS": ["GALAXY"], "Z": [0.05]}), name="SPECOBJ")]).writeto(path)


def _image(path, rows, **header):
    hdu = fits.PrimaryHDU(np.asarray(rows, np.float32))
    hdu.header.update(header)
    hdu.writeto(path)


def test_one_real_spectrum_in_every_file_layout_gives_one_answer(loaded, real, tmp_path):
    m = loaded("spectral_class")
    w, f = real
    n = len(f)
    pix = np.arange(n)
    c0 = float(np.log10(w[0]))
    w_log = 10 ** (c0 + 1e-4 * pix)  # SDSS's grid: 1e-4 dex per pixel
    f_log = np.interp(w_log, w, f).astype(np.float32)
    w_lin = np.linspace(3780.0, 9240.0, 4000)  # a linear grid in A (1.365 A per pixel)
    f_lin = np.interp(w_lin, w, f).astype(np.float32)
    ref_log = m.predict(Table({"WAVE": w_log, "FLUX": f_log}), mc_samples=0).probabilities
    ref_lin = m.predict(Table({"WAVE": w_lin, "FLUX": f_lin}), mc_samples=0).probabilities
    assert not np.allclose(ref_log, ref_lin, rtol=1e-6, atol=0)  # the two grids are told apart below
    files = {}
    _sdss_spec(p := tmp_path / "spec-0266-51602-0001.fits", np.log10(w_log), f_log, np.full(n, 4.0, np.float32))
    files["SDSS spec (COADD: loglam, flux, ivar)"] = (p, ref_log)
    (p := tmp_path / "spec-0266-51602-0001.fits.gz").write_bytes(gzip.compress(files[
        "SDSS spec (COADD: loglam, flux, ivar)"][0].read_bytes()))
    files["the same gzipped"] = (p, ref_log)
    _image(p := tmp_path / "spSpec-51602-0266-001.fit", [f_log, f_log - np.median(f_log), np.full(n, 0.5),
                                                         np.zeros(n)],
           COEFF0=c0, COEFF1=1e-4, ARRAY1="SPECTRUM", ARRAY2="CONTINUUM-SUBTRACTED SPECTRUM", ARRAY3="ERROR",
           ARRAY4="MASK")
    files["SDSS spSpec (2-D image, COEFF0/COEFF1, ARRAYn rows)"] = (p, ref_log)
    _image(p := tmp_path / "spec-55859-F5902_sp01-001.fits", [f_log, np.full(n, 4.0), w_log, np.zeros(n),
                                                              np.zeros(n)],
           ROW1="Flux", ROW2="Inverse", ROW3="Wavelength", ROW4="Andmask", ROW5="Ormask", COEFF0=c0, COEFF1=1e-4)
    files["LAMOST (rows flux, inverse variance, wavelength)"] = (p, ref_log)
    _image(p := tmp_path / "iraf_log.fits", f_log, CRVAL1=c0, CDELT1=1e-4, CRPIX1=1.0, CTYPE1="LINEAR",
           CUNIT1="Angstroms", **{"DC-FLAG": 1})
    files["1-D image, IRAF log-linear (DC-FLAG = 1, CUNIT1 'Angstroms')"] = (p, ref_log)
    _image(p := tmp_path / "wave_log.fits", f_log, CRVAL1=w_log[0], CDELT1=w_log[0] * 1e-4 * np.log(10), CRPIX1=1.0,
           CTYPE1="WAVE-LOG", CUNIT1="Angstrom")
    files["1-D image, FITS WCS WAVE-LOG"] = (p, ref_log)
    _image(p := tmp_path / "linear_nm.fits", f_lin, CRVAL1=w_lin[1] / 10, CD1_1=(w_lin[1] - w_lin[0]) / 10,
           CRPIX1=2.0, CTYPE1="WAVE", CUNIT1="nm")
    files["1-D image, linear WCS in nm (CD1_1, CRPIX1 = 2)"] = (p, ref_lin)
    eso = Table({"WAVE": [w_lin / 10] * u.nm, "FLUX": [f_lin], "ERR": [np.full(len(f_lin), 0.5)]})
    eso.write(p := tmp_path / "ADP.2020-01-01T00:00:00.000.fits")
    with fits.open(p, mode="update") as h:
        h[1].header["TUCD1"] = "em.wl"
    files["ESO Phase 3 (one row of arrays, nm)"] = (p, ref_lin)
    sdm = Table({"spectral": w_log * 1e-10 * u.m, "flux": f_log})
    sdm["spectral"].meta["ucd"] = "em.wl"
    sdm.write(p := tmp_path / "ssa_result.xml", format="votable")
    files["VOTable (spectral data model, m)"] = (p, ref_log)
    Table({"wavelength": w_lin * u.AA, "flux": f_lin}).write(p := tmp_path / "spectrum.ecsv")
    files["ECSV"] = (p, ref_lin)
    np.savetxt(p := tmp_path / "spectrum.txt", np.c_[w_lin, f_lin, np.full(len(f_lin), 0.5)])
    files["text, no header (wavelength, flux, error)"] = (p, ref_lin)
    for what, (path, ref) in files.items():
        pred = m.predict(str(path), mc_samples=0)
        np.testing.assert_allclose(pred.probabilities, ref, rtol=1e-4, atol=1e-6, err_msg=what)
    paths = [p for p, _ in files.values()]
    both = m.predict(paths[:2] + [Table({"WAVE": w_lin, "FLUX": f_lin})], mc_samples=0)  # files and tables mixed
    np.testing.assert_allclose(both.probabilities, np.concatenate([ref_log, ref_log, ref_lin]), rtol=1e-4, atol=1e-6)
    assert loaded("stellar_params").predict(paths[0]).values.shape == (1, 3)


def test_a_files_bad_pixels_are_left_out_flagged_when_many_and_refused_when_most(loaded, real, tmp_path):
    """SDSS marks a bad pixel with IVAR 0 and leaves whatever flux there (a bad column's spike): such pixels do not
    reach the model. A few change nothing; past 5% of the grid the spectrum is flagged; past half it is refused."""
    m = loaded("spectral_class")
    w, f = real
    n = len(f)
    ivar = np.full(n, 4.0, np.float32)
    spiked = f.astype(np.float32).copy()
    bad = np.arange(500, 530)  # 30 of 3,849 pixels: a bad column
    ivar[bad], spiked[bad] = 0.0, 1e5
    _sdss_spec(p := tmp_path / "spec-a.fits", np.log10(w), spiked, ivar)
    few = m.predict(str(p), mc_samples=0)
    keep = np.ones(n, bool)
    keep[bad] = False
    np.testing.assert_allclose(few.probabilities, m.predict(Table({"WAVE": w[keep], "FLUX": f[keep]}),
                                                            mc_samples=0).probabilities, rtol=1e-4, atol=1e-6)
    assert few.ood.tolist() == [False] and few.ood_reason == [""]
    spiked_unmasked = m.predict(Table({"WAVE": w, "FLUX": spiked}), mc_samples=0).probabilities
    assert not np.allclose(spiked_unmasked, few.probabilities, atol=1e-3)  # the spike would have mattered
    ivar[1000:1800] = 0.0  # 830 of 3,849: 22%
    _sdss_spec(p := tmp_path / "spec-b.fits", np.log10(w), spiked, ivar)
    many = m.predict(str(p), mc_samples=0)
    assert many.ood.tolist() == [True] and "22% of the pixels masked (interpolated across)" in many.ood_reason[0]
    nan = Table({"WAVE": w, "FLUX": np.where((w > 5000) & (w < 7000), np.nan, f)})  # NaN flux in a table: masked
    assert "of the pixels masked" in m.predict(nan, mc_samples=0).ood_reason[0]
    ivar[100:2500] = 0.0  # interior: 63% of the pixels
    _sdss_spec(p := tmp_path / "spec-c.fits", np.log10(w), spiked, ivar)
    with pytest.raises(InputError, match=r"spectrum 0 has 6\d% of its pixels in the model's 3800-9200 A masked "
                                         r"\(NaN, IVAR 0 or no positive error\); at most 50% can be interpolated"):
        m.predict(str(p))
    with pytest.raises(InputError, match=r"spectrum 0 covers 3793-(4999|5000) A; the model needs 3800-9200 A"):
        m.predict(Table({"WAVE": w, "FLUX": np.where(w > 5000, np.nan, f)}))  # a red half that is all NaN


def test_files_that_are_no_spectrum_are_named(loaded, real, tmp_path):
    m = loaded("spectral_class")
    w, f = real
    with pytest.raises(InputError, match=r"spectral_class: spectrum file '.*nowhere.fits' not found"):
        m.predict(str(tmp_path / "nowhere.fits"))
    fits.PrimaryHDU(np.zeros((64, 64), np.float32)).writeto(p := tmp_path / "cutout.fits")
    with pytest.raises(InputError, match=r"cutout.fits holds no spectrum: no binary table with a spectral axis column "
                                         r".*found PrimaryHDU PRIMARY"):
        m.predict(p)
    _image(p := tmp_path / "furlongs.fits", f, CRVAL1=3700.0, CDELT1=1.5, CUNIT1="furlong")
    with pytest.raises(InputError, match="furlongs.fits is refused: its wavelength unit CUNIT1 = 'furlong' is no unit "
                                         "astropy knows"):
        m.predict(str(p))
    _image(p := tmp_path / "spPlate-0266-51602.fits", np.tile(f, (640, 1)), COEFF0=float(np.log10(w[0])), COEFF1=1e-4)
    with pytest.raises(InputError, match=r"spPlate-0266-51602.fits is refused: its image holds 640 spectra as rows "
                                         r"\(an SDSS spPlate, one per fibre\?\); give one spectrum per file"):
        m.predict(str(p))
    Table({"WAVE": [w, w], "FLUX": [f, f]}).write(p := tmp_path / "two.fits")
    with pytest.raises(InputError, match="two.fits is refused: its table holds 2 spectra as rows of arrays; give one "
                                         "spectrum per file"):
        m.predict(str(p))
    (p := tmp_path / "broken.fits").write_bytes(fits.PrimaryHDU(np.zeros(10)).header.tostring().encode()[:400])
    with pytest.raises(InputError, match=r"broken.fits (is not a readable FITS file|holds no spectrum)"):
        m.predict(str(p))
    (p := tmp_path / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(InputError, match=r"unknown spectrum file type 'picture.png': expected FITS .*a VOTable, or a "
                                         r"text table \(.ecsv, .csv"):
        m.predict(str(p))
    (p := tmp_path / "broken.xml").write_bytes(b'<?xml version="1.0"?><VOTABLE version="1.4"><RESOURCE><TABLE><FI')
    with pytest.raises(InputError, match=r"broken.xml is not a readable VOTable"):
        m.predict(str(p))
    Table({"time": w, "counts": f}).write(p := tmp_path / "lightcurve.csv")
    with pytest.raises(InputError, match=r"spectrum 0 has no spectral axis .*found \['time', 'counts'\]"):
        m.predict(str(p))
    (p := tmp_path / "bad.csv.gz").write_bytes(b"\x1f\x8b" + bytes(30))
    with pytest.raises(InputError, match=r"bad.csv.gz is gzip-compressed but cannot be read"):
        m.predict(str(p))
    buf = io.BytesIO()
    np.save(buf, f)
    (p := tmp_path / "flux.npy").write_bytes(buf.getvalue())
    with pytest.raises(InputError, match=r"unknown spectrum file type 'flux.npy'"):
        m.predict(str(p))
