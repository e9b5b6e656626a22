"""The pipeline on archives whose tables and columns it has never seen: what rows offer is decided from UCDs,
well-known survey names, ObsCore and DataLink, never from astrohub's own schema."""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

from astrohub import models, pipeline
from astrohub.sims.catalog import simulate_catalog

DATA = Path(__file__).resolve().parents[1] / "data"
UCD_BAND = {"u": "U", "g": "B", "r": "R", "i": "I", "z": "I"}


def unseen_catalogue(n=300, seed=5) -> tuple[Table, Table]:
    """(simulated rows under astrohub's names, the same rows as a foreign service would send them: other
    column names, the meaning only in the UCDs of the VOTable FIELDs)."""
    sim = Table(simulate_catalog(n, seed))
    cols = {"SRC_NUMBER": (sim["obj_id"], "meta.id;meta.main"), "RA_DEG": (sim["ra"], "pos.eq.ra;meta.main"),
            "DEC_DEG": (sim["dec"], "pos.eq.dec;meta.main")}
    for b in "ugriz":
        cols[f"FLUX_MAG_{b.upper()}"] = (sim[f"mag_{b}"], f"phot.mag;em.opt.{UCD_BAND[b]}")
        cols[f"FLUX_MAGERR_{b.upper()}"] = (sim[f"err_{b}"], f"stat.error;phot.mag;em.opt.{UCD_BAND[b]}")
    t = Table()
    for name, (v, ucd) in cols.items():
        t[name] = v
        t[name].meta["ucd"] = ucd
    buf = io.BytesIO()
    t.write(buf, format="votable")
    buf.seek(0)
    return sim, Table.read(buf, format="votable")


def test_photoz_on_columns_it_has_never_seen():
    sim, rows = unseen_catalogue()
    assert not set(pipeline.PHOTOMETRY_COLUMNS) & set(rows.colnames)
    assert pipeline.row_data(rows) == {"photometry"}
    assert pipeline.compatible_models(rows) == ["photoz_mdn", "photoz_sim"]
    result = pipeline.classify(rows, "photoz_sim", None)
    direct = models.load("photoz_sim").predict(sim[list(pipeline.PHOTOMETRY_COLUMNS)])
    np.testing.assert_allclose(result.table["z_phot"], direct.z_mode, rtol=1e-6)
    np.testing.assert_allclose(result.table["z_std"], direct.z_std, rtol=1e-6)
    assert result.table.colnames[:len(rows.colnames)] == rows.colnames  # the rows keep their own names


