"""Data-parallel training of zoo models over Dask workers with torch DistributedDataParallel.

Each worker is one rank (gloo on CPU, nccl on GPU) and loads or generates its own shard; rank 0
checkpoints after every epoch (safetensors, never pickle), so when a worker is lost the run is
relaunched from the last checkpoint instead of from scratch.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import queue
import secrets
import socket
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
from distributed import Client, default_client

from .plugin import load_model
from .ranks import run_rank, stop_ranks
from .sources import Chunk, Simulated

log = logging.getLogger(__name__)


@dataclass
class FitConfig:
    """Hyper-parameters of a distributed fit (per-rank batch size)."""

    epochs: int = 2
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0
    max_steps: int | None = None  # per epoch
    deterministic: bool = False  # no shuffling, dropout off, batch-norm statistics frozen
    init: str = "pretrained"  # or "scratch"
    timeout_s: int = 300

    def __post_init__(self):  # refused in the caller, before any worker or folder is involved
        checked_init(self.init)


def checked_init(init: str) -> str:
    """``init`` if it is one :func:`build_net` knows; ValueError naming them otherwise."""
    if init not in ("pretrained", "scratch"):
        raise ValueError(f"init must be 'pretrained' or 'scratch', got {init!r}")
    return init


@dataclass
class RankResult:
    rank: int
    losses: list[float]
    digest: str
    state: dict | None = field(default=None, repr=False)  # rank 0 only: name -> numpy array
    samples: int = 0
    seconds: float = 0.0


def _free_port(host: str = "") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class PeerCheckFailed(RuntimeError):
    """A process joined the fit's process group without the fit's secret."""


def check_peers(rank: int, world: int, secret: str) -> None:
    """Every rank proves it holds this fit's secret (handed to it over Dask's TLS connection): an
    HMAC of its rank number, gathered by all. torch.distributed's rendezvous store and gloo have no
    authentication, so a local process that raced onto the fit's port would be a rank; this refuses it
    before any data or weights are exchanged."""
    import torch
    import torch.distributed as dist

    key = bytes.fromhex(secret)
    tags = [hmac.new(key, f"astrohub-fit rank {r}".encode(), "sha256").digest() for r in range(world)]
    got = [torch.zeros(32, dtype=torch.uint8) for _ in range(world)]
    dist.all_gather(got, torch.tensor(list(tags[rank]), dtype=torch.uint8))
    bad = [r for r in range(world) if not hmac.compare_digest(bytes(got[r].tolist()), tags[r])]
    if bad:
        raise PeerCheckFailed(f"rank(s) {bad} of this fit's process group did not prove the fit's secret; "
                              "refusing to train with them (another process joined the rendezvous port)")


def _digest(state: dict) -> str:
    h = hashlib.sha256()
    for k in sorted(state):
        h.update(k.encode())
        h.update(np.ascontiguousarray(state[k].detach().cpu().numpy()).tobytes())
    return h.hexdigest()


def workers_info(client: Client) -> dict:
    """The scheduler's workers, fetched now. (``client.scheduler_info()`` returns the client's cached
    identity, which its periodic refresh, made without per-worker information, can replace between the
    fetch and the return: a fit then saw every worker as gone.)"""
    return client.sync(client.scheduler.identity, n_workers=-1)["workers"]


class CheckpointMismatch(ValueError):
    """A checkpoint in ``out_dir`` was written by a run with another model, dataset or config."""


# FitConfig fields that change what training computes; ``epochs`` is not one of them (a resumed run
# with more epochs continues the same trajectory: every epoch's shuffle is seeded by its number and the
# learning rate is constant) and neither is ``timeout_s``.
_RUN_FIELDS = ("batch_size", "lr", "seed", "max_steps", "deterministic", "init")


def run_fingerprint(model, dataset, cfg: FitConfig, workers: int) -> dict:
    """What a checkpoint must match to be resumed: the model (its card's name and version and the
    sha256 of its weights), the dataset and the training config (and the number of ranks, which
    decides the shards)."""
    from astrohub.models.cards import read_card
    from astrohub.models.registry import ref_dir

    card = read_card(ref_dir(model) / "card.json")
    return {
        "model": {"name": card["name"], "version": card["version"], "weights_sha256": card["weights"]["sha256"]},
        "dataset": {"type": type(dataset).__name__, "task": getattr(dataset, "task", None),
                    "n": getattr(dataset, "n", None), "seed": getattr(dataset, "seed", None),
                    "size": getattr(dataset, "size", None)},
        "config": {**{k: getattr(cfg, k) for k in _RUN_FIELDS}, "workers": workers},
    }


def _fingerprint_text(fp: dict) -> str:
    return json.dumps(fp, sort_keys=True, default=str)


def checkpoint_fingerprint(path: Path) -> dict | None:
    """The fingerprint stored in a checkpoint's safetensors metadata (None for one without)."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        text = (f.metadata() or {}).get("astrohub_fit")
    return json.loads(text) if text else None


