"""transient_realbogus on real ZTF alerts (the ztf_alerts kit): the shipped weights re-measured on the kit's
held-out test split match the card and meet its recorded verdicts; raw stamps as ZTF serves them (NaN,
fill values, sky) go in untouched; bad input is refused with a message naming what is wrong; rows unlike the
training data are flagged."""

import numpy as np
import pytest
import torch

from astrohub import models
from astrohub.models.evaluation import kits
from astrohub.models.evaluation.kits import ztf_alerts as Z
from astrohub.models.inputs import InputError

KIT = kits.kit_dir("ztf_alerts")  # a missing kit fails with KitError: CI has the kits, nothing skips


@pytest.fixture(scope="module")
def model():
    return models.load("transient_realbogus", device="cpu")


@pytest.fixture(scope="module")
def kit():
    return Z.load(KIT)


@pytest.fixture(scope="module")
def measured(model):
    return kits.measure("transient_realbogus", model)


def test_card_leads_with_the_real_section(model):
    card = model.card
    keys = list(card)
    assert card["validated_on_real"] is True and keys.index("real") < keys.index("metrics")
    real = card["real"]
    assert real["kit"] == "ztf_alerts" and real["split"]["test_scored"] > 150
    for key in ("auc_ci95", "known_real_recall_ci95", "accuracy_ci95"):
        lo, hi = real["metrics"][key]
        assert lo <= real["metrics"][key[:-5]] <= hi
    assert "ztf_rb" in real and "metrics" in real["baseline"]
    assert card["inputs"]["adapter"] == "ztf" and card["inputs"]["stamp_shape"] == [3, 63, 63]
    assert set(card["inputs"]["ranges"]) >= {"nan_fraction", "sky", "noise"}
    assert card["outputs"]["classes"] == ["bogus", "real"]


def test_real_split_metrics_reproduce_the_card_and_its_verdicts(model, measured):
    card = model.card["real"]
    m = measured["metrics"]
    for key in ("auc", "known_real_recall", "accuracy"):
        assert m[key] == pytest.approx(card["metrics"][key], abs=1e-6), key
    assert measured["ztf_rb"]["metrics"]["auc"] == pytest.approx(card["ztf_rb"]["metrics"]["auc"], abs=1e-9)
    assert measured["baseline"]["metrics"]["auc"] == pytest.approx(card["baseline"]["metrics"]["auc"], abs=0.02)
    # the verdicts are computed from the numbers, and the card records them as they are
    assert measured["target_met"]["auc"] == (m["auc"] >= 0.95)
    assert measured["target_met"]["known_real_recall"] == (m["known_real_recall"] >= 0.95)
    assert measured["target_met"]["auc_above_rb"] == (m["auc"] > measured["ztf_rb"]["metrics"]["auc"])
    assert measured["target_met"] == card["target_met"]
    # the shipped weights (48x48 networks with the tree component, CV AUC 0.939-0.944 inside train+val; retrained on
    # train + val) measured 0.951 on the test split (the networks alone: 0.940; the train-only members: 0.933): a
    # retrain that falls back to those, to the 32x32 model's 0.905, or below ZTF's rb or the kit's forest, fails here
    assert m["auc"] >= 0.948 and m["known_real_recall"] == 1.0
    assert m["auc"] > max(measured["ztf_rb"]["metrics"]["auc"], measured["baseline"]["metrics"]["auc"])


