"""Registry, model cards, and weights integrity."""

import json
import pickle
import shutil

import numpy as np
import pytest
import torch

from astrohub import models
from astrohub.models.cards import CardError, read_card
from astrohub.models.recipes import RECIPES
from astrohub.models.registry import ZOO, UnknownModelError, load_dir
from astrohub.models.weights import WeightsIntegrityError, sha256_file
from astrohub.sims.images import CLASS_NAMES

from .conftest import CLASSIFIERS, ZOO_MODELS


def test_list_names_every_shipped_model():
    names = models.list()
    assert set(ZOO_MODELS) <= set(names)  # later issues add 1-D models to the same zoo
    assert names == sorted(names)


@pytest.mark.parametrize("name", ZOO_MODELS)
def test_card_complete_and_consistent(name):
    card = models.card(name)
    spec = RECIPES[name]
    assert card["name"] == name and card["task"] == spec.task
    assert card["inputs"]["shape"][1:] == [spec.size, spec.size]
    assert card["inputs"]["bands"] == spec.channels
    w = ZOO / name / card["weights"]["file"]
    assert card["weights"]["format"] == "safetensors"
    assert sha256_file(w) == card["weights"]["sha256"]
    assert w.stat().st_size < 5_000_000  # a few MB at most
    seeds = card["training"]["split_seeds"]
    assert len(set(seeds.values())) == 3  # train / val / test from disjoint seeds
    assert card["training"]["n_test"] >= 1000 and card["training"]["epochs_run"] >= 1
    m, b = card["metrics"], card["baseline"]
    assert m["split"] == "test"
    if card["kind"] == "classifier":
        assert card["outputs"]["classes"] == CLASS_NAMES[spec.task]
        for key in ("accuracy", "auc"):
            lo, hi = m[f"{key}_ci95"]
            assert lo <= m[key] <= hi
            assert key in b["metrics"] and len(b["metrics"][f"{key}_ci95"]) == 2
        assert 0 <= m["ece"] <= 1 and card["calibration"]["temperature"] > 0
        assert np.sum(m["confusion"]) == m["n"] == card["training"]["n_test"]
        assert "random forest" in b["method"]
    else:
        for key in ("denoise_psnr", "denoise_ssim", "sr_psnr", "sr_ssim"):
            lo, hi = m[key]["ci95"]
            assert lo <= m[key]["mean"] <= hi
        for key in ("gaussian_denoise_psnr", "median_denoise_psnr", "bicubic_sr_psnr"):
            assert "mean" in b[key]


def test_unknown_model_name_suggests_close_match():
    with pytest.raises(UnknownModelError, match=r"unknown model 'galaxy_morph' \(did you mean 'galaxy_morphology'\?\)"):
        models.load("galaxy_morph")
    with pytest.raises(UnknownModelError, match="available: .*galaxy_morphology, galaxy_vae, galaxy_zoo, lens_finder"):
        models.card("photoz")
    with pytest.raises(UnknownModelError, match="non-empty string"):
        models.load("")


@pytest.fixture
def model_copy(tmp_path):
    dst = tmp_path / "transient_realbogus"
    shutil.copytree(ZOO / "transient_realbogus", dst)
    return dst


def test_tampered_weights_are_refused(model_copy):
    load_dir(model_copy)  # the pristine copy loads
    w = model_copy / "weights.safetensors"
    data = bytearray(w.read_bytes())
    data[-5] ^= 0x01  # flip one bit in the last tensor
    w.write_bytes(bytes(data))
    with pytest.raises(WeightsIntegrityError, match="sha256 mismatch .* refusing to load it"):
        load_dir(model_copy)


def test_missing_weights_and_broken_cards(model_copy):
    card = json.loads((model_copy / "card.json").read_text())
    (model_copy / "weights.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="weights file .*weights.safetensors is missing"):
        load_dir(model_copy)
    del card["metrics"]
    (model_copy / "card.json").write_text(json.dumps(card))
    with pytest.raises(CardError, match="lacks required field 'metrics'"):
        read_card(model_copy / "card.json")
    (model_copy / "card.json").write_text("{not json")
    with pytest.raises(CardError, match="is not valid JSON"):
        read_card(model_copy / "card.json")


def test_a_card_says_whether_it_was_validated_on_real_data(model_copy):
    from astrohub.models.cards import retrained

    card = json.loads((model_copy / "card.json").read_text())
    card.pop("real", None)
    card["validated_on_real"] = False  # simulations only: said so, not left out
    (model_copy / "card.json").write_text(json.dumps(card))
    assert read_card(model_copy / "card.json")["validated_on_real"] is False
    for bad, message in ((None, "'validated_on_real' must be true or false"),
                         (True, "says validated_on_real but has no real.metrics")):
        c = dict(card)
        if bad is None:
            del c["validated_on_real"]
        else:
            c["validated_on_real"] = bad
        (model_copy / "card.json").write_text(json.dumps(c))
        with pytest.raises(CardError, match=message):
            read_card(model_copy / "card.json")
    chosen = dict(card, validated_on_real=True, real={"kit": "k", "metrics": {"accuracy": 0.9},
                                                      "selection_on_kit": True})
    (model_copy / "card.json").write_text(json.dumps(chosen))
    with pytest.raises(CardError, match="its real split also guided design choices"):
        read_card(model_copy / "card.json")
    real = dict(card, validated_on_real=True, real={"kit": "k", "metrics": {"accuracy": 0.9}})
    (model_copy / "card.json").write_text(json.dumps(real))
    assert read_card(model_copy / "card.json")["validated_on_real"] is True
    again = retrained(real)  # new weights: the real measurement described the old ones
    assert again["validated_on_real"] is False and "real" not in again and real["real"]["kit"] == "k"


def test_loading_never_unpickles(monkeypatch, model_copy):
    def boom(*a, **k):
        raise AssertionError("unpickling attempted")

    monkeypatch.setattr(torch, "load", boom)
    monkeypatch.setattr(pickle, "load", boom)
    monkeypatch.setattr(pickle, "loads", boom)
    head = (model_copy / "weights.safetensors").read_bytes()[:9]
    assert head[8:9] == b"{"  # safetensors: u64 header length, then a JSON header
    assert load_dir(model_copy).predict_proba(np.random.default_rng(0).normal(size=(2, 3, 32, 32))).shape == (2, 2)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_predictor_cheap_to_rebuild_from_card_and_weights(name, loaded):
    from astrohub.models.predictors import make_predictor
    from astrohub.models.weights import load_weights

    card = models.card(name)
    state = load_weights(ZOO / name / card["weights"]["file"], card["weights"]["sha256"])
    a, b = make_predictor(card, state, "cpu"), loaded(name)
    x = np.random.default_rng(1).normal(size=(3, *card["inputs"]["shape"])).astype(np.float32)
    np.testing.assert_allclose(a.predict_proba(x), b.predict_proba(x), atol=1e-5)