def test_recorded_gaia_result_goes_through_compatible_models_and_classify():
    """A real Gaia DR3 answer (tests/data/gaia_dr3_sources.vot): no model reads G/BP/RP photometry, and
    classify says so, naming what the rows have."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gaia = Table.read(DATA / "gaia_dr3_sources.vot", format="votable")
    assert pipeline.row_data(gaia) == set()
    assert pipeline.compatible_models(gaia) == []
    with pytest.raises(ValueError, match=r"model 'photoz_mdn' does not apply to these rows; compatible models: "
                                         r"none \(.*\) \(photometry: no u g r i z magnitude; magnitudes of "
                                         r"another system only \(.*phot_bp_mean_mag.*phot_g_mean_mag"):
        pipeline.classify(gaia, "photoz_mdn", None)


def test_magnitudes_without_errors_are_not_enough():
    """The real SDSS SkyServer result of the sdss_photoz kit carries u..z but no errors: photo-z is not
    offered, and the message names the missing error columns."""
    from astrohub.models.evaluation.kits import kit_dir

    sdss = Table.read(kit_dir("sdss_photoz") / "sdss_dr14_skyserver_trainhalf.csv", format="ascii.csv")[:50]
    assert pipeline.compatible_models(sdss) == []
    with pytest.raises(ValueError, match=r"photometry: no error column for u, g, r, i, z"):
        pipeline.classify(sdss, "photoz_mdn", None)


def sdss_rows_with_gaps(n=40) -> tuple[Table, dict[int, str]]:
    """Real SDSS galaxies of the sdss_photoz kit as SkyServer serves them (modelMag_u, modelMagErr_u ..., masked
    where NULL), with some rows a band was not measured in, as real catalogues have them: row -> the band."""
    from astrohub.models.evaluation.kits import kit_dir
    from astrohub.models.evaluation.kits import sdss_photoz as K

    kit = K.load(kit_dir("sdss_photoz"))
    mags, errs = kit["mags"][:n].copy(), kit["errors"][:n].copy()
    t = Table(masked=True)
    t["objid"] = np.arange(n)
    for j, b in enumerate("ugriz"):
        t[f"modelMag_{b}"], t[f"modelMagErr_{b}"] = mags[:, j], errs[:, j]
    t["modelMag_u"][3] = -9999.0  # SDSS's 'not measured'
    t["modelMag_g"].mask[7] = True  # NULL
    t["modelMagErr_r"][11] = 0.0
    t["modelMag_z"][15], t["modelMagErr_z"][15] = 99.0, 99.0  # another survey's code
    t["modelMagErr_i"][19] = np.nan
    return t, {3: "the survey's 'not measured' code in u", 7: "no magnitude or error in g", 11: "an error <= 0 in r",
               15: "the survey's 'not measured' code in z", 19: "no magnitude or error in i"}


def test_rows_a_band_was_not_measured_in_are_flagged_and_the_others_estimated():
    """A real catalogue has NULLs and 'not measured' codes: those rows get no photo-z (NaN, flagged with the band
    and the reason, a note) and every other row gets what predict() gives it alone. Before, one such row refused
    the whole query ("drop those rows"), which the panels could not do."""
    rows, gaps = sdss_rows_with_gaps()
    result = pipeline.classify(rows, "photoz_mdn", None)
    t = result.table
    bad = np.isin(np.arange(len(rows)), list(gaps))
    good = Table({f"{k}_{b}": np.asarray(rows[f"modelMag{'Err' if k == 'err' else ''}_{b}"], float)[~bad]
                  for b in "ugriz" for k in ("mag", "err")})
    direct = models.load("photoz_mdn").predict(good)
    np.testing.assert_allclose(np.asarray(t["z_phot"])[~bad], direct.z_mode, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(t["z_std"])[~bad], direct.z_std, rtol=1e-6)
    for col in ("z_phot", "z_mean", "z_std", "z_lo68", "z_hi68"):
        assert np.isnan(np.asarray(t[col])[bad]).all() and np.isfinite(np.asarray(t[col])[~bad]).all(), col
    assert np.asarray(t["ood"])[bad].all()
    assert {i: str(t["ood_reason"][i]) for i in gaps} == gaps
    assert list(np.asarray(t["ood"])[~bad]) == list(direct.ood)
    assert (f"5 of 40 rows were not estimated (z_phot NaN, flagged): photometry the model cannot take (row 3: "
            f"{gaps[3]})") in result.notes
    grid, pdfs = result.pdfs([2, 3])
    assert np.isfinite(pdfs[0]).all() and np.isnan(pdfs[1]).all()
    # SkyServer's dered_u.. (extinction-corrected): with extinction_u.. the reddening is added back, the same
    # estimates; without, the estimates are made and a note says what they lack
    ext = {b: 0.05 * (5 - j) for j, b in enumerate("ugriz")}
    dered = Table({"objid": rows["objid"], **{f"dered_{b}": rows[f"modelMag_{b}"] - ext[b] for b in "ugriz"},
                   **{f"extinction_{b}": np.full(len(rows), ext[b]) for b in "ugriz"},
                   **{f"err_{b}": rows[f"modelMagErr_{b}"] for b in "ugriz"}}, masked=True)
    again = pipeline.classify(dered[~bad], "photoz_mdn", None)
    np.testing.assert_allclose(np.asarray(again.table["z_phot"]), direct.z_mode, rtol=1e-6)
    assert not any("extinction-corrected" in n for n in again.notes)
    dered.remove_columns([f"extinction_{b}" for b in "ugriz"])
    bluer = pipeline.classify(dered[~bad], "photoz_mdn", None)
    assert ("the magnitudes are extinction-corrected (dered_u, dered_g, dered_r, dered_i, dered_z) and photoz_mdn "
            "takes them as observed (the reddening in them): add the extinction_u.. columns to the query to add it "
            "back") in bluer.notes
    with pytest.raises(ValueError, match=r"none of the 2 rows has u g r i z photometry the model can take \(row 0: "
                                         r"the survey's 'not measured' code in u\); query rows measured in every"):
        pipeline.classify(rows[[3, 3]], "photoz_mdn", None)


# -- the live archive: a second resource mimicking a real survey, and ivoa.obscore --------------------------
ASTROHUB_COLUMNS = {"obj_id", "task", "mag_u", "err_u", "label", "class_name"}


@pytest.mark.archive
def test_sdss_like_catalogue_offers_photoz_and_classifies(arc):
    """SDSS column names (modelMag_u, modelMagErr_u) with SDSS UCDs, in a table the pipeline never saw."""
    rows = arc.query("SELECT TOP 40 * FROM realsurvey.specphoto ORDER BY objid")
    assert not ASTROHUB_COLUMNS & set(rows.colnames)
    assert pipeline.compatible_models(rows, arc) == ["photoz_mdn", "photoz_sim"]
    result = pipeline.classify(rows, "photoz_mdn", arc)
    phot = {b: (f"modelmag_{b}", f"modelmagerr_{b}") for b in "ugriz"}
    canon = Table({f"{k}_{b}": np.asarray(rows[phot[b][j]], float) for b in "ugriz"
                   for j, k in enumerate(("mag", "err"))})
    np.testing.assert_allclose(result.table["z_phot"], models.load("photoz_mdn").predict(canon).z_mode, rtol=1e-6)


@pytest.mark.archive
def test_ztf_stamps_behind_obscore_and_datalink(arc):
    """ObsCore records whose access_url is a DataLink document: the triplet's geometry (3 planes, 1.01"/px)
    selects the real/bogus model, and classify fetches each #this stamp."""
    rows = arc.obscore("obs_collection = 'ZTF alerts' ORDER BY obs_publisher_did", top=6)
    assert len(rows) == 6 and not ASTROHUB_COLUMNS & set(rows.colnames)
    assert all("content=datalink" in str(f) for f in rows["access_format"])
    assert pipeline.row_data(rows, arc) == {"cutout"}
    assert arc.image_geometry(rows)["planes"] == 3
    assert pipeline.compatible_models(rows, arc) == ["transient_realbogus"]
    result = pipeline.classify(rows, "transient_realbogus", arc, mc_samples=0, explain_first=2)
    stamps = arc.cutouts(rows)
    assert not stamps.missing and all(u.endswith(".fits") for u in stamps.urls)
    direct = models.load("transient_realbogus").predict(stamps, mc_samples=0)
    np.testing.assert_allclose(result.table["pred_prob"], direct.probabilities.max(1), rtol=1e-5)
    assert result.saliency is not None and len(result.saliency) == 2


@pytest.mark.archive
def test_light_curves_behind_obscore(arc):
    rows = arc.obscore("obs_collection = 'Kepler/TESS' ORDER BY obs_publisher_did", top=3)
    assert len(rows) == 3 and set(str(t) for t in rows["dataproduct_type"]) == {"timeseries"}
    assert pipeline.compatible_models(rows, arc) == ["transit_vetter"]
    result = pipeline.classify(rows, "transit_vetter", arc, mc_samples=0, explain_first=1)
    assert np.isfinite(result.table["planet_score"]).all() and np.all(result.table["bls_period"] > 0)