def test_the_split_is_deterministic_stratified_and_disjoint(kit):
    a, b = Z.split(kit), Z.split(kit)
    for k in ("train", "val", "test"):
        np.testing.assert_array_equal(a[k], b[k])
    allidx = np.concatenate([a["train"], a["val"], a["test"]])
    assert len(np.unique(allidx)) == len(allidx) == len(kit["candid"]) == 1000
    for k in ("train", "val", "test"):
        frac = kit["label"][a[k]].mean()
        assert abs(frac - kit["label"].mean()) < 0.02
    assert kit["known_real"].sum() == 58 and kit["has_drb"].sum() == 960
    # the soft (distillation) target: drb itself, rb where there is no drb, braai's output where the kit notes it
    d = kit["has_drb"]
    np.testing.assert_allclose(kit["target"][d], kit["drb"][d], atol=1e-6)
    braai = int(np.flatnonzero(kit["candid"] == 714287740515015072)[0])
    assert kit["target"][braai] == pytest.approx(0.984, abs=1e-4) and kit["rb"][braai] == pytest.approx(0.43, abs=0.01)
    assert ((kit["target"] >= 0.5) == kit["label"]).all()


def test_raw_stamps_with_nans_and_fill_values_work(model, kit):
    nan_rows = np.flatnonzero(np.isnan(kit["stamps"]).any(axis=(1, 2, 3)))[:6]
    fill_rows = np.flatnonzero((np.abs(kit["stamps"]) > 1e30).any(axis=(1, 2, 3)))[:2]
    rows = np.concatenate([nan_rows, fill_rows])
    x = kit["stamps"][rows]
    pred = model.predict(x, mc_samples=4)
    assert pred.probabilities.shape == (len(rows), 2) and np.isfinite(pred.probabilities).all()
    assert np.allclose(pred.probabilities.sum(1), 1, atol=1e-5) and "real" in pred.class_names
    assert pred.ood is not None and len(pred.ood_reason) == len(rows)
    one = model.predict(x[0], mc_samples=0)  # a single [3, 63, 63] alert
    np.testing.assert_allclose(one.probabilities[0], pred.probabilities[0], atol=1e-5)
    assert np.isnan(x).any()  # the caller's array is not modified


def _packet(stamps, cid=0):
    """An alert packet as fastavro reads ZTF's Avro: each cutout {"fileName", "stampData": gzip-compressed FITS}."""
    import gzip
    import io

    from astropy.io import fits

    out = {"candid": cid}
    for key, plane in zip(("cutoutScience", "cutoutTemplate", "cutoutDifference"), stamps):
        buf = io.BytesIO()
        fits.PrimaryHDU(plane.astype(np.float32)).writeto(buf)
        out[key] = {"fileName": f"candid{cid}_{key}.fits.gz", "stampData": gzip.compress(buf.getvalue())}
    return out


def _plain(cutout):
    """The cutout's FITS bytes uncompressed."""
    import gzip

    return {"stampData": gzip.decompress(cutout["stampData"])}


