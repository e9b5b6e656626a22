"""Named public IVOA services (usable when online) and the local archive's URLs."""

from __future__ import annotations

import os

# name -> dict of service URLs; only "tap" is required.
KNOWN_SERVICES: dict[str, dict[str, str]] = {
    "gavo": {"tap": "https://dc.g-vo.org/tap", "description": "GAVO Data Center"},
    "gaia": {"tap": "https://gea.esac.esa.int/tap-server/tap", "description": "ESA Gaia archive"},
    "mast": {"tap": "https://mast.stsci.edu/vo-tap/api/v0.1/caom", "description": "MAST CAOM"},
    "sdss": {"tap": "https://datalab.noirlab.edu/tap", "description": "SDSS via NOIRLab Data Lab"},
    "noirlab": {"tap": "https://datalab.noirlab.edu/tap", "description": "NOIRLab Astro Data Lab"},
    "simbad": {"tap": "https://simbad.cds.unistra.fr/simbad/sim-tap", "description": "CDS SIMBAD"},
}

DEFAULT_LOCAL = "http://127.0.0.1:8090"


def local_services(base_url: str | None = None) -> dict[str, str]:
    """URLs of the local DaCHS archive (``$ASTROHUB_ARCHIVE_URL`` or 127.0.0.1:8090)."""
    base = base_url or os.environ.get("ASTROHUB_ARCHIVE_URL") or DEFAULT_LOCAL
    base = base.rstrip("/")
    if base.endswith("/tap"):
        base = base[: -len("/tap")]
    q = f"{base}/astrohub/q"
    return {"tap": f"{base}/tap", "scs": f"{q}/cone/scs.xml", "sia": f"{q}/im/siap.xml",
            "ssa": f"{q}/ssa/ssap.xml", "datalink": f"{q}/dl/dlmeta", "description": "astrohub local archive"}
