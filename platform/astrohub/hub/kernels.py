"""The astrohub kernelspecs (CPU and GPU) and GPU detection."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

KERNEL_NAMES = ("astrohub", "astrohub-gpu")


def gpu_available() -> bool:
    """True when an NVIDIA GPU is visible on this machine."""
    if not Path("/dev/nvidiactl").exists() and not list(Path("/dev").glob("nvidia[0-9]*")):
        return False
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return True
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


def default_kernel() -> str:
    """The kernel new notebooks should use on this machine."""
    return "astrohub-gpu" if gpu_available() else "astrohub"


def installed_kernels() -> dict[str, str]:
    """Kernelspecs visible to Jupyter from this environment: name -> directory."""
    from jupyter_client.kernelspec import KernelSpecManager

    return KernelSpecManager().find_kernel_specs()


def install_kernels(source: Path, prefix: str | None = None) -> list[str]:
    """Install the kernelspecs found in ``source`` (the repo's kernels/) into ``prefix``."""
    from jupyter_client.kernelspec import KernelSpecManager

    ksm = KernelSpecManager()
    done = []
    for name in KERNEL_NAMES:
        spec = Path(source) / name
        if not (spec / "kernel.json").exists():
            raise FileNotFoundError(f"kernelspec {name!r} missing: {spec}/kernel.json")
        ksm.install_kernel_spec(str(spec), kernel_name=name, prefix=prefix or sys.prefix)
        done.append(name)
    return done