def test_alert_packets_read_like_their_stamps(model, kit):
    """The packets themselves (Avro dicts: each cutout's gzip-compressed FITS bytes, NaNs and fill values as
    served) give what their arrays give; one packet alone is one alert; a broken packet is named, and a gzip bomb
    is refused at the limit."""
    import gzip

    rows = np.concatenate([np.flatnonzero(np.isnan(kit["stamps"]).any(axis=(1, 2, 3)))[:3], [0, 1]])
    x = kit["stamps"][rows]
    packets = [_packet(st, i) for i, st in enumerate(x)]
    a, b = model.predict(x, mc_samples=0), model.predict(packets, mc_samples=0)
    np.testing.assert_allclose(b.probabilities, a.probabilities, atol=1e-6)
    np.testing.assert_allclose(model.predict(packets[0], mc_samples=0).probabilities[0], a.probabilities[0],
                               atol=1e-6)
    plain = dict(packets[1], cutoutScience=_plain(packets[1]["cutoutScience"]))  # uncompressed FITS too
    np.testing.assert_allclose(model.predict(plain, mc_samples=0).probabilities[0], a.probabilities[1], atol=1e-6)
    broken = dict(packets[0])
    del broken["cutoutTemplate"]
    with pytest.raises(InputError, match="alert 1 has no cutoutTemplate"):
        model.predict([packets[1], broken])
    with pytest.raises(InputError, match="alert 0 cutoutDifference is not a FITS image"):
        model.predict(dict(packets[0], cutoutDifference={"stampData": b"\x1f\x8b" + b"junk"}))
    raw = gzip.decompress(packets[0]["cutoutDifference"]["stampData"])
    two = {"stampData": gzip.compress(raw[:2880]) + gzip.compress(raw[2880:])}  # two gzip members, as `cat` makes
    np.testing.assert_allclose(model.predict(dict(packets[0], cutoutDifference=two), mc_samples=0).probabilities[0],
                               a.probabilities[0], atol=1e-6)
    cut = {"stampData": packets[0]["cutoutDifference"]["stampData"][:-9]}  # the stream's end lost
    with pytest.raises(InputError, match=r"alert 0 cutoutDifference is not a FITS image \(gzip: the gzip stream "
                                         r"ends early"):
        model.predict(dict(packets[0], cutoutDifference=cut))
    bomb = {"stampData": gzip.compress(bytes(32 << 20))}  # 32 kB that would decompress to 32 MiB
    with pytest.raises(InputError, match=r"alert 0 cutoutDifference is refused: it decompresses to more than "
                                         r"16,777,216 bytes"):
        model.predict(dict(packets[0], cutoutDifference=bomb))
    small = _packet(x[2][:, 5:58, 5:58], 9)
    with pytest.raises(InputError, match=r"cutouts differ in shape \(alert 0: \(63, 63\); alerts \[1\]: \(53, 53\)"):
        model.predict([packets[0], small])
    torn = dict(packets[0], cutoutTemplate=_packet(x[0][:, :, :50])["cutoutTemplate"])  # truncated at a CCD edge
    with pytest.raises(InputError, match=r"alert 1's three cutouts differ in shape \(\[\(63, 63\), \(63, 50\)"):
        model.predict([packets[1], torn])


def test_fits_cutouts_and_masked_arrays_read_like_their_stamps(model, kit):
    """An alert's three cutouts as FITS HDU lists (science, template, difference, as ALeRCE serves them) and masked
    arrays (a masked pixel is a NaN, whatever number it hides) give what the stamps give; a wrong HDU list is
    named."""
    from astropy.io import fits

    rows = np.concatenate([np.flatnonzero(np.isnan(kit["stamps"]).any(axis=(1, 2, 3)))[:2], [0]])
    x = kit["stamps"][rows]
    ref = model.predict(x, mc_samples=0).probabilities

    def hdul(st, n=3):
        return fits.HDUList([fits.PrimaryHDU(st[0])] + [fits.ImageHDU(p) for p in st[1:n]])

    np.testing.assert_allclose(model.predict([hdul(st) for st in x], mc_samples=0).probabilities, ref, atol=1e-6)
    np.testing.assert_allclose(model.predict(hdul(x[2]), mc_samples=0).probabilities[0], ref[2], atol=1e-6)
    junk = np.ma.masked_invalid(x)
    junk.data[junk.mask] = -999.0  # what a masked array may hide under its mask
    np.testing.assert_allclose(model.predict(junk, mc_samples=0).probabilities, ref, atol=1e-6)
    with pytest.raises(InputError, match=r"alert 1's FITS holds 2 2-D image\(s\); it needs its three cutouts"):
        model.predict([hdul(x[0]), hdul(x[1], 2)])
    with pytest.raises(InputError, match=r"the alerts' cutouts differ in shape \(alert 0: \(63, 63\); alerts \[1\]"):
        model.predict([hdul(x[0]), hdul(x[1][:, 5:58, 5:58])])
    torn = fits.HDUList([fits.PrimaryHDU(x[0][0]), fits.ImageHDU(x[0][1]), fits.ImageHDU(x[0][2][:, :50])])
    with pytest.raises(InputError, match=r"alert 0's three cutouts differ in shape"):
        model.predict(torn)
    with pytest.raises(InputError, match=r"transient_realbogus: the stamps differ in shape \(stamp 0: \(3, 63, 63\); "
                                         r"stamp 2: \(3, 63, 52\)\): pass stamps of one size, ZTF's 3x63x63"):
        model.predict([x[0], x[1], x[2][:, :, :52]])  # a list of arrays, one cut at a CCD's edge


