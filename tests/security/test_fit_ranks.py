"""compute.fit's DDP ranks: a process that joins a fit's rendezvous without the fit's secret is refused.

torch.distributed's TCP store and gloo authenticate nobody, so any local process that connects to the
fit's port first could take a rank and receive the gradients or send its own. Each fit hands its ranks a
random secret over Dask's TLS connection and every rank proves it (an HMAC of its rank number) before any
data moves. Performed here with real rank processes (astrohub.compute.ranks): the fit's rank 0 and an
impostor rank 1 with another secret.
"""

from __future__ import annotations

import secrets
import socket
import threading

from astrohub.compute import Simulated
from astrohub.compute.ranks import run_rank
from astrohub.compute.training import FitConfig, PeerCheckFailed


def test_an_impostor_rank_without_the_fits_secret_is_refused(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    shard = next(iter(Simulated("morphology", 32, seed=1, size=32).chunks(16)))
    fit_secret = secrets.token_hex(32)
    errors: dict[int, BaseException] = {}

    def rank(r: int, secret: str):
        try:
            run_rank(f"attack-{port}", None, dict(
                rank=r, world=2, addr="127.0.0.1", port=port, ref="galaxy_morphology", shard=shard,
                cfg=FitConfig(timeout_s=120), checkpoint=str(tmp_path / "checkpoint.safetensors"),
                fingerprint={}, secret=secret))
        except BaseException as e:  # noqa: BLE001 - collected and asserted below
            errors[r] = e

    threads = [threading.Thread(target=rank, args=(0, fit_secret)),
               threading.Thread(target=rank, args=(1, secrets.token_hex(32)))]  # the impostor
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert isinstance(errors.get(0), PeerCheckFailed), errors
    assert "rank(s) [1] of this fit's process group did not prove the fit's secret" in str(errors[0])
    assert not (tmp_path / "checkpoint.safetensors").exists()  # nothing was trained or written
