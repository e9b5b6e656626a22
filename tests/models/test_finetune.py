"""Transfer learning on a small labelled sample."""

import numpy as np
import pytest
from astropy.table import Table

from astrohub import models
from astrohub.models.inputs import InputError
from astrohub.sims.images import simulate_images


@pytest.fixture(scope="module")
def sample():
    return simulate_images("morphology", 160, seed=31337, size=64)


def test_fine_tune_new_label_set(tmp_path, sample):
    # a user's 2-class problem (compact vs extended) learnt from 120 labelled cutouts
    names = np.where(sample.labels == 4, "compact", "extended")
    ft = models.fine_tune("galaxy_morphology", sample.images[:120], names[:120], classes=["compact", "extended"],
                          epochs=30, save_to=tmp_path / "ft")
    assert ft.class_names == ["compact", "extended"]
    assert ft.card["fine_tuned"]["n_train"] + ft.card["fine_tuned"]["n_holdout"] == 120
    pred = ft.predict(sample.images[120:])
    truth = names[120:]
    assert (np.array(pred.names) == truth).mean() > 0.8
    reloaded = __import__("astrohub.models.registry", fromlist=["load_dir"]).load_dir(tmp_path / "ft")
    np.testing.assert_allclose(reloaded.predict_proba(sample.images[:5]), ft.predict_proba(sample.images[:5]),
                               atol=1e-5)
    # the fine-tuned model has the retrained PSF-blind head only (the PSF head was trained for other features)
    assert not ft.takes_psf and "psf_head" not in ft.card["arch"]
    assert ft.card["fine_tuned"]["pretrained_metrics"] == (
        models.card("galaxy_morphology")["metrics_without_psf"]["accuracy"])
    with pytest.raises(InputError, match="does not take a PSF"):
        ft.predict(sample.images[:2], psf_fwhm=0.8)


def test_fine_tune_from_table(sample):
    t = Table({"image": sample.images[:40], "label": sample.labels[:40]})
    ft = models.fine_tune("galaxy_morphology", t, epochs=2)
    assert ft.class_names == models.card("galaxy_morphology")["outputs"]["classes"]
    assert ft.card["metrics"]["split"] == "fine-tune hold-out"
    assert ft.card["version"].endswith("+ft")
    full = models.fine_tune("galaxy_morphology", t, epochs=1, train_features=True)
    assert full.card["fine_tuned"]["train_features"] is True
    assert full.predict(sample.images[:3]).probabilities.shape == (3, 5)


def test_fine_tune_bad_inputs(sample):
    with pytest.raises(InputError, match="40 images but 39 labels"):
        models.fine_tune("galaxy_morphology", sample.images[:40], sample.labels[:39])
    with pytest.raises(InputError, match=r"unknown label\(s\) \['blob'\]"):
        models.fine_tune("galaxy_morphology", sample.images[:10], ["blob"] * 10)
    with pytest.raises(InputError, match="need at least 8 labelled images"):
        models.fine_tune("galaxy_morphology", sample.images[:4], sample.labels[:4])
    with pytest.raises(InputError, match="labels are required"):
        models.fine_tune("galaxy_morphology", sample.images[:10])
    with pytest.raises(InputError, match="only classifiers can be fine-tuned"):
        models.fine_tune("cutout_denoiser", sample.images[:10], sample.labels[:10])
    with pytest.raises(InputError, match=r"label indices must lie in 0..4"):
        models.fine_tune("galaxy_morphology", sample.images[:10], np.arange(10))
    with pytest.raises(InputError, match="expects 64x64 pixel cutouts"):
        models.fine_tune("galaxy_morphology", sample.images[:10, :32, :32], sample.labels[:10])
    with pytest.raises(InputError, match="table needs an 'image' column"):
        models.fine_tune("galaxy_morphology", Table({"x": [1, 2]}), [0, 1])
