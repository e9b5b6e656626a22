"""The seeded image simulators behind the zoo and the demo archive."""

import numpy as np
import pytest

from astrohub.sims.images import BOGUS_TYPES, CLASS_NAMES, PIXEL_SCALE, simulate_images, simulate_range


@pytest.mark.parametrize("task,shape", [("morphology", (40, 48, 48)), ("lens", (40, 48, 48)),
                                        ("transient", (40, 3, 48, 48)), ("denoise", (40, 48, 48))])
def test_shapes_labels_meta(task, shape):
    b = simulate_images(task, 40, seed=3, size=48)
    assert b.images.shape == shape and b.images.dtype == np.float32
    if task == "transient":  # ZTF-like stamps: NaN where masked / off-chip, in all three planes at once
        nan = np.isnan(b.images)
        assert (nan.any(1) == nan.all(1)).all() and np.isfinite(b.images[~nan]).all() and nan.mean() < 0.2
    else:
        assert np.isfinite(b.images).all()
    assert b.labels.dtype == np.int64 and b.labels.shape == (40,)
    assert b.class_names == CLASS_NAMES[task]
    assert b.labels.min() >= 0 and b.labels.max() < len(b.class_names)
    if len(b.class_names) > 1:
        assert len(np.unique(b.labels)) > 1
    for v in b.meta.values():
        assert len(v) == 40
    assert PIXEL_SCALE == 0.2


def test_seeded_reproducible_and_range_consistent():
    a = simulate_images("morphology", 12, seed=11, size=32)
    b = simulate_images("morphology", 12, seed=11, size=32)
    c = simulate_images("morphology", 12, seed=12, size=32)
    part = simulate_range("morphology", 5, 12, seed=11, size=32)
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.array_equal(a.images, c.images)
    np.testing.assert_array_equal(part.images, a.images[5:])
    np.testing.assert_array_equal(part.labels, a.labels[5:])


def test_noise_is_unit_rms_and_faint_objects_present():
    b = simulate_images("morphology", 60, seed=5, size=64)
    border = np.concatenate([b.images[:, :4].ravel(), b.images[:, -4:].ravel()])
    assert 0.9 < border.std() < 1.15
    assert b.meta["snr"].min() < 25  # faint objects are part of the distribution
    assert b.meta["snr"].max() > 60


def test_denoise_truth_and_lowres():
    b = simulate_images("denoise", 10, seed=2, size=32)
    assert b.meta["truth"].shape == (10, 32, 32) and b.meta["lowres"].shape == (10, 16, 16)
    resid = b.images - b.meta["truth"]
    assert 0.8 < resid.std() < 1.2  # noisy = truth + unit noise
    assert b.meta["truth"].sum(axis=(1, 2)).min() > 0


def test_transient_difference_shows_real_source():
    b = simulate_images("transient", 80, seed=4, size=32)
    centre = np.nansum(b.images[:, 2, 14:18, 14:18], axis=(1, 2)) / b.meta["noise"]
    real = b.labels == 1
    assert np.median(centre[real]) > 10  # a PSF-shaped positive source at the centre of the difference
    assert (centre[real] > 0).mean() > 0.95  # ZTF serves the candidate positive (fading ones flipped); noise aside
    assert (b.meta["snr"][real] >= 5).all() and (b.meta["snr"][~real] == 0).all()  # ZTF's 5-sigma threshold
    assert set(np.unique(b.meta["bogus_type"][~real])) <= set(range(len(BOGUS_TYPES)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown task 'spiral'; choose one of morphology, lens"):
        simulate_images("spiral", 3, 0)
    with pytest.raises(ValueError, match="size must be an even integer >= 16"):
        simulate_images("lens", 3, 0, size=15)
    with pytest.raises(ValueError, match="need 0 <= start <= stop"):
        simulate_range("lens", 5, 2, 0)
    assert len(simulate_images("lens", 0, 0).labels) == 0
