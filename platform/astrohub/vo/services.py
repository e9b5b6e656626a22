"""Named public IVOA services (usable when online) and the local archive's URLs."""

from __future__ import annotations

import os

from astrohub.defaults import ARCHIVE_URL_ENV, DEFAULT_ARCHIVE_URL, local_archive_urls

# name -> dict of service URLs; only "tap" is required.
KNOWN_SERVICES: dict[str, dict[str, str]] = {
    "gavo": {"tap": "https://dc.g-vo.org/tap", "description": "GAVO Data Center"},
    "gaia": {"tap": "https://gea.esac.esa.int/tap-server/tap", "description": "ESA Gaia archive"},
    "mast": {"tap": "https://mast.stsci.edu/vo-tap/api/v0.1/caom", "description": "MAST CAOM"},
    "sdss": {"tap": "https://datalab.noirlab.edu/tap", "description": "SDSS via NOIRLab Data Lab"},
    "noirlab": {"tap": "https://datalab.noirlab.edu/tap", "description": "NOIRLab Astro Data Lab"},
    "simbad": {"tap": "https://simbad.cds.unistra.fr/simbad/sim-tap", "description": "CDS SIMBAD"},
}


def local_services(base_url: str | None = None) -> dict[str, str]:
    """URLs of the local DaCHS archive (``$ASTROHUB_ARCHIVE_URL`` or http://127.0.0.1:8090; a root or TAP URL),
    laid out by :func:`astrohub.defaults.local_archive_urls`."""
    base = base_url or os.environ.get(ARCHIVE_URL_ENV) or DEFAULT_ARCHIVE_URL
    return {**local_archive_urls(base), "description": "astrohub local archive"}
