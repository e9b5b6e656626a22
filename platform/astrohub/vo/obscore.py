"""Discovering the data products of table rows the way real archives publish them, in this order:

1. the rows are ObsCore records themselves (``dataproduct_type`` + ``access_url``; a DataLink
   ``access_format`` is followed to its ``#this`` link);
2. the rows are SIA / SSA records (an access URL column: SIA rows are images, SSA rows spectra);
3. the rows carry a DataLink service descriptor and an identifier: each row's links, kind from
   ``content_qualifier`` (DataLink 1.1), the service's local semantics, or the ``#this`` dataset's ObsCore
   type;
4. the archive publishes ``ivoa.obscore``: products whose ``s_ra``/``s_dec`` lie within ``radius``
   (default 1"; a table's own in its meta, :func:`match_radius`) of the rows' positions (UCD
   ``pos.eq.ra``/``pos.eq.dec``), one TAP query with the positions uploaded;
5. only then the archive-wide DataLink URL (``Archive(datalink=...)``; astrohub's demo, by ``obj_id``);
6. an archive that publishes no ObsCore: its SIA service for images and its SSA service for spectra, one query
   per position, the products centred within the radius (:func:`_by_services`).

A ``colour`` composite is a JPEG/PNG image product, or, where an archive serves each band as its own FITS image
(as SDSS, Pan-STARRS or the Legacy Surveys do), a galaxy's g, r and i images together: the link's URL is then the
tuple of the three. For catalogue rows they come from the ObsCore match (route 4), one per band (each band's
nearest, all three from one ``obs_collection``; also beside a DataLink answer, whose links say no band); a row
that is itself a single-band g, r or i image (ObsCore or SIA, its band from ``em_min``/``em_max``) gets the three
at its own position the same way (:func:`colour_of_bands`). An archive without ObsCore is asked through its SIA
service instead, one query per position.

No table or column name of a particular archive is assumed: positions and identifiers come from
:mod:`astrohub.vo.metadata`. ``locate`` returns the (row, URL) pairs of one kind; ``kinds`` what the
first rows have; ``Found.how`` says which route answered (for messages and the benchmark).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import numpy as np
from astropy.io.votable import parse as parse_votable
from astropy.table import Table
from pyvo.dal.adhoc import DatalinkResults
from pyvo.dal.exceptions import DALAccessError

from . import metadata
from .errors import MalformedResponse, VOError

OBSCORE_TABLE = "ivoa.obscore"
DATALINK_FORMAT = "content=datalink"
PRODUCT_KINDS = ("cutout", "colour", "spectrum", "lightcurve")
MATCH_RADIUS_ARCSEC = 1.0
RADIUS_META = "match_radius_arcsec"  # a table's own match radius (a target list's: pipeline.Files.in_archive sets it)
_FITS = ("application/fits", "image/fits", "application/x-fits-bintable", "application/x-fits")
_QUALIFIERS = {"#image": "cutout", "image": "cutout", "#cube": "cutout", "cube": "cutout", "#spectrum": "spectrum",
               "spectrum": "spectrum", "#timeseries": "lightcurve", "timeseries": "lightcurve"}


@dataclass
class Found:
    """Products of the rows: ``links`` are (row index, kind, url) triples, the url of a galaxy served band by band
    the tuple of its g, r and i images' URLs; ``how`` the route that found them ('obscore rows', 'sia rows',
    'datalink', 'obscore match'; '' when none answered)."""

    links: list[tuple[int, str, str | tuple[str, ...]]] = field(default_factory=list)
    how: str = ""

    def of(self, kind: str, n_rows: int) -> tuple[list[tuple[int, str]], list[int]]:
        """(row, url) pairs of ``kind`` (the first product per row) and the rows without one."""
        first: dict[int, str] = {}
        for r, k, u in self.links:
            if k == kind and r not in first:
                first[r] = u
        return sorted(first.items()), [r for r in range(n_rows) if r not in first]

    def kinds_of_all(self, n_rows: int) -> set[str]:
        """Kinds every one of the ``n_rows`` rows has."""
        if n_rows == 0:
            return set()
        per = [set() for _ in range(n_rows)]
        for r, k, _u in self.links:
            if 0 <= r < n_rows and k:
                per[r].add(k)
        return set.intersection(*per) & set(PRODUCT_KINDS)


def obscore_table(archive) -> str | None:
    """The service's ObsCore table: the one declared (``Archive(obscore=...)``, KNOWN_SERVICES), else
    ``ivoa.obscore`` when its TAP_SCHEMA lists it (asked once per Archive); None when there is none, or when the TAP
    URL answers no TAP_SCHEMA query (an HTTP error: no TAP service there, e.g. an SIA-only archive)."""
    declared = archive.urls.get("obscore")
    if declared:
        return declared
    if getattr(archive, "_obscore_table", "?") == "?":
        try:
            names = {t.lower(): t for t in archive.tables()}
            archive._obscore_table = names.get(OBSCORE_TABLE)
        except (VOError, DALAccessError):
            archive._obscore_table = None
    return archive._obscore_table


def publishes_obscore(archive) -> bool:
    """Whether the service has an ObsCore table (see :func:`obscore_table`)."""
    return obscore_table(archive) is not None


def _column(table: Table, name: str) -> str | None:
    return next((c for c in table.colnames if c.lower() == name), None)


def _strings(table: Table, col: str) -> list[str]:
    return [str(v) for v in np.ma.filled(np.ma.asarray(table[col]).astype(str), "")]


def _parse_datalink(content: bytes, url: str) -> Table:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return DatalinkResults(parse_votable(io.BytesIO(content))).to_table()
    except Exception as e:  # noqa: BLE001 - any parse failure is a malformed answer
        raise MalformedResponse(f"the DataLink answer from {url} is not a valid VOTable: {e}") from None


def link_kind(link, default: str | None = None) -> str | None:
    """The kind of product a DataLink row points at: DataLink 1.1 ``content_qualifier``, else the
    service's ``local_semantics`` naming a kind, else ``default`` for a FITS ``#this`` (the dataset itself).
    An image in JPEG or PNG (``content_type``) is a ``colour`` composite, and so is a JPEG/PNG ``#this`` of an
    image record or of a row of unknown kind."""
    names = link.colnames if hasattr(link, "colnames") else link.keys()

    def get(name):
        return str(link[name] or "").strip() if name in names else ""
    if get("error_message"):
        return None
    ctype = get("content_type").lower()
    colour = ctype.startswith(metadata.COLOUR_FORMATS)
    q = get("content_qualifier").lower()
    if q in _QUALIFIERS:
        return "colour" if colour and _QUALIFIERS[q] == "cutout" else _QUALIFIERS[q]
    local = get("local_semantics").lower()
    if local in PRODUCT_KINDS:
        return local
    if get("semantics") == "#this" and colour:
        return "colour" if default in (None, "cutout", "colour") else None
    if get("semantics") == "#this" and (ctype.startswith(_FITS) or not ctype):
        return default
    return None


def _this_urls(archive, links: Table, default: dict[int, str | None]) -> list[tuple[int, str, str]]:
    """(row, kind, url) of the DataLink rows that are products (see :func:`link_kind`)."""
    out = []
    for i in range(len(links)):
        row = int(links["row"][i])
        kind = link_kind(links[i], default.get(row))
        if kind:
            out.append((row, kind, str(links["access_url"][i])))
    return out


def _follow_datalink_documents(archive, rows: list[int], urls: list[str], kinds: list[str | None]):
    """ObsCore rows whose access_url is a DataLink document: their ``#this`` FITS link. Documents of the form
    ``<endpoint>?ID=<id>`` are asked for in batches (DataLink takes many IDs: 50 a request, per endpoint);
    any other URL, or an ID the batch did not answer, is fetched on its own."""
    from .products import DL_BATCH, _get

    out, single = [], []
    groups: dict[str, list[tuple[int, str, str | None]]] = {}
    for r, u, k in zip(rows, urls, kinds):
        parts = urlsplit(u)
        q = parse_qs(parts.query)
        if set(q) == {"ID"} and len(q["ID"]) == 1:
            groups.setdefault(urlunsplit(parts._replace(query="")), []).append((r, q["ID"][0], k))
        else:
            single.append((r, u, k))
    for endpoint, items in groups.items():
        by_id: dict[str, list[int]] = {}
        for r, i, _k in items:  # each identifier asked for once; every row that names it gets its links
            by_id.setdefault(i, []).append(r)
        kind_of = {r: k for r, _i, k in items}
        ids_ = list(by_id)
        for start in range(0, len(ids_), DL_BATCH):
            chunk = ids_[start:start + DL_BATCH]
            links = _parse_datalink(_get(archive, endpoint, params=[("ID", i) for i in chunk]), endpoint)
            ids = [str(v) for v in links["ID"]] if "ID" in links.colnames else [""] * len(links)
            pairs = [(j, r) for j, i in enumerate(ids) for r in by_id.get(i, [])]
            links = links[np.array([j for j, _r in pairs], dtype=np.int64)]
            links["row"] = np.array([r for _j, r in pairs], np.int64)
            got = _this_urls(archive, links, kind_of)
            out += got
            answered = {r for r, _k, _u in got}
            single += [(r, f"{endpoint}?{urlencode({'ID': i})}", kind_of[r]) for i in chunk for r in by_id[i]
                       if r not in answered]
    for r, u, k in single:
        links = _parse_datalink(_get(archive, u), u)
        links["row"] = np.full(len(links), r, np.int64)
        out += _this_urls(archive, links, {r: k})
    return out


def _follow(archive, table: Table, rows: list[int], urls: list[str], kinds: list[str | None]):
    """ObsCore records whose access_url is a DataLink document: their ``#this`` links (batched per endpoint)."""
    return _follow_datalink_documents(archive, rows, urls, kinds)