@pytest.mark.archive
def test_galaxy_zoo_jpegs_behind_obscore_offer_the_colour_model(arc):
    """ObsCore images in image/jpeg are colour composites: the panels offer galaxy_zoo (and no cutout model),
    classify passes the served bytes, and the answer is the model's on the kit's own files."""
    from astrohub.defaults import real_data_dir

    rows = arc.obscore("obs_collection = 'Galaxy Zoo 1' ORDER BY obs_publisher_did", top=5)
    assert len(rows) == 5 and {str(f) for f in rows["access_format"]} == {"image/jpeg"}
    assert pipeline.row_data(rows, arc) == {"colour"}
    assert pipeline.compatible_models(rows, arc) == ["galaxy_zoo"]
    result = pipeline.classify(rows, "galaxy_zoo", arc, mc_samples=0, explain_first=2)
    files = [real_data_dir() / "galaxyzoo1_jpeg" / "images" / f"{n}.jpeg" for n in rows["target_name"]]
    direct = models.load("galaxy_zoo").predict(files, mc_samples=0)
    assert list(result.table["pred_class"]) == list(direct.names)
    np.testing.assert_allclose(result.table["pred_prob"], direct.probabilities.max(1), rtol=1e-5)
    assert result.modality == "colour" and result.images.dtype == np.uint8 and result.images.shape[-1] == 3
    assert result.saliency.shape == result.images.shape[:3] and len(result.images) == 2
    assert not result.validated_on_real or "Galaxy Zoo" in result.real_summary
    assert "ood" in result.table.colnames


@pytest.mark.archive
def test_galaxy_zoo_table_rows_classify_through_their_own_access_urls(arc):
    """The subjects' own table (objID, volunteers' class, a product access reference): the same model, from
    the rows' URLs, whatever the table is called."""
    rows = arc.query("SELECT TOP 3 * FROM realsurvey.galaxyzoo ORDER BY dr7_objid")
    assert pipeline.compatible_models(rows, arc) == ["galaxy_zoo"]
    result = pipeline.classify(rows, "galaxy_zoo", arc, mc_samples=0, explain_first=0)
    assert set(result.table["pred_class"]) <= set(models.card("galaxy_zoo")["outputs"]["classes"])
    assert result.images is None and np.all((result.table["pred_prob"] > 0) & (result.table["pred_prob"] <= 1))


GRI_GALAXIES = ("SELECT TOP {n} o.obj_id, o.ra, o.dec, o.mag_r, c.class_name AS true_class FROM astrohub.objects AS o "
                "JOIN astrohub.cutouts AS c ON o.obj_id = c.obj_id WHERE c.task = 'colour' AND c.bandpassId = 'r' "
                "ORDER BY o.obj_id")
GRI_RECORDS = ("obs_collection = 'astrohub-demo' AND dataproduct_type = 'image' AND s_pixel_scale BETWEEN 0.3 AND 0.5 "
               "ORDER BY obs_publisher_did")


def served_gri(live, obj_ids) -> list[list[Path]]:
    """The archive's own g, r, i files of these objects, from its data directory."""
    from astropy.io import fits

    by_obj = {}
    for r in sorted((live.resdir / "data" / "cutouts").glob("colour-*-r.fits")):
        by_obj[int(fits.getheader(r)["OBJ_ID"])] = [r.with_name(r.name.replace("-r.fits", f"-{b}.fits")) for b in "gri"]
    return [by_obj[int(o)] for o in obj_ids]


@pytest.mark.archive
def test_galaxies_served_as_g_r_i_fits_images_offer_the_colour_model(arc, live):
    """A survey that serves each band as its own FITS image (as SDSS, Pan-STARRS and the Legacy Surveys do):
    catalogue rows find their galaxy's g, r and i images in ObsCore by position, one per band, and galaxy_zoo
    classifies the composite made from them. The answer is the model's on the archive's own files, and every
    row says this path has no real-data validation."""
    from astrohub.models.inputs.colour_fits import NOT_VALIDATED

    rows = arc.query(GRI_GALAXIES.format(n=6))
    assert len(rows) == 6 and "colour" in pipeline.row_data(rows, arc)
    assert pipeline.compatible_models(rows, arc) == ["galaxy_zoo"]
    got = arc.colour_images(rows)
    assert got.missing == [] and [len(u) for u in got.urls] == [3] * 6
    assert [[h[0].header["FILTER"].strip() for h in f] for f in got.in_row_order()] == [["g", "r", "i"]] * 6
    assert [{h[0].header["OBJ_ID"] for h in f} for f in got.in_row_order()] == [{int(o)} for o in rows["obj_id"]]
    result = pipeline.classify(rows, "galaxy_zoo", arc, mc_samples=0, explain_first=2)
    direct = models.load("galaxy_zoo").predict(served_gri(live, rows["obj_id"]), mc_samples=0)
    assert list(result.table["pred_class"]) == list(direct.names)
    np.testing.assert_allclose(result.table["pred_prob"], direct.probabilities.max(1), rtol=1e-5)
    assert result.table["ood"].all() and all(NOT_VALIDATED in str(r) for r in result.table["ood_reason"])
    assert result.images.dtype == np.uint8 and result.images.shape == (2, 64, 64, 3)


