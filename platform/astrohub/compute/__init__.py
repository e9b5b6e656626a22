"""astrohub.compute: Dask clusters for torch, sharded inference and data-parallel training.

>>> from astrohub import compute
>>> client = compute.cluster()                      # gateway, LocalCUDACluster or LocalCluster
>>> pred = compute.predict("galaxy_morphology", compute.Simulated("morphology", 10_000, seed=1))
>>> model = compute.fit("galaxy_morphology", compute.Simulated("morphology", 4_000, seed=7), workers=2)
"""

from .cluster import cluster, torch_dask_config
from .inference import BlockError, predict
from .sources import Simulated
from .training import fit

__all__ = ["cluster", "torch_dask_config", "predict", "BlockError", "Simulated", "fit"]