def check_resumable(path: Path, fp: dict) -> None:
    """Refuse (:class:`CheckpointMismatch`, naming what differs) to resume from a checkpoint that another
    run wrote; a checkpoint without a fingerprint cannot be checked and is refused too."""
    try:
        got = checkpoint_fingerprint(path)
    except Exception as e:  # noqa: BLE001 - unreadable: not ours to resume
        raise CheckpointMismatch(f"{path} is not a readable fit() checkpoint ({type(e).__name__}: {e}); delete it "
                                 "or choose another out_dir") from None
    if got is None:
        raise CheckpointMismatch(f"{path} has no run fingerprint (written by another program or an older "
                                 "astrohub), so resuming from it could mix runs; delete it or choose another out_dir")
    want = json.loads(_fingerprint_text(fp))
    diffs = [f"{part}.{k}: checkpoint {got.get(part, {}).get(k)!r}, this run {v!r}"
             for part in ("model", "dataset", "config") for k, v in want[part].items()
             if got.get(part, {}).get(k) != v]
    if diffs:
        parts = sorted({d.split(".", 1)[0] for d in diffs})
        raise CheckpointMismatch(f"{path} was written by a fit() with a different {' and '.join(parts)} ("
                                 + "; ".join(diffs) + "); refusing to resume from it: delete it or choose "
                                 "another out_dir")


def _save_fingerprinted(path: Path, net, opt, epoch: int, fp: dict) -> None:
    """The training engine's checkpoint, with this run's fingerprint added to its metadata (atomically)."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    from astrohub.models.training.engine import save_checkpoint

    part = path.with_name(path.name + ".part.safetensors")
    save_checkpoint(part, net, opt, epoch)
    with safe_open(str(part), "pt") as f:
        meta = dict(f.metadata() or {})
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    meta["astrohub_fit"] = _fingerprint_text(fp)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=meta)
    tmp.replace(path)
    part.unlink(missing_ok=True)


def prepare(card: dict, images: np.ndarray) -> np.ndarray:
    """The predictor's own input validation and normalisation (so training sees what inference sees)."""
    from astrohub.models.inputs import as_batch, normalise

    return normalise(as_batch(images, card["inputs"], name=card["name"]), card["name"])[0]


def build_net(ref, init: str):
    """The network of zoo model ``ref`` with its shipped weights (``init="pretrained"``) or fresh ones."""
    import torch

    from astrohub.models.cards import retrained, without_psf_head

    model = load_model(ref, "cpu")
    net = copy.deepcopy(model.net).to(memory_format=torch.contiguous_format)
    if hasattr(net, "psf_head"):  # training changes the features, which the PSF head was fitted to
        del net.psf_head
    if checked_init(init) == "scratch":
        torch.manual_seed(0)
        for m in net.modules():
            if hasattr(m, "reset_parameters"):
                m.reset_parameters()
    return retrained(without_psf_head(model.card)), net


