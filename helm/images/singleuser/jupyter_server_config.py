# Jupyter server settings baked into the user image (/etc/jupyter).
from astrohub.defaults import KERNEL_NAMES, default_kernel

c = get_config()  # noqa: F821
c.MappingKernelManager.default_kernel_name = default_kernel()
c.KernelSpecManager.allowed_kernelspecs = set(KERNEL_NAMES)
