"""The astrohub kernelspecs (CPU and GPU); GPU detection is :func:`astrohub.defaults.gpu_available`."""

from __future__ import annotations

import sys
from pathlib import Path

# GPU detection and the kernel names live in astrohub.defaults; re-exported here
from astrohub.defaults import KERNEL_NAMES, default_kernel, gpu_available

__all__ = ["KERNEL_NAMES", "default_kernel", "gpu_available", "installed_kernels", "install_kernels"]


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