def train_epochs(net, opt, xn: np.ndarray, y: np.ndarray, cfg: FitConfig, start_epoch: int, rank: int,
                 on_epoch=None, on_step=None) -> tuple[list[float], int]:
    """Every rank's (and the single-process reference's) run of the models' training engine:
    cross-entropy on this rank's shard, ``opt`` at a constant learning rate, ``on_step(epoch, step,
    steps, loss)`` after each forward pass (``loss`` a tensor), ``on_epoch(epoch)`` after each epoch
    (the checkpoint). Returns (every step's loss, samples seen)."""
    import torch
    import torch.nn.functional as F

    from astrohub.models.training.engine import EpochBatches, Plan
    from astrohub.models.training.engine import fit as engine_fit

    steps = len(xn) // cfg.batch_size
    if cfg.max_steps is not None:
        steps = min(steps, cfg.max_steps)

    def batches(epoch):
        order = np.arange(len(xn)) if cfg.deterministic else \
            np.random.default_rng(cfg.seed + 1000 * epoch + rank).permutation(len(xn))
        for s in range(steps):
            idx = order[s * cfg.batch_size:(s + 1) * cfg.batch_size]
            xb = torch.from_numpy(xn[idx]).contiguous(memory_format=torch.channels_last)
            yb = torch.from_numpy(y[idx].astype(np.int64))

            def loss_fn(m, xb=xb, yb=yb, s=s):
                loss = F.cross_entropy(m(xb), yb)
                if on_step is not None:
                    on_step(epoch, s, steps, loss)
                return loss

            yield loss_fn

    def train_mode(m):
        m.train()
        if cfg.deterministic:  # dropout off, batch-norm statistics frozen
            for mod in m.modules():
                if isinstance(mod, (torch.nn.BatchNorm2d, torch.nn.Dropout)):
                    mod.eval()

    run = engine_fit(net, EpochBatches(batches, steps), None, Plan(epochs=cfg.epochs, lr=cfg.lr, schedule="constant"),
                     optimizer=opt, train_mode=train_mode, start_epoch=start_epoch, on_epoch=on_epoch)
    return run.step_losses, len(run.step_losses) * cfg.batch_size  # every step is a full batch


class _Reporter:
    """Rank 0's progress for the client's bar: a step message at most every ``every`` seconds and one
    at each epoch's end (with the epoch's mean loss)."""

    def __init__(self, report, epochs: int, every: float = 0.25):
        self.report, self.epochs, self.every = report, epochs, every
        self.last, self.losses = 0.0, []

    def step(self, epoch, s, steps, loss):
        self.losses.append(float(loss.detach()))
        now = time.monotonic()
        if now - self.last >= self.every or s + 1 == steps:
            self.last = now
            self.report({"epoch": epoch, "epochs": self.epochs, "step": s + 1, "steps": steps,
                         "loss": self.losses[-1]})

    def epoch(self, epoch):
        mean = float(np.mean(self.losses)) if self.losses else None
        self.losses = []
        self.report({"epoch": epoch, "epochs": self.epochs, "done": True, "epoch_loss": mean})


