"""Issue 18, item 12: model names resolve to the zoo.

A folder named like a zoo model in the working directory (a notebook's folder, a shared
checkout) must not replace the zoo model; a directory is used only when given explicitly as a
path (a ``Path``, or a string with a ``/`` or starting with ``.``/``~``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from astrohub.compute import predict
from astrohub.compute.plugin import load_model, worker_model
from astrohub.models.registry import ZOO, UnknownModelError, ref_dir
from astrohub.models.weights import load_weights, save_weights
from astrohub.sims.images import simulate_images

NAME = "galaxy_morphology"


@pytest.fixture
def impostor(tmp_path, monkeypatch):
    """A working directory holding ``galaxy_morphology/``: a loadable model, but not the zoo's."""
    fake = tmp_path / NAME
    shutil.copytree(ZOO / NAME, fake)
    card = json.loads((fake / "card.json").read_text())
    state = load_weights(fake / card["weights"]["file"], card["weights"]["sha256"])
    card["weights"]["sha256"] = save_weights({k: -v for k, v in state.items()}, fake / card["weights"]["file"])
    card["version"] = "9.9.9-impostor"
    (fake / "card.json").write_text(json.dumps(card))
    monkeypatch.chdir(tmp_path)
    return fake


def test_a_folder_named_like_a_zoo_model_does_not_replace_it(impostor):
    assert ref_dir(NAME) == ZOO / NAME
    assert load_model(NAME).card["version"] != "9.9.9-impostor"
    # the cached, per-process path compute.predict uses without a client
    assert worker_model(NAME).card["version"] != "9.9.9-impostor"
    images = simulate_images("morphology", 8, seed=3, size=64).images
    got = predict(NAME, images, progress=False, mc_samples=0)
    want = load_model(ZOO / NAME).predict(images, mc_samples=0)
    np.testing.assert_array_equal(got.probabilities, want.probabilities)
    fake = load_model(impostor).predict(images, mc_samples=0)
    assert not np.allclose(fake.probabilities, want.probabilities)  # the impostor would answer differently


def test_the_folder_is_used_when_given_explicitly_as_a_path(impostor):
    for ref in (Path(NAME), f"./{NAME}", str(impostor)):
        assert ref_dir(ref) == Path(ref), ref
        assert load_model(ref).card["version"] == "9.9.9-impostor", ref
    # a Path and the bare name are different cache entries
    assert worker_model(Path(NAME)).card["version"] == "9.9.9-impostor"
    assert worker_model(NAME).card["version"] != "9.9.9-impostor"


def test_a_bare_name_that_is_only_a_local_folder_says_how_to_use_it(tmp_path, monkeypatch):
    mine = tmp_path / "my_model"
    mine.mkdir()
    (mine / "card.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnknownModelError, match=r"unknown model 'my_model'.*pass it as a path \('\./my_model'"):
        ref_dir("my_model")


def test_an_explicit_path_without_a_card_is_refused_clearly(tmp_path):
    with pytest.raises(UnknownModelError, match="is not a model directory: it has no card.json"):
        ref_dir(tmp_path / "nothing_here")
