"""galaxy_zoo: the colour model on real Galaxy Zoo 1 JPEGs (issue #17).

Re-measures the card's real test-split metrics from the shipped weights (fails if the weights regress),
checks that JPEG paths and the uint8 arrays they decode to give the same answer, the bad-input messages and
the out-of-distribution flags.
"""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from astrohub import models
from astrohub.models import recipes
from astrohub.models.evaluation import kits
from astrohub.models.evaluation.kits import galaxyzoo1 as G
from astrohub.models.inputs import InputError
from astrohub.models.inputs.colour import read_colour


@pytest.fixture(scope="module")
def kit():
    where = kits.kit_dir(G.KIT)  # a missing kit fails with KitError: CI has the kits, nothing skips
    return where, G.load(where)


@pytest.fixture(scope="module")
def model():
    return models.load("galaxy_zoo", device="cpu")


@pytest.fixture(scope="module")
def measured(model, kit):
    """The real section re-measured now from the shipped weights, on the kit's test split (JPEGs by path)."""
    return kits.measure("galaxy_zoo", model)


@pytest.fixture(scope="module")
def test_rows(kit):
    """A few test-split images of each class."""
    _, data = kit
    te = G.split(data["labels"])["test"]
    return [int(i) for k in range(len(G.CLASSES)) for i in te[data["labels"][te] == k][:3]]


def test_card_describes_a_real_model(model):
    card = model.card
    assert card["kind"] == "colour-classifier" and models.modality("galaxy_zoo") == "colour"
    # settings were also compared on the kit's test split while tuning: said on the card, not validated
    assert card["validated_on_real"] is False and card["real"]["selection_on_kit"] is True
    # pretrained on the Galaxy Zoo colour simulator with the recipe's settings, then fine-tuned on the kit
    pre = recipes.RECIPES["galaxy_zoo"].real["pretrain"]
    assert card["training"]["simulator"] == f"astrohub.sims.colour.simulate_gz_colour(n={pre['n']}, seed={pre['seed']})"
    assert card["training"]["pretrain"]["epochs"] == pre["epochs"] == len(card["training"]["pretrain"]["history"])
    assert "simulator" in card["metrics"]["source"] and card["metrics"]["source"].startswith("real: ")
    assert card["outputs"]["classes"] == G.CLASSES
    assert card["inputs"]["bands"] == ["g", "r", "i"] and card["inputs"]["shape"][0] == 3
    real = card["real"]
    assert real["kit"] == "galaxyzoo1_jpeg" and real["split"]["test"] == card["training"]["n_test"]
    assert card["metrics"]["accuracy"] == real["metrics"]["accuracy"]  # the card leads with the real figure
    assert "random forest" in real["baseline"]["method"]
    # shipped weights refitted on train + val (stage 2); val figures and temperature from the train-only stage 1
    tr = card["training"]
    assert tr["final_fit"] == "train+val" and tr["n_train"] == real["split"]["train"] + real["split"]["val"]
    assert real["baseline"]["n_train"] == tr["n_train"]  # the forest is fitted on the same rows as the network
    assert tr["val"]["n"] == real["split"]["val"] and 0 < tr["val"]["accuracy"] <= 1
    assert "stage 1" in card["calibration"]["method"]
    # trained with one more output on the spirals' winding, which the shipped head no longer has
    assert tr["settings"]["chirality"] == recipes.RECIPES["galaxy_zoo"].real["chirality"] > 0
    assert "winding" in tr["auxiliary"] and model.net.head.out_features == len(G.CLASSES)
    assert all(m["n_out"] == len(G.CLASSES) for m in card["arch"]["members"])


