"""astrohub.vo.metadata: what columns are, from UCDs or well-known survey names, on tables astrohub has never
seen (VOTables built in memory and parsed back, as a service would deliver them) and on recorded answers of
real services (tests/data, see PROVENANCE.md)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

from astrohub.vo import metadata, obscore
from astrohub.vo.errors import MetadataError

DATA = Path(__file__).resolve().parents[1] / "data"
UCD_BAND = {"u": "U", "g": "B", "r": "R", "i": "I", "z": "I"}  # IVOA practice for SDSS bands


def votable(columns: dict[str, tuple[np.ndarray, str | None]]) -> Table:
    """A table written as a VOTable with these UCDs and read back (the UCDs travel in the FIELDs)."""
    t = Table()
    for name, (values, u) in columns.items():
        t[name] = values
        if u:
            t[name].meta["ucd"] = u
    buf = io.BytesIO()
    t.write(buf, format="votable")
    buf.seek(0)
    return Table.read(buf, format="votable")


def read(name: str) -> Table:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Table.read(DATA / name, format="votable")


def sextractor_like(n=6, seed=0) -> Table:
    """Column names no survey helper knows (SExtractor style); only the UCDs say what they are."""
    rng = np.random.default_rng(seed)
    cols = {}
    for b in "ugriz":
        cols[f"MAG_{b.upper()}_AUTO"] = (rng.uniform(16, 19, n), f"phot.mag;em.opt.{UCD_BAND[b]}")
        cols[f"MAGERR_{b.upper()}_AUTO"] = (rng.uniform(0.01, 0.03, n), f"stat.error;phot.mag;em.opt.{UCD_BAND[b]}")
    cols["ALPHA_J2000"] = (rng.uniform(150, 151, n), "pos.eq.ra;meta.main")
    cols["DELTA_J2000"] = (rng.uniform(2, 3, n), "pos.eq.dec;meta.main")
    cols["ZBEST"] = (rng.uniform(0, 1, n), "src.redshift")
    cols["ZBEST_ERR"] = (rng.uniform(0, 0.1, n), "stat.error;src.redshift")
    cols["NUMBER"] = (np.arange(n), "meta.id;meta.main")
    return votable(cols)


def test_ucds_decide_on_unknown_column_names():
    t = sextractor_like()
    p = metadata.photometry(t)
    assert p.how == "ucd" and p.complete()
    assert p.bands == {b: (f"MAG_{b.upper()}_AUTO", f"MAGERR_{b.upper()}_AUTO") for b in "ugriz"}
    assert metadata.position(t) == ("ALPHA_J2000", "DELTA_J2000")
    assert metadata.redshift(t) == "ZBEST"          # not its error
    assert metadata.id_column(t) == "NUMBER"
    canon = p.canonical(t)
    assert canon.colnames == [f"{k}_{b}" for b in "ugriz" for k in ("mag", "err")]
    np.testing.assert_array_equal(canon["mag_z"], t["MAG_Z_AUTO"])
    np.testing.assert_array_equal(canon["err_g"], t["MAGERR_G_AUTO"])


def test_ucds_pair_each_magnitude_with_its_own_error():
    """Two magnitude families per band (PSF and model): each is paired with the error of its family."""
    rng = np.random.default_rng(1)
    cols = {}
    for b in "ugriz":
        u = UCD_BAND[b]
        cols[f"modelMag_{b}"] = (rng.uniform(16, 19, 3), f"phot.mag;em.opt.{u}")
        cols[f"psfMag_{b}"] = (rng.uniform(16, 19, 3), f"phot.mag;em.opt.{u}")
        cols[f"psfMagErr_{b}"] = (rng.uniform(0.01, 0.03, 3), f"stat.error;phot.mag;em.opt.{u}")
    p = metadata.photometry(votable(cols))
    assert p.complete() and p.bands["r"] == ("psfMag_r", "psfMagErr_r")


def test_a_ucd_that_says_otherwise_vetoes_a_band_name():
    """'z' declared as a redshift is not the z-band magnitude, and the Johnson-B UCD of a 'BP' column
    does not make it SDSS g."""
    rng = np.random.default_rng(2)
    cols = {b: (rng.uniform(16, 19, 3), f"phot.mag;em.opt.{UCD_BAND[b]}") for b in "ugri"}
    cols |= {f"err_{b}": (rng.uniform(0.01, 0.03, 3), f"stat.error;phot.mag;em.opt.{UCD_BAND[b]}") for b in "ugri"}
    cols["z"] = (rng.uniform(0, 1, 3), "src.redshift")
    cols["err_z"] = (rng.uniform(0, 0.1, 3), "stat.error;src.redshift")
    cols["phot_bp_mean_mag"] = (rng.uniform(16, 19, 3), "phot.mag;em.opt.B")
    t = votable(cols)
    p = metadata.photometry(t)
    assert set(p.bands) == {"u", "g", "r", "i"} and p.bands["g"] == ("g", "err_g")
    assert not p.complete() and p.missing() == "no z magnitude"
    assert metadata.redshift(t) == "z"
    with pytest.raises(MetadataError, match="these rows lack u g r i z photometry with errors: no z magnitude"):
        p.canonical(t)


@pytest.mark.parametrize("names, expect", [
    ({"psfMag_{b}": 1, "psfMagErr_{b}": 2, "modelMag_{b}": 3}, ("sdss", "psfMag_{b}", "psfMagErr_{b}")),
    ({"{b}mag": 1, "e_{b}mag": 2}, ("sdss", "{b}mag", "e_{b}mag")),        # VizieR
    ({"mag_{b}": 1, "magerr_{b}": 2}, ("legacy", "mag_{b}", "magerr_{b}")),  # Legacy Surveys tractor
])
def test_well_known_names_when_a_service_declares_no_ucds(names, expect):
    rng = np.random.default_rng(3)
    t = Table({pat.format(b=b): rng.uniform(15, 20, 4) for pat in names for b in "ugriz"})
    p = metadata.photometry(t)
    system, mag, err = expect
    assert p.system == system and p.complete()
    assert p.bands == {b: (mag.format(b=b), err.format(b=b)) for b in "ugriz"}


def test_panstarrs_names_have_no_u_band():
    rng = np.random.default_rng(4)
    t = Table({n: rng.uniform(15, 20, 3) for b in "grizy" for n in (f"{b}MeanPSFMag", f"{b}MeanPSFMagErr")})
    t["raMean"], t["decMean"] = 1.0, 2.0
    p = metadata.photometry(t)
    assert p.system == "panstarrs" and set(p.bands) == set("grizy")
    assert p.complete("grizy") and not p.complete() and p.missing() == "no u magnitude"


def test_magnitudes_without_errors_are_named():
    """The sdss_photoz kit is a real SkyServer result: u..z model magnitudes, no errors."""
    from astrohub.models.evaluation.kits import kit_dir

    t = Table.read(kit_dir("sdss_photoz") / "sdss_dr14_skyserver_trainhalf.csv", format="ascii.csv")
    p = metadata.photometry(t)
    assert p.bands == {b: (b, None) for b in "ugriz"}
    assert p.missing() == "no error column for u, g, r, i, z"
    assert metadata.position(t) == ("ra", "dec") and metadata.redshift(t) == "redshift"


def test_recorded_gaia_answer():
    """The Gaia archive's own UCDs: ra/dec (meta.main), designation as id, G/BP/RP magnitudes recognised as
    Gaia's (BP's em.opt.B is not SDSS g), no ugriz photometry."""
    t = read("gaia_dr3_sources.vot")
    assert len(t) == 2 and len(t.colnames) == 152
    p = metadata.photometry(t)
    assert p.system == "gaia" and not p.bands
    assert {"phot_g_mean_mag", "phot_bp_mean_mag", "phot_rp_mean_mag"} <= set(p.others)
    assert p.missing().startswith("no u g r i z magnitude; magnitudes of another system only (")
    assert metadata.position(t) == ("ra", "dec")
    assert metadata.id_column(t).lower() == "designation"
    assert metadata.redshift(t) is None


def test_recorded_obscore_answer_gives_products_without_a_network():
    """GAVO's ObsCore answer: every record an image, its access_url the FITS file itself."""
    t = read("gavo_obscore_images.xml")
    assert metadata.is_obscore(t) and metadata.obscore_kinds(t) == ["cutout"] * len(t)
    assert metadata.position(t) == ("s_ra", "s_dec")
    found = obscore.from_obscore_rows(None, t)  # direct FITS URLs: no service is asked
    pairs, missing = found.of("cutout", len(t))
    assert found.how == "obscore rows" and missing == []
    assert [u for _r, u in pairs] == [str(v) for v in t["access_url"]]
    assert found.kinds_of_all(len(t)) == {"cutout"}
    assert found.of("lightcurve", len(t)) == ([], list(range(len(t))))


