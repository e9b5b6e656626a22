"""A short training run reduces the loss and writes a loadable, sha256-pinned model."""

import json

import numpy as np
import pytest
import torch

from astrohub.models.registry import load_dir
from astrohub.models.training import train
from astrohub.models.weights import sha256_file


def test_short_training_run_reduces_loss(tmp_path, monkeypatch):
    """The shipped recipe with its real kit, shortened: two members (the ensemble path) of two epochs each, trained
    on the train split and then again on train + val, with a 50-tree forest (500 shipped), on a 32x32 input (the
    shipped 48x48 costs 2.25x; tests/models/test_real_ztf.py re-measures those weights)."""
    import dataclasses

    from astrohub.models import recipes

    monkeypatch.setenv("ASTROHUB_CACHE", str(tmp_path / "cache"))
    spec = recipes.RECIPES["transient_realbogus"]
    monkeypatch.setitem(recipes.RECIPES, "transient_realbogus",
                        dataclasses.replace(spec, size=32, real={
                            **spec.real, "seeds": spec.real["seeds"][:2],
                            "stack": {**spec.real["stack"], "forest": {**spec.real["stack"]["forest"], "trees": 50}}}))
    out = tmp_path / "tr"
    card = train("transient_realbogus", out, device="cpu", epochs=2, n_train=640, n_val=160, n_test=160,
                 threads=2, progress=False)
    hist = card["training"]["history"]
    # stage 1 on the train split (temperature on val), then stage 2: the same members on train + val
    assert [(h["stage"], h["member"]) for h in hist] == [(1, 1), (1, 1), (1, 2), (1, 2), (2, 1), (2, 1), (2, 2), (2, 2)]
    assert card["training"]["final_fit"] == "train+val" and "stage 1" in card["calibration"]["fit_on"]
    assert card["training"]["n_final_real"] == card["real"]["split"]["train"] + card["real"]["split"]["val"]
    assert hist[4]["steps"] > hist[0]["steps"]  # more real alerts per epoch in stage 2
    assert not any("val_loss" in h for h in hist[4:])  # val is training data in stage 2: nothing recorded on it
    assert card["arch"]["net"] == "ensemble" and len(card["arch"]["members"]) == 2
    assert card["real"]["metrics"]["n"] > 0  # adapted to the kit and measured on its test split
    # the tree component, refitted with the members on train + val, ships in the same weights file
    assert len(card["stack"]["feature_names"]) == 46 and "stack" in card["outputs"]["probabilities"]
    assert hist[-1]["train_loss"] < hist[0]["train_loss"] < np.log(2) + 0.2
    assert min(h["val_loss"] for h in hist[:4]) < np.log(2)
    assert card["training"]["n_train"] == 640 and card["metrics"]["n"] == 160
    assert sha256_file(out / "weights.safetensors") == card["weights"]["sha256"]
    assert json.loads((out / "card.json").read_text())["weights"]["sha256"] == card["weights"]["sha256"]
    m = load_dir(out)
    assert m.stack is not None and m.stack.forest.n_features == 46
    from astrohub.sims.images import simulate_images

    b = simulate_images("transient", 200, seed=4242, size=63)  # stamps as ZTF serves them
    assert (m.predict(b.images).labels == b.labels).mean() > 0.7  # learned something real


def test_a_recipe_with_an_unknown_final_fit_is_refused():
    import dataclasses

    from astrohub.models import recipes

    spec = recipes.RECIPES["transient_realbogus"]
    assert spec.final_fit() == "train+val" and recipes.RECIPES["galaxy_zoo"].final_fit() == "train+val"
    bad = dataclasses.replace(spec, real={**spec.real, "final_fit": "everything"})
    with pytest.raises(ValueError, match=r"transient_realbogus: real\['final_fit'\] must be 'train' or "
                                         r"'train\+val', got 'everything'"):
        bad.final_fit()


def test_per_alert_augmentation_transforms_each_image_on_its_own():
    from astrohub.models.training.images import augment_each
    from astrohub.models.training.realbogus import distil_batches

    x = torch.randn(64, 3, 8, 8)
    y = augment_each(x, torch.Generator().manual_seed(0))
    views = lambda a: [torch.flip(torch.rot90(a, k, (1, 2)), (2,)) if f else torch.rot90(a, k, (1, 2))  # noqa: E731
                       for f in (0, 1) for k in range(4)]
    which = [next(j for j, v in enumerate(views(x[i])) if torch.equal(v, y[i])) for i in range(len(x))]
    assert len(set(which)) >= 6  # each image one of its own 8 views, not one transform for the batch
    z = augment_each(x, torch.Generator().manual_seed(0), shift=2)  # same draws, then rolled by up to 2 px
    rolled = [any(torch.equal(torch.roll(y[i], (a, b), (1, 2)), z[i]) for a in range(-2, 3) for b in range(-2, 3))
              for i in range(len(x))]
    assert all(rolled) and not torch.equal(y, z)
    with pytest.raises(ValueError, match=r"augment must be 'batch', 'sample' or 'sample\+shiftN', got 'flip'"):
        distil_batches(x.numpy(), np.ones(64), x.numpy(), np.ones(64), 8, 0.5, torch.Generator(),
                       torch.device("cpu"), augment="flip")