@pytest.mark.archive
def test_single_band_records_each_find_their_galaxys_three_images(arc):
    """ObsCore records and SIA 1 rows that are single g, r or i images: each finds its galaxy's three at its own
    position, so a slice of the rows (a worker's chunk, the gallery's first rows) gets what the whole table
    gets, and the three records of one galaxy are classified alike. r-only records offer no colour product."""
    rows = arc.obscore(GRI_RECORDS, top=9)
    assert len(rows) == 9 and pipeline.row_data(rows, arc) == {"cutout", "colour"}
    whole = arc.colour_images(rows)
    assert whole.missing == [] and len(set(whole.urls)) == 3
    assert list(whole.rows) == list(range(9)) and all(str(u) in trio for u, trio in zip(rows["access_url"], whole.urls))
    assert arc.colour_images(rows[4:5]).urls == [whole.urls[4]]
    result = pipeline.classify(rows, "galaxy_zoo", arc, mc_samples=0, explain_first=0)
    p = np.asarray(result.table["pred_prob"])
    for k in range(0, 9, 3):  # one galaxy's g, i and r records
        assert len(set(result.table["pred_class"][k:k + 3])) == 1 and np.ptp(p[k:k + 3]) < 1e-6
    sia = arc.sia(float(rows["s_ra"][0]), float(rows["s_dec"][0]), 0.001)
    assert len(sia) == 3 and pipeline.row_data(sia, arc) == {"cutout", "colour"}
    assert set(arc.colour_images(sia).urls) == {whole.urls[0]}
    r_only = arc.obscore("obs_collection = 'astrohub-demo' AND dataproduct_type = 'image' AND s_pixel_scale < 0.3 "
                         "ORDER BY obs_publisher_did", top=3)
    assert pipeline.row_data(r_only, arc) == {"cutout"} and arc.colour_images(r_only).missing == [0, 1, 2]


@pytest.mark.archive
def test_jpeg_galaxies_and_band_by_band_galaxies_classify_in_one_batch(arc):
    """One result holding Galaxy Zoo's JPEG subjects and a galaxy served as g, r, i FITS records (an archive that
    serves both): classify gives each row what a batch of its own kind gives it, in the table's order, and only the
    FITS rows say that path has no real-data validation. It was refused before ("separate calls")."""
    from astropy.table import vstack

    from astrohub.models.inputs.colour_fits import NOT_VALIDATED

    jpeg = arc.obscore("obs_collection = 'Galaxy Zoo 1' ORDER BY obs_publisher_did", top=2)
    gri = arc.obscore(GRI_RECORDS, top=3)  # one galaxy's three records
    rows = vstack([jpeg[:1], gri, jpeg[1:]])
    assert pipeline.compatible_models(rows, arc) == ["galaxy_zoo"]
    result = pipeline.classify(rows, "galaxy_zoo", arc, mc_samples=0, explain_first=5)
    out = result.table
    for part, at in ((jpeg, [0, 4]), (gri, [1, 2, 3])):
        alone = pipeline.classify(part, "galaxy_zoo", arc, mc_samples=0, explain_first=0).table
        assert list(out["pred_class"][at]) == list(alone["pred_class"])
        np.testing.assert_allclose(out["pred_prob"][at], alone["pred_prob"], rtol=1e-5)
        assert [str(r) for r in out["ood_reason"][at]] == [str(r) for r in alone["ood_reason"]]
    assert [str(r).startswith(NOT_VALIDATED) for r in out["ood_reason"]] == [False, True, True, True, False]
    assert result.images.shape == (5, 64, 64, 3) and result.notes == []


@pytest.mark.archive
def test_a_damaged_band_is_named(arc):
    """A band whose copy is not FITS (a proxy's error page where the image should be) is a MalformedResponse naming
    its URL; clearing the cache fetches it again."""
    from astrohub.vo.errors import MalformedResponse

    rows = arc.query(GRI_GALAXIES.format(n=1))
    trio = arc.colour_images(rows).urls[0]
    arc.cache.put_file(trio[1], b"<html><body>502 Bad Gateway</body></html>")
    with pytest.raises(MalformedResponse, match=rf"{re.escape(trio[1])} is not a readable FITS file .*clear it with "):
        arc.colour_images(rows)
    arc.cache.clear()
    assert [h[0].header["FILTER"].strip() for h in arc.colour_images(rows).files[0]] == ["g", "r", "i"]


@pytest.mark.archive
def test_catalogue_rows_find_products_by_position_in_obscore(arc):
    """Rows with only a position (no id, no DataLink descriptor) find their light curves through ObsCore;
    they are the files DataLink names for the same objects."""
    from astrohub.vo import obscore

    ids = "SELECT TOP 5 l.obj_id FROM astrohub.lightcurves AS l ORDER BY l.obj_id"
    rows = arc.query(f"SELECT o.ra, o.dec, o.mag_r FROM astrohub.objects AS o WHERE o.obj_id IN ({ids}) "
                     "ORDER BY o.obj_id")
    assert "datalink_url" not in rows.meta
    found = obscore.discover(arc, rows, ("lightcurve",))
    assert found.how == "obscore match"
    pairs, missing = found.of("lightcurve", len(rows))
    assert missing == []
    by_id = arc.query(f"SELECT o.* FROM astrohub.objects AS o WHERE o.obj_id IN ({ids}) ORDER BY o.obj_id")
    assert [u for _r, u in pairs] == arc.lightcurves(by_id).urls
    assert pipeline.compatible_models(rows, arc) == ["transit_vetter"]


@pytest.mark.archive
def test_sia2_results_are_obscore_rows(arc):
    """SIA v2 answers with ObsCore records: the ZTF stamps around an alert's position, the real/bogus model."""
    alert = arc.query("SELECT TOP 1 ra, dec FROM realsurvey.ztf_alerts ORDER BY candid")
    rows = arc.sia2(float(alert["ra"][0]), float(alert["dec"][0]), 1 / 3600, collection="ZTF alerts")
    assert len(rows) >= 1 and set(str(t) for t in rows["dataproduct_type"]) == {"image"}
    assert pipeline.compatible_models(rows, arc) == ["transient_realbogus"]


@pytest.mark.archive
@pytest.mark.parametrize("table, models_offered", [
    ("realsurvey.specphoto", ["photoz_mdn", "photoz_sim"]),
    ("realsurvey.ztf_alerts", ["transient_realbogus"]),
    ("realsurvey.lightcurves", ["transit_vetter"]),
    ("realsurvey.galaxyzoo", ["galaxy_zoo"]),
])
def test_the_explorer_offers_the_right_models_for_each_real_survey_table(arc, table, models_offered):
    rows = arc.query(f"SELECT TOP 5 * FROM {table}")
    assert len(rows) == 5 and not ASTROHUB_COLUMNS & set(rows.colnames)
    assert pipeline.compatible_models(rows, arc) == models_offered