def test_recorded_datalink_semantics():
    """#this is the dataset (its kind from ObsCore / the caller), #preview, #proc, #progenitor and SODA
    #cutout links are not products a model reads."""
    from astropy.io.votable import parse
    from pyvo.dal.adhoc import DatalinkResults

    for name, n_this in (("gavo_datalink.xml", 1), ("datalink_cutout.xml", 2)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            links = DatalinkResults(parse(str(DATA / name))).to_table()
        kinds = [obscore.link_kind(links[i], "cutout") for i in range(len(links))]
        this = [str(s) == "#this" for s in links["semantics"]]
        assert sum(this) == n_this
        assert kinds == ["cutout" if t else None for t in this]
        assert [obscore.link_kind(links[i]) for i in range(len(links))] == [None] * len(links)


def test_content_qualifier_and_local_semantics_name_the_kind():
    row = {"semantics": "#this", "content_type": "application/fits", "content_qualifier": "#timeseries",
           "local_semantics": "", "error_message": ""}
    assert obscore.link_kind(row) == "lightcurve"
    assert obscore.link_kind({**row, "content_qualifier": "", "local_semantics": "spectrum"}) == "spectrum"
    assert obscore.link_kind({**row, "error_message": "NotFoundFault: gone"}) is None

    # a JPEG/PNG dataset is a colour composite (an image's, or a row of unknown kind); never a spectrum's plot
    jpeg = {**row, "content_qualifier": "", "content_type": "image/jpeg"}
    assert obscore.link_kind(jpeg, "cutout") == obscore.link_kind(jpeg) == "colour"
    assert obscore.link_kind({**jpeg, "content_qualifier": "#image", "content_type": "image/png"}) == "colour"
    assert obscore.link_kind(jpeg, "spectrum") is None
    assert obscore.link_kind({**jpeg, "semantics": "#preview"}, "cutout") is None  # a preview is not the data


def test_recorded_jpeg_previews_are_not_colour_products():
    """GAVO's DataLink answer as pyvo records it (pyvo/dal/tests/data/datalink/proc.xml): the FITS #this is the
    dataset, and its JPEG #preview-image and #preview links are not colour composites a model reads."""
    import pyvo
    from astropy.io.votable import parse
    from pyvo.dal.adhoc import DatalinkResults

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        links = DatalinkResults(parse(str(Path(pyvo.__file__).parent / "dal/tests/data/datalink/proc.xml"))).to_table()
    semantics = [str(s) for s in links["semantics"]]
    jpegs = [i for i in range(len(links)) if str(links["content_type"][i]) == "image/jpeg"]
    assert [semantics[i] for i in jpegs] == ["#preview-image", "#preview"]
    kinds = [obscore.link_kind(links[i], "cutout") for i in range(len(links))]
    assert kinds == ["cutout" if s == "#this" else None for s in semantics] and kinds.count("cutout") == 1


def test_obscore_images_in_jpeg_or_png_are_colour_composites():
    t = votable({"dataproduct_type": (np.array(["image", "image", "image", "spectrum", "cube"]), None),
                 "access_url": (np.array([f"https://example.org/{i}" for i in range(5)]), None),
                 "access_format": (np.array(["image/jpeg", "image/fits", "IMAGE/PNG", "image/png", "image/jpeg"]),
                                   None)})
    assert metadata.obscore_kinds(t) == ["colour", "cutout", "colour", "spectrum", "colour"]
    found = obscore.from_obscore_rows(None, t)  # direct URLs: no service is asked
    assert found.of("colour", 5) == ([(0, "https://example.org/0"), (2, "https://example.org/2"),
                                      (4, "https://example.org/4")], [1, 3])
    assert found.kinds_of_all(1) == {"colour"}
    del t["access_format"]  # without a format an image is a cutout, as before
    assert metadata.obscore_kinds(t) == ["cutout", "cutout", "cutout", "spectrum", "cutout"]


def test_positions_are_not_proper_motions_or_errors():
    rng = np.random.default_rng(5)
    t = votable({"pmRA": (rng.normal(0, 5, 3), "pos.pm;pos.eq.ra"),
                 "e_RAdeg": (rng.uniform(0, 1, 3), "stat.error;pos.eq.ra"),
                 "pmDE": (rng.normal(0, 5, 3), "pos.pm;pos.eq.dec"), "RAdeg": (rng.uniform(0, 360, 3), "pos.eq.ra"),
                 "DEdeg": (rng.uniform(-90, 90, 3), "pos.eq.dec"), "zph": (rng.uniform(0, 1, 3), "src.redshift.phot")})
    assert metadata.position(t) == ("RAdeg", "DEdeg")
    assert metadata.redshift(t) is None  # a photometric redshift is not src.redshift
    assert metadata.position(Table({"x": [1.0]})) is None


def test_single_band_images_name_their_band():
    """g, r or i from a passband's limits (ObsCore's em_min/em_max in m, any length unit it declares, SIA 1's
    BandPass UCDs), else from a band name; a broad passband (Kepler's), a near-infrared one, none: no band."""
    t = votable({"em_min": (np.array([4.0e-7, 5.6e-7, 7.0e-7, 4.2e-7, 1.17e-6]), "em.wl;stat.min"),
                 "em_max": (np.array([5.4e-7, 6.9e-7, 8.2e-7, 9.0e-7, 1.33e-6]), "em.wl;stat.max")})
    assert metadata.bands(t) == ["g", "r", "i", None, None]
    nm = Table({"em_min": [400.0, 560.0], "em_max": [540.0, 690.0]})
    nm["em_min"].unit = nm["em_max"].unit = "nm"
    assert metadata.bands(nm) == ["g", "r"]
    named = Table({"filter": ["SDSS g", "r'", "PS1.i", "F814W", "z", "HSC-R"]})
    assert metadata.bands(named) == ["g", "r", "i", None, None, "r"]
    assert metadata.bands(Table({"x": [1.0, 2.0]})) == [None, None]
    import pyvo  # SIA 1 as pyvo's own test data has it: BandPass limits by UCD, the centre as centerAlpha/Delta

    sia = read_path(Path(pyvo.__file__).parent / "dal" / "tests" / "data" / "sia" / "dataset.xml")
    assert metadata.bands(sia) == ["g", "g"] and metadata.position(sia) == ("centerAlpha", "centerDelta")


def read_path(path: Path) -> Table:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Table.read(path, format="votable")


def test_a_colour_product_takes_its_three_bands_from_one_collection():
    """Per row, the nearest g, r and i images (links nearest first), all from one collection: a row whose bands
    exist only across two surveys gets none, and a row with two complete surveys takes the one nearest it."""
    links = [(0, "cutout", "A/g"), (1, "cutout", "B/r"), (2, "cutout", "A/r"), (3, "cutout", "B/i"),
             (4, "cutout", "A/i"), (5, "cutout", "B/g"), (6, "cutout", "A/r2"),
             (7, "cutout", "A/g1"), (8, "cutout", "B/r1"), (9, "cutout", "B/i1"), (10, "spectrum", "A/s")]
    bands = ["g", "r", "r", "i", "i", "g", "r", "g", "r", "i", None]
    owner = [0] * 7 + [1] * 4
    collection = ["A", "B", "A", "B", "A", "B", "A", "A", "B", "B", "A"]
    assert obscore._band_triples(links, bands, owner, collection) == [(0, "colour", ("A/g", "A/r", "A/i"))]
    assert obscore._band_triples(links, [None] * 11, owner, collection) == []


@pytest.mark.parametrize("value, letter", [
    ("r", "r"), ("r'", "r"), ("SDSS r", "r"), ("SDSS_R", "r"), ("SDSSr", "r"), ("HSC-R", "r"), ("PS1.r", "r"),
    ("r.00000", "r"), ("r.MP9601", "r"), ("r_SDSS", "r"), ("i2", "i"), ("r DECam SDSS c0002 6415.0 1480.0", "r"),
    ("Y", "y"), ("Optical", None), ("F814W", None), ("Ks", None), ("gri", None), ("", None)])
def test_band_letters_from_filter_names_as_surveys_write_them(value, letter):
    from astrohub.defaults import band_letter

    assert band_letter(value) == letter
