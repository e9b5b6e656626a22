"""The astrohub kernelspecs (CPU and GPU); GPU detection is :func:`astrohub.defaults.gpu_available`.

Both specs are installed everywhere (an image built on a CPU machine may run on a GPU node); each user
server offers ``astrohub-gpu`` only where it sees a GPU (:class:`AstrohubKernelSpecManager`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from tornado.web import HTTPError
from traitlets import Bool, default

# GPU detection and the kernel names live in astrohub.defaults; re-exported here
from astrohub.defaults import CPU_KERNEL, GPU_KERNEL, KERNEL_NAMES, default_kernel, gpu_available

__all__ = ["KERNEL_NAMES", "AstrohubKernelSpecManager", "default_kernel", "gpu_available", "installed_kernels",
           "install_kernels"]


class GPUKernelUnavailable(NoSuchKernel, HTTPError):
    """The GPU kernel asked for where there is no GPU: a KeyError to jupyter_client, a 404 with this message
    to the Jupyter server's REST API (instead of its 500 "Unhandled error")."""

    def __init__(self, name: str):
        self.message = (f"the {name} kernel needs a GPU and this machine has none: "
                        f"use the {CPU_KERNEL} kernel")
        HTTPError.__init__(self, 404, self.message.replace("%", "%%"))

    def __str__(self) -> str:
        return self.message


class AstrohubKernelSpecManager(KernelSpecManager):
    """The user servers' kernelspecs: ``astrohub-gpu`` is left out where this machine has no GPU.

    Set as ``ServerApp.kernel_spec_manager_class`` by :meth:`astrohub.hub.AstrohubHub.singleuser_args`.
    Hidden, the GPU kernel is neither listed nor started by name; a notebook saved with it asks for a
    kernel when opened, as JupyterLab does for any missing kernel.
    """

    gpu = Bool(help="Offer the astrohub-gpu kernel (default: an NVIDIA GPU is visible here).").tag(config=True)

    @default("gpu")
    def _gpu(self):
        return gpu_available()

    def get_kernel_spec(self, kernel_name: str):
        if not self.gpu and kernel_name.lower() == GPU_KERNEL:
            raise GPUKernelUnavailable(kernel_name)
        return super().get_kernel_spec(kernel_name)

    def find_kernel_specs(self) -> dict[str, str]:
        specs = super().find_kernel_specs()
        if not self.gpu:
            specs.pop(GPU_KERNEL, None)
        return specs


def installed_kernels() -> dict[str, str]:
    """Kernelspecs visible to Jupyter from this environment: name -> directory."""
    return KernelSpecManager().find_kernel_specs()


def install_kernels(source: Path, prefix: str | None = None) -> list[str]:
    """Install the kernelspecs found in ``source`` (the repo's kernels/) into ``prefix``."""
    ksm = KernelSpecManager()
    done = []
    for name in KERNEL_NAMES:
        spec = Path(source) / name
        if not (spec / "kernel.json").exists():
            raise FileNotFoundError(f"kernelspec {name!r} missing: {spec}/kernel.json")
        ksm.install_kernel_spec(str(spec), kernel_name=name, prefix=prefix or sys.prefix)
        done.append(name)
    return done