def test_real_test_split_matches_the_card_and_beats_the_forest(model, measured):
    m, b, card = measured["metrics"], measured["baseline"]["metrics"], model.card["real"]
    assert m["n"] == card["split"]["test"] == sum(card["split"]["per_class_test"].values())
    # the shipped weights still give what the card says (same split, same files): fails if they regress
    assert m["accuracy"] == pytest.approx(card["metrics"]["accuracy"], abs=0.005)
    assert m["macro_recall"] == pytest.approx(card["metrics"]["macro_recall"], abs=0.01)
    assert b["accuracy"] == pytest.approx(card["baseline"]["metrics"]["accuracy"], abs=0.03)
    assert m["accuracy"] > b["accuracy"] and m["macro_recall"] > b["macro_recall"]  # above the random forest
    assert m["macro_recall"] >= 0.70 and measured["target_met"]["macro_recall"]
    assert measured["target_met"] == card["target_met"] == model.card["target_met"]
    lo, hi = m["accuracy_ci95"]
    assert lo <= m["accuracy"] <= hi
    assert np.sum(m["confusion"]) == m["n"]
    assert m["ood_fraction"] < 0.05  # the kit's own stamps are in distribution


@pytest.mark.xfail(strict=True, reason="issue #17 target not reached: accuracy 0.849 [0.811, 0.881] on the kit's "
                                       "test split (349 of 411; 0.85 needs 350), simulator-pretrained, with the "
                                       "winding output, train+val refit at 100 epochs (target 0.85; macro recall "
                                       "0.781 met); strict, so it fails once the target is met")
def test_real_test_split_accuracy_target(measured):
    assert measured["metrics"]["accuracy"] >= 0.85 and measured["target_met"]["accuracy"]


def test_paths_and_arrays_give_the_same_answer(model, kit, test_rows):
    _, data = kit
    paths = [data["paths"][i] for i in test_rows]
    arrays = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in paths])
    assert arrays.shape[1:] == (423, 423, 3) and arrays.dtype == np.uint8
    a = model.predict(paths, mc_samples=5)
    b = model.predict(arrays, mc_samples=5)
    c = model.predict([str(p) for p in paths[:2]] + list(arrays[2:]), mc_samples=0)  # a list mixing both
    np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-6)
    np.testing.assert_allclose(a.probabilities, c.probabilities, atol=1e-6)
    assert a.names == b.names and set(a.names) <= set(G.CLASSES)
    assert a.probabilities.shape == (len(paths), 4) and np.allclose(a.probabilities.sum(1), 1)
    assert a.uncertainty.shape == (len(paths),) and (a.uncertainty >= 0).all() and (a.entropy >= 0).all()
    assert a.ood.dtype == bool and len(a.ood_reason) == len(paths)
    single = model.predict(paths[0], mc_samples=0)  # one path, not in a list
    np.testing.assert_allclose(single.probabilities[0], a.probabilities[0], atol=1e-6)
    sal = model.explain(paths[:2])
    s = model.card["inputs"]["shape"][-1]
    assert sal.shape == (2, s, s) and sal.max() > 0
    assert model.view(paths[:2]).shape == (2, s, s, 3)


def test_png_reads_like_the_jpeg_it_came_from(model, kit, test_rows, tmp_path):
    _, data = kit
    src = data["paths"][test_rows[0]]
    rgb = np.asarray(Image.open(src).convert("RGB"))
    Image.fromarray(rgb).save(tmp_path / "g.png")
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], -1)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "g_rgba.png")
    p = model.predict_proba([src, tmp_path / "g.png", tmp_path / "g_rgba.png"])
    np.testing.assert_allclose(p[1], p[0], atol=1e-6)
    np.testing.assert_allclose(p[2], p[0], atol=1e-6)
    np.testing.assert_allclose(model.predict_proba(rgba[None])[0], p[0], atol=1e-6)  # the RGBA array as read


def test_paths_in_an_array_or_a_series_read_as_a_list(model, kit, test_rows):
    """Paths as a table column gives them (``df["path"].values``, a string array, a pandas Series)."""
    import pandas as pd

    _, data = kit
    paths = [str(data["paths"][i]) for i in test_rows[:2]]
    ref = model.predict_proba(paths)
    for form in (np.array(paths), np.array(paths, dtype=object), pd.Series(paths)):
        np.testing.assert_allclose(model.predict_proba(form), ref, atol=1e-6)


def test_the_files_bytes_read_like_their_paths(model, kit, test_rows):
    """What a server sends (``requests.get(url).content``, an open binary file) reads like the file itself; bytes
    that are not an image are named."""
    _, data = kit
    paths = [data["paths"][i] for i in test_rows[:3]]
    blobs = [Path(p).read_bytes() for p in paths]
    with open(paths[2], "rb") as fh:
        p = model.predict_proba([blobs[0], bytearray(blobs[1]), fh])
    np.testing.assert_allclose(p, model.predict_proba(paths), atol=1e-6)
    with pytest.raises(InputError, match="could not read the bytes given as a JPEG or PNG image"):
        model.predict([b"<html>404 Not Found</html>"])