def from_obscore_rows(archive, table: Table, wanted: tuple[str, ...] = PRODUCT_KINDS) -> Found:
    """Products of ObsCore records: dataproduct_type gives the kind, access_url the file (or DataLink); when
    ``colour`` is ``wanted``, single-band g, r, i images also get their galaxy's three (:func:`colour_of_bands`)."""
    kinds = metadata.obscore_kinds(table)
    urls = _strings(table, _column(table, "access_url"))
    fmt_col = _column(table, "access_format")
    fmts = _strings(table, fmt_col) if fmt_col else [""] * len(table)
    direct = [(i, k, u) for i, (k, u, f) in enumerate(zip(kinds, urls, fmts))
              if k and u.startswith(("http://", "https://")) and DATALINK_FORMAT not in f.lower()]
    dl = [i for i, (u, f) in enumerate(zip(urls, fmts)) if DATALINK_FORMAT in f.lower() and u]
    direct += _follow(archive, table, dl, [urls[i] for i in dl], [kinds[i] for i in dl])
    found = Found(sorted(direct), "obscore rows")
    if "colour" in wanted:  # after the rows' own products: a served JPEG/PNG composite comes first
        found.links += colour_of_bands(archive, table, [i for i, k in enumerate(kinds) if k == "cutout"]).links
    return found