@pytest.fixture
def served(tmp_path):
    """(a folder, its base URL on a local HTTP server, an Archive client): files written there are rows' products
    when a table's access_url names them (as an SIA service's rows do)."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from astrohub.vo import Archive

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    folder = tmp_path / "served"
    folder.mkdir()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        yield folder, base, Archive(base + "/tap", cache_dir=tmp_path / "cache", progress=False)
    finally:
        srv.shutdown()


def served_stamps(folder, base) -> dict[str, tuple[list[Path], Table]]:
    """The kit's test JPEGs (every 60th) written to ``folder`` as Galaxy Zoo serves them ("gz") and as a cutout
    service at twice its pixel scale would ("fixed"): per kind, the files and a table of rows with their URLs."""
    from PIL import Image

    from astrohub.models.evaluation.kits import galaxyzoo1, kit_dir
    from astrohub.models.inputs.colour import reframe

    kit = galaxyzoo1.load(kit_dir("galaxyzoo1_jpeg"))
    te = galaxyzoo1.split(kit["labels"])["test"][::60]
    for k, i in enumerate(te):
        im = np.asarray(Image.open(kit["paths"][i]).convert("RGB"))
        (folder / f"gz{k}.jpeg").write_bytes(Path(kit["paths"][i]).read_bytes())
        Image.fromarray(reframe(im, 2.0, 1.0)).resize(im.shape[1::-1], Image.Resampling.LANCZOS).save(
            folder / f"fixed{k}.jpeg", quality=90)
    out = {}
    for stem in ("fixed", "gz"):
        files = sorted(folder.glob(f"{stem}*.jpeg"))
        out[stem] = files, Table({"access_url": [f"{base}/{f.name}" for f in files]})
    return out


def test_jpegs_framed_otherwise_are_reframed_as_a_batch(served):
    """Rows with access URLs to JPEGs (as an SIA service gives them) at twice Galaxy Zoo's pixel scale, as a
    fixed-scale cutout service would serve its galaxies: most stamps are flagged as framed otherwise, so classify
    re-frames the whole batch (what ``predict(..., reframe=True)`` gives on the same files) and says so in its
    notes; Galaxy Zoo's own stamps, served the same way, are classified as they are."""
    folder, base, arc = served
    stamps = served_stamps(folder, base)
    model = models.load("galaxy_zoo")
    for stem, reframed in (("fixed", True), ("gz", False)):
        files, rows = stamps[stem]
        assert pipeline.compatible_models(rows, arc) == ["galaxy_zoo"]
        result = pipeline.classify(rows, "galaxy_zoo", arc, mc_samples=0, explain_first=2)
        direct = model.predict([f.read_bytes() for f in files], mc_samples=0, reframe=reframed)
        assert list(result.table["pred_class"]) == list(direct.names), stem
        np.testing.assert_allclose(result.table["pred_prob"], direct.probabilities.max(1), rtol=1e-5)
        said = [n for n in result.notes if "re-framed before classifying" in n]
        assert bool(said) == reframed, result.notes
        assert result.images.shape == (2, 64, 64, 3)


def test_re_framing_can_be_asked_for_or_refused_and_the_panel_offers_it_for_colour_models(served):
    """The user knows their service better than the batch rule: reframe=True re-frames every stamp (Galaxy Zoo's
    own here, which the rule would leave), reframe=False none (the fixed-scale ones, which it would re-frame); the
    panel's re-frame choice, shown only for colour models, passes it on. Bad values are named."""
    from astrohub.pipeline.classification import REFRAME_ASKED
    from astrohub.widgets import ClassifyPanel

    folder, base, arc = served
    stamps = served_stamps(folder, base)
    model = models.load("galaxy_zoo")
    for stem, reframe in (("gz", True), ("fixed", False)):
        files, rows = stamps[stem]
        got = pipeline.classify(rows, "galaxy_zoo", arc, mc_samples=0, explain_first=1, reframe=reframe)
        direct = model.predict([f.read_bytes() for f in files], mc_samples=0, reframe=reframe)
        np.testing.assert_allclose(got.table["pred_prob"], direct.probabilities.max(1), rtol=1e-5)
        assert got.notes == ([REFRAME_ASKED] if reframe else [])
        np.testing.assert_array_equal(got.images[0], model.view(files[:1], reframe=reframe)[0])
    panel = ClassifyPanel(stamps["fixed"][1], archive=arc)
    assert panel.model.value == "galaxy_zoo" and panel.reframe.layout.display is None
    assert panel.reframe.value == "auto" and panel.reframe.label.startswith("auto")  # shown (None would show blank)
    panel.mc.value, panel.reframe.value = 0, False
    assert panel.run().notes == []
    panel.reframe.value = "auto"  # auto: the batch rule
    assert "re-framed before classifying" in panel.run().notes[0]
    with pytest.raises(ValueError, match=r"reframe must be None \(auto\), True or False, got 'yes'"):
        pipeline.classify(stamps["gz"][1], "galaxy_zoo", arc, reframe="yes")