def test_bad_inputs_are_refused_with_a_clear_message(model, kit, tmp_path):
    _, data = kit
    rgb = np.asarray(Image.open(data["paths"][0]).convert("RGB"))
    (tmp_path / "cutout.fits").write_bytes(b"SIMPLE  =                    T")
    with pytest.raises(InputError, match=r"could not read .*cutout\.fits as FITS"):  # FITS: test_colour_fits.py
        model.predict([tmp_path / "cutout.fits"])
    (tmp_path / "cutout.tiff").write_bytes(b"II*\x00")
    with pytest.raises(InputError, match=r"unknown file type '\.tiff'.*JPEG or PNG"):
        model.predict([tmp_path / "cutout.tiff"])
    with pytest.raises(InputError, match=r"image file .*nothere\.jpeg not found"):
        model.predict([tmp_path / "nothere.jpeg"])
    (tmp_path / "broken.jpeg").write_bytes(open(data["paths"][0], "rb").read()[:300])
    with pytest.raises(InputError, match=r"could not read .*broken\.jpeg as a JPEG image"):
        model.predict([tmp_path / "broken.jpeg"])
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(InputError, match=r"could not read .*text\.png as a PNG image"):
        model.predict([tmp_path / "text.png"])
    Image.fromarray(rgb[..., 1]).save(tmp_path / "grey.jpeg")
    with pytest.raises(InputError, match=r"grey\.jpeg is a greyscale image \(mode L, 1 band\).*3 bands"):
        model.predict([tmp_path / "grey.jpeg"])
    buf = io.BytesIO()
    Image.fromarray(np.dstack([rgb, np.full(rgb.shape[:2], 128, np.uint8)]), "RGBA").save(buf, "PNG")
    (tmp_path / "alpha.png").write_bytes(buf.getvalue())
    with pytest.raises(InputError, match=r"transparent alpha channel \(4 bands\)"):
        model.predict([tmp_path / "alpha.png"])
    with pytest.raises(InputError, match=r"greyscale \(shape \(2, 423, 423\), 1 band per pixel\)"):
        model.predict(np.zeros((2, 423, 423), np.uint8))
    with pytest.raises(InputError, match=r"greyscale \(shape \(2, 423, 423, 1\)"):
        model.predict(np.zeros((2, 423, 423, 1), np.uint8))
    with pytest.raises(InputError, match=r"transparent alpha channel \(4 bands, shape \(2, 423, 423, 4\)\).*"
                                         r"x\[\.\.\., :3\]"):
        model.predict(np.zeros((2, 423, 423, 4), np.uint8))
    with pytest.raises(InputError, match=r"has 5 bands per pixel .*needs 3 colour bands"):
        model.predict(np.zeros((2, 423, 423, 5), np.uint8))
    with pytest.raises(InputError, match=r"bands first \(\[N, 3, H, W\]\).*channels-last"):
        model.predict(np.zeros((2, 3, 423, 423), np.uint8))
    with pytest.raises(InputError, match=r"bands first .*\(or, if these are 3 greyscale images, colour composites"):
        model.predict(np.zeros((3, 423, 423), np.uint8))
    with pytest.raises(InputError, match=r"https://example\.org/g\.jpeg is a URL; .*fetch nothing.*requests\.get"):
        model.predict(["https://example.org/g.jpeg"])
    with pytest.raises(InputError, match=r"must be uint8 colour images .*got dtype float64.*0-255"):
        model.predict(rgb[None] / 255.0)
    with pytest.raises(InputError, match=r"empty input \(0 images\)"):
        model.predict([])
    with pytest.raises(InputError, match=r"empty input \(0 images\)"):
        model.predict(np.zeros((0, 423, 423, 3), np.uint8))
    with pytest.raises(InputError, match=r"only 8x8 px"):
        model.predict(np.zeros((1, 8, 8, 3), np.uint8))
    with pytest.raises(InputError, match=r"only 8x8 px"):  # an opaque RGBA array is checked like its RGB
        model.predict(np.full((1, 8, 8, 4), 255, np.uint8))
    with pytest.raises(InputError, match=r"must be JPEG/PNG paths or uint8 arrays"):
        model.predict(42)
    with pytest.raises(InputError, match=r"unknown class 'star'"):
        model.explain(rgb[None], target="star")


