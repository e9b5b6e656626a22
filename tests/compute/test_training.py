"""Distributed data-parallel training over Dask workers (gloo on CPU)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
import threading
import time

import numpy as np
import pytest
import torch

from astrohub.compute import Simulated, fit
from astrohub.compute.training import FitConfig, build_net, prepare, shards, train_epochs
from astrohub.models.weights import sha256_file

from .conftest import SIZE


def test_two_ranks_stay_identical_and_match_single_process_on_the_global_batch(client, tiny_model, tmp_path):
    ds = Simulated("morphology", 96, seed=3, size=SIZE)
    opts = dict(epochs=1, batch_size=16, max_steps=3, deterministic=True, lr=1e-3)
    trained = fit(str(tiny_model), ds, workers=2, client=client, out_dir=tmp_path, **opts)
    ranks = json.loads((tmp_path / "ranks.json").read_text())
    assert ranks[0]["digest"] == ranks[1]["digest"]
    assert ranks[0]["samples"] == ranks[1]["samples"] == 48

    # the same three steps in one process on the concatenated global batches (2 x 16 = 32)
    card, net = build_net(str(tiny_model), "pretrained")
    parts = [c.load_with_labels() for c in shards(ds, 2)]
    xs = [prepare(card, im) for im, _ in parts]
    xg = np.concatenate([np.concatenate([x[s * 16:(s + 1) * 16] for x in xs]) for s in range(3)])
    yg = np.concatenate([np.concatenate([y[s * 16:(s + 1) * 16] for _, y in parts]) for s in range(3)])
    torch.manual_seed(0)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    train_epochs(net, opt, xg, yg, FitConfig(**{**opts, "batch_size": 32}), 0, 0)
    ref = net.state_dict()
    got = trained.net.state_dict()
    diff = max(float((got[k].float() - ref[k].float()).abs().max()) for k in ref)
    moved = max(float((got[k].float() - b.float()).abs().max())
                for k, b in build_net(str(tiny_model), "pretrained")[1].state_dict().items())
    assert diff < 1e-5 < moved  # equal to the reference, and training did change the weights


def test_fit_reduces_loss_writes_a_verified_card_shows_a_bar_and_leaves_no_rank_process(
        client, tiny_model, tmp_path, capfd):
    import psutil

    client.wait_for_workers(2, timeout=60)
    workers = set(client.run(os.getpid).values())
    ours = {p.pid for p in psutil.Process().children(recursive=True)}
    seen: set[int] = set()
    done = threading.Event()

    def watch():
        while not done.is_set():
            seen.update(_rank_processes(workers))
            time.sleep(0.1)

    t = threading.Thread(target=watch)
    t.start()
    ds = Simulated("morphology", 512, seed=4, size=SIZE)
    try:
        trained = fit(str(tiny_model), ds, workers=2, client=client, out_dir=tmp_path, epochs=4, batch_size=32,
                      lr=3e-3, init="scratch")
    finally:
        done.set()
        t.join()
    assert len(seen) >= 2  # each rank ran in a process its worker started for this fit ...
    assert _rank_processes(workers) == set()  # ... and none is left once fit has returned
    assert {p.pid for p in psutil.Process().children(recursive=True)} == ours
    out, err = capfd.readouterr()
    assert "fit epoch 4/4" in err and "loss=" in err  # the bar: epoch, rank 0's loss ...
    assert "32/32" in err  # ... steps (4 epochs x 8 steps of 32 per rank) and tqdm's ETA
    assert "fit epoch 1/4: loss " in out  # a line per finished epoch with its mean loss (as the engine's)
    losses = json.loads((tmp_path / "ranks.json").read_text())[0]["losses"]
    assert np.mean(losses[-4:]) < np.mean(losses[:4])
    d = trained.card["training"]["distributed"]
    assert d["workers"] == 2 and d["backend"] == "gloo" and d["restarts"] == 0
    assert trained.card["weights"]["sha256"] == sha256_file(tmp_path / "weights.safetensors")


def test_lost_worker_resumes_from_the_checkpoint(client, tiny_model, tmp_path):
    ds = Simulated("morphology", 384, seed=6, size=SIZE)
    ckpt = tmp_path / "checkpoint.safetensors"
    killed = []
    pids = client.run(os.getpid)

    def kill_after_first_epoch():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not ckpt.exists():
            time.sleep(0.05)
        victim = sorted(pids)[1]
        os.kill(pids[victim], signal.SIGKILL)
        killed.append(victim)

    t = threading.Thread(target=kill_after_first_epoch)
    t.start()
    trained = fit(str(tiny_model), ds, workers=2, client=client, out_dir=tmp_path, epochs=6, batch_size=32,
                  init="scratch", timeout_s=60)
    t.join()
    assert killed
    d = trained.card["training"]["distributed"]
    assert d["restarts"] >= 1
    # the relaunch resumed after a checkpointed epoch instead of redoing all six
    assert all(0 < s < 6 * 192 for s in d["samples_per_rank"]), d["samples_per_rank"]
    client.wait_for_workers(2, timeout=60)


def test_frozen_worker_is_noticed_restarted_and_the_fit_resumes(client, tiny_model, tmp_path):
    """A rank's worker that stops answering (SIGSTOP of the worker and its rank process, as a paused
    node: sockets open, no heartbeats) fails the attempt within the stall time; the relaunch runs on
    restarted workers and resumes from the checkpoint."""
    import psutil

    ds = Simulated("morphology", 384, seed=7, size=SIZE)
    ckpt = tmp_path / "checkpoint.safetensors"
    client.wait_for_workers(2, timeout=60)
    pids = client.run(os.getpid)
    frozen = []

    def freeze_after_first_epoch():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not ckpt.exists():
            time.sleep(0.05)
        victim = sorted(pids)[0]  # rank 0: it also hosts the process group's store
        for p in psutil.Process(pids[victim]).children(recursive=True):  # its rank process
            os.kill(p.pid, signal.SIGSTOP)
            frozen.append(p.pid)
        os.kill(pids[victim], signal.SIGSTOP)
        frozen.append(pids[victim])

    t = threading.Thread(target=freeze_after_first_epoch)
    t.start()
    try:
        trained = fit(str(tiny_model), ds, workers=2, client=client, out_dir=tmp_path, epochs=6, batch_size=32,
                      init="scratch", timeout_s=20)
        left = [pid for pid in frozen if psutil_alive(pid)]  # before the cleanup below
    finally:
        t.join()
        for pid in frozen:  # never leave a stopped process behind, whatever happened
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert frozen
    d = trained.card["training"]["distributed"]
    assert d["restarts"] >= 1
    assert all(0 < s < 6 * 192 for s in d["samples_per_rank"]), d["samples_per_rank"]
    client.wait_for_workers(2, timeout=60)
    assert frozen[-1] not in client.run(os.getpid).values()  # the frozen worker was replaced, not resumed
    assert left == []  # the frozen worker's restart took its rank process with it


def test_bad_fit_requests_are_refused(client, tiny_model, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where fit would make its default folder
    with pytest.raises(ValueError, match="needs 5 Dask workers, the cluster has 2"):
        fit(str(tiny_model), Simulated("morphology", 64, seed=1, size=SIZE), workers=5, client=client)
    with pytest.raises(TypeError, match="needs a Simulated dataset"):
        fit(str(tiny_model), np.zeros((10, SIZE, SIZE)), workers=2, client=client)
    with pytest.raises(ValueError, match="init must be 'pretrained' or 'scratch'"):
        fit(str(tiny_model), Simulated("morphology", 64, seed=1, size=SIZE), workers=2, client=client,
            init="imagenet", max_restarts=0)
    assert list(tmp_path.iterdir()) == []  # a refused fit leaves no empty output folder behind


def _rank_processes(worker_pids) -> set[int]:
    """Live processes started by the cluster's workers (a fit's ranks while it runs)."""
    import psutil

    out = set()
    for pid in worker_pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            out |= {p.pid for p in psutil.Process(pid).children(recursive=True)
                    if p.status() != psutil.STATUS_ZOMBIE}
    return out


def test_an_interrupted_fit_leaves_no_rank_process(client, tiny_model, tmp_path):
    import _thread

    client.wait_for_workers(2, timeout=60)
    workers = set(client.run(os.getpid).values())
    interrupted = []

    def interrupt_when_ranks_run():
        deadline = time.monotonic() + 180
        # while training runs: both ranks up and the first epoch's checkpoint written (ranks that are only
        # starting, or a fit already done, would not test the interrupt)
        while time.monotonic() < deadline and (len(_rank_processes(workers)) < 2
                                               or not (tmp_path / "checkpoint.safetensors").exists()):
            time.sleep(0.05)
        interrupted.append(_rank_processes(workers))
        _thread.interrupt_main()  # Ctrl-C in the kernel

    # interrupt_main does nothing where SIGINT is ignored (pytest run as a background job): handle it as Python does
    sigint = signal.signal(signal.SIGINT, signal.default_int_handler)
    t = threading.Thread(target=interrupt_when_ranks_run)
    t.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            fit(str(tiny_model), Simulated("morphology", 384, seed=8, size=SIZE), workers=2, client=client,
                out_dir=tmp_path, epochs=5000, batch_size=32, progress=False)  # never ends by itself
    finally:
        t.join()
        signal.signal(signal.SIGINT, sigint)
    assert len(interrupted[0]) >= 2
    assert _rank_processes(workers) == set()
    assert not any(psutil_alive(pid) for pid in interrupted[0])


def psutil_alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