def colour_of_bands(archive, table: Table, rows: list[int] | None = None) -> Found:
    """Colour products of ``rows`` (default all) that are single-band g, r or i images (their band from
    :func:`astrohub.vo.metadata.bands`): the g, r and i images within :func:`match_radius` of each one's position
    (:func:`_colour_matches`: the archive's ObsCore, else its SIA service); empty when none is a g, r or i image or
    the archive offers neither."""
    b = metadata.bands(table)
    return Found(_colour_matches(archive, table, [i for i in (range(len(table)) if rows is None else rows) if b[i]]),
                 "obscore match")


def _colour_by_position(archive, table: Table, found: Found) -> Found:
    """``found`` and, for rows it gives no colour product, their g, r, i images by position (:func:`_colour_matches`:
    ObsCore, else SIA; DataLink links say no band, so a galaxy served band by band is only seen as such there)."""
    have = {r for r, k, _u in found.links if k == "colour"}
    found.links += _colour_matches(archive, table, [i for i in range(len(table)) if i not in have])
    return found


def _colour_matches(archive, table: Table, rows: list[int]) -> list[tuple[int, str, tuple]]:
    """(row, "colour", (g, r, i URLs)) for those of ``rows`` whose position has the three in ObsCore (one TAP
    query, :func:`match_positions`), or, where the archive publishes no ObsCore, in its SIA service
    (:func:`_colour_by_sia`)."""
    if not rows or archive is None or metadata.position(table) is None:
        return []
    if not publishes_obscore(archive):
        return _colour_by_sia(archive, table, rows)
    m = match_positions(archive, table[rows], ("colour",))
    return [(rows[r], k, u) for r, k, u in m.links if k == "colour" and isinstance(u, tuple)]


