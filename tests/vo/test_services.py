"""Named real archives (vo.services.KNOWN_SERVICES) and the adapters on their recorded answers, offline."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from astropy.io.votable import parse
from pyvo.dal import TAPResults

from astrohub.vo import KNOWN_SERVICES, Archive, metadata, obscore
from astrohub.vo.services import ENDPOINTS

DATA = Path(__file__).resolve().parents[1] / "data"


def test_the_big_archives_are_declared_with_their_endpoints():
    for name in ("gaia", "sdss", "mast", "irsa", "noirlab", "cadc", "eso"):
        svc = KNOWN_SERVICES[name]
        assert svc["tap"].startswith("https://") and svc["description"]
        assert set(svc) - {"description"} <= set(ENDPOINTS), name
    # the archives that publish products through ObsCore say so (discovery needs no TAP_SCHEMA lookup)
    assert {n for n, s in KNOWN_SERVICES.items() if s.get("obscore")} >= {"mast", "irsa", "cadc", "eso"}
    assert KNOWN_SERVICES["irsa"]["sia2"] and KNOWN_SERVICES["irsa"]["ssa"] and KNOWN_SERVICES["eso"]["ssa"]


@pytest.mark.parametrize("name", sorted(KNOWN_SERVICES))
def test_named_archives_carry_every_declared_endpoint(name, tmp_path):
    arc = Archive.named(name, cache_dir=tmp_path)  # constructing one asks nothing of the network
    for key, url in KNOWN_SERVICES[name].items():
        if key != "description":
            assert arc.urls[key] == url.rstrip("/")
    if KNOWN_SERVICES[name].get("obscore"):
        assert obscore.obscore_table(arc) == KNOWN_SERVICES[name]["obscore"]
    again = Archive.from_urls(arc.urls, cache_dir=tmp_path)  # what a Dask worker rebuilds
    assert again.urls == arc.urls


def test_unknown_service_name_is_a_message():
    with pytest.raises(ValueError, match=r"unknown service 'gaja' \(did you mean 'gaia'\?\); known: "):
        Archive.named("gaja")


def test_recorded_gaia_answer_declares_its_datalink_service(tmp_path):
    """The Gaia archive's answer carries a DataLink service descriptor: Archive reads its access URL and ID
    column, so Gaia rows find their products (epoch photometry, XP spectra) through DataLink."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = TAPResults(parse(str(DATA / "gaia_dr3_sources.vot")))
    arc = Archive.named("gaia", cache_dir=tmp_path)
    t = arc._to_table(res)
    assert t.meta["datalink_url"] == "https://geaval.esac.esa.int/data-server/datalink/links"
    assert t.meta["datalink_id"].lower() == "designation"  # the ID the service names (ref="DESIGNATION")
    assert obscore._has_datalink(arc, t, None)
    assert metadata.position(t) == ("ra", "dec")