def train_rank(rank: int, world: int, addr: str, port: int, ref, shard: Chunk, cfg: FitConfig,
               checkpoint: str, fingerprint: dict, secret: str | None = None, report=None) -> RankResult:
    """One DDP rank (run in its own process by :func:`astrohub.compute.ranks.run_rank`); rank 0 sends
    progress through ``report``."""
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP

    from astrohub.models.training.engine import load_checkpoint

    t0 = time.perf_counter()
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend, init_method=f"tcp://{addr}:{port}", rank=rank, world_size=world,
                            timeout=timedelta(seconds=cfg.timeout_s))
    try:
        if secret is not None:
            check_peers(rank, world, secret)
        card, net = build_net(ref, cfg.init)
        torch.manual_seed(cfg.seed)
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
        ckpt = Path(checkpoint)
        if ckpt.exists():
            check_resumable(ckpt, fingerprint)
        start = load_checkpoint(ckpt, net, opt) if ckpt.exists() else 0
        images, labels = shard.load_with_labels()
        xn = prepare(card, images)
        ddp = DDP(net)

        reporter = _Reporter(report, cfg.epochs) if report is not None and rank == 0 else None
        if reporter is not None:  # the bar starts now (its ETA counts from here), at the resumed epoch
            steps = len(xn) // cfg.batch_size if cfg.max_steps is None else min(len(xn) // cfg.batch_size,
                                                                                 cfg.max_steps)
            reporter.report({"start_epoch": start, "epochs": cfg.epochs, "steps": steps})

        def on_epoch(epoch):
            if rank == 0:
                _save_fingerprinted(ckpt, net, opt, epoch, fingerprint)
            dist.barrier()
            if reporter is not None:
                reporter.epoch(epoch)

        losses, samples = train_epochs(ddp, opt, xn, labels, cfg, start, rank, on_epoch,
                                       reporter.step if reporter is not None else None)
        state = net.state_dict()
        return RankResult(rank, losses, _digest(state),
                          {k: v.detach().cpu().numpy() for k, v in state.items()} if rank == 0 else None,
                          samples, time.perf_counter() - t0)
    finally:
        dist.destroy_process_group()


def shards(dataset, world: int) -> list[Chunk]:
    """Equal contiguous shards, one per rank (a Simulated set is generated on its rank)."""
    if isinstance(dataset, Simulated):
        per = dataset.n // world
        if per < 1:
            raise ValueError(f"{dataset.n} samples cannot be split over {world} workers")
        return [c for c in Simulated(dataset.task, per * world, dataset.seed, dataset.size).chunks(per)]
    raise TypeError(f"fit() needs a Simulated dataset (generated on the workers), got {type(dataset).__name__}")


def launch(client: Client, ws: list[str], ref, parts: list[Chunk], cfg: FitConfig,
           checkpoint: Path, fingerprint: dict, bar: _Bar | None = None) -> list[RankResult]:
    """One attempt: rank r trains on ``parts[r]`` on worker ``ws[r]``, pinned, all started together,
    each in a process of its own (:mod:`astrohub.compute.ranks`) that ends with the attempt: on success,
    error or interrupt the rank processes are gone when this returns or raises."""
    world = len(ws)
    addr = workers_info(client)[ws[0]]["host"]
    port = client.submit(_free_port, addr, workers=[ws[0]], pure=False).result()
    fit_id = uuid.uuid4().hex
    topic = f"astrohub-fit-{fit_id}"
    secret = secrets.token_hex(32)  # travels over Dask's TLS connection, never on a command line
    events: queue.SimpleQueue = queue.SimpleQueue()
    if bar is not None:
        client.subscribe_topic(topic, lambda event: events.put(event[1]))
    futs = [client.submit(run_rank, fit_id, topic, dict(rank=r, world=world, addr=addr, port=port, ref=ref,
                                                         shard=parts[r], cfg=cfg, checkpoint=str(checkpoint),
                                                         fingerprint=fingerprint, secret=secret),
                          workers=[w], allow_other_workers=False, pure=False, retries=0)
            for r, w in enumerate(ws)]
    try:
        return [f.result() for f in _watch(client, futs, ws, cfg.timeout_s * 4, stall=cfg.timeout_s,
                                           on_poll=(lambda: bar.drain(events)) if bar is not None else None)]
    except BaseException:
        client.cancel(futs, force=True)
        _stop_ranks(client, ws, fit_id)
        raise
    finally:
        if bar is not None:
            client.unsubscribe_topic(topic)
            bar.drain(events)


def _stop_ranks(client: Client, ws: list[str], fit_id: str, recent: float = 10.0) -> None:
    """Kill this attempt's rank processes on those of its workers that answer (a heartbeat within
    ``recent`` seconds). A frozen worker is not called (the call would hang until it wakes): its ranks
    die when it is restarted or dies, or on their own when the process group times out without peers."""
    info = workers_info(client)
    now = time.time()
    answering = [w for w in ws if w in info and now - info[w].get("last_seen", 0) < recent]
    if answering:
        client.run(stop_ranks, fit_id, workers=answering, on_error="ignore")


