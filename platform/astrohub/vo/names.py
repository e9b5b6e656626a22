"""Object names to positions: local ``obj-<id>`` names via the archive, others via SIMBAD (astroquery)."""

from __future__ import annotations

import re

from astropy.coordinates import SkyCoord

from .errors import ServiceUnreachable

_LOCAL = re.compile(r"^obj-(\d+)$")


def resolve(name: str, archive=None) -> SkyCoord:
    """ICRS position of ``name``: ``obj-<id>`` from ``archive`` (the demo catalogue), else SIMBAD (online)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("name must be a non-empty object name, e.g. 'obj-42' or 'M 31'")
    m = _LOCAL.match(name.strip())
    if m:
        if archive is None:
            raise ValueError(f"{name!r} is a demo-survey name: pass archive=Archive.local()")
        t = archive.query(f"SELECT ra, dec FROM astrohub.objects WHERE obj_id = {int(m.group(1))}")
        if len(t) == 0:
            raise ValueError(f"no object {name!r} in astrohub.objects (obj_id runs from 1 to the catalogue size)")
        return SkyCoord(float(t["ra"][0]), float(t["dec"][0]), unit="deg", frame="icrs")
    from astroquery.simbad import Simbad  # astroquery is the better client for SIMBAD's name resolver

    try:
        t = Simbad.query_object(name)
    except Exception as e:  # noqa: BLE001 - offline or service failure
        raise ServiceUnreachable(f"SIMBAD could not be asked about {name!r} ({type(e).__name__}); name "
                                 "resolution needs the internet: give coordinates instead") from None
    if t is None or len(t) == 0:
        raise ValueError(f"SIMBAD does not know {name!r}")
    ra = "ra" if "ra" in t.colnames else "RA"
    dec = "dec" if "dec" in t.colnames else "DEC"
    return SkyCoord(t[ra][0], t[dec][0], unit=("deg", "deg") if ra == "ra" else ("hourangle", "deg"), frame="icrs")