def test_the_galaxys_size_in_its_frame_is_measured_as_sdss_measures_it():
    """An exponential disk (scale length 4 px) stretched by an asinh, as the composites are: the stretch undone, its
    Petrosian R90 is 3.87 scale lengths (Blanton et al. 2001) over the frame's side, within 5%."""
    from astrohub.models.inputs.colour import R90_Q, r90_fraction

    n, h = 160, 4.0
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    flux = np.exp(-np.hypot(yy, xx) / h)
    grey = np.round(255 * np.arcsinh(R90_Q * 0.9 * flux) / R90_Q).clip(0, 255).astype(np.uint8)
    assert r90_fraction(np.repeat(grey[None, ..., None], 3, -1))[0] == pytest.approx(3.87 * h / n, rel=0.05)


def test_a_stamp_framed_otherwise_is_flagged_and_reframe_recuts_it(model, kit):
    """The kit's test JPEGs as a fixed-scale cutout service would show their galaxies at twice Galaxy Zoo's pixel
    scale (each stamp padded to twice its side with its own sky): most are flagged, naming reframe=True, and
    reframe=True brings the accuracy back near the stamps' own; Galaxy Zoo's stamps themselves are rarely flagged.
    (benchmarks/galaxy_zoo_framing.py: the whole split at 0.5-3x.)"""
    from astrohub.models.inputs.colour import reframe

    _, data = kit
    te = G.split(data["labels"])["test"][::7]  # 59 of the 411
    y = data["labels"][te]
    served = [np.asarray(Image.open(data["paths"][i]).convert("RGB")) for i in te]
    small = [reframe(im, 2.0, 1.0) for im in served]
    assert small[0].shape == (846, 846, 3) and np.array_equal(small[0][211:634, 211:634], served[0])
    as_served, plain, fixed = (model.predict(x, mc_samples=0, reframe=r)
                               for x, r in ((served, False), (small, False), (small, True)))
    framing = [("reframe=True" in r) for r in plain.ood_reason]
    assert np.mean(framing) >= 0.7 and "the galaxy's R90 spans" in plain.ood_reason[int(np.argmax(framing))]
    assert sum("reframe=True" in r for r in as_served.ood_reason) <= 2
    acc = {k: float(np.mean(p.labels == y)) for k, p in (("served", as_served), ("plain", plain), ("fixed", fixed))}
    assert acc["fixed"] >= acc["plain"] + 0.1 and acc["fixed"] >= acc["served"] - 0.07, acc
    assert not any("reframe=True" in r for r in fixed.ood_reason[:10])
    assert model.view(small[:2], reframe=True).shape == (2, 64, 64, 3)
    card = model.card["inputs"]
    lo, hi = card["ranges"]["r90_frame"]
    assert lo < card["r90_target"] < hi


def test_out_of_distribution_flags(model, kit, test_rows):
    _, data = kit
    rgb = np.asarray(Image.open(data["paths"][test_rows[0]]).convert("RGB"))
    grey = np.repeat(rgb.mean(-1, keepdims=True).astype(np.uint8), 3, -1)
    blank = np.full_like(rgb, 3)
    wide = np.concatenate([rgb, rgb], axis=1)  # 423 x 846: not a Galaxy Zoo stamp
    small = rgb[::4, ::4]  # 106 px
    bright_sky = np.clip(rgb.astype(int) + 120, 0, 255).astype(np.uint8)
    pr = model.predict([rgb, grey, blank, wide, small, bright_sky], mc_samples=0)
    assert pr.ood.tolist() == [False, True, True, True, True, True]
    assert pr.ood_reason[0] == ""
    assert "no colour" in pr.ood_reason[1]
    assert "mostly blank" in pr.ood_reason[2]
    assert "height/width 0.50 outside" in pr.ood_reason[3]
    assert "stamp side (px) 106 outside" in pr.ood_reason[4]
    assert "sky level" in pr.ood_reason[5]
    ranges = model.card["inputs"]["ranges"]  # the check is reproducible from the card
    assert ranges["side_px"][0] <= 423 <= ranges["side_px"][1]
    json.dumps(ranges)