class _Bar:
    """The client's one progress bar over all epochs (tqdm.auto, as the training engine's bars): rank 0's
    epoch, step loss and ETA, fed by the rank's events."""

    def __init__(self, desc: str = "fit"):
        self.desc, self.tq = desc, None

    def drain(self, events: queue.SimpleQueue) -> None:
        while True:
            try:
                self.update(events.get_nowait())
            except queue.Empty:
                return

    def update(self, msg: dict) -> None:
        if "start_epoch" in msg:  # an attempt starts (again, after a restart: a new bar from its checkpoint)
            from tqdm.auto import tqdm

            self.close()
            self.tq = tqdm(total=msg["epochs"] * msg["steps"], initial=msg["start_epoch"] * msg["steps"],
                           desc=f"{self.desc} epoch {msg['start_epoch'] + 1}/{msg['epochs']}", unit="step")
            return
        if "step" in msg and self.tq is not None:
            done = msg["epoch"] * msg["steps"] + msg["step"]
            self.tq.set_description(f"{self.desc} epoch {msg['epoch'] + 1}/{msg['epochs']}", refresh=False)
            self.tq.set_postfix(loss=f"{msg['loss']:.4f}", refresh=False)
            self.tq.update(max(0, done - self.tq.n))
        elif msg.get("done") and msg.get("epoch_loss") is not None and self.tq is not None:
            self.tq.write(f"{self.desc} epoch {msg['epoch'] + 1}/{msg['epochs']}: loss {msg['epoch_loss']:.4f}")

    def close(self) -> None:
        if self.tq is not None:
            self.tq.close()
            self.tq = None


def reset_ranks(client: Client, ws: list[str]) -> None:
    """Restart the surviving workers of a failed attempt. A rank whose peer died can stay stuck in
    torch.distributed (tearing down the process group after a lost peer may block with the GIL
    held, freezing the whole worker), so every attempt starts on fresh worker processes."""
    alive = [w for w in ws if w in workers_info(client)]
    if alive:
        client.restart_workers(alive, timeout=60, raise_for_error=False)


