"""The live DaCHS archive: the built survey, its services, server control and the CLI."""

import json
import urllib.request

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from astrohub.archive.builder import SIZES, build
from astrohub.archive.server import LocalArchive
from astrohub.cli import main

pytestmark = pytest.mark.archive


def test_status_reports_running_archive(live):
    st = live.status()
    assert st["running"] is True
    assert st["survey"]["size"] == "small"
    assert st["survey"]["catalog_rows"] == SIZES["small"].catalog
    for url in st["services"].values():
        assert url.startswith("http://127.0.0.1:")


def test_every_service_answers_with_votable(live):
    urls = live.service_urls()
    probes = {"scs": "?RA=150&DEC=2.2&SR=0.05", "sia": "?POS=150,2.2&SIZE=0.1",
              "ssa": "?REQUEST=queryData&POS=150,2.2&SIZE=0.5", "tap": "/tables"}
    for name, q in probes.items():
        with urllib.request.urlopen(urls[name] + q, timeout=30) as r:
            body = r.read()
        assert r.status == 200 and b"VOTABLE" in body.upper() or b"tableset" in body, name


def test_cutout_files_have_wcs_at_object(live):
    files = sorted((live.resdir / "data" / "cutouts").glob("*.fits"))
    small = SIZES["small"]
    assert len(files) == small.morphology + small.lens + small.transient + 3 * small.colour
    objs = fits.getdata(live.resdir / "data" / "objects.fits", 1)

    def centre(h):
        row = objs[objs["obj_id"] == h["OBJ_ID"]][0]
        ra, dec = WCS(h).celestial.all_pix2world([[h["NAXIS1"] / 2 - 0.5, h["NAXIS2"] / 2 - 0.5]], 0)[0]
        return abs(ra - row["ra"]) < 1e-6 and abs(dec - row["dec"]) < 1e-6

    h = fits.getheader(next(f for f in files if f.name.startswith("morphology-")))
    assert centre(h) and abs(abs(h["CDELT1"]) * 3600 - 0.2) < 1e-9 and h["FILTER"] == "r"
    ztf = fits.getheader(next(f for f in files if f.name.startswith("transient-")))  # ZTF-like alert stamps
    assert abs(abs(ztf["CDELT1"]) * 3600 - 1.01) < 1e-9 and ztf["BUNIT"] == "counts" and ztf["NAXIS3"] == 3
    # a galaxy served as an SDSS-like survey does: three cutouts on the object, one per band, 0.396"/px
    gri = [fits.getheader(f) for f in files if f.name.startswith("colour-00000-")]
    assert [g["FILTER"] for g in gri] == ["g", "i", "r"] and len({g["OBJ_ID"] for g in gri}) == 1
    assert all(centre(g) and abs(abs(g["CDELT1"]) * 3600 - 0.396) < 1e-9 and g["BUNIT"] == "nanomaggy" for g in gri)
    assert [g["WAVEMIN"] < g["WAVEREF"] < g["WAVEMAX"] for g in gri] == [True] * 3
    assert gri[0]["WAVEMAX"] <= gri[2]["WAVEMIN"] < gri[2]["WAVEMAX"] <= gri[1]["WAVEMIN"]  # g, then r, then i


def test_cutout_headers_record_the_psf(live):
    """Each cutout's header carries the FWHM of the PSF it was simulated with (PSF-aware models read it)."""
    from astrohub.archive.builder import SURVEY_FORMAT
    from astrohub.sims.images import simulate_images

    seed = live.survey()["seed"]
    assert live.survey()["format"] == SURVEY_FORMAT
    for task in ("morphology", "lens", "transient"):
        sim = simulate_images(task, 2, seed, SIZES["small"].cutout_size)
        for i in range(2):
            h = fits.getheader(live.resdir / "data" / "cutouts" / f"{task}-{i:05d}.fits")
            assert h["PSF_FWHM"] == pytest.approx(sim.meta["psf_fwhm"][i], abs=1e-4)


def test_cli_status_json(live, capsys):
    rc = main(["archive", "status", "--data-dir", str(live.data_dir), "--port", str(live.port)])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["running"] is True and out["tap_url"] == live.tap_url


