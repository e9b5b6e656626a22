"""What classify tells about real data: the model card's validation (``validated_on_real``,
``real_summary``) and the per-row out-of-distribution flags (``ood`` / ``ood_reason`` columns)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from astrohub import pipeline
from astrohub.models.predictors.base import Prediction

from .patching import REAL, patch_model

MORPH = pipeline.TEMPLATES["morphology cutouts"].replace("TOP 100", "TOP 8")
PHOTO_Z = pipeline.TEMPLATES["galaxies and QSOs (photo-z)"].replace("TOP 500", "TOP 20")
PIXEL_SCALE = "pixel scale 0.40 arcsec/px outside the trained 0.18..0.22"


@pytest.mark.archive
def test_ood_columns_come_from_the_prediction(arc, monkeypatch):
    patch_model(monkeypatch, flagged={1: PIXEL_SCALE, 5: "S/N 2.1 outside the trained 5..500"})
    result = pipeline.classify(arc.query(MORPH), "galaxy_morphology", arc, mc_samples=0, explain_first=2)
    t = result.table
    assert t["ood"].dtype == bool and list(np.flatnonzero(t["ood"])) == [1, 5]
    assert t["ood_reason"][1] == PIXEL_SCALE and t["ood_reason"][5].startswith("S/N 2.1")
    assert all(t["ood_reason"][i] == "" for i in (0, 2, 3, 4, 6, 7))
    assert result.ood_checked and result.n_ood == 2
    assert not any("does not flag" in n for n in result.notes)


@pytest.mark.archive
def test_a_model_that_does_not_check_gets_no_ood_column(arc, monkeypatch):
    """A None ``ood`` means "not checked": no column (never a False nobody established), and a note."""
    patch_model(monkeypatch, no_flags=True)
    result = pipeline.classify(arc.query(PHOTO_Z), "photoz_mdn", arc)
    assert "ood" not in result.table.colnames and "ood_reason" not in result.table.colnames
    assert not result.ood_checked and result.n_ood == 0
    assert "photoz_mdn does not flag inputs outside its training range (no ood column)" in result.notes


@pytest.mark.archive
def test_the_result_carries_the_cards_real_validation(arc, monkeypatch):
    rows = arc.query(PHOTO_Z)
    patch_model(monkeypatch, flagged={}, card={"validated_on_real": True, "real": REAL})
    result = pipeline.classify(rows, "photoz_mdn", arc)
    assert result.validated_on_real is True
    assert result.real_summary == ("real ZTF alerts (held-out split): AUC 0.961 [0.942, 0.978], "
                                   "acc 0.912 [0.874, 0.946]; baseline ZTF rb AUC 0.890")
    assert result.table["ood"].dtype == bool and not result.table["ood"].any()  # checked, all in range
    patch_model(monkeypatch, card={"validated_on_real": False, "real": {}})
    result = pipeline.classify(rows, "photoz_mdn", arc)
    assert result.validated_on_real is False and result.real_summary == "not validated on real data"


def test_annotate_ood_refuses_flags_for_other_rows():
    pred = Prediction(np.zeros(3, int), ["a"] * 3, np.ones((3, 1)), np.zeros(3), np.zeros(3), ["a"],
                      ood=np.array([True, False]), ood_reason=["x", ""])
    with pytest.raises(ValueError, match="the model flagged 2 rows \\(with 2 reasons\\) out of distribution "
                                         "for 3 rows"):
        pipeline.annotate_ood(Table({"a": [1, 2, 3]}), pred)
    pred.ood, pred.ood_reason = np.array([False, True, False]), None  # flags without reasons: "" each
    t = pipeline.annotate_ood(Table({"a": [1, 2, 3]}), pred)
    assert list(t["ood"]) == [False, True, False] and list(t["ood_reason"]) == ["", "", ""]
