"""astrohub.vo: IVOA data access (TAP, SCS, SIA, SSA, DataLink) returning astropy Tables and numpy/dask arrays.

>>> from astrohub.vo import Archive
>>> arc = Archive.local()                    # $ASTROHUB_ARCHIVE_URL or http://127.0.0.1:8090
>>> cat = arc.query("SELECT TOP 500 * FROM astrohub.objects WHERE mag_r < 20")
>>> x = arc.cutouts(cat).images              # via DataLink; rows without a cutout in .missing
>>> lens = arc.cutouts(arc.sia(150.0, 2.2, 2.0, task="lens")).array()   # float32 numpy [n, h, w]
>>> job = arc.submit("SELECT * FROM astrohub.objects")   # async, recorded; later: arc.fetch(job)

Other services: ``Archive.named("gaia")`` (KNOWN_SERVICES: Gaia, SDSS, MAST, IRSA, NOIRLab, CADC, ESO, ...),
``Archive(tap_url)``, ``Archive.discover("quasar")`` (RegTAP). Any archive's schema: :mod:`.metadata` reads what
columns are from UCDs or well-known survey names; :mod:`.obscore` discovers the rows' products (ObsCore, SIA,
DataLink). ``arc.obscore("dataproduct_type = 'timeseries'", top=10)``, ``arc.sia2(ra, dec, r)``.
Errors: ADQLError, ServiceUnreachable, RowLimitExceeded, MalformedResponse, JobError, MetadataError,
DiscoveryError.
"""

from . import metadata, obscore
from .archive import Archive
from .arrays import images_to_dask, images_to_numpy, series_to_numpy, table_to_dask, table_to_numpy
from .config import VOConfig
from .errors import (
    ADQLError,
    DiscoveryError,
    JobError,
    MalformedResponse,
    MetadataError,
    RowLimitExceeded,
    ServiceUnreachable,
    VOError,
)
from .names import resolve
from .services import KNOWN_SERVICES

__all__ = ["Archive", "metadata", "obscore", "MetadataError", "DiscoveryError",
           "ADQLError", "JobError", "MalformedResponse", "RowLimitExceeded", "ServiceUnreachable",
           "VOError", "VOConfig", "resolve", "KNOWN_SERVICES", "images_to_dask", "images_to_numpy", "series_to_numpy",
           "table_to_dask", "table_to_numpy"]