def test_cli_status_of_stopped_archive(tmp_path, capsys):
    rc = main(["archive", "status", "--data-dir", str(tmp_path), "--port", "18999"])
    assert rc == 1 and json.loads(capsys.readouterr().out)["running"] is False


@pytest.mark.parametrize("argv, message", [
    (["archive", "build", "--size", "huge"], "invalid choice: 'huge'"),
    (["archive", "build", "--seed", "-3"], "must be >= 0"),
    (["archive", "start", "--port", "notaport"], "invalid int value"),
])
def test_cli_bad_input(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_bad_port_and_size(tmp_path):
    with pytest.raises(ValueError, match="port must be an integer in 1024..65535"):
        LocalArchive(tmp_path, port=80)
    with pytest.raises(ValueError, match="unknown survey size 'huge'"):
        build(0, "huge", tmp_path)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        build(-1, "small", tmp_path)


def test_catalog_matches_simulator(live):
    from astrohub.sims.catalog import simulate_catalog

    objs = fits.getdata(live.resdir / "data" / "objects.fits", 1)
    cat = simulate_catalog(len(objs), live.survey()["seed"])
    np.testing.assert_allclose(objs["mag_r"], cat["mag_r"])
    np.testing.assert_array_equal(objs["class_label"], cat["class_label"])


def test_unreadable_data_dir_says_what_to_do(tmp_path):
    from astrohub.archive.server import ArchiveError

    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(ArchiveError, match="cannot read .* make every parent folder world-traversable"):
        LocalArchive(private / "archive", port=18996).start()


def test_port_in_use_says_what_to_do(tmp_path):
    import socket

    from astrohub.archive.server import ArchiveError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        if port < 1024:
            pytest.fail("unexpected privileged ephemeral port")
        with pytest.raises(ArchiveError, match=f"port {port} on 127.0.0.1 is in use by another program"):
            LocalArchive(tmp_path / "other", port=port).start()


def test_other_data_dir_on_same_port_is_not_running(live, tmp_path):
    assert LocalArchive(tmp_path / "elsewhere", port=live.port).is_running() is False


def test_build_is_deterministic(live, tmp_path):
    """Rebuilding with the served survey's seed reproduces every served file byte for byte."""
    import hashlib

    summary = build(live.survey()["seed"], "small", tmp_path)
    assert summary == live.survey()

    def digests(root):
        return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted((root / "data").rglob("*.fits"))}

    served, rebuilt = digests(live.resdir), digests(tmp_path)
    assert len(served) == 1 + summary["cutouts"] + summary["spectra"] + summary["lightcurves"]
    assert served == rebuilt
    from astrohub.sims.catalog import simulate_catalog
    objs = fits.getdata(live.resdir / "data" / "objects.fits", 1)
    assert not np.allclose(objs["mag_r"], simulate_catalog(len(objs), live.survey()["seed"] + 1)["mag_r"])


def test_archive_set_ups_on_one_cluster_take_turns():
    """Two archives set up at once (the two test lanes did) failed in ``dachs init`` with "tuple concurrently
    updated": set-up holds a cluster-wide advisory lock, and a second holder waits until the first lets go."""
    import threading

    from astrohub.archive.server import SETUP_LOCK, cluster_lock, ensure_postgres

    ensure_postgres()
    key = SETUP_LOCK + 1  # not the real set-ups' key: a set-up running beside this test is not held up
    entered, done = threading.Event(), threading.Event()

    def second():
        with cluster_lock(key):
            entered.set()
        done.set()

    with cluster_lock(key):
        t = threading.Thread(target=second, daemon=True)
        t.start()
        assert not entered.wait(3)  # the second session waits while the first holds the lock
    assert entered.wait(60) and done.wait(60)  # and gets it once the first session ends
    t.join(10)


def test_a_set_up_lock_held_too_long_is_reported():
    from astrohub.archive.server import SETUP_LOCK, ArchiveError, cluster_lock, ensure_postgres

    ensure_postgres()
    key = SETUP_LOCK + 2
    with cluster_lock(key):
        with pytest.raises(ArchiveError, match=r"could not take the archive set-up lock on PostgreSQL \(another "
                                               r"set-up held it over 1 s\?\).*lock timeout"):
            with cluster_lock(key, timeout_s=1):
                pass