def _positions(table: Table, pos: tuple[str, str], rows) -> dict[tuple[float, float], list[int]]:
    """The distinct positions (to 1e-6 deg) of ``rows`` of ``table`` (RA/Dec columns ``pos``; rows without one left
    out), each with the rows there: one service query per position."""
    ra, dec = (np.ma.filled(np.ma.asarray(table[c], np.float64), np.nan) for c in pos)
    at: dict[tuple[float, float], list[int]] = {}
    for r in rows:
        if np.isfinite(ra[r]) and np.isfinite(dec[r]):
            at.setdefault((round(float(ra[r]), 6), round(float(dec[r]), 6)), []).append(r)
    return at


def _near(got: Table, ra: float, dec: float, radius: float) -> list[int] | None:
    """Rows of a service's answer ``got`` centred within ``radius`` arcsec of (ra, dec), nearest first; None when its
    rows give no position."""
    p = metadata.position(got)
    if p is None:
        return None
    sep = np.degrees(_sep(np.asarray(got[p[0]], float), np.asarray(got[p[1]], float), ra, dec)) * 3600.0
    return [int(i) for i in np.argsort(sep, kind="stable") if sep[i] <= radius]


def _colour_by_sia(archive, table: Table, rows: list[int]) -> list[tuple[int, str, tuple]]:
    """:func:`_colour_matches` for an archive without ObsCore but with an SIA service: one SIA query per position
    of ``rows`` (a box of twice :func:`match_radius`), each band's nearest image within that radius, the three
    from one collection where the answer names collections (:func:`_band_triples`). Per position, so a worker's
    chunk of the rows gets what the whole table gets."""
    from .products import _row_urls

    pos, radius = metadata.position(table), match_radius(table)
    if not archive.urls.get("sia") or pos is None:
        return []
    out = []
    for (a, d), owners in _positions(table, pos, rows).items():
        got = archive.sia(a, d, 2 * radius / 3600.0)
        urls = _row_urls(got)
        if not len(got) or urls is None or (near := _near(got, a, d, radius)) is None:
            continue
        col = _column(got, "obs_collection")
        collection = _strings(got, col) if col else [""] * len(got)
        trio = _band_triples([(i, "cutout", urls[i]) for i in near], metadata.bands(got), [0] * len(got), collection)
        out += [(o, "colour", trio[0][2]) for o in owners] if trio else []
    return out


SERVICES = (("cutout", "sia"), ("spectrum", "ssa"))  # without ObsCore, a position finds images by SIA, spectra by SSA


