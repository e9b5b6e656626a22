"""astrohub.vo: IVOA data access (TAP, SCS, SIA, SSA, DataLink) returning astropy Tables and tensors."""

from .archive import Archive
from .config import VOConfig
from .names import resolve
from .errors import ADQLError, JobError, MalformedResponse, RowLimitExceeded, ServiceUnreachable, VOError
from .services import KNOWN_SERVICES
from .tensors import images_to_tensor, table_to_dask, table_to_tensor

__all__ = ["Archive", "ADQLError", "JobError", "MalformedResponse", "RowLimitExceeded", "ServiceUnreachable",
           "VOError", "VOConfig", "resolve", "KNOWN_SERVICES", "images_to_tensor", "table_to_dask", "table_to_tensor"]
