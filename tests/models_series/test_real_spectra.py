"""spectral_class on real SDSS spectra (issue #17): the sdss_spectra_lowz kit, too small to train or split, is the
model's real smoke test. It is re-measured here from the shipped weights, read as SDSS serves it (each spectrum on its
own grid; the few A a spectrum misses of the model's 3800-9200 A filled and flagged); the card says what it is, and
the panels show the figures as not a clean validation."""

from __future__ import annotations

import pytest

from astrohub.models import cli
from astrohub.models.evaluation import kits


@pytest.fixture(scope="module")
def smoke(loaded):
    return kits.measure("spectral_class", loaded("spectral_class"))


def test_the_shipped_weights_give_the_cards_smoke_figures(loaded, smoke):
    card = loaded("spectral_class").card["real"]
    for k in ("accuracy", "galaxy_recall", "star_recall", "qso_recall", "confusion", "edges_filled", "n"):
        assert smoke["metrics"][k] == card["metrics"][k], k
    assert smoke["headline"] == card["headline"]
    assert smoke["baseline"]["metrics"] == card["baseline"]["metrics"]  # the card's forest, refitted as trained
    assert card["baseline"]["metrics"]["galaxy_recall"]["n"] == 89


def test_every_real_spectrum_is_read_and_the_filled_ones_are_flagged(smoke):
    m = smoke["metrics"]
    assert m["n"] == 98 and smoke["split"]["classes"] == {"star": 8, "galaxy": 89, "qso": 1}
    assert sum(m["confusion"][c][d] for c in m["confusion"] for d in m["confusion"][c]) == 98
    assert m["edges_filled"] == 54  # the kit's spectra that start after 3800 A or stop before 9200 A (by > 0.1%)


def test_the_card_and_the_panels_say_it_is_a_smoke_test(loaded):
    card = loaded("spectral_class").card
    assert card["validated_on_real"] is False and card["real"]["selection_on_kit"] is True
    assert card["real"]["smoke_test"] is True and "not a validation" in card["real"]["note"]
    summary = cli.real_summary(card)
    assert summary.startswith("not a clean real-data validation (the kit also guided design choices): real SDSS "
                              "smoke test (98 spectra; labels from the SDSS redshift): galaxies ")