def _by_services(archive, table: Table, kinds: tuple[str, ...]) -> list[tuple[int, str, str]]:
    """(row, kind, url) for an archive that publishes no ObsCore: per distinct position of ``table``, one SIA query
    (cutouts) and one SSA query (spectra), a box / diameter of twice :func:`match_radius`, keeping the products centred
    within that radius, nearest first (an answer whose rows give no position: all of it, in the service's order).
    Per position, so a worker's chunk of the rows gets what the whole table gets."""
    from .products import _row_urls

    pos, radius = metadata.position(table), match_radius(table)
    services = [(k, svc) for k, svc in SERVICES if k in kinds and archive.urls.get(svc)]
    if pos is None or not services:
        return []
    out = []
    for (a, d), owners in _positions(table, pos, range(len(table))).items():
        for kind, svc in services:
            got = getattr(archive, svc)(a, d, 2 * radius / 3600.0)
            urls = _row_urls(got)
            if not len(got) or urls is None:
                continue
            near = _near(got, a, d, radius)
            out += [(o, kind, urls[i]) for o in owners for i in (range(len(got)) if near is None else near)]
    return sorted(out, key=lambda link: link[0])  # per row, nearest first (a stable sort)


def _band_triples(links, bands: list[str | None], owner: list[int], collection: list[str]):
    """(row, "colour", (g url, r url, i url)) per uploaded row: its nearest single-band FITS image in each band
    (``links`` nearest first), the three from one collection (of those that have all three, the one with the
    nearest image): bands of different surveys are not mixed."""
    per: dict[tuple[int, str], dict[str, str]] = {}
    for i, k, u in links:
        if k == "cutout" and bands[i]:
            per.setdefault((owner[i], collection[i]), {}).setdefault(bands[i], u)
    out, done = [], set()
    for (row, _c), urls in per.items():
        if len(urls) == len(metadata.OPTICAL_BANDS) and row not in done:
            out.append((row, "colour", tuple(urls[b] for b in metadata.OPTICAL_BANDS)))
            done.add(row)
    return out


def from_datalink(archive, table: Table, id_column: str | None = None) -> Found:
    """Products through the rows' DataLink service (see :func:`astrohub.vo.products.datalinks`)."""
    from .products import datalinks

    links = datalinks(archive, table, id_column)
    default = {}
    if metadata.is_obscore(table):
        default = dict(enumerate(metadata.obscore_kinds(table)))
    return Found(_this_urls(archive, links, default), "datalink")


def match_radius(table: Table) -> float:
    """The radius (arcsec) within which ``table``'s positions find products: its own (``meta[RADIUS_META]``, which
    slices of it keep), else :data:`MATCH_RADIUS_ARCSEC`."""
    return float(table.meta.get(RADIUS_META, MATCH_RADIUS_ARCSEC))