def test_probabilities_have_a_real_column_by_name(model, kit):
    """The issue's contract: ``.probabilities`` has a "real" column. It is an ndarray whose columns can also be
    taken by class name, kept through pickling (Dask moves predictions between processes); a class that does not
    exist is named with those that do."""
    import pickle

    pr = model.predict(kit["stamps"][:5], mc_samples=0)
    real = pr.probabilities[:, pr.class_names.index("real")]
    np.testing.assert_array_equal(pr.probabilities["real"], real)
    np.testing.assert_array_equal(pr.probabilities[2]["real"], real[2])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(pr)).probabilities["real"], real)
    with pytest.raises(KeyError, match="no class 'star'; the classes are 'bogus', 'real'"):
        pr.probabilities["star"]


def _network_logits(model, x, tta):
    """The ensemble's logits alone (without the card's tree component), as the predictor computes them."""
    from astrohub.models.inputs import normalise, ztf

    xn = normalise(ztf.prepare(x, model.card["inputs"])[0])[0]
    with torch.inference_mode():
        return model.net.head(model._embed(xn, 32, tta)).numpy()


def test_test_time_augmentation_averages_the_8_views(model, kit):
    """The card's TTA (8 rotations/reflections inside the predictor) makes the networks' score blind to how a stamp
    is turned; a single pass is not. Stamps of exactly the network's input (48x48) without masked pixels, so that
    turning the stamp turns the network's input exactly (a 63x63 stamp's even-sized centre is off by one pixel).
    The tree component's summary statistics of a whole 63x63 stamp (centred on pixel 31) do not depend on how it
    is turned either."""
    assert model.card["outputs"]["tta"] == "dihedral8"
    s = model.card["inputs"]["shape"][-1]
    off = (63 - s) // 2
    clean = np.flatnonzero(np.isfinite(kit["stamps"]).all(axis=(1, 2, 3)))[:6]
    x = kit["stamps"][clean][:, :, off:off + s, off:off + s]

    def turn(v):
        return np.ascontiguousarray(np.flip(np.rot90(v, 1, axes=(2, 3)), 3))

    np.testing.assert_allclose(_network_logits(model, x, True), _network_logits(model, turn(x), True), atol=1e-4)
    one, one_turned = _network_logits(model, x, False), _network_logits(model, turn(x), False)
    assert np.abs(one - one_turned).max() > 1e-2  # one pass sees a turned stamp differently: the views are averaged
    full = kit["stamps"][clean]
    inputs = model.card["inputs"]
    np.testing.assert_allclose(model.stack.logits(full, inputs, "t", 2), model.stack.logits(turn(full), inputs, "t", 2),
                               atol=1e-6)