def test_train_unknown_model():
    with pytest.raises(ValueError, match=r"unknown model 'lens_findr' \(did you mean 'lens_finder'\?\)"):
        train("lens_findr", "/nonexistent")


def test_resume_errors(tmp_path):
    from astrohub.models.registry import ZOO

    with pytest.raises(ValueError, match="cannot resume 'lens_finder' from a 'transient_realbogus' checkpoint"):
        train("lens_finder", tmp_path, resume=ZOO / "transient_realbogus")
    with pytest.raises(ValueError, match="resume is only supported for classifiers"):
        train("cutout_denoiser", tmp_path, resume=ZOO / "cutout_denoiser")
    from astrohub.models.cards import CardError

    with pytest.raises(CardError, match="not found"):
        train("lens_finder", tmp_path, resume=tmp_path / "nothing")


def test_a_later_stage_adds_fresh_simulations_and_the_snapshots_ship_as_an_ensemble(tmp_path, monkeypatch):
    """Stage 1 trains on the recipe's n_train; a stage with a larger n_train sees the extra objects
    (same seed, so stage 1's set is a prefix of it). With snapshot_ensemble the model averages
    both stages' best weights, and loads and predicts like any classifier."""
    import dataclasses

    from astrohub.models import recipes

    monkeypatch.setenv("ASTROHUB_CACHE", str(tmp_path / "cache"))
    # stages and snapshots only: without its real kit the recipe skips the adaptation to real alerts (the
    # short run above and tests/models/test_real_ztf.py cover that), which would run its own 30 epochs here
    monkeypatch.setenv("ASTROHUB_REAL_DATA", str(tmp_path / "no-kits"))
    # (a 32x32 input: the mechanics under test do not depend on the shipped 48x48, which costs 2.25x)
    spec = dataclasses.replace(recipes.RECIPES["transient_realbogus"], n_train=640, n_val=160, n_test=160, epochs=1,
                               batch=32, stages=((1, 5e-4, 960),), snapshot_ensemble=True, size=32)
    monkeypatch.setitem(recipes.RECIPES, "transient_realbogus", spec)
    card = train("transient_realbogus", tmp_path / "tr", device="cpu", threads=2, progress=False)
    t = card["training"]
    assert t["n_train"] == 640 and t["n_train_all_stages"] == 960
    assert [h["steps"] for h in t["history"]] == [640 // 32, 960 // 32]
    assert t["stages"] == [[1, 5e-4, 960]]
    assert card["arch"]["net"] == "ensemble" and len(card["arch"]["members"]) == 2
    m = load_dir(tmp_path / "tr")
    from astrohub.sims.images import simulate_images

    b = simulate_images("transient", 200, seed=4243, size=32)
    p = m.predict(b.images)
    assert p.probabilities.shape == (200, 2) and np.allclose(p.probabilities.sum(1), 1, atol=1e-5)
    assert (p.labels == b.labels).mean() > 0.6  # learned something real

    # a recipe that grows a stage resumes after the completed ones and ensembles all three snapshots
    monkeypatch.setitem(recipes.RECIPES, "transient_realbogus",
                        dataclasses.replace(spec, stages=((1, 5e-4, 960), (1, 2e-4, 960))))
    card3 = train("transient_realbogus", tmp_path / "tr3", device="cpu", threads=2, progress=False,
                  resume=tmp_path / "tr")
    t3 = card3["training"]
    assert [h["steps"] for h in t3["history"]] == [20, 30, 30]  # stages 1-2 resumed, only stage 3 ran
    assert len(card3["arch"]["members"]) == 3 and len(t3["snapshots"]) == 3
    assert t3["snapshots"][:2] == t["snapshots"]  # the resumed stages' weights, unchanged
    monkeypatch.setitem(recipes.RECIPES, "transient_realbogus",
                        dataclasses.replace(spec, stages=((2, 5e-4, 960),)))
    with pytest.raises(ValueError, match=r"ran the stages \[\[1, 0.0005, 960\]\]"):
        train("transient_realbogus", tmp_path / "tr4", resume=tmp_path / "tr")


def test_psf_head_learns_what_depends_on_the_psf():
    """fit_psf_head on embeddings whose class flips with the PSF width: only the FWHM can tell."""
    from astrohub.models.nets import PSFHead
    from astrohub.models.training.psf import fit_psf_head

    g = np.random.default_rng(0)

    def make(n):
        e = g.normal(size=(n, 4)).astype(np.float32)
        f = g.uniform(0.6, 1.0, n).astype(np.float32)
        return torch.from_numpy(e), f, ((e[:, 0] > 0) ^ (f > 0.8)).astype(np.int64)

    (e, f, y), (ev, fv, yv) = make(4000), make(1000)
    head = PSFHead(4, 2, hidden=32, fwhm_range=(0.6, 1.0))
    hist = fit_psf_head(head, e, f, y, ev, fv, yv, epochs=8, lr=1e-2, batch=128, seed=0)
    assert len(hist) == 8 and max(h["val_acc"] for h in hist) > 0.9
    with torch.no_grad():  # the kept weights are the best epoch's
        acc = (head(ev, torch.from_numpy(fv)).argmax(1).numpy() == yv).mean()
    assert acc == max(h["val_acc"] for h in hist)
    # the embedding alone says nothing: the labels are balanced within each sign of e[:, 0]
    assert abs(yv[ev[:, 0].numpy() > 0].mean() - 0.5) < 0.1