def test_cutouts_in_another_band_are_not_offered_the_r_band_models(served):
    """Cutouts at the image models' 0.2"/px (as CFHT MegaCam, Suprime-Cam or OmegaCAM serve them) in u: the r-band
    models are not offered, and the message says why; the same files named r are offered them. A band column (an
    SIA 1 result's, or ObsCore's em_min/em_max) speaks for files whose headers name none."""
    from astropy.io import fits

    from astrohub.sims.images import simulate_images
    from astrohub.widgets import ClassifyPanel

    folder, base, arc = served
    stamps = simulate_images("morphology", 3, seed=31, size=80).images
    for band in ("u", "r", ""):
        for k, img in enumerate(stamps):
            h = fits.Header({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CDELT1": -0.2 / 3600, "CDELT2": 0.2 / 3600,
                             "CRPIX1": 40.5, "CRPIX2": 40.5, "CRVAL1": 150.0 + k / 60, "CRVAL2": 2.2})
            if band:
                h["FILTER"] = f"{band}.MP9601"
            fits.PrimaryHDU(img, header=h).writeto(folder / f"{band or 'none'}{k}.fits")
    rows = {band: Table({"access_url": [f"{base}/{band}{k}.fits" for k in range(3)]}) for band in ("u", "r", "none")}
    r_models = pipeline.compatible_models(rows["r"], arc)
    assert {"galaxy_morphology", "lens_finder"} <= set(r_models)
    assert pipeline.compatible_models(rows["none"], arc) == r_models
    assert pipeline.compatible_models(rows["u"], arc) == []
    why = ('cutouts of 1 plane at 0.2"/px in u, where the image models take 1 plane at 0.2"/px in r or 3 planes '
           'at 1.01"/px')
    with pytest.raises(ValueError, match=re.escape(f"'galaxy_morphology' does not apply to these rows; compatible "
                                                   f"models: {pipeline.NO_MODEL_HINT}")) as e:
        pipeline.classify(rows["u"], "galaxy_morphology", arc)
    assert why in str(e.value)
    panel = ClassifyPanel(rows["u"], archive=arc)
    assert panel.model.options == () and why.replace('"', "&quot;") in panel.status.value
    panel = ClassifyPanel(rows["r"], archive=arc)
    assert panel.model.value == "galaxy_morphology" and panel.reframe.layout.display == "none"  # colour models only
    with pytest.raises(ValueError, match=r"reframe= applies to the colour models \(galaxy_zoo\); 'galaxy_morphology' "
                                         r"reads cutout data"):
        pipeline.classify(rows["r"], "galaxy_morphology", arc, reframe=True)
    named = rows["none"].copy()
    named["filter"] = ["u"] * 3  # a band column where the files name none
    assert pipeline.compatible_models(named, arc) == []
    limits = rows["none"].copy()  # ObsCore's passband limits, in metres, where the files name none
    limits["em_min"], limits["em_max"] = [3.2e-7] * 3, [3.9e-7] * 3
    assert pipeline.compatible_models(limits, arc) == []
    limits["em_min"], limits["em_max"] = [5.6e-7] * 3, [6.8e-7] * 3
    assert pipeline.compatible_models(limits, arc) == r_models


def test_fits_galaxies_do_not_count_against_re_framing_a_batch():
    """The batch rule counts JPEG/PNG stamps only: galaxies made from g, r, i FITS images are framed from their own
    cutouts. Fixed-scale stamps (the kit's test JPEGs at twice Galaxy Zoo's pixel scale) beside more FITS galaxies
    than flagged stamps still re-frame the batch; FITS galaxies alone never do."""
    from astropy.io import fits
    from PIL import Image

    from astrohub.models.evaluation.kits import galaxyzoo1, kit_dir
    from astrohub.models.inputs.colour import reframe
    from astrohub.models.predictors.colour import REFRAME_HINT
    from astrohub.pipeline.classification import reframe_notes
    from astrohub.sims.colour import GZ_CLASSES, cutout_header, gz_cutout

    kit = galaxyzoo1.load(kit_dir("galaxyzoo1_jpeg"))
    stamps = []
    for i in galaxyzoo1.split(kit["labels"])["test"][::60]:
        im = np.asarray(Image.open(kit["paths"][i]).convert("RGB"))
        stamps.append(np.asarray(Image.fromarray(reframe(im, 2.0, 1.0)).resize(im.shape[1::-1],
                                                                                Image.Resampling.LANCZOS)))
    rng = np.random.default_rng(3)
    cubes = []
    for k in range(len(stamps) + 1):
        b, _ = gz_cutout(rng, GZ_CLASSES[k % 3])
        cubes.append(fits.HDUList([fits.PrimaryHDU(b, header=cutout_header(b.shape[-1], 0.396))]))
    model = models.load("galaxy_zoo")
    why = model.predict(stamps + cubes, mc_samples=0).ood_reason
    flagged = sum(REFRAME_HINT in str(r) for r in why)
    assert flagged / len(stamps) > 0.5 >= flagged / len(why)  # the share of the whole batch would not re-frame
    assert reframe_notes(why) == [f"{flagged} of {len(stamps)} stamps are not framed as Galaxy Zoo frames them (the "
                                  "galaxy's size in the stamp; fixed-scale cutouts?): all were re-framed before "
                                  "classifying (predict(..., reframe=True))"]
    assert reframe_notes(model.predict(cubes, mc_samples=0).ood_reason) == []