def test_colour_reader_alone(kit):
    _, data = kit
    ims = read_colour(data["paths"][:2], "x")
    assert len(ims) == 2 and ims[0].shape == (423, 423, 3) and ims[0].dtype == np.uint8


def test_training_views_are_the_predictors_view_when_not_augmented():
    import torch

    from astrohub.models.inputs.colour import centre
    from astrohub.models.training.colour import augment

    x = np.random.default_rng(0).integers(0, 256, (4, 128, 128, 3), dtype=np.uint8)
    g = torch.Generator().manual_seed(0)
    still = augment(torch.from_numpy(x), 64, g, {"rotate": 0.0})
    want = np.moveaxis(centre(x, 64), -1, 1).astype(np.float32) / 255
    # no rotation / zoom / shift / jitter: exactly the central crop (only the random flips remain)
    for k in range(4):
        got = still[k].numpy()
        assert np.allclose(got, want[k], atol=1e-5) or np.allclose(got[..., ::-1], want[k], atol=1e-5)
    moved = augment(torch.from_numpy(x), 64, g, {"rotate": 180.0, "zoom": 0.15, "shift": 4.0, "gain": 0.06})
    assert moved.shape == (4, 3, 64, 64) and not np.allclose(moved.numpy(), want, atol=1e-2)


def test_chirality_output_learns_the_winding_each_view_shows(kit):
    """galaxy_zoo_val.py's ``--set chirality=W``: one more output learns Galaxy Zoo 1's spiral winding, which a
    mirrored training view reverses; the other galaxies leave it untrained, and no winding is refused."""
    import torch

    from astrohub.models.training.colour import augment, colour_batches

    _, data = kit
    wind = G.chirality(data)
    assert (wind == 1).sum() == 289 and (wind == -1).sum() == 311 and not wind[data["labels"] != 1].any()
    x = np.zeros((64, 96, 96, 3), np.uint8)
    x[:, 20:76, 20:48] = 200  # bright on the left: a mirrored view is bright on the right
    g = torch.Generator().manual_seed(0)
    views, flip = augment(torch.from_numpy(x), 64, g, {"rotate": 0.0}, with_flip=True)
    left = (views[..., :32].mean((1, 2, 3)) > views[..., 32:].mean((1, 2, 3))).numpy()
    assert np.array_equal(left, flip.numpy() > 0) and 0 < left.sum() < 64
    assert torch.equal(augment(torch.from_numpy(x), 64, torch.Generator().manual_seed(0), {"rotate": 0.0}), views)

    def net(xb):  # classes all at logit 0; the winding output: +20 when the left is brighter, -20 when mirrored
        side = xb[..., :32].mean((1, 2, 3)) - xb[..., 32:].mean((1, 2, 3))
        return torch.cat([torch.zeros(len(xb), 4), 20 * torch.sign(side)[:, None]], 1)

    cfg = {"rotate": 0.0, "balance": 0.0, "chirality": 0.5}
    y = np.ones(64, np.int64)

    def loss(winding, m=net, **kw):
        b = colour_batches(x, y, 64, [0.0] * 3, [1.0] * 3, 32, torch.Generator().manual_seed(1),
                           torch.device("cpu"), {**cfg, **kw}, 4, winding)
        return [float(step(m)) for step in b(0)]

    # all clockwise: the output is right for every view, mirrored or not; anticlockwise: wrong for every view
    assert loss(np.ones(64)) == pytest.approx([np.log(4)] * 2, abs=1e-6)
    assert loss(-np.ones(64)) == pytest.approx([np.log(4) + 0.5 * 20] * 2, abs=1e-4)
    assert loss(np.zeros(64)) == pytest.approx([np.log(4)] * 2, abs=1e-6)  # no spirals: nothing to learn
    # without it (the recipe): a 4-output network, plain cross-entropy
    assert loss(None, lambda xb: net(xb)[:, :4], chirality=0.0) == pytest.approx([np.log(4)] * 2, abs=1e-6)
    with pytest.raises(ValueError, match="chirality > 0 needs the frames' winding"):
        loss(None)