def test_the_tree_component_joins_the_networks_logits(model, kit):
    """The card's ``stack``: a forest on summary features of the raw stamps adds weight x logit(estimate) to the
    real logit before the temperature; the probabilities are exactly that; the forest's own estimate follows drb;
    weights without the forest, or a feature set that no longer matches it, are refused."""
    from astrohub.models.nets.forest import ForestError
    from astrohub.models.predictors.images import STACK_PREFIX, Classifier
    from astrohub.models.registry import ZOO
    from astrohub.models.weights import load_weights

    stack = model.card["stack"]
    assert stack["class"] == "real" and stack["weight"] == 0.5 and len(stack["feature_names"]) == 46
    rows = Z.split(kit)["test"][:60]
    x = kit["stamps"][rows]
    extra = model.stack.logits(x, model.card["inputs"], model.name, 2).numpy()
    assert (extra[:, 0] == 0).all() and np.abs(extra[:, 1]).max() > 0.5
    want = torch.softmax(torch.from_numpy(_network_logits(model, x, True) + extra) / model.temperature, 1).numpy()
    np.testing.assert_allclose(model.predict(x, mc_samples=0).probabilities, want, atol=1e-5)
    d = kit["drb"][rows]
    ok = np.isfinite(d)
    assert np.corrcoef(extra[ok, 1], d[ok])[0, 1] > 0.5  # the forest alone already tracks ZTF's deep score

    card = model.card
    state = load_weights(ZOO / card["name"] / card["weights"]["file"], card["weights"]["sha256"])
    with pytest.raises(ForestError, match=r"the weights lack the forest's stack\.forest\.feature"):
        Classifier(card, {k: v for k, v in state.items() if not k.startswith(STACK_PREFIX)}, device="cpu")
    moved = dict(card, stack=dict(stack, feature_names=stack["feature_names"][::-1]))
    with pytest.raises(InputError, match="now gives other columns than the forest was trained on; retrain the model"):
        Classifier(moved, state, device="cpu").predict(x[:2], mc_samples=0)


def test_bad_inputs_say_what_is_wrong(model):
    good = np.random.default_rng(0).normal(100, 5, (2, 3, 63, 63))
    with pytest.raises(InputError, match=r"expects 3 band\(s\) per alert \(science, reference, difference"):
        model.predict(good[:, :2])
    with pytest.raises(InputError, match=r"got 63 .*; bands last\? np.moveaxis\(x, -1, 1\)"):
        model.predict(np.moveaxis(good, 1, -1))
    with pytest.raises(InputError, match=r"expects stamps shaped \[N, 3, 63, 63\].*got an array of shape \(63, 63\)"):
        model.predict(good[0, 0])
    with pytest.raises(InputError, match=r"expects square stamps of at least 32x32 pixels at 1.01\"/px .* got 20x20"):
        model.predict(good[:, :, :20, :20])
    with pytest.raises(InputError, match="must be numeric"):
        model.predict(np.full((1, 3, 63, 63), "a"))
    with pytest.raises(InputError, match="empty input"):
        model.predict(np.zeros((0, 3, 63, 63)))
    bad = good.copy()
    bad[1, 2] = np.nan
    with pytest.raises(InputError, match=r"1 stamp\(s\) have a plane with no finite pixel \(stamp 1 difference\)"):
        model.predict(bad)


