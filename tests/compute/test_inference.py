"""Sharded inference equals single-process inference; faults lose no row."""

from __future__ import annotations

import os
import signal
import threading
import time

import dask.array as da
import numpy as np
import pytest

from astrohub.compute import BlockError, Simulated, predict
from astrohub.compute.plugin import load_model, model_loads
from astrohub.sims.images import simulate_images

from .conftest import SIZE


@pytest.fixture(scope="module")
def images():
    return simulate_images("morphology", 300, seed=11, size=SIZE).images


def same(a, b):
    assert a.labels.tolist() == b.labels.tolist()
    np.testing.assert_allclose(a.probabilities, b.probabilities, rtol=1e-5, atol=1e-6)


def test_sharded_equals_single_process_and_loads_once_per_worker(client, tiny_model, images):
    single = load_model(tiny_model).predict(images, mc_samples=0)
    sharded = predict(str(tiny_model), images, client=client, chunk_size=40, progress=False, mc_samples=0)
    same(sharded, single)
    assert sharded.names == single.names
    loads = client.run(model_loads)
    assert all(v.get(str(tiny_model)) == 1 for v in loads.values()), loads


def test_dask_array_blocks_predict_in_order(client, tiny_model, images):
    arr = da.from_array(images, chunks=(64, SIZE, SIZE))
    single = load_model(tiny_model).predict(images, mc_samples=0)
    same(predict(str(tiny_model), arr, client=client, progress=False, mc_samples=0), single)


def test_simulated_data_is_generated_on_workers(client, tiny_model):
    ds = Simulated("morphology", 250, seed=5, size=SIZE)
    local = load_model(tiny_model).predict(simulate_images("morphology", 250, seed=5, size=SIZE).images, mc_samples=0)
    same(predict(str(tiny_model), ds, client=client, chunk_size=50, progress=False, mc_samples=0), local)


def test_simulated_objects_bring_their_psf_to_a_psf_aware_model(client):
    """galaxy_morphology's PSF-aware head gets the PSF each simulated object was drawn with."""
    b = simulate_images("morphology", 48, seed=5, size=64)
    local = load_model("galaxy_morphology").predict(b.images, mc_samples=0, psf_fwhm=b.meta["psf_fwhm"])
    sharded = predict("galaxy_morphology", Simulated("morphology", 48, seed=5, size=64), client=client,
                      chunk_size=16, progress=False, mc_samples=0)
    same(sharded, local)


def test_a_per_row_psf_is_split_with_the_rows(client):
    b = simulate_images("morphology", 40, seed=6, size=64)
    f = b.meta["psf_fwhm"]
    local = load_model("galaxy_morphology").predict(b.images, mc_samples=0, psf_fwhm=f)
    same(predict("galaxy_morphology", b.images, client=client, chunk_size=16, progress=False, mc_samples=0,
                 psf_fwhm=f), local)
    same(predict("galaxy_morphology", da.from_array(b.images, chunks=(16, 64, 64)), client=client, progress=False,
                 mc_samples=0, psf_fwhm=f), local)
    with pytest.raises(ValueError, match=r"psf_fwhm needs one value per row \(40\) or a single number, "
                                         r"got shape \(39,\)"):
        predict("galaxy_morphology", b.images, client=client, progress=False, psf_fwhm=f[:39])


def test_uncertainty_comes_back_per_row(client, tiny_model, images):
    pred = predict(str(tiny_model), images[:64], client=client, chunk_size=16, progress=False, mc_samples=5)
    assert pred.uncertainty.shape == (64,) and np.isfinite(pred.uncertainty).all()


def test_malformed_block_names_its_rows(client, tiny_model, images):
    bad = images.copy()
    bad[130, 5, 5] = np.nan
    with pytest.raises(BlockError, match=r"rows 120-159: .*NaN"):
        predict(str(tiny_model), bad, client=client, chunk_size=40, progress=False, mc_samples=0)


def test_bad_data_and_model_are_refused(client, tiny_model):
    with pytest.raises(ValueError, match="unknown simulation task 'galaxies'"):
        Simulated("galaxies", 10, seed=1)
    with pytest.raises(ValueError, match=r"expected a batch of images shaped \[N, \.\.\.\]"):
        predict(str(tiny_model), np.zeros(5), client=client, progress=False)
    with pytest.raises(ValueError, match="unknown model 'no_such_model'"):
        predict("no_such_model", np.zeros((4, SIZE, SIZE)), client=client, progress=False)


def test_worker_killed_mid_inference_loses_no_row(client, tiny_model):
    ds = Simulated("morphology", 600, seed=21, size=SIZE)
    expected = load_model(tiny_model).predict(simulate_images("morphology", 600, seed=21, size=SIZE).images,
                                              mc_samples=0)
    killed = []
    pids = client.run(os.getpid)

    def kill_a_busy_worker():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            busy = [w for w, tasks in client.processing().items() if tasks]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])
            time.sleep(0.05)

    t = threading.Thread(target=kill_a_busy_worker)
    t.start()
    pred = predict(str(tiny_model), ds, client=client, chunk_size=20, progress=False, mc_samples=0)
    t.join()
    assert killed, "no worker was killed"
    assert len(pred.labels) == 600
    same(pred, expected)
    client.wait_for_workers(2, timeout=60)
    assert pids[killed[0]] not in client.run(os.getpid).values()  # it really died (the nanny restarted it)