def test_a_file_declaring_a_huge_image_is_refused_before_decoding(model, tmp_path):
    """A decompression bomb: a few hundred bytes whose header declares 6000 x 6000 (or 20000 x 20000) px. The
    size is read from the header and refused before any pixel is decoded, with Pillow's own limit named above it."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    def png(side: int) -> bytes:
        head = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")

    (tmp_path / "bomb.png").write_bytes(png(6000))
    with pytest.raises(InputError, match=r"bomb\.png is too large for a colour cutout \(6000 x 6000 px; at most "
                                         r"25,000,000 px\).*cut out the galaxy first"):
        model.predict([tmp_path / "bomb.png"])
    with pytest.raises(InputError, match=r"the bytes given is too large .*400000000 pixels"):
        model.predict([png(20000)])


def test_eval_on_a_table_of_the_users_own_jpegs(model, kit, test_rows, tmp_path):
    """`astrohub eval galaxy_zoo --table`: a CSV of JPEG paths (relative to the table's folder) and class names,
    scored as predict() scores the same files; bad tables are refused before anything runs, naming the row."""
    import shutil

    from astropy.table import Table

    from astrohub.models.evaluation.evaluate import evaluate

    _, data = kit
    (tmp_path / "jpegs").mkdir()
    paths = [shutil.copy(data["paths"][i], tmp_path / "jpegs") for i in test_rows]
    names = [G.CLASSES[data["labels"][i]] for i in test_rows]
    Table({"path": [f"jpegs/{Path(p).name}" for p in paths], "label": names}).write(tmp_path / "mine.csv")
    got = evaluate("galaxy_zoo", n=0, table=tmp_path / "mine.csv", model=model, real=False,
                   plot=tmp_path / "confusion.png")["table"]
    assert got["plot"] == str(tmp_path / "confusion.png")
    with Image.open(tmp_path / "confusion.png") as im:  # the confusion matrix, as a person would look at it
        assert im.format == "PNG" and im.width >= 500
    direct = model.predict(paths, mc_samples=0)
    assert got["n"] == len(paths) and got["ood"] == int(direct.ood.sum())
    assert got["accuracy"] == pytest.approx(np.mean(np.array(direct.names) == np.array(names)))
    assert got["macro_recall"] == pytest.approx(G.macro_recall([G.CLASSES.index(c) for c in names],
                                                               direct.probabilities))
    assert len(got["accuracy_ci95"]) == 2 and np.array(got["confusion"]).sum() == len(paths)

    def refused(rows: dict, match: str, name: str = "bad.csv"):
        Table(rows).write(tmp_path / name, overwrite=True)
        with pytest.raises(InputError, match=match):
            evaluate("galaxy_zoo", n=0, table=tmp_path / name, model=model, real=False)

    refused({"jpeg": ["jpegs/x.jpeg"], "label": ["elliptical"]},
            r"a table of files needs a column of paths \(one of path, file, filename, image\) and a 'label' column; "
            r"found \['jpeg', 'label'\]")
    refused({"path": [f"jpegs/{Path(paths[0]).name}", "jpegs/gone.jpeg"], "label": ["elliptical"] * 2},
            r"row 1: file .*jpegs/gone\.jpeg not found \(relative paths start at the table's folder\)")
    refused({"path": ["https://skyserver.sdss.org/x.jpeg"], "label": ["elliptical"]},
            r"row 0: https://skyserver\.sdss\.org/x\.jpeg is a URL; .*download them first")
    refused({"path": [f"jpegs/{Path(paths[0]).name}"], "label": ["spiral"]},
            r"unknown label\(s\) \['spiral'\]; classes are \['elliptical', 'spiral-disk', 'edge-on', "
            r"'irregular-merger'\]")
    (tmp_path / "empty.csv").write_text("path,label\n")
    with pytest.raises(InputError, match=r"empty\.csv: the table has no rows"):
        evaluate("galaxy_zoo", n=0, table=tmp_path / "empty.csv", model=model, real=False)
