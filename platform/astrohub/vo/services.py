"""Named public IVOA services (usable when online) and the local archive's URLs."""

from __future__ import annotations

import os

from astrohub.defaults import ARCHIVE_URL_ENV, DEFAULT_ARCHIVE_URL, local_archive_urls

# name -> the service's IVOA endpoints (usable when online); only "tap" is required.
#   tap       TAP base URL              obscore  the ObsCore table on that TAP service (discovery of products)
#   sia2      SIA v2 query URL          ssa      SSA query URL
#   datalink  DataLink links endpoint   scs      cone search
# Sources: the services' own capabilities documents and astroquery's configuration (ipac.irsa, cadc, gaia).
KNOWN_SERVICES: dict[str, dict[str, str]] = {
    "gaia": {"tap": "https://gea.esac.esa.int/tap-server/tap",
             "datalink": "https://gea.esac.esa.int/data-server/datalink/links",
             "description": "ESA Gaia archive (gaiadr3.gaia_source; epoch photometry and XP spectra via DataLink)"},
    "sdss": {"tap": "https://datalab.noirlab.edu/tap",
             "description": "SDSS (sdss_dr17.* tables) via NOIRLab Astro Data Lab"},
    "noirlab": {"tap": "https://datalab.noirlab.edu/tap",
                "description": "NOIRLab Astro Data Lab (Legacy Surveys ls_dr*, DES, SMASH, SDSS)"},
    "mast": {"tap": "https://mast.stsci.edu/vo-tap/api/v0.1/caom", "obscore": "ivoa.obscore",
             "description": "MAST CAOM (HST, JWST, Kepler, K2, TESS, GALEX products in ivoa.obscore)"},
    "irsa": {"tap": "https://irsa.ipac.caltech.edu/TAP", "obscore": "ivoa.obscore",
             "sia2": "https://irsa.ipac.caltech.edu/SIA", "ssa": "https://irsa.ipac.caltech.edu/SSA",
             "description": "NASA/IPAC Infrared Science Archive (ZTF, WISE, 2MASS, Spitzer)"},
    "cadc": {"tap": "https://www.cadc-ccda.hia-iha.nrc-cnrc.gc.ca/argus", "obscore": "ivoa.obscore",
             "datalink": "https://www.cadc-ccda.hia-iha.nrc-cnrc.gc.ca/caom2ops/datalink",
             "description": "Canadian Astronomy Data Centre (CAOM; CFHT, HST, MACHO, ...)"},
    "eso": {"tap": "https://archive.eso.org/tap_obs", "obscore": "ivoa.ObsCore",
            "ssa": "https://archive.eso.org/ssap",
            "description": "ESO Science Archive (Phase 3 products in ivoa.ObsCore)"},
    "gavo": {"tap": "https://dc.g-vo.org/tap", "obscore": "ivoa.obscore", "description": "GAVO Data Center"},
    "simbad": {"tap": "https://simbad.cds.unistra.fr/simbad/sim-tap", "description": "CDS SIMBAD"},
}
ENDPOINTS = ("tap", "obscore", "sia2", "ssa", "datalink", "scs", "sia")


def local_services(base_url: str | None = None) -> dict[str, str]:
    """URLs of the local DaCHS archive (``$ASTROHUB_ARCHIVE_URL`` or http://127.0.0.1:8090; a root or TAP URL),
    laid out by :func:`astrohub.defaults.local_archive_urls`."""
    base = base_url or os.environ.get(ARCHIVE_URL_ENV) or DEFAULT_ARCHIVE_URL
    return {**local_archive_urls(base), "description": "astrohub local archive"}
