"""``python -m astrohub.compute.worker``: ``dask worker`` with astrohub's torch settings.

Used where Dask's own launcher starts workers (dask-gateway), so that the nanny does not
export ``MALLOC_TRIM_THRESHOLD_`` (see :func:`astrohub.compute.cluster.torch_dask_config`).
"""

import dask
from distributed.cli.dask_worker import main

from astrohub.compute.cluster import torch_dask_config

if __name__ == "__main__":
    dask.config.set(torch_dask_config())
    main()