def live_workers(client: Client, n: int, timeout: float = 120) -> list[str]:
    """Addresses of at least ``n`` workers that answer and stay the same for a second (a lost
    worker's address can linger in the scheduler while its nanny starts a new one)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        ws = sorted(workers_info(client))
        live = sorted(client.run(lambda: True, workers=ws, on_error="ignore")) if ws else []
        if len(live) >= n and live == last:
            return live
        last = live
        time.sleep(1.0)
    raise TimeoutError(f"{n} live Dask workers did not appear within {timeout:.0f} s")


class WorkerLost(RuntimeError):
    """A worker holding a rank left the cluster during training."""


def _watch(client: Client, futs, ws, timeout: float, stall: float = 60, on_poll=None):
    """Wait for all ranks; fail fast when one errors, its worker disappears or its worker stops
    sending heartbeats for ``stall`` seconds (no rank waits forever on a peer that is gone).
    ``on_poll()`` runs every poll (the progress bar)."""
    deadline = time.monotonic() + timeout
    beats: dict[str, tuple] = {}  # worker -> (scheduler's last_seen, when we saw it change)
    try:
        while True:
            if on_poll is not None:
                on_poll()
            if all(f.status == "finished" for f in futs):
                return futs
            for f in futs:
                if f.status in ("error", "cancelled"):
                    f.result()  # raises the rank's error
            alive = workers_info(client)
            gone = [w for w in ws if w not in alive]
            if gone:
                raise WorkerLost(f"worker(s) {', '.join(gone)} left the cluster during training")
            now = time.monotonic()
            for w in ws:
                if beats.get(w, (None,))[0] != alive[w].get("last_seen"):
                    beats[w] = (alive[w].get("last_seen"), now)
            frozen = [w for w in ws if now - beats[w][1] > stall]
            if frozen:
                raise WorkerLost(f"worker(s) {', '.join(frozen)} sent no heartbeat for {stall:.0f} s during training")
            if time.monotonic() > deadline:
                raise TimeoutError(f"distributed training did not finish within {timeout:.0f} s")
            time.sleep(0.2)
    except BaseException:
        client.cancel(futs, force=True)
        raise


def fit(model, dataset, workers: int = 2, client: Client | None = None, out_dir: str | Path | None = None,
        max_restarts: int = 2, progress: bool = True, **options):
    """Train zoo model ``model`` (name or model directory) data-parallel on ``workers`` Dask workers.

    ``dataset`` is a :class:`Simulated` set; each rank generates its own shard on its worker.
    ``options`` are :class:`FitConfig` fields (epochs, batch_size per rank, lr, seed, max_steps,
    deterministic, init). A lost worker restarts the run from the last epoch checkpoint, up to
    ``max_restarts`` times. A checkpoint already in ``out_dir`` is resumed only when its fingerprint
    (model, dataset and config) matches this run's, else :class:`CheckpointMismatch`. Returns the
    trained predictor; its card (written with the weights to ``out_dir``) records the distributed
    training and the new weights' sha256.

    ``progress`` draws one bar (epoch, rank 0's loss, ETA). Each rank runs in a process of its own,
    started by its worker for this call: when ``fit`` returns, fails or is interrupted, none is left.
    """
    from astrohub.models.registry import load_dir
    from astrohub.models.training.engine import write_model

    client = client or default_client()
    cfg = FitConfig(**options)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    n = len(workers_info(client))
    if n < workers:
        raise ValueError(f"fit(workers={workers}) needs {workers} Dask workers, the cluster has {n}")
    parts = shards(dataset, workers)  # refuses a bad dataset before anything starts (or any folder is made)
    fingerprint = run_fingerprint(model, dataset, cfg, workers)
    out = Path(out_dir or tempfile.mkdtemp(prefix="astrohub-fit-"))
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / "checkpoint.safetensors"
    if checkpoint.exists():  # an earlier run's: resumed only when it is this run's model, data and config
        check_resumable(checkpoint, fingerprint)
    attempt = 0
    bar = _Bar() if progress else None
    try:
        while True:
            ws = live_workers(client, workers)[:workers]  # a lost worker's replacement, not its stale address
            try:
                results = launch(client, ws, model, parts, cfg, checkpoint, fingerprint, bar)
                break
            except Exception as e:  # noqa: BLE001 - a lost worker surfaces as several error types
                if isinstance(e, (ValueError, TypeError, PeerCheckFailed)) or attempt >= max_restarts:
                    raise
                attempt += 1
                log.warning("distributed fit attempt %d failed (%s); resuming from %s", attempt, e, checkpoint)
                reset_ranks(client, ws)
    finally:
        if bar is not None:
            bar.close()
    import torch

    card, _ = build_net(model, "pretrained")
    state = {k: torch.from_numpy(v) for k, v in results[0].state.items()}
    card = dict(card)
    card["version"] = card["version"] + "+ddp"
    card["training"] = {**card["training"], "distributed": {
        "workers": workers, "backend": "nccl" if torch.cuda.is_available() else "gloo",
        "epochs": cfg.epochs, "batch_size_per_rank": cfg.batch_size, "lr": cfg.lr,
        "samples_per_rank": [r.samples for r in results], "restarts": attempt,
        "final_loss": float(np.mean([r.losses[-1] for r in results if r.losses])) if results[0].losses else None,
        "dataset": {"task": dataset.task, "n": dataset.n, "seed": dataset.seed}}}
    write_model(card, state, out)
    (out / "ranks.json").write_text(json.dumps([{"rank": r.rank, "digest": r.digest, "losses": r.losses,
                                                  "samples": r.samples, "seconds": r.seconds} for r in results]))
    return load_dir(out)