def test_spectra_served_as_votables_of_the_spectral_data_model_classify_as_in_angstrom(served):
    """SSA services serve spectra in IVOA's spectral data model: a VOTable (here gzipped, as HTTP often carries it)
    whose axis is named by its UCD (em.wl) in metres, not a WAVE column in A. Real SDSS spectra served so are offered
    the spectrum models and classified as the same spectra in A are; a broken VOTable is named by its URL."""
    import gzip

    import astropy.units as u

    from astrohub.models.evaluation.kits import kit_dir
    from astrohub.models.evaluation.kits import sdss_spectra_lowz as K
    from astrohub.vo.errors import MalformedResponse

    folder, base, arc = served
    spectra = K.load(kit_dir(K.KIT))["spectra"][:4]
    for k, t in enumerate(spectra):
        sdm = Table({"spectral": np.asarray(t["WAVE"]) * 1e-10 * u.m, "flux": np.asarray(t["FLUX"])})
        sdm["spectral"].meta["ucd"], sdm["flux"].meta["ucd"] = "em.wl", "phot.flux.density;em.wl"
        buf = io.BytesIO()
        sdm.write(buf, format="votable")
        (folder / f"spec{k}.xml").write_bytes(gzip.compress(buf.getvalue()) if k % 2 else buf.getvalue())
    rows = Table({"access_url": [f"{base}/spec{k}.xml" for k in range(4)]})
    assert set(pipeline.compatible_models(rows, arc)) == {"spectral_class", "stellar_params"}
    result = pipeline.classify(rows, "spectral_class", arc, mc_samples=0, explain_first=0)
    direct = models.load("spectral_class").predict(spectra, mc_samples=0)
    assert list(result.table["pred_class"]) == list(direct.names)
    np.testing.assert_allclose(result.table["pred_prob"], direct.probabilities.max(1), rtol=1e-5)
    (folder / "broken.xml").write_bytes(b'<?xml version="1.0"?><VOTABLE version="1.4"><RESOURCE><TABLE><FIELD')
    with pytest.raises(MalformedResponse, match=rf"{re.escape(base)}/broken.xml is not a readable VOTable"):
        pipeline.classify(Table({"access_url": [f"{base}/broken.xml"]}), "spectral_class", arc)
    # an entity-expansion bomb ("billion laughs": 1 kB of XML that would expand to gigabytes) is refused unexpanded
    bomb = b'<?xml version="1.0"?>\n<!DOCTYPE VOTABLE [\n<!ENTITY a "' + b"a" * 64 + b'">\n'
    for k, prev in zip("bcdefghij", "abcdefghi"):
        bomb += f'<!ENTITY {k} "{("&" + prev + ";") * 10}">\n'.encode()
    bomb += (b']>\n<VOTABLE version="1.4"><RESOURCE><TABLE><FIELD name="WAVE" datatype="char" arraysize="*"/>'
             b'<FIELD name="FLUX" datatype="double"/><DATA><TABLEDATA><TR><TD>&j;</TD><TD>1</TD></TR></TABLEDATA>'
             b"</DATA></TABLE></RESOURCE></VOTABLE>")
    (folder / "bomb.xml").write_bytes(bomb)
    with pytest.raises(MalformedResponse, match=rf"{re.escape(base)}/bomb.xml is not a readable VOTable .*limit on "
                                                r"input amplification factor"):
        pipeline.classify(Table({"access_url": [f"{base}/bomb.xml"]}), "spectral_class", arc)


def test_spectra_served_as_fits_images_and_one_row_tables_are_spectra_not_cutouts(served):
    """Spectra in the FITS layouts other than a per-pixel table: SDSS's spSpec (a 2-D image of named rows, wavelengths
    from COEFF0/COEFF1), a 1-D image with a linear wavelength WCS (IRAF, many SSA services), ESO's Phase 3 (one row of
    arrays). Served as rows' products they are spectra (before: a 1-D image was a 'cutout' and offered the image
    models; a one-row table gave one pixel), classified as the same files are read directly; a FITS table holding
    several spectra is named by its URL."""
    import astropy.units as u
    from astropy.io import fits

    from astrohub.models.evaluation.kits import kit_dir
    from astrohub.models.evaluation.kits import sdss_spectra_lowz as K
    from astrohub.vo.errors import MalformedResponse

    folder, base, arc = served
    spectra = K.load(kit_dir(K.KIT))["spectra"][:3]
    names = []
    for k, t in enumerate(spectra):
        w, f = np.asarray(t["WAVE"], float), np.asarray(t["FLUX"], np.float32)
        if k == 0:  # SDSS spSpec
            hdu = fits.PrimaryHDU(np.stack([f, f, np.ones_like(f)]))
            hdu.header.update(COEFF0=float(np.log10(w[0])), COEFF1=1e-4, ARRAY1="SPECTRUM", ARRAY2="CONTINUUM",
                              ARRAY3="ERROR")
        elif k == 1:  # a 1-D image, linear in A
            lin = np.linspace(w[0], w[-1], len(w))
            hdu = fits.PrimaryHDU(np.interp(lin, w, f).astype(np.float32))
            hdu.header.update(CRVAL1=lin[0], CDELT1=lin[1] - lin[0], CRPIX1=1.0, CTYPE1="WAVE", CUNIT1="Angstrom")
        else:  # ESO Phase 3: one row of arrays, wavelength in nm
            hdu = fits.BinTableHDU(Table({"WAVE": [w / 10] * u.nm, "FLUX": [f]}))
        names.append(f"spec{k}.fits")
        fits.HDUList([hdu] if k < 2 else [fits.PrimaryHDU(), hdu]).writeto(folder / names[-1])
    rows = Table({"access_url": [f"{base}/{n}" for n in names]})
    assert set(pipeline.compatible_models(rows, arc)) == {"spectral_class", "stellar_params"}
    result = pipeline.classify(rows, "spectral_class", arc, mc_samples=0, explain_first=0)
    direct = models.load("spectral_class").predict([folder / n for n in names], mc_samples=0)
    assert list(result.table["pred_class"]) == list(direct.names)
    np.testing.assert_allclose(result.table["pred_prob"], direct.probabilities.max(1), rtol=1e-5)
    Table({"WAVE": [np.arange(3800.0, 9300.0)] * 2, "FLUX": [np.ones(5500)] * 2}).write(folder / "two.fits")
    with pytest.raises(MalformedResponse, match=rf"{re.escape(base)}/two.fits is refused: its table holds 2 spectra"):
        pipeline.classify(Table({"access_url": [f"{base}/two.fits"]}), "spectral_class", arc)
    plate = fits.PrimaryHDU(np.ones((20, 4000), np.float32))  # an spPlate: one spectrum per fibre, as image rows
    plate.header.update(COEFF0=3.5798, COEFF1=1e-4)
    plate.writeto(folder / "spPlate.fits")
    rows = Table({"access_url": [f"{base}/spPlate.fits"]})
    assert set(pipeline.compatible_models(rows, arc)) == {"spectral_class", "stellar_params"}  # spectra, not a cutout
    with pytest.raises(MalformedResponse, match=rf"{re.escape(base)}/spPlate.fits is refused: its image holds 20 "
                                                r"spectra as rows \(an SDSS spPlate"):
        pipeline.classify(rows, "spectral_class", arc)


