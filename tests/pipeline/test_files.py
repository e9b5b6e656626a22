"""Your own files as rows to classify (issue #17: an astronomer brings real survey files, not an archive query):
``pipeline.Files`` tells each file's kind by its contents (the kits' real Kepler/TESS light curves in FITS and text,
SDSS spectra as spec files, Galaxy Zoo JPEGs, ZTF alert triplets as FITS cubes, a SkyServer CSV catalogue), serves
them to ``classify`` as an archive serves its products, and the answers equal the models' own ``predict`` on the same
files. What cannot be used is skipped with its reason, never dropped quietly; uploads are saved without overwriting
or following a planted link."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from astrohub import models, pipeline
from astrohub.models.evaluation import kits
from astrohub.pipeline import files as F

KEPLER = kits.kit_dir("kepler_lightcurves")


def _probs(result) -> np.ndarray:
    return np.stack([np.asarray(result.table[f"p_{c}"], float) for c in result.class_names], 1)


@pytest.fixture(scope="module")
def spectra(tmp_path_factory) -> Path:
    """Six real SDSS spectra of the sdss_spectra_lowz kit written as SDSS spec files (COADD: loglam, flux, ivar; the
    plug position in the primary header), one gzipped."""
    from astrohub.models.evaluation.kits import sdss_spectra_lowz as K

    d = tmp_path_factory.mktemp("spectra")
    for i, t in enumerate(K.load(kits.kit_dir(K.KIT))["spectra"][:6]):
        cols = [fits.Column("flux", "E", array=np.asarray(t["FLUX"])),
                fits.Column("loglam", "E", array=np.log10(np.asarray(t["WAVE"]))),
                fits.Column("ivar", "E", array=np.ones(len(t), np.float32))]
        hdul = fits.HDUList([fits.PrimaryHDU(header=fits.Header({"PLUG_RA": 150.0 + i, "PLUG_DEC": 2.0})),
                             fits.BinTableHDU.from_columns(cols, name="COADD")])
        hdul.writeto(d / f"spec-{i:04d}.fits")
    (d / "spec-0005.fits.gz").write_bytes(gzip.compress((d / "spec-0005.fits").read_bytes()))
    (d / "spec-0005.fits").unlink()
    return d


@pytest.fixture(scope="module")
def alerts(tmp_path_factory):
    """Five real ZTF alert triplets of the ztf_alerts kit, each a 3-plane FITS cube (as the demo archive serves
    them), and the same stamps as an array."""
    npz = np.load(kits.kit_dir("ztf_alerts") / "ztf_triplets_63x63.npz")
    d = tmp_path_factory.mktemp("alerts")
    stamps = npz["triplets"][:5].astype(np.float32)
    for i, s in enumerate(stamps):
        fits.PrimaryHDU(s).writeto(d / f"alert{i}.fits")
    return d, stamps


def test_light_curves_in_fits_and_text_are_read_by_content_and_classified_as_predict_does(tmp_path):
    """The kit's Kepler quarters and TESS sectors (FITS, quality flags) and its text light curves (a headerless
    .dat, a .tran, a '#'-commented lc.data), one renamed to .txt: each a light curve, vetted as predict vets the
    paths; a Kepler quarter spans several windows, and the gallery shows one view per row."""
    names = ["kplr002306740-2009259160929_llc.fits", "hlsp_tess-data-alerts_tess_phot_00025155310-s01_tess_v1_lc.fits",
             "kplr10727668.dat", "WASP_6_lc.tran", "04377638.00.lc.data"]
    for n in names:
        shutil.copy(KEPLER / n, tmp_path / n)
    (tmp_path / "kplr10727668.dat").rename(tmp_path / "kplr10727668.txt")
    got = pipeline.Files(tmp_path)
    assert got.skipped == [] and list(got.table["kind"]) == ["lightcurve"] * 5
    assert pipeline.compatible_models(got.table, got) == ["transit_vetter"]
    result = pipeline.classify(got.table, "transit_vetter", got, mc_samples=0)
    ref = models.load("transit_vetter").predict(got.paths(got.table), mc_samples=0)
    assert list(result.table["pred_class"]) == ref.names
    np.testing.assert_allclose(_probs(result), ref.probabilities, atol=1e-6)
    np.testing.assert_allclose(result.table["bls_period"], ref.period)
    assert ref.n_windows.max() > 1  # a 90-day quarter: several windows, one gallery view per row still
    assert len(result.series) == len(result.table)


def test_a_stars_files_are_one_row_when_stitched(tmp_path):
    """The kit's four Kepler quarters of KIC 2306740 (one OBJECT) and a TESS sector: listed one row per file with a
    hint, or with group=True one row per star, vetted as predict vets the star's list of files; two copies of one
    quarter are refused by name when stitched."""
    quarters = sorted(KEPLER.glob("kplr002306740-*_llc.fits"))
    tess = KEPLER / "hlsp_tess-data-alerts_tess_phot_00025155310-s01_tess_v1_lc.fits"
    apart = pipeline.Files([*quarters, tess])
    assert apart.summary() == ("5 files: 5 light curves (4 of KIC 2306740: group=True makes each star's files one "
                               "curve)")
    assert list(apart.table["target"]) == ["KIC 2306740"] * 4 + ["TIC 25155310"]
    star = pipeline.Files([*quarters, tess], group=True)
    assert star.summary() == "5 files: 2 light curves (one per object: 4 files of KIC 2306740 stitched)"
    assert list(star.table["name"]) == ["KIC 2306740", tess.name] and list(star.table["n_files"]) == [4, 1]
    assert star.paths(star.table) == [[str(q) for q in quarters], str(tess)]
    result = pipeline.classify(star.table, "transit_vetter", star, mc_samples=0)
    ref = models.load("transit_vetter").predict([[str(q) for q in quarters], str(tess)], mc_samples=0)
    assert list(result.table["pred_class"]) == ref.names == ["eclipsing-binary", "planet-transit"]
    np.testing.assert_allclose(_probs(result), ref.probabilities, atol=1e-6)
    assert len(result.series) == 2

    shutil.copy(quarters[0], tmp_path / "q2.fits")
    shutil.copy(quarters[0], tmp_path / "q2-again.fits")
    twice = pipeline.Files(tmp_path, group=True)
    with pytest.raises(ValueError, match=r"q2-again.fits and q2.fits overlap in time"):
        pipeline.classify(twice.table, "transit_vetter", twice)


def test_a_galaxys_g_r_i_cutouts_are_one_colour_row_when_grouped(tmp_path):
    """Three galaxies served band by band (simulated: the kits hold no real g, r, i FITS), each band its own FITS file
    with a FILTER header and a WCS on the galaxy, one galaxy's files named by OBJECT, the others only by position:
    grouped, each galaxy is one colour row, classified as galaxy_zoo classifies its [g, r, i] list; a galaxy missing a
    band stays cutouts."""
    from astrohub.sims.colour import GZ_CLASSES, cutout_header, gz_cutout

    rng = np.random.default_rng(5)
    per_galaxy = []
    for k, kind in enumerate(GZ_CLASSES[:3]):
        bands = gz_cutout(rng, kind)[0]
        n = bands.shape[-1]
        paths = []
        for band in "irg":  # written out of order: the row takes g, r, i
            plane = bands["gri".index(band)]
            head = cutout_header(n, 0.396, FILTER=band, CRVAL1=150.0 + k, CRVAL2=2.0, **({"OBJECT": "NGC 4414"}
                                                                                          if k == 0 else {}))
            paths.append(tmp_path / f"gal{k}-{band}.fits")
            fits.PrimaryHDU(plane.astype(np.float32), header=head).writeto(paths[-1])
        per_galaxy.append([str(p) for p in sorted(paths, key=lambda p: "gri".index(p.stem[-1]))])
    (tmp_path / "gal2-g.fits").unlink()  # the third galaxy lacks g: its r and i stay cutouts
    apart = pipeline.Files(tmp_path)
    assert set(apart.table["kind"]) == {"cutout"} and sorted(set(apart.table["band"])) == ["g", "i", "r"]
    got = pipeline.Files(tmp_path, group=True)
    assert got.summary() == ("8 files: 2 colour images, 2 cutouts (one per object: g, r, i of NGC 4414 composed, "
                             "g, r, i of 151.0000 +2.0000 composed)")
    colour = pipeline.Files(tmp_path, kind="colour", group=True)  # the kind is kept after grouping
    assert sorted((Path(p).name, why) for p, why in colour.skipped) == [
        ("gal2-i.fits", "a cutout, not a colour image (kind='colour')"),
        ("gal2-r.fits", "a cutout, not a colour image (kind='colour')")]
    rows = colour.table
    assert list(rows["name"]) == ["NGC 4414", "151.0000 +2.0000"] and list(rows["band"]) == ["gri", "gri"]
    assert colour.paths(rows) == per_galaxy[:2]
    assert pipeline.compatible_models(rows, colour) == ["galaxy_zoo"]
    result = pipeline.classify(rows, "galaxy_zoo", colour, mc_samples=0)
    ref = models.load("galaxy_zoo").predict(per_galaxy[:2], mc_samples=0)
    np.testing.assert_allclose(_probs(result), ref.probabilities, atol=1e-6)
    assert all(r.startswith("composite made here from FITS cutouts") for r in result.table["ood_reason"])


def test_positions_come_from_the_files_headers():
    got = pipeline.Files([KEPLER / "kplr002306740-2009259160929_llc.fits", KEPLER / "04377638.00.lc.data"])
    head = fits.getheader(KEPLER / "kplr002306740-2009259160929_llc.fits")
    assert got.table["ra"][0] == pytest.approx(head["RA_OBJ"]) and got.table["dec"][0] == pytest.approx(head["DEC_OBJ"])
    assert np.isnan(got.table["ra"][1])  # a text table records none
    assert got.table["ra"].unit == "deg" and got.table["ra"].meta["ucd"].startswith("pos.eq.ra")


def test_spectrum_files_and_a_cutout_cube_are_classified_as_predict_does(spectra, alerts):
    got = pipeline.Files(str(spectra / "spec-*"))
    assert got.summary() == "6 files: 6 spectra"
    assert list(got.table["ra"]) == [150.0 + i for i in range(6)]  # PLUG_RA, the gzipped one too
    assert pipeline.compatible_models(got.table, got) == ["spectral_class", "stellar_params"]
    result = pipeline.classify(got.table, "spectral_class", got, mc_samples=0)
    ref = models.load("spectral_class").predict(got.paths(got.table), mc_samples=0)
    np.testing.assert_allclose(_probs(result), ref.probabilities, atol=1e-6)
    assert list(result.table["ood_reason"]) == list(ref.ood_reason) and len(result.series) == 6

    folder, stamps = alerts
    cubes = pipeline.Files(folder)
    assert pipeline.compatible_models(cubes.table, cubes) == ["transient_realbogus"]  # 3 planes at no stated scale
    result = pipeline.classify(cubes.table, "transient_realbogus", cubes, mc_samples=0)
    np.testing.assert_allclose(_probs(result), models.load("transient_realbogus").predict(
        stamps, mc_samples=0).probabilities, atol=1e-6)


def test_fits_cutouts_at_another_pixel_scale_are_resampled_by_the_model(tmp_path):
    """Simulated morphology stamps served at 0.4"/px (2x2 blocks summed, a TAN WCS): the image models that read FITS by
    path are offered (they resample; the archive route needs their own 0.2"/px) and classify the files as predict
    does on the paths, flagged for the resampled scale, with a gallery of what the network saw; at 1"/px (beyond the
    2.5x the models resample from) none is offered, and why_none names the scales."""
    from astropy.wcs import WCS

    from astrohub.sims.images import simulate_images

    def write(folder, scale, images):
        folder.mkdir()
        for i, img in enumerate(images):
            w = WCS(naxis=2)
            w.wcs.ctype, w.wcs.cdelt = ["RA---TAN", "DEC--TAN"], [-scale / 3600, scale / 3600]
            w.wcs.crpix, w.wcs.crval = [img.shape[1] / 2 + 0.5, img.shape[0] / 2 + 0.5], [150.1, 2.2 + i / 100]
            fits.PrimaryHDU(img.astype(np.float32), header=w.to_header()).writeto(folder / f"gal{i}.fits")
        return pipeline.Files(folder)

    stamps = simulate_images("morphology", 4, seed=302).images
    coarse = write(tmp_path / "coarse", 0.4, stamps.reshape(-1, 32, 2, 32, 2).sum((2, 4)))
    assert list(coarse.table["dec"]) == pytest.approx([2.2, 2.21, 2.22, 2.23])  # from the WCS centre
    assert pipeline.compatible_models(coarse.table, coarse) == ["galaxy_morphology", "lens_finder"]
    result = pipeline.classify(coarse.table, "galaxy_morphology", coarse, mc_samples=0)
    ref = models.load("galaxy_morphology").predict(coarse.paths(coarse.table), mc_samples=0)
    np.testing.assert_allclose(_probs(result), ref.probabilities, atol=1e-6)
    assert all('pixel scale 0.4"/px resampled to the trained 0.2"/px' in r for r in result.table["ood_reason"])
    assert result.images.shape[0] == 4 and result.saliency.shape[0] == 4

    blurry = write(tmp_path / "blurry", 1.0, stamps[:, ::5, ::5])
    assert pipeline.compatible_models(blurry.table, blurry) == []
    assert pipeline.why_none(blurry.table, blurry).startswith('4 cutouts, which no model of the zoo takes as they '
                                                              'are; cutouts of 1 plane at 1"/px, where the image')


def test_jpegs_under_any_name_are_colour_images(tmp_path):
    from astrohub.models.evaluation.kits import galaxyzoo1 as G

    paths = [Path(p) for p in G.load(kits.kit_dir(G.KIT))["paths"][:4]]
    for k, p in enumerate(paths):
        shutil.copy(p, tmp_path / f"galaxy{k}{'.dat' if k == 3 else p.suffix}")  # the suffix does not decide
    got = pipeline.Files(tmp_path)
    assert list(got.table["kind"]) == ["colour"] * 4 and "ra" not in got.table.colnames
    result = pipeline.classify(got.table, "galaxy_zoo", got, mc_samples=0)
    ref = models.load("galaxy_zoo").predict([str(p) for p in paths], mc_samples=0)
    np.testing.assert_allclose(_probs(result), ref.probabilities, atol=1e-6)
    assert result.images.shape == (4, 64, 64, 3)


def test_a_catalogue_file_gives_its_own_rows_to_photo_z(tmp_path):
    """The kit's SkyServer CSV (ugriz), with errors as SkyServer names them: its rows, photo-z as predict gives."""
    t = Table.read(kits.kit_dir("sdss_photoz") / "sdss_dr14_skyserver_trainhalf.csv", format="ascii.csv")[:40]
    for b in "ugriz":
        t[f"err_{b}"] = 0.03 if b != "u" else 0.08
    t.write(tmp_path / "mine.csv", format="ascii.csv")
    got = pipeline.Files(tmp_path / "mine.csv")
    assert got.is_catalogue and len(got.table) == 40 and got.summary() == "40 rows of the catalogue mine.csv"
    assert "photoz_mdn" in pipeline.compatible_models(got.table, got)
    result = pipeline.classify(got.table, "photoz_mdn", got)
    mags = np.stack([t[b] for b in "ugriz"], 1)
    ref = models.load("photoz_mdn").predict(mags, np.stack([t[f"err_{b}"] for b in "ugriz"], 1))
    np.testing.assert_allclose(result.table["z_phot"], ref.z_mode, atol=1e-6)
    # the kit's own CSV has an mjd column but no flux: a catalogue, not a light curve
    assert pipeline.Files(kits.kit_dir("sdss_photoz") / "sdss_dr14_skyserver_trainhalf.csv").is_catalogue