def match_positions(archive, table: Table, kinds: tuple[str, ...] = PRODUCT_KINDS,
                    radius_arcsec: float | None = None) -> Found:
    """Products in ``ivoa.obscore`` centred within ``radius_arcsec`` (default :func:`match_radius`) of each row's
    position (nearest first);
    DataLink access URLs are followed to their ``#this`` link. Asked for ``colour``, a row also gets the g, r and
    i FITS images found for it, as one link whose URL is the tuple of the three (:func:`_band_triples`)."""
    pos = metadata.position(table)
    if pos is None:
        return Found()
    ra, dec = (np.ma.filled(np.ma.asarray(table[c], np.float64), np.nan) for c in pos)
    ok = np.isfinite(ra) & np.isfinite(dec)
    if not ok.any():
        return Found()
    up = Table({"row_idx": np.nonzero(ok)[0].astype(np.int64), "ra": ra[ok], "dec": dec[ok]})
    wanted = set(kinds) | ({"cutout"} if "colour" in kinds else set())  # colour composites are ObsCore images
    types = sorted({t for t, k in metadata.OBSCORE_KINDS.items() if k in wanted})
    r = (match_radius(table) if radius_arcsec is None else radius_arcsec) / 3600.0
    adql = ("SELECT u.row_idx, o.dataproduct_type, o.access_url, o.access_format, o.obs_publisher_did, "
            "o.obs_collection, o.em_min, o.em_max, o.s_ra, o.s_dec, u.ra AS u_ra, u.dec AS u_dec "
            f"FROM {obscore_table(archive)} AS o JOIN TAP_UPLOAD.ah_targets AS u "
            f"ON 1=CONTAINS(POINT('ICRS', o.s_ra, o.s_dec), CIRCLE('ICRS', u.ra, u.dec, {r!r})) "
            f"WHERE o.dataproduct_type IN ({', '.join(repr(t) for t in types)})")
    got = archive.query(adql, upload={"ah_targets": up}, maxrec=max(1000, 50 * len(up)))
    if len(got) == 0:
        return Found(how="obscore match")
    d = _sep(np.asarray(got["s_ra"], float), np.asarray(got["s_dec"], float), np.asarray(got["u_ra"], float),
             np.asarray(got["u_dec"], float))
    order = np.lexsort((_strings(got, "obs_publisher_did"), d, np.asarray(got["row_idx"])))
    got = got[order]
    kinds_ = metadata.obscore_kinds(got)
    urls, fmts = _strings(got, "access_url"), _strings(got, "access_format")
    rows = [int(v) for v in got["row_idx"]]
    links = [(i, k, u) for i, (k, u, f) in enumerate(zip(kinds_, urls, fmts)) if k and DATALINK_FORMAT not in f.lower()]
    dl = [i for i, f in enumerate(fmts) if DATALINK_FORMAT in f.lower()]
    links += _follow(archive, got, dl, [urls[i] for i in dl], [kinds_[i] for i in dl])
    links.sort(key=lambda t: t[0])  # by the matches' order: nearest first per row (a stable sort)
    found = Found([(rows[i], k, u) for i, k, u in links], "obscore match")
    if "colour" in kinds:
        found.links += _band_triples(links, metadata.bands(got), rows, _strings(got, "obs_collection"))
    return found


def _sep(ra1, dec1, ra2, dec2):
    ra1, dec1, ra2, dec2 = (np.radians(x) for x in (ra1, dec1, ra2, dec2))
    h = np.sin((dec2 - dec1) / 2) ** 2 + np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2
    return 2 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def _has_access_urls(table: Table) -> bool:
    from .products import _row_urls

    return _row_urls(table) is not None


def _has_datalink(archive, table: Table, id_column: str | None) -> bool:
    url = table.meta.get("datalink_url") or archive.urls.get("datalink")
    col = id_column or table.meta.get("datalink_id") or metadata.id_column(table)
    return bool(url and col and col in table.colnames)


def discover(archive, table: Table, kinds: tuple[str, ...] = PRODUCT_KINDS, id_column: str | None = None,
             radius_arcsec: float | None = None) -> Found:
    """The rows' products by the first route that applies (module docstring); an empty Found when none
    does. ``id_column`` forces DataLink with that identifier."""
    if len(table) == 0:
        return Found()
    if id_column is None and metadata.is_obscore(table):
        return from_obscore_rows(archive, table, kinds)
    if id_column is None and _has_access_urls(table):
        return Found(how="sia rows")  # products.py reads these rows' own URLs
    found = Found()
    own = table.meta.get("datalink_url") and _has_datalink(archive, table, id_column)
    if id_column is not None or own:  # the rows' own DataLink service (or the one the caller names)
        found = from_datalink(archive, table, id_column)
        if id_column is not None or any(k in kinds for _r, k, _u in found.links):
            return _colour_by_position(archive, table, found) if "colour" in kinds else found
    if publishes_obscore(archive):
        matched = match_positions(archive, table, kinds, radius_arcsec)
        if matched.links:
            return matched
    if not own and _has_datalink(archive, table, id_column):  # the archive's DataLink (astrohub's demo: obj_id)
        return from_datalink(archive, table, id_column)
    if not publishes_obscore(archive) and (near := _by_services(archive, table, kinds)):  # SIA images, SSA spectra
        found = Found(found.links + near, found.how or "sia/ssa match")
    if "colour" in kinds and not publishes_obscore(archive):  # (with ObsCore, match_positions looked above)
        return _colour_by_position(archive, table, found)  # galaxies served band by band, found through SIA
    return found