def test_light_curves_served_as_votables_offer_the_vetter(served):
    """A light curve served as a VOTable (IVOA's time-series model: TIME in days, FLUX; or columns named only by
    their UCDs, time.epoch and phot.mag, in magnitudes as ground surveys serve them) is a light curve: the vetter is
    offered and classifies it as the same curve given directly."""
    from astrohub.sims.lightcurves import simulate_lightcurves

    folder, base, arc = served
    b = simulate_lightcurves(2, seed=5)
    for k in range(2):
        if k == 0:
            t = Table({"TIME": np.asarray(b.time, float), "FLUX": np.asarray(b.flux[k], float)})
        else:  # no familiar name: the UCDs say what the columns are
            t = Table({"epoch": np.asarray(b.time, float), "v": 11.0 - 2.5 * np.log10(np.asarray(b.flux[k], float))})
            t["v"].meta["ucd"] = "phot.mag;em.opt.V"
        time = t.colnames[0]
        t[time].unit, t[time].meta["ucd"] = "d", "time.epoch"
        t.write(folder / f"lc{k}.xml", format="votable")
    rows = Table({"access_url": [f"{base}/lc{k}.xml" for k in range(2)]})
    assert pipeline.compatible_models(rows, arc) == ["transit_vetter"]
    result = pipeline.classify(rows, "transit_vetter", arc, mc_samples=0, explain_first=0)
    direct = models.load("transit_vetter").predict(b.flux.astype(float), time=np.asarray(b.time, float), mc_samples=0)
    assert list(result.table["pred_class"]) == list(direct.names)
    np.testing.assert_allclose(result.table["bls_period"], direct.period, rtol=1e-6)


@pytest.mark.archive
def test_without_obscore_positions_find_cutouts_by_sia_and_spectra_by_ssa(arc, served, tmp_path):
    """An archive that publishes no ObsCore, with SIA and SSA services (the local archive's, beside a TAP URL that is
    no TAP service): rows of positions only (a target list) find their cutouts by one SIA query per position and
    their spectra by one SSA query, within the radius, and classify as through ObsCore."""
    from astrohub.vo import Archive

    _folder, base, _ = served
    services = Archive(base + "/tap", sia=arc.urls["sia"], ssa=arc.urls["ssa"], cache_dir=tmp_path / "svc",
                       progress=False)
    cut = arc.query(pipeline.TEMPLATES["morphology cutouts"].replace("TOP 100", "TOP 4"))
    spec = arc.query("SELECT TOP 3 o.obj_id, o.ra, o.dec FROM astrohub.objects AS o JOIN astrohub.spectra AS s "
                     "ON o.obj_id = s.obj_id ORDER BY o.obj_id")
    for rows, model in ((cut, "galaxy_morphology"), (spec, "spectral_class")):
        at = Table({"name": [f"t{i}" for i in range(len(rows))], "ra": rows["ra"], "dec": rows["dec"]})
        assert model in pipeline.compatible_models(at, services)
        via = pipeline.classify(at, model, services, mc_samples=0, explain_first=0).table
        ref = pipeline.classify(at, model, arc, mc_samples=0, explain_first=0).table
        assert list(via["pred_class"]) == list(ref["pred_class"])
        np.testing.assert_allclose(via["pred_prob"], ref["pred_prob"], rtol=1e-6)
    far = Table({"name": ["nothing here"], "ra": [10.0], "dec": [-30.0]})
    assert pipeline.row_data(far, services) == set()
    Table({"name": ["a", "b", "far"], "ra": [*spec["ra"][:2], 10.0], "dec": [*spec["dec"][:2], -30.0]}).write(
        tmp_path / "targets.csv")  # a target list looked up there: the third named
    targets = pipeline.Files(tmp_path / "targets.csv").in_archive(services, kind="spectrum")
    assert targets.summary().startswith(f"2 of 3 targets of targets.csv have products in {services.name} within "
                                        "1\u2033 (2 with a spectrum); 1 skipped (targets.csv: row 3 (far): no "
                                        "spectrum in ")


def test_without_obscore_a_galaxys_bands_are_found_through_sia(arc, live, served, tmp_path):
    """An archive that publishes no ObsCore but has an SIA service (here the local archive's SIA 1 beside a TAP URL
    that is no TAP service): its own SIA rows, one per band, and catalogue rows with positions each find their
    galaxy's g, r and i images by one SIA query per position, and classify as through ObsCore."""
    from astrohub.vo import Archive

    _folder, base, _ = served
    sia_only = Archive(base + "/tap", sia=arc.urls["sia"], cache_dir=tmp_path / "sia-only", progress=False)
    records = arc.obscore(GRI_RECORDS, top=3)  # one galaxy's three records, through ObsCore
    trio = arc.colour_images(records).urls[0]
    sia_rows = sia_only.sia(float(records["s_ra"][0]), float(records["s_dec"][0]), 0.001)
    assert len(sia_rows) == 3 and pipeline.row_data(sia_rows, sia_only) == {"cutout", "colour"}
    assert sia_only.colour_images(sia_rows).urls == [trio] * 3
    rows = arc.query(GRI_GALAXIES.format(n=4))  # catalogue rows: positions only
    assert pipeline.compatible_models(rows, sia_only) == ["galaxy_zoo"]
    assert sia_only.colour_images(rows).urls == arc.colour_images(rows).urls
    via_sia = pipeline.classify(rows, "galaxy_zoo", sia_only, mc_samples=0, explain_first=0).table
    via_obscore = pipeline.classify(rows, "galaxy_zoo", arc, mc_samples=0, explain_first=0).table
    assert list(via_sia["pred_class"]) == list(via_obscore["pred_class"])
    np.testing.assert_allclose(via_sia["pred_prob"], via_obscore["pred_prob"], rtol=1e-6)
    assert sia_only.colour_images(rows[2:3]).urls == arc.colour_images(rows).urls[2:3]  # a chunk alone: the same