def test_what_cannot_be_used_is_skipped_with_its_reason(tmp_path, spectra, compressed_fits_declaring):
    (tmp_path / "notes.bin").write_bytes(b"\x00\x01binary junk" * 10)
    (tmp_path / "bomb.fits").write_bytes(compressed_fits_declaring(30000))  # refused from its header, unread
    (tmp_path / "broken.vot").write_bytes(b'<?xml version="1.0"?><VOTABLE version="1.4"><RESOURCE><TABLE>'
                                          b'<FIELD name="a" datatype="float"/><DATA><TABLEDATA><TR><TD>x')
    (tmp_path / "empty.fits").write_bytes(b"")
    (tmp_path / "broken.fits.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    (tmp_path / "cut.fits").write_bytes((spectra / "spec-0000.fits").read_bytes()[:4000])
    shutil.copy(spectra / "spec-0001.fits", tmp_path / "good.fits")
    got = pipeline.Files([tmp_path, tmp_path / "nothere.fits", str(tmp_path / "*.xyz")])
    assert list(got.table["name"]) == ["good.fits"]
    why = {Path(p).name: r for p, r in got.skipped}
    assert why["notes.bin"] == F.UNKNOWN
    assert why["empty.fits"] == "an empty file"
    assert why["broken.fits.gz"].startswith("gzip-compressed but cannot be read")
    assert why["cut.fits"].startswith("is not a readable FITS file")
    assert why["nothere.fits"] == "no such file or folder" and why["*.xyz"] == "no file matches this pattern"
    assert why["bomb.fits"].startswith("is refused: ") and "30000" in why["bomb.fits"]
    assert why["broken.vot"].startswith("is not a readable VOTable")
    assert got.summary().startswith("1 file: 1 spectrum; 8 skipped (")

    with pytest.raises(ValueError, match=r"no file to classify \(nothere.fits: no such file or folder\)"):
        pipeline.Files(tmp_path / "nothere.fits")
    (tmp_path / "void").mkdir()
    with pytest.raises(ValueError, match=r"void: an empty folder"):
        pipeline.Files(tmp_path / "void")
    with pytest.raises(ValueError, match=r"kind must be None \(any\) or one of colour, cutout, lightcurve, spectrum"):
        pipeline.Files(tmp_path, kind="spectra")


def test_mixed_kinds_and_catalogues_are_named(tmp_path, spectra, alerts):
    shutil.copy(spectra / "spec-0000.fits", tmp_path / "spec.fits")
    shutil.copy(alerts[0] / "alert0.fits", tmp_path / "alert.fits")
    Table({"u": [19.0], "g": [18.0]}).write(tmp_path / "cat.csv", format="ascii.csv")
    mixed = pipeline.Files(tmp_path)
    assert mixed.skipped == [(str(tmp_path / "cat.csv"), "a catalogue (a table with no time or spectral axis): list "
                                                         "it on its own to classify its rows")]
    assert pipeline.compatible_models(mixed.table, mixed) == []
    assert pipeline.why_none(mixed.table, mixed) == ("files of several kinds (1 cutout, 1 spectrum): list one kind at "
                                                     "a time")
    with pytest.raises(ValueError, match=r"does not apply to these rows.*files of several kinds"):
        pipeline.classify(mixed.table, "spectral_class", mixed)
    alone = pipeline.Files(tmp_path / "cat.csv")  # a catalogue on its own: its rows, and what photo-z misses
    assert pipeline.why_none(alone.table, alone) == "photometry: no r i z magnitude; no error column for u, g"
    (tmp_path / "two").mkdir()
    fits.PrimaryHDU(np.zeros((2, 40, 40), np.float32)).writeto(tmp_path / "two" / "pair.fits")
    pair = pipeline.Files(tmp_path / "two")
    assert pipeline.compatible_models(pair.table, pair) == []
    assert pipeline.why_none(pair.table, pair) == (
        '1 cutout, which no model of the zoo takes as it is; cutouts of 2 planes, where the image models take 1 '
        'plane at 0.2"/px in r or 3 planes at 1.01"/px')
    one = pipeline.Files(tmp_path, kind="spectrum")
    assert list(one.table["name"]) == ["spec.fits"]
    assert (str(tmp_path / "alert.fits"), "a cutout, not a spectrum (kind='spectrum')") in one.skipped
    assert pipeline.classify(one.table, "spectral_class", one, mc_samples=0).table["pred_class"][0]


def test_uploads_are_saved_without_overwriting_or_following_a_planted_link(tmp_path):
    """The attacks: a name climbing out of the folder, a file already there, a link planted at the name (to a file
    the attacker wants overwritten), the folder itself a link."""
    folder = tmp_path / "uploads"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    saved, _ = pipeline.save_uploads([{"name": "../../etc/passwd", "content": memoryview(b"one")}], folder)
    assert saved == [folder / "passwd"] and saved[0].read_bytes() == b"one"
    assert oct(folder.stat().st_mode & 0o777) == "0o700" and oct(saved[0].stat().st_mode & 0o777) == "0o600"
    os.symlink(victim, folder / "star.fits")
    again, _ = pipeline.save_uploads([("passwd", b"two"), ("star.fits", b"three"), (".hidden", b"four")], folder)
    assert [p.name for p in again] == ["passwd-1", "star-1.fits", "hidden"]
    assert (folder / "passwd").read_bytes() == b"one" and victim.read_text() == "keep me"
    linked = tmp_path / "linked"
    os.symlink(tmp_path / "elsewhere", linked)
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(ValueError, match="is not a folder of yours to save uploads in"):
        pipeline.save_uploads([("a.fits", b"x")], linked)


def _mast(root: Path) -> list[Path]:
    """The kit's four quarters of KIC 2306740 laid out as MAST's download bundles are
    (``mastDownload/Kepler/<observation>/<file>``), with a hidden folder beside them that is not listed."""
    quarters = sorted(KEPLER.glob("kplr002306740-*_llc.fits"))
    for k, q in enumerate(quarters):
        where = root / "mastDownload" / "Kepler" / f"kplr002306740_lc_Q{k}"
        where.mkdir(parents=True)
        shutil.copy(q, where / q.name)
    (root / ".cache").mkdir()
    shutil.copy(quarters[0], root / ".cache" / "copy.fits")
    return quarters


def test_a_mast_download_is_listed_with_its_subfolders(tmp_path):
    """A folder of subfolders is not read without recursive=True (and says so); with it, or with a ``**`` pattern, each
    file is a row (hidden folders left out), and group=True stitches the star."""
    quarters = _mast(tmp_path)
    with pytest.raises(ValueError, match=r"no file to classify \(.*: 1 subfolder not listed \(recursive=True, the "
                                         r"tab's 'subfolders too', lists them\)\)"):
        pipeline.Files(tmp_path)
    deep = pipeline.Files(tmp_path, recursive=True)
    assert list(deep.table["name"]) == [q.name for q in quarters] and deep.skipped == []
    assert deep.summary() == "4 files: 4 light curves (4 of KIC 2306740: group=True makes each star's files one curve)"
    pattern = pipeline.Files(str(tmp_path / "**" / "*.fits"))
    assert list(pattern.table["file"]) == list(deep.table["file"])
    star = pipeline.Files(tmp_path, recursive=True, group=True)
    assert list(star.table["name"]) == ["KIC 2306740"] and list(star.table["n_files"]) == [4]
    top = tmp_path / "mastDownload" / "Kepler" / "kplr002306740_lc_Q0"
    shutil.copy(KEPLER / "WASP_6_lc.tran", tmp_path / "mastDownload")  # a file beside subfolders: both named
    mixed = pipeline.Files([tmp_path / "mastDownload", top])
    assert list(mixed.table["name"]) == ["WASP_6_lc.tran", quarters[0].name]
    assert mixed.skipped == [(str(tmp_path / "mastDownload"), "1 subfolder not listed (recursive=True, the tab's "
                                                                "'subfolders too', lists them)")]


def _tar(members, mode="w:gz") -> bytes:
    """A tar archive of (TarInfo, bytes or None) members."""
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def test_an_uploaded_archive_is_unpacked_flat_without_links_escapes_or_bombs(tmp_path, monkeypatch):
    """MAST's bundles come as .tar.gz or .zip: an upload of one is unpacked into its own new folder, flat, so the
    files list as uploaded files do. The attacks: member names climbing out (``../``) or absolute, a symbolic link and
    a hard link to a file the attacker wants read or overwritten, a device, a member that decompresses past the
    limit, a folder of the archive's name planted as a link, a truncated archive; and a FITS gzip is not a tar."""
    import io
    import tarfile
    import zipfile

    folder = tmp_path / "uploads"
    folder.mkdir(mode=0o700)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    os.symlink(victim.parent, folder / "MAST_1")  # planted at the name the archive's folder would get
    quarters = sorted(KEPLER.glob("kplr002306740-*_llc.fits"))
    members = [(tarfile.TarInfo(f"mastDownload/Kepler/kplr002306740_lc_Q{k}/{q.name}"), q.read_bytes())
               for k, q in enumerate(quarters[:2])]
    link = tarfile.TarInfo("mastDownload/victim.txt")
    link.type, link.linkname = tarfile.SYMTYPE, str(victim)
    hard = tarfile.TarInfo("mastDownload/hard.txt")
    hard.type, hard.linkname = tarfile.LNKTYPE, str(victim)  # a hard link to the file outside: not followed
    again = tarfile.TarInfo("mastDownload/again.fits")  # a second name of a member (tar writes a hard link): a copy
    again.type, again.linkname = tarfile.LNKTYPE, members[0][0].name
    fifo = tarfile.TarInfo("mastDownload/pipe")
    fifo.type = tarfile.FIFOTYPE
    members += [(link, None), (hard, None), (again, None), (fifo, None),
                (tarfile.TarInfo("../../victim.txt"), b"overwritten"),
                (tarfile.TarInfo("/etc/cron.d/evil"), b"* * * * * root sh"),
                (tarfile.TarInfo("mastDownload/.DS_Store"), b"junk")]
    saved, skipped = pipeline.save_uploads([("MAST_1.tar.gz", _tar(members))], folder)
    assert saved == [folder / "MAST_1-1"] and victim.read_text() == "keep me"
    assert sorted(p.name for p in saved[0].iterdir()) == sorted([quarters[0].name, quarters[1].name, "again.fits",
                                                                  "evil", "victim.txt"])
    assert (saved[0] / "again.fits").read_bytes() == quarters[0].read_bytes()
    assert (saved[0] / "victim.txt").read_bytes() == b"overwritten" and not (tmp_path / "etc").exists()
    assert skipped == [("MAST_1.tar.gz: mastDownload/victim.txt", "a link (links in an archive are not unpacked)"),
                       ("MAST_1.tar.gz: mastDownload/hard.txt", "a hard link to a file that is not in the archive "
                                                                "(not unpacked)"),
                       ("MAST_1.tar.gz: mastDownload/pipe", "not a regular file (a device or pipe)")]
    assert oct(saved[0].stat().st_mode & 0o777) == "0o700"
    assert {oct(p.stat().st_mode & 0o777) for p in saved[0].iterdir()} == {"0o600"}
    got = pipeline.Files(saved)
    assert list(got.table["name"]) == ["again.fits", quarters[0].name, quarters[1].name]
    assert {Path(p).name for p, _ in got.skipped} == {"evil", "victim.txt"}

    buf = io.BytesIO()  # a zip with a link, a climbing name and a member larger than a file may be
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a/b/WASP_6_lc.tran", (KEPLER / "WASP_6_lc.tran").read_bytes())
        z.writestr("../../../escape.tran", (KEPLER / "WASP_6_lc.tran").read_bytes())
        info = zipfile.ZipInfo("a/link")
        info.external_attr = (0o120777 << 16)
        z.writestr(info, str(victim))
        z.writestr("a/bomb.fits", b"\0" * 3_000_000)  # 3 MB of zeros: a few kB compressed
        z.writestr("__MACOSX/a/._WASP_6_lc.tran", b"resource fork")
    monkeypatch.setattr(F, "MAX_FILE_BYTES", 1 << 20)
    (saved_zip,), skipped = pipeline.save_uploads([("basket.zip", buf.getvalue())], folder)
    assert sorted(p.name for p in saved_zip.iterdir()) == ["WASP_6_lc.tran", "escape.tran"]
    assert skipped == [("basket.zip: a/link", "a link (links in an archive are not unpacked)"),
                       ("basket.zip: a/bomb.fits", "over the 1 MiB a file may have")]
    assert not (tmp_path / "escape.tran").exists()
    wasp = len((KEPLER / "WASP_6_lc.tran").read_bytes())
    monkeypatch.setattr(F, "MAX_UNPACKED_BYTES", wasp + 100)  # room for one of the two light curves only
    (small,), skipped = pipeline.save_uploads([("basket.zip", buf.getvalue())], folder)
    assert small.name == "basket-1" and [p.name for p in small.iterdir()] == ["WASP_6_lc.tran"]
    past = f"past the {F._bytes(wasp + 100)} an archive may unpack to"
    assert skipped == [("basket.zip: ../../../escape.tran", past),
                       ("basket.zip: a/link", "a link (links in an archive are not unpacked)"),
                       ("basket.zip: a/bomb.fits", past)]
    monkeypatch.setattr(F, "MAX_FILES", 1)
    _, skipped = pipeline.save_uploads([("basket.zip", buf.getvalue())], folder)
    assert skipped[0] == ("basket.zip: ../../../escape.tran", f"past the 1 files or {F._bytes(wasp + 100)} an "
                                                             "archive may unpack to")

    whole = _tar(members[:2])
    (cut,), skipped = pipeline.save_uploads([("cut.tgz", whole[: len(whole) // 2])], folder)
    assert cut.name == "cut" and skipped[-1][0] == "cut.tgz"
    assert [p.read_bytes() for p in cut.iterdir()] == [quarters[0].read_bytes()]  # no partial second quarter
    assert skipped[-1][1].startswith("a damaged tar archive, unpacked up to here")
    xz = bytearray(_tar(members[:2], "w:xz"))
    xz[len(xz) // 2: len(xz) // 2 + 64] = bytes(64)  # corrupted inside, not cut short
    (bad,), skipped = pipeline.save_uploads([("bad.tar.xz", bytes(xz))], folder)
    assert skipped[-1][0] == "bad.tar.xz" and skipped[-1][1].startswith("a damaged tar archive, unpacked up to here")
    assert all(p.read_bytes() == quarters[0].read_bytes() for p in bad.iterdir())  # no partial file
    buf = io.BytesIO()  # Deflate64 (Windows' method for large files), which zipfile cannot read: named, not fatal
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("big.fits", b"SIMPLE")
        z.writestr("WASP_6_lc.tran", (KEPLER / "WASP_6_lc.tran").read_bytes())
    raw = bytearray(buf.getvalue())
    central = raw.index(b"PK\x01\x02")
    raw[8:10] = raw[central + 10: central + 12] = (9).to_bytes(2, "little")  # the first member: Deflate64
    (win,), skipped = pipeline.save_uploads([("windows.zip", bytes(raw))], folder)
    assert [p.name for p in win.iterdir()] == ["WASP_6_lc.tran"]
    assert skipped == [("windows.zip: big.fits", "compressed by a method Python's zipfile cannot read (method 9: "
                                                 "Deflate64 is what Windows uses for large files); unpack it yourself")]
    (fits_gz,), skipped = pipeline.save_uploads([("q.fits.gz", gzip.compress(quarters[0].read_bytes()))], folder)
    assert fits_gz == folder / "q.fits.gz" and skipped == []  # a gzipped FITS file, not a tar: saved as it is
    (tmp_path / "bundle.tgz").write_bytes(whole)
    with pytest.raises(ValueError, match=r"bundle.tgz: a tar archive: unpack it and list its folder \(uploaded "
                                         r"archives are unpacked\)"):
        pipeline.Files(tmp_path / "bundle.tgz")


def test_a_catalogue_of_targets_finds_its_products_in_the_archive(tmp_path, arc):
    """A target list (a CSV of positions in sexagesimal, as target lists are written, with names of its own), two of
    its targets not in the archive and one without a position: the others are classified with the products the
    archive holds at their positions, as the archive's own rows are; the rest are named with the reason; bad lists are
    refused with the reason."""
    from astropy.coordinates import Angle

    rows = arc.query(pipeline.TEMPLATES["morphology cutouts"].replace("TOP 100", "TOP 6"))
    ra, dec = list(rows["ra"]), list(rows["dec"])
    ra[2:2], dec[2:2] = [10.0], [-30.0]  # the third target: nothing there
    mine = Table({"my_name": [f"target {i}" for i in range(7)],
                  "RAJ2000": Angle(ra, "deg").to_string("hourangle", sep=":", precision=4),
                  "DEJ2000": Angle(dec, "deg").to_string("deg", sep=":", precision=3, alwayssign=True)})
    mine.add_row(["target 7", "", ""])  # no position written
    mine.write(tmp_path / "targets.csv")
    assert (tmp_path / "targets.csv").read_text().splitlines()[1].count(":") == 4  # 10:01:42.8535,+02:55:42.834
    targets = pipeline.Files(tmp_path / "targets.csv")
    assert targets.is_catalogue and targets.positions() == ("RAJ2000", "DEJ2000")
    np.testing.assert_allclose(targets.table["RAJ2000"][:7], ra, atol=1e-6)
    np.testing.assert_allclose(targets.table["DEJ2000"][:7], dec, atol=1e-6)
    assert pipeline.compatible_models(targets.table, arc) == []  # the third has nothing: not every row has a cutout
    assert targets.in_archive(arc) is targets
    assert targets.summary() == (f"6 of 8 targets of targets.csv have products in {arc.name} within 1\u2033 (6 with a "
                                 "cutout, 1 with a spectrum); 2 skipped (targets.csv: row 3 (target 2): no product in "
                                 f"{arc.name} within 1\u2033 of RA 10.00000 Dec -30.00000 …)")
    assert targets.skipped[1] == ("targets.csv: row 8 (target 7)", "no position (its RA or Dec is blank)")
    assert pipeline.compatible_models(targets.table, arc)[:1] == ["galaxy_morphology"]
    got = pipeline.classify(targets.table, "galaxy_morphology", arc, mc_samples=0)
    ref = pipeline.classify(rows, "galaxy_morphology", arc, mc_samples=0)
    assert list(got.table["my_name"]) == [f"target {i}" for i in (0, 1, 3, 4, 5, 6)]
    assert list(got.table["pred_class"]) == list(ref.table["pred_class"])
    np.testing.assert_allclose(_probs(got), _probs(ref), atol=1e-6)
    with pytest.raises(ValueError, match="these targets were already looked up in an archive"):
        targets.in_archive(arc)
    spectra = pipeline.Files(tmp_path / "targets.csv").in_archive(arc, kind="spectrum")
    assert len(spectra.table) == 1 and spectra.summary().startswith(
        f"1 of 8 targets of targets.csv have products in {arc.name} within 1\u2033 (1 with a spectrum); 7 skipped "
        f"(targets.csv: row 1 (target 0): no spectrum in {arc.name} within 1\u2033 of RA ")
    assert {"spectral_class", "stellar_params"} <= set(pipeline.compatible_models(spectra.table, arc))

    objects = arc.query("SELECT TOP 60 obj_id AS name, ra, dec FROM astrohub.objects ORDER BY obj_id")
    objects["name"] = objects["name"].astype(str)
    objects.write(tmp_path / "survey.csv")
    mixed = pipeline.Files(tmp_path / "survey.csv").in_archive(arc)
    assert "no kind that all have, so pick one (kind=, the tab's *only*)" in mixed.summary()
    assert pipeline.compatible_models(mixed.table, arc) == []  # the first rows have different products
    curves = pipeline.Files(tmp_path / "survey.csv").in_archive(arc, "lightcurve")
    assert 0 < len(curves.table) < len(mixed.table) and "no kind that all have" not in curves.summary()
    assert pipeline.compatible_models(curves.table, arc) == ["transit_vetter"]
    with pytest.raises(ValueError, match=r"kind must be None \(any\) or one of colour, cutout, lightcurve, spectrum, "
                                         r"got 'spectra'"):
        pipeline.Files(tmp_path / "survey.csv").in_archive(arc, "spectra")
    Table({"name": ["far"], "ra": [10.0], "dec": [-30.0]}).write(tmp_path / "far.csv")
    with pytest.raises(ValueError, match=r"none of the 1 targets of far.csv has a product \(cutout, colour image, "
                                         rf"light curve or spectrum\) in {arc.name} within 1\u2033 of its position"):
        pipeline.Files(tmp_path / "far.csv").in_archive(arc)

    mine.rename_columns(["RAJ2000", "DEJ2000"], ["x", "y"])
    mine.write(tmp_path / "nopos.csv")
    with pytest.raises(ValueError, match=r"nopos.csv has no positions to look up in an archive: no RA/Dec columns "
                                         r"\(.*\); its columns: my_name, x, y"):
        pipeline.Files(tmp_path / "nopos.csv").positions()
    with pytest.raises(ValueError, match="these rows are your files, not a catalogue of targets"):
        pipeline.Files(KEPLER / "WASP_6_lc.tran").positions()


def test_a_target_list_from_another_catalogue_is_matched_within_the_radius_given(tmp_path, arc):
    """Positions 3″ off the archive's (a target list from another catalogue): none within the default 1″, all
    within 5″; the rows keep that radius, so classify finds the same products again, as the archive's own rows
    classify. A radius that is not over 0 and at most 60″ is refused."""
    rows = arc.query(pipeline.TEMPLATES["morphology cutouts"].replace("TOP 100", "TOP 4"))
    Table({"name": [f"t{i}" for i in range(4)], "ra": rows["ra"],
           "dec": np.asarray(rows["dec"]) + 3 / 3600}).write(tmp_path / "offset.csv")
    with pytest.raises(ValueError, match=r"none of the 4 targets of offset.csv has a product .* within 1\u2033"):
        pipeline.Files(tmp_path / "offset.csv").in_archive(arc)
    near = pipeline.Files(tmp_path / "offset.csv").in_archive(arc, radius=5)
    assert near.summary().startswith(f"4 of 4 targets of offset.csv have products in {arc.name} within 5\u2033 (4 "
                                     "with a cutout")
    assert near.table.meta["match_radius_arcsec"] == 5.0
    got = pipeline.classify(near.table, "galaxy_morphology", arc, mc_samples=0)
    ref = pipeline.classify(rows, "galaxy_morphology", arc, mc_samples=0)
    assert list(got.table["name"]) == ["t0", "t1", "t2", "t3"]
    np.testing.assert_allclose(_probs(got), _probs(ref), atol=1e-6)
    for bad in (0, -1, 61, float("nan")):
        with pytest.raises(ValueError, match=r"radius must be over 0 and at most 60 arcsec \(a wider one would take a "
                                             rf"neighbour's products for the target's\), got {bad}"):
            pipeline.Files(tmp_path / "offset.csv").in_archive(arc, radius=bad)


def test_a_target_lists_text_positions_are_read_or_refused_by_row(tmp_path):
    """RA/Dec written as text: sexagesimal (colons or h m s), decimal degrees, blanks (NaN) in one list; a value that
    is not an angle, or out of range, is refused naming its row and column."""
    (tmp_path / "t.csv").write_text("name,ra,dec\nA,10:02:33.1,+02:12:00\nB,10h00m00s,-01d30m00s\nC,150.5,2.1\nD,,\n")
    t = pipeline.Files(tmp_path / "t.csv").table
    np.testing.assert_allclose(t["ra"][:3], [150.637917, 150.0, 150.5], atol=1e-6)
    np.testing.assert_allclose(t["dec"][:3], [2.2, -1.5, 2.1], atol=1e-9)
    assert np.isnan(t["ra"][3]) and str(t["ra"].unit) == "deg" and t["dec"].meta["ucd"] == "pos.eq.dec;meta.main"
    for rows, message in (("A,10:00:00,+01:00:00\nB,25:00:00,+02:00:00", r"t.csv, row 2: ra '25:00:00' is not an "
                                                                          r"angle \(decimal degrees, or sexagesimal "
                                                                          r"hours such as 10:02:33.1\)"),
                          ("A,10:00:00,north", r"t.csv, row 1: dec 'north' is not an angle"),
                          ("A,10:00:00,+95:00:00", r"t.csv, row 1: dec '\+95:00:00' is 95 deg, outside -90 to 90"),
                          ("A,10:00:00,+01:00:00\nB,400,+01:00:00", r"t.csv, row 2: ra '400' is 400 deg, outside 0 "
                                                                     r"to 360")):
        (tmp_path / "t.csv").write_text(f"name,ra,dec\n{rows}\n")
        with pytest.raises(ValueError, match=message):
            pipeline.Files(tmp_path / "t.csv")
