"""Each DDP rank of :func:`astrohub.compute.fit` runs in a process of its own, which ends with its task.

The rank's Dask task (:func:`run_rank`, on the rank's worker) starts a Python running :func:`main`,
hands it the rank's arguments over its stdin (a pipe between two processes of the same user: nothing on a
command line, in a file or on a socket), relays its progress to the client as Dask events on the fit's
topic, and returns its result. The rank process holds torch's process group, the model, the optimiser and
the data shard (about 600 MB), so none of it stays in the worker after ``fit`` returns. It is killed

- when its task ends in any way (result, error, the task's thread dying: ``PR_SET_PDEATHSIG``);
- when its worker dies (the same signal), e.g. when ``fit`` restarts a failed attempt's workers;
- by :func:`stop_ranks`, which ``fit`` runs on the workers (``client.run``) when it fails or is interrupted
  (a Dask task cannot be stopped from outside while it runs; its rank process can).
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import subprocess
import sys
import threading
import traceback

_running: dict[str, set[subprocess.Popen]] = {}  # fit id -> this worker's rank processes
_lock = threading.Lock()
_PR_SET_PDEATHSIG = 1


class RankFailed(RuntimeError):
    """A rank's process ended without a result (killed, or crashed in native code)."""


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def run_rank(fit_id: str, topic: str | None, args: dict):
    """Run one rank (``training.train_rank(**args)``) in a child process; relay its progress events
    to ``topic`` (when running on a Dask worker); return its result or raise its error."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except ValueError:  # not in a Dask task: no events to relay
        worker = None
    env = dict(os.environ, ASTROHUB_RANK_PARENT=str(os.getpid()),
               ASTROHUB_RANK_THREADS=str(worker.state.nthreads if worker is not None else 1))
    if args.get("addr") in ("127.0.0.1", "localhost"):  # every rank on this host: gloo stays on loopback
        env["GLOO_SOCKET_IFNAME"] = "lo"
    proc = subprocess.Popen([sys.executable, "-c", "from astrohub.compute.ranks import main; main()"],
                            stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=env)
    with _lock:
        _running.setdefault(fit_id, set()).add(proc)
    try:
        pickle.dump(args, proc.stdin)
        proc.stdin.close()
        result = error = None
        while True:
            try:
                kind, payload = pickle.load(proc.stdout)
            except EOFError:
                break
            if kind == "progress":
                if worker is not None and topic:
                    worker.log_event(topic, payload)
            elif kind == "result":
                result = payload
            else:
                error = payload
        code = proc.wait()
        if error is not None:
            raise error
        if result is None:
            raise RankFailed(f"rank {args.get('rank')}'s process ended with {_describe(code)} before finishing")
        return result
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        with _lock:
            procs = _running.get(fit_id, set())
            procs.discard(proc)
            if not procs:
                _running.pop(fit_id, None)


def stop_ranks(fit_id: str) -> list[int]:
    """For ``client.run``: kill this process's rank processes of fit ``fit_id``; returns their pids."""
    with _lock:
        procs = list(_running.get(fit_id, ()))
    for p in procs:
        if p.poll() is None:
            p.kill()
    for p in procs:
        p.wait()
    return [p.pid for p in procs]


def rank_pids() -> list[int]:
    """For ``client.run``: pids of the rank processes running in this worker (any fit)."""
    with _lock:
        return [p.pid for procs in _running.values() for p in procs if p.poll() is None]


def _die_with_parent() -> None:
    """SIGKILL this process when the thread that started it (its rank's task) or its worker ends."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if str(os.getppid()) != os.environ.get("ASTROHUB_RANK_PARENT"):  # the parent died before prctl
        os._exit(1)


def main() -> None:
    _die_with_parent()
    channel = os.fdopen(os.dup(1), "wb")  # results and progress; stray prints go to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def send(kind, payload):
        pickle.dump((kind, payload), channel)
        channel.flush()

    try:
        args = pickle.load(sys.stdin.buffer)
        import torch

        torch.set_num_threads(max(1, int(os.environ.get("ASTROHUB_RANK_THREADS", "1"))))
        from astrohub.compute.training import train_rank

        send("result", train_rank(**args, report=lambda msg: send("progress", msg)))
    except BaseException as e:  # noqa: BLE001 - every failure goes back to the task, which raises it
        try:
            send("error", e)
        except Exception:  # noqa: BLE001 - an exception that does not pickle: its text
            send("error", RankFailed("".join(traceback.format_exception(e))))
    channel.close()
    os._exit(0)  # no interpreter teardown: nothing of the rank's (gloo threads) can hang the exit
