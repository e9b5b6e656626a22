"""Querying an archive: ADQL or a cone (by position or object name), and ready-made ADQL templates."""

from __future__ import annotations

from astropy.table import Table

_CUTOUT_JOIN = ("SELECT TOP {n} o.*, c.task, c.label AS true_label, c.class_name AS true_class "
                "FROM astrohub.objects AS o JOIN astrohub.cutouts AS c "
                "ON o.obj_id = c.obj_id WHERE c.task = '{task}' ORDER BY o.obj_id")
TEMPLATES = {
    "objects (first 200)": "SELECT TOP 200 * FROM astrohub.objects ORDER BY obj_id",
    "morphology cutouts": _CUTOUT_JOIN.format(n=100, task="morphology"),
    "lens candidates": _CUTOUT_JOIN.format(n=100, task="lens"),
    "transient triplets": _CUTOUT_JOIN.format(n=100, task="transient"),
    "galaxies served as g, r, i FITS images": (
        "SELECT TOP 24 o.* FROM astrohub.objects AS o JOIN astrohub.cutouts AS c ON o.obj_id = c.obj_id "
        "WHERE c.task = 'colour' AND c.bandpassId = 'r' ORDER BY o.obj_id"),
    "bright galaxies": ("SELECT TOP 200 * FROM astrohub.objects WHERE class_name != 'star' AND mag_r < 20 "
                        "ORDER BY mag_r"),
    "light curves": "SELECT TOP 100 * FROM astrohub.lightcurves ORDER BY obj_id",
    "spectra": "SELECT TOP 100 * FROM astrohub.spectra ORDER BY obj_id",
    "galaxies and QSOs (photo-z)": "SELECT TOP 500 * FROM astrohub.objects WHERE class_name IN ('galaxy', 'qso') "
                                   "ORDER BY obj_id",
    # standard (IVOA) tables any ObsCore archive publishes, and a real-survey schema (SDSS column names)
    "ObsCore images near a position": ("SELECT TOP 100 * FROM ivoa.obscore WHERE dataproduct_type = 'image' AND "
                                       "1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 150.0, 2.2, 1.0)) "
                                       "ORDER BY obs_publisher_did"),
    "SDSS-like photometry (realsurvey.specphoto) for photo-z": (
        "SELECT TOP 500 * FROM realsurvey.specphoto WHERE class IN ('GALAXY', 'QSO') ORDER BY objid"),
    "ZTF alert stamps via ObsCore": ("SELECT TOP 100 * FROM ivoa.obscore WHERE obs_collection = 'ZTF alerts' AND "
                                     "dataproduct_type = 'image' ORDER BY obs_publisher_did"),
    "Kepler/TESS light curves via ObsCore": ("SELECT TOP 100 * FROM ivoa.obscore WHERE obs_collection = 'Kepler/TESS' "
                                             "AND dataproduct_type = 'timeseries' ORDER BY target_name"),
    "Galaxy Zoo colour images via ObsCore": ("SELECT TOP 100 * FROM ivoa.obscore WHERE obs_collection = 'Galaxy Zoo 1' "
                                             "AND dataproduct_type = 'image' ORDER BY obs_publisher_did"),
}


def run_query(archive, adql: str | None = None, *, ra: float | None = None, dec: float | None = None,
              radius: float | None = None, name: str | None = None, maxrec: int | None = 1000,
              mode: str = "sync") -> Table:
    """ADQL (``adql``) or a cone (``ra``/``dec`` or an object ``name``, and ``radius`` in degrees)."""
    if adql is not None and adql.strip():
        return archive.query(adql, mode=mode, maxrec=maxrec)
    if name:
        from astrohub.vo.names import resolve

        pos = resolve(name, archive)
        ra, dec = float(pos.ra.deg), float(pos.dec.deg)
    if ra is None or dec is None or radius is None:
        raise ValueError("give an ADQL query, or a cone: ra, dec (or an object name) and a radius in degrees")
    return archive.cone(ra, dec, radius, maxrec=maxrec)