def test_a_stamp_smaller_than_the_input_is_centred_in_masked_pixels(model):
    """The network sees the central 48x48 of a 63x63 stamp; a 32x32 stamp (the smallest taken) lands where that
    crop would have put it, inside the masked-pixel checkerboard, scaled by its own sky and noise."""
    from astrohub.models.inputs import ztf

    inputs = model.card["inputs"]
    s = inputs["shape"][-1]
    assert s > 32 and inputs["min_stamp"] == 32
    x = np.random.default_rng(3).normal(100, 5, (2, 3, 63, 63))
    x[0, 1, 20:24, 30:40] = np.nan
    x[:, 2, 31, 31] += 200  # the candidate, at ZTF's centre pixel
    small = x[:, :, 15:47, 15:47]
    got, flags = ztf.prepare(small, inputs)
    alone, _ = ztf.prepare(small, dict(inputs, shape=[3, 32, 32]))
    off = (s - 32) // 2
    assert got.shape == (2, 3, s, s)
    np.testing.assert_allclose(got[:, :, off:off + 32, off:off + 32], alone)
    full, _ = ztf.prepare(x, inputs)  # the candidate lands on the same input pixel either way
    for k in range(2):
        assert np.argmax(got[k, 2]) == np.argmax(full[k, 2]) == (s // 2) * s + s // 2
    border = got.copy()
    border[:, :, off:off + 32, off:off + 32] = np.nan
    assert set(np.unique(np.abs(border[np.isfinite(border)]))) == {np.float32(ztf.MASK_LEVEL)}
    assert full.shape == got.shape and flags.result()[0].all()
    with pytest.raises(InputError, match=r"at least 32x32 pixels .* got 31x31"):
        ztf.prepare(x[:, :, :31, :31], inputs)


def test_ood_flags_name_the_reason(model):
    from astrohub.sims.images import simulate_images

    x = simulate_images("transient", 6, seed=77, size=63).images.astype(np.float64)
    pred = model.predict(x, mc_samples=0)
    assert pred.ood.shape == (6,) and len(pred.ood_reason) == 6
    masked = x.copy()
    masked[0, :, :, :45] = np.nan  # most of the stamp off-chip
    masked[1] *= 1e4  # a sky level and noise far beyond ZTF's
    p2 = model.predict(masked, mc_samples=0)
    assert p2.ood[0] and "masked (NaN) pixel fraction" in p2.ood_reason[0]
    assert p2.ood[1] and "science sky level" in p2.ood_reason[1]
    small = model.predict(x[:, :, 15:47, 15:47], mc_samples=0)  # a 32x32 crop: accepted, but flagged
    assert small.ood.all() and "smaller than ZTF's 63x63" in small.ood_reason[0]


def test_simulated_alerts_are_ztf_like():
    """The pretraining simulator: raw counts with sky, a less noisy reference, the candidate positive in
    the difference, NaN masks on some stamps (real and bogus alike)."""
    from astrohub.sims.images import ZTF_PIXEL_SCALE, simulate_images

    b = simulate_images("transient", 120, seed=5, size=63)
    assert b.images.shape == (120, 3, 63, 63) and ZTF_PIXEL_SCALE == 1.01
    sci, ref, diff = (b.images[:, k].astype(np.float64) for k in range(3))
    sky = np.nanmedian(sci.reshape(120, -1), 1)
    assert (sky > 10).all() and np.nanmedian(np.abs(np.nanmedian(diff.reshape(120, -1), 1))) < 0.5 * np.median(
        b.meta["noise"])
    noise_ref = 1.4826 * np.nanmedian(np.abs(ref - np.nanmedian(ref.reshape(120, -1), 1)[:, None, None])
                                      .reshape(120, -1), 1)
    assert np.median(noise_ref / b.meta["noise"]) < 0.6
    centre = np.nansum(diff[:, 30:33, 30:33], axis=(1, 2))
    assert (centre[b.labels == 1] > 0).mean() > 0.95
    has_nan = np.isnan(b.images).any(axis=(1, 2, 3))
    assert 0 < has_nan.mean() < 0.5 and has_nan[b.labels == 1].any()
    assert set(np.unique(b.meta["bogus_type"][b.labels == 0])) >= {0, 1, 2, 4}
    assert 1.2 <= b.meta["psf_fwhm"].min() and b.meta["psf_fwhm"].max() <= 4.5


def test_distillation_batches_with_and_without_simulations():
    """The recipe's batches (and benchmarks/realbogus_cv.py's): soft targets on real alerts, simulated
    half-batches optional; with none (sim_weight 0) every step is real alerts only."""
    import torch

    from astrohub.models import nets
    from astrohub.models.training.realbogus import distil_batches

    g = np.random.default_rng(0)
    xr, tr = g.normal(size=(64, 3, 32, 32)).astype(np.float32), g.uniform(size=64).astype(np.float32)
    xs, ys = g.normal(size=(16, 3, 32, 32)).astype(np.float32), g.integers(0, 2, 16)
    net = nets.build({"net": "cnn", "in_ch": 3, "n_out": 2, "widths": [8, 8, 8, 8]})
    dev = torch.device("cpu")
    losses = {}
    for w, (s_x, s_y) in {0.0: (xs[:0], ys[:0]), 0.5: (xs, ys)}.items():
        b = distil_batches(xr, tr, s_x, s_y, 32, w, torch.Generator().manual_seed(0), dev)
        assert len(b) == 2
        losses[w] = [float(step(net)) for step in b(0)]
        assert len(losses[w]) == 2 and all(np.isfinite(losses[w]))
    assert losses[0.0] != losses[0.5]


def test_distillation_batches_mixup_mixes_real_alerts_only():
    """benchmarks/realbogus_cv.py's ``--mixup``: each real half-batch is a convex mix of pairs of alerts (one
    weight per step), the simulated half-batch is untouched; mixup 0 is the recipe's batches exactly."""
    import torch

    from astrohub.models.training.realbogus import distil_batches

    xr = np.repeat(np.arange(64, dtype=np.float32), 3 * 8 * 8).reshape(64, 3, 8, 8)  # alert i: every pixel = i
    tr = np.linspace(0, 1, 64).astype(np.float32)
    xs, ys = np.full((16, 3, 8, 8), 0.5, np.float32), np.ones(16)
    seen = []

    def net(x):  # records what it sees; logit margin = the image's mean
        seen.append(x.mean(dim=(1, 2, 3)).numpy())
        return torch.stack([torch.zeros(len(x)), x.mean(dim=(1, 2, 3))], 1)

    def run(**kw):
        seen.clear()
        b = distil_batches(xr, tr, xs, ys, 32, 0.5, torch.Generator().manual_seed(0), torch.device("cpu"), **kw)
        return [float(step(net)) for step in b(0)], [s.copy() for s in seen]

    plain, plain_seen = run()
    assert run(mixup=0.0)[0] == plain
    mixed, mixed_seen = run(mixup=0.4)
    assert all(np.isfinite(mixed)) and mixed != plain
    for k in (0, 2):  # the real half-batches of the two steps
        assert np.allclose(plain_seen[k], np.round(plain_seen[k]))  # whole alerts
        v = mixed_seen[k]
        assert not np.allclose(v, np.round(v)) and 0 <= v.min() and v.max() <= 63  # mixes of two alerts
    assert np.allclose(mixed_seen[1], 0.5) and np.allclose(mixed_seen[3], 0.5)  # simulations as they are


def test_packet_targets_are_standardised_and_missing_values_stay_missing(kit):
    """benchmarks/realbogus_cv.py's ``--aux``: the alert packet's measurements as auxiliary targets, standardised on
    the rows a network trains on; ZTF's -999 ("no source") is missing, not a number."""
    rows = Z.split(kit)["train"]
    a, names = Z.packet_targets(kit, "packet", rows)
    assert names == list(Z.PACKET_TARGETS["packet"]) and a.shape == (len(kit["label"]), len(names))
    varied = np.nanstd(a[rows], 0) > 0
    assert varied.sum() >= len(names) - 1  # nbad may be constant on a subset
    assert np.allclose(np.nanmean(a[rows], 0), 0, atol=1e-4)
    assert np.allclose(np.nanstd(a[rows][:, varied], 0), 1, atol=1e-3)
    d = names.index("log_distnr")
    assert np.array_equal(np.isnan(a[:, d]), kit["distnr"].astype(float) <= -998) and np.isnan(a[:, d]).sum() == 2
    i = names.index("isdiffpos")
    assert (a[:, i] > 0).sum() == (kit["isdiffpos"] == "t").sum() == 727
    stamp, names_s = Z.packet_targets(kit, "stamp", rows)
    assert "rb" in names and "rb" not in names_s and np.allclose(stamp, a[:, :len(names_s)], equal_nan=True)
    with pytest.raises(ValueError, match="packet targets must be one of stamp, packet, got 'all'"):
        Z.packet_targets(kit, "all", rows)


def test_distillation_batches_add_the_auxiliary_error_of_known_values_only():
    """``aux``: outputs 2.. of the network learn the packet's measurements on the real half-batch; the loss is
    the distillation loss plus ``aux_weight`` times their mean squared error over the values the packet has."""
    import torch

    from astrohub.models.training.realbogus import distil_batches

    xr = np.repeat(np.arange(64, dtype=np.float32), 3 * 8 * 8).reshape(64, 3, 8, 8)  # alert i: every pixel = i
    tr = np.linspace(0, 1, 64).astype(np.float32)
    aux = np.stack([np.arange(64) / 10.0, np.where(np.arange(64) % 3 == 0, np.nan, 1.0)], 1).astype(np.float32)
    seen = []

    def net(x):  # margin = 0; the two auxiliary outputs read 0.1 * the alert index and 0
        seen.append(x.mean(dim=(1, 2, 3)).round().long().numpy())
        zero = torch.zeros(len(x))
        return torch.stack([zero, zero, x.mean(dim=(1, 2, 3)) / 10, zero], 1)

    def run(**kw):
        seen.clear()
        b = distil_batches(xr, tr, xr[:0], tr[:0], 32, 0.0, torch.Generator().manual_seed(0), torch.device("cpu"), **kw)
        return [float(step(net)) for step in b(0)], [s.copy() for s in seen]

    plain, order = run()
    assert run(aux=aux, aux_weight=0.0)[0] == plain
    with_aux, order_aux = run(aux=aux, aux_weight=0.5)
    for lo, hi, idx, idx2 in zip(plain, with_aux, order, order_aux):
        assert np.array_equal(idx, idx2)
        err = (0.0 - aux[idx, 1]) ** 2  # the first auxiliary output is exact; the second misses its known values by 1
        known = np.isfinite(err)
        mse = err[known].sum() / (len(idx) + known.sum())  # the mean over every known value of both outputs
        assert known.sum() < len(idx) and hi == pytest.approx(lo + 0.5 * mse, rel=1e-5)
    with pytest.raises(ValueError, match="aux has 3 rows for 64 real alerts"):
        distil_batches(xr, tr, xr[:0], tr[:0], 32, 0.0, torch.Generator(), torch.device("cpu"), aux=aux[:3])


def test_distillation_batches_add_a_pairwise_ranking_loss_over_real_and_bogus_pairs():
    """benchmarks/realbogus_cv.py's ``--rank``: the real half-batch's loss adds ``rank`` times the mean
    softplus(bogus margin - real margin) over its pairs of a real (target >= 0.5) and a bogus alert; rank 0 is the
    recipe's loss exactly, and a batch of one kind adds nothing."""
    import torch

    from astrohub.models.training.realbogus import distil_batches

    xr = np.repeat(np.arange(64, dtype=np.float32), 3 * 8 * 8).reshape(64, 3, 8, 8)  # alert i: every pixel = i
    tr = np.where(np.arange(64) % 4 == 0, 0.1, 0.9).astype(np.float32)  # every fourth alert bogus
    seen = []

    def net(x):  # margin = (index - 32) / 16
        seen.append(x.mean(dim=(1, 2, 3)).round().long().numpy())
        return torch.stack([torch.zeros(len(x)), (x.mean(dim=(1, 2, 3)) - 32) / 16], 1)

    def run(targets, **kw):
        seen.clear()
        b = distil_batches(xr, targets, xr[:0], targets[:0], 32, 0.0, torch.Generator().manual_seed(0),
                           torch.device("cpu"), **kw)
        return [float(step(net)) for step in b(0)], [s.copy() for s in seen]

    plain, order = run(tr)
    assert run(tr, rank=0.0)[0] == plain
    ranked, order_r = run(tr, rank=0.5)
    for lo, hi, idx, idx2 in zip(plain, ranked, order, order_r):
        assert np.array_equal(idx, idx2)
        m, real = (idx - 32) / 16, tr[idx] >= 0.5
        pairs = np.log1p(np.exp(m[~real][None, :] - m[real][:, None]))
        assert 0 < (~real).sum() < len(idx) and hi == pytest.approx(lo + 0.5 * pairs.mean(), rel=1e-5)
    all_real = np.full(64, 0.9, np.float32)
    assert run(all_real, rank=0.5)[0] == run(all_real)[0]
