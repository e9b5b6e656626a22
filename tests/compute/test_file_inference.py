"""Sharded inference on files, one per row (issue #17: real survey data at scale): each worker reads its rows'
files (Galaxy Zoo JPEGs, Kepler/TESS light-curve files, a star's quarters stitched as one row, SDSS spectrum
files), so only the paths travel, and the answer equals the model's own ``predict`` on the same list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from astrohub import models
from astrohub.compute import predict
from astrohub.models.evaluation import kits
from tests.pipeline import ztf_avro


@pytest.fixture(scope="module")
def jpegs():
    from astrohub.models.evaluation.kits import galaxyzoo1 as G

    data = G.load(kits.kit_dir(G.KIT))  # a missing kit fails with KitError: CI has the kits, nothing skips
    return [str(p) for p in data["paths"][:11]]


def test_jpeg_paths_are_read_on_the_workers_and_equal_a_local_predict(client, jpegs):
    ref = models.load("galaxy_zoo", device="cpu").predict(jpegs, mc_samples=0)
    for form in (jpegs, np.array(jpegs), pd.Series(jpegs)):
        got = predict("galaxy_zoo", form, client=client, chunk_size=4, progress=False, mc_samples=0)
        assert got.names == ref.names
        np.testing.assert_allclose(got.probabilities, ref.probabilities, atol=1e-5)
        assert got.ood.tolist() == ref.ood.tolist()


def test_light_curve_files_and_a_stitched_star_are_one_row_each(client, monkeypatch):
    kit = kits.kit_dir("kepler_lightcurves")
    monkeypatch.chdir(kit)  # relative paths are this process's: made absolute before they travel
    rows = ["hlsp_tess-data-alerts_tess_phot_00025155310-s01_tess_v1_lc.fits",
            ["kplr002306740-2010078095331_llc.fits", "kplr002306740-2010174085026_llc.fits"],
            "WASP_6_lc.tran"]
    ref = models.load("transit_vetter", device="cpu").predict(rows, mc_samples=0)
    got = predict("transit_vetter", rows, client=client, chunk_size=2, progress=False, mc_samples=0)
    assert got.names == ref.names == ["planet-transit", "eclipsing-binary", "planet-transit"]
    np.testing.assert_allclose(got.period, ref.period)
    np.testing.assert_allclose(got.probabilities, ref.probabilities, atol=1e-5)


def test_spectrum_files_are_read_on_the_workers(client, tmp_path):
    """Real SDSS spectra of the sdss_spectra_lowz kit written as SDSS spec files (a few with IVAR-0 pixels): the
    workers read their rows' files, flags and all, as predict does here."""
    from astropy.io import fits

    from astrohub.models.evaluation.kits import sdss_spectra_lowz as K

    paths = []
    for i, t in enumerate(K.load(kits.kit_dir(K.KIT))["spectra"][:7]):
        ivar = np.ones(len(t), np.float32)
        ivar[100:100 + 300 * (i % 2)] = 0.0  # every other file: 300 bad pixels (8%: flagged)
        cols = [fits.Column("flux", "E", array=np.asarray(t["FLUX"])), fits.Column("ivar", "E", array=ivar),
                fits.Column("loglam", "E", array=np.log10(np.asarray(t["WAVE"])))]
        paths.append(str(tmp_path / f"spec-{i:04d}.fits"))
        fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols, name="COADD")]).writeto(paths[-1])
    ref = models.load("spectral_class", device="cpu").predict(paths, mc_samples=0)
    got = predict("spectral_class", paths, client=client, chunk_size=3, progress=False, mc_samples=0)
    assert got.names == ref.names
    np.testing.assert_allclose(got.probabilities, ref.probabilities, atol=1e-5)
    assert got.ood_reason == ref.ood_reason and sum("pixels masked" in r for r in got.ood_reason) == 3


def test_a_missing_file_is_named_with_its_row_before_any_work(client, jpegs, tmp_path):
    with pytest.raises(ValueError, match=r"row 1: no such file '.*nothere\.jpeg'; the workers read the files"):
        predict("galaxy_zoo", [jpegs[0], str(tmp_path / "nothere.jpeg")], client=client, progress=False)
    with pytest.raises(ValueError, match=r"row 0: no such file '.*q9\.fits'"):
        predict("transit_vetter", [[str(tmp_path / "q9.fits")]], client=client, progress=False)


def test_your_files_classified_on_the_cluster_equal_this_kernel(client, jpegs, tmp_path):
    """pipeline.classify on pipeline.Files with a client: the workers read the files by path (Galaxy Zoo JPEGs, FITS
    cutouts the model resamples), as classify does in this kernel; cutouts for a survey adapter (ZTF stamps as FITS
    cubes and as ZTF's Avro alert files, read as served, not by path) are read here and their stamps classified on
    the workers, as predict classifies the kit's arrays."""
    from astropy.io import fits

    from astrohub import pipeline

    mine = pipeline.Files(jpegs[:6])
    here = pipeline.classify(mine.table, "galaxy_zoo", mine, mc_samples=0)
    there = pipeline.classify(mine.table, "galaxy_zoo", mine, client=client, mc_samples=0)
    assert there.sharded and not here.sharded
    assert list(there.table["pred_class"]) == list(here.table["pred_class"])
    np.testing.assert_allclose(there.table["pred_prob"], here.table["pred_prob"], atol=1e-5)

    stamps = np.load(kits.kit_dir("ztf_alerts") / "ztf_triplets_63x63.npz")["triplets"][:3].astype(np.float32)
    for i, s in enumerate(stamps):
        fits.PrimaryHDU(s).writeto(tmp_path / f"alert{i}.fits")
    ztf_avro.write(tmp_path / "night.avro", [ztf_avro.packet(*ztf_avro.kit(), i) for i in range(3, 6)])
    mine = pipeline.Files(tmp_path)  # FITS cubes and ZTF alert files: read here as served, classified there
    assert list(mine.table["kind"]) == ["cutout"] * 6
    got = pipeline.classify(mine.table, "transient_realbogus", mine, client=client, mc_samples=0)
    assert got.sharded and got.notes == []
    whole = np.load(kits.kit_dir("ztf_alerts") / "ztf_triplets_63x63.npz")["triplets"][:6]
    ref = models.load("transient_realbogus", device="cpu").predict(whole, mc_samples=0)
    assert list(got.table["pred_class"]) == ref.names
    np.testing.assert_allclose(got.table["p_real"], ref.probabilities["real"], atol=1e-5)

    from astropy.wcs import WCS

    from astrohub.sims.images import simulate_images

    (tmp_path / "morph").mkdir()
    for i, img in enumerate(simulate_images("morphology", 5, seed=3).images):  # by path: resampled on the workers
        w = WCS(naxis=2)
        w.wcs.ctype, w.wcs.cdelt, w.wcs.crpix = ["RA---TAN", "DEC--TAN"], [-0.2 / 3600, 0.2 / 3600], [32.5, 32.5]
        fits.PrimaryHDU(img.astype(np.float32), header=w.to_header()).writeto(tmp_path / "morph" / f"g{i}.fits")
    morph = pipeline.Files(tmp_path / "morph")
    there = pipeline.classify(morph.table, "galaxy_morphology", morph, client=client, mc_samples=0)
    here = pipeline.classify(morph.table, "galaxy_morphology", morph, mc_samples=0)
    assert there.sharded and not there.notes
    np.testing.assert_allclose(there.table["pred_prob"], here.table["pred_prob"], atol=1e-5)
