"""Safetensors weights with sha256 verification; loading never unpickles."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save_file


class WeightsIntegrityError(RuntimeError):
    """The weights file does not match the sha256 recorded in its model card."""


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_weights(state: dict[str, torch.Tensor], path: str | Path) -> str:
    """Write ``state`` as safetensors (contiguous fp32 CPU tensors); return its sha256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    save_file(clean, str(path))
    os.chmod(path, 0o644)  # safetensors writes 0600; shipped weights must be readable by every user
    return sha256_file(path)


def load_weights(path: str | Path, sha256: str) -> dict[str, torch.Tensor]:
    """Read safetensors ``path`` after checking it hashes to ``sha256``; raise otherwise."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file {path} is missing; reinstall astrohub or run `astrohub train`")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise WeightsIntegrityError(
            f"sha256 mismatch for {path}: card says {sha256[:16]}..., file is {digest[:16]}...; "
            "the file was modified or corrupted, refusing to load it (reinstall astrohub or retrain)"
        )
    return st_load(data)
