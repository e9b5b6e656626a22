"""Fetching data products (FITS images and tables, JPEG/PNG colour composites) for table rows, directly or via
DataLink.

Downloads go through the archive's retry policy and land in the on-disk cache
first (atomically), so an interrupted fetch resumes where it stopped and never
returns a silently shortened result: either every requested product is there,
or an error says how many arrived and how to get the rest.
"""

from __future__ import annotations

import io
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np
import requests
from astropy.io import fits
from astropy.io.votable import parse as parse_votable
from astropy.table import Table
from astropy.units import UnitsWarning
from pyvo.dal.adhoc import DatalinkResults
from tqdm.auto import tqdm

from ..defaults import (
    gunzip_limited,
    header_band,
    is_colour_file,
    is_spectral_column,
    is_time_column,
    is_votable_file,
    oversized_image,
    spectrum_table,
    votable_table,
)
from . import arrays, metadata, obscore
from .errors import DiscoveryError, MalformedResponse, ServiceUnreachable
from .retry import is_transient, with_retries

URL_COLUMNS = ("access_url", "accref", "acref")
DL_BATCH = 50


@dataclass
class ImageSet:
    """Images (one numpy array per product) with their FITS headers, source row indices and URLs."""

    images: list[np.ndarray]
    headers: list[fits.Header]
    rows: np.ndarray
    urls: list[str]
    missing: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)

    def array(self, normalize: str = "none") -> np.ndarray:
        """A float32 numpy array [n, (planes,) h, w] of the stacked images, in fetch order;
        ``normalize``: "none" or "zscore" (see :mod:`astrohub.vo.arrays`)."""
        return arrays.images_to_numpy(self.images, normalize)

    def to_dask(self, normalize: str = "none", chunk: int = 64):
        """A dask array of the stacked, normalised images, ``chunk`` images per block."""
        return arrays.images_to_dask(self.images, normalize, chunk)

    def in_row_order(self) -> np.ndarray:
        """The images stacked [n, ...] in the order of the rows they came from."""
        return self.array()[np.argsort(self.rows, kind="stable")]

    def header_values(self, keyword: str) -> np.ndarray:
        """A numeric FITS keyword of each image, in row order (NaN where a header lacks it)."""
        vals = [h.get(keyword) for h in self.headers]
        out = np.array([float(v) if isinstance(v, (int, float)) else np.nan for v in vals])
        return out[np.argsort(self.rows, kind="stable")]


@dataclass
class TableSet:
    """FITS binary tables (spectra, light curves) with headers, source row indices and URLs."""

    tables: list[Table]
    headers: list[fits.Header]
    rows: np.ndarray
    urls: list[str]
    missing: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.tables)

    def array(self, columns: tuple[str, ...] | str = "FLUX", normalize: str = "none") -> np.ndarray:
        """A float32 numpy array [n, len(columns), n_samples] (or [n, n_samples] for one column name);
        ``normalize``: "none", "median" or "zscore" (see :mod:`astrohub.vo.arrays`)."""
        return arrays.series_to_numpy(self.tables, columns, normalize)

    def in_row_order(self) -> list[Table]:
        """The tables in the order of the rows they came from."""
        return [self.tables[i] for i in np.argsort(self.rows, kind="stable")]


@dataclass
class ColourSet:
    """Colour images with source row indices and URLs: a JPEG/PNG composite as served (the file's bytes), or, where
    the archive serves each band as its own FITS image, the galaxy's g, r and i cutouts (a list of three HDULists,
    its URL the tuple of theirs); the colour models read either."""

    files: list[bytes | list[fits.HDUList]]
    rows: np.ndarray
    urls: list[str | tuple[str, str, str]]
    missing: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.files)

    def in_row_order(self) -> list[bytes | list[fits.HDUList]]:
        """The images in the order of the rows they came from."""
        return [self.files[i] for i in np.argsort(self.rows, kind="stable")]


def _row_urls(table: Table) -> list[str] | None:
    for name in URL_COLUMNS:
        if name in table.colnames:
            vals = [str(v) for v in table[name]]
            if vals and all(v.startswith(("http://", "https://")) for v in vals):
                return vals
    return None


def _datalink_target(archive, table: Table, id_column: str | None):
    url = table.meta.get("datalink_url") or archive.urls.get("datalink")
    col = id_column or table.meta.get("datalink_id") or metadata.id_column(table)
    if not url or not col:
        raise DiscoveryError("these rows have no access URL column (access_url/accref) and no DataLink service "
                             "is known: query a table with products (e.g. ivoa.obscore), or pass id_column= and an "
                             "Archive with datalink=...")
    if col not in table.colnames:
        raise ValueError(f"id column {col!r} is not in the table (columns: {', '.join(table.colnames)})")
    return url, col


def _get(archive, url: str, params=None) -> bytes:
    def once():
        r = archive.session.get(url, params=params, timeout=archive.timeout)
        r.raise_for_status()
        return r.content
    try:
        return with_retries(once, archive.retries, archive.backoff)
    except requests.RequestException as e:
        if is_transient(e):
            raise ServiceUnreachable(f"{archive.name} did not answer {url} after {archive.retries} retries "
                                     f"({type(e).__name__}); check the service (`astrohub archive status` for "
                                     "the local one) and run the call again") from None
        raise


def datalinks(archive, table: Table, id_column: str | None = None) -> Table:
    """One row per DataLink link and input row for all rows of ``table``; column ``row`` maps back to the input row
    (each identifier is asked for once: rows of the same object, as a JOIN gives them, each get its links)."""
    url, col = _datalink_target(archive, table, id_column)
    rows_of: dict[str, list[int]] = {}
    for k, v in enumerate(table[col]):
        rows_of.setdefault(str(v), []).append(k)
    ids = list(rows_of)
    parts = []
    for start in range(0, len(ids), DL_BATCH):
        chunk = ids[start:start + DL_BATCH]
        content = _get(archive, url, params=[("ID", i) for i in chunk])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = DatalinkResults(parse_votable(io.BytesIO(content)))
        except Exception as e:  # noqa: BLE001 - any parse failure is a malformed answer
            raise MalformedResponse(f"the DataLink answer from {url} is not a valid VOTable: {e}") from None
        t = res.to_table()
        pairs = [(j, r) for j, v in enumerate(t["ID"]) for r in rows_of.get(str(v).rsplit("?", 1)[-1], [-1])]
        t = t[np.array([j for j, _r in pairs], dtype=np.int64)]
        t["row"] = np.array([r for _j, r in pairs], dtype=np.int64)
        parts.append(t)
    if not parts:
        return Table(names=("ID", "access_url", "row"), dtype=(str, str, np.int64))
    from astropy.table import vstack
    return vstack(parts, metadata_conflicts="silent")


def _targets(archive, table: Table, kind: str, id_column: str | None):
    """(row index, url) pairs and rows without a product of this kind (routes: :mod:`astrohub.vo.obscore`)."""
    if len(table) == 0:
        return [], []
    direct = _row_urls(table)
    if direct is not None and id_column is None and not metadata.is_obscore(table):
        if kind == "colour" and any(metadata.bands(table)):  # single-band SIA images: each galaxy's g, r, i
            return obscore.colour_of_bands(archive, table).of(kind, len(table))
        return list(enumerate(direct)), []
    return obscore.discover(archive, table, (kind,), id_column).of(kind, len(table))


def _download_all(archive, urls: list[str], what: str) -> list[bytes]:
    out, done = [], 0
    bar = tqdm(total=len(urls), desc=f"{archive.name}: {what}", disable=not archive.progress or len(urls) < 20,
               leave=False)
    try:
        for url in urls:
            path = archive.cache.cached_file(url)
            if path is not None:
                out.append(path.read_bytes())
            else:
                try:
                    data = _get(archive, url)
                except ServiceUnreachable as e:
                    raise ServiceUnreachable(f"{e}. {done} of {len(urls)} {what} were fetched and are cached; "
                                             "calling again fetches only the rest") from None
                archive.cache.put_file(url, data)  # atomic; a cache that cannot be written only warns
                out.append(data)
            done += 1
            bar.update(1)
            if archive_hook := getattr(archive, "_on_product", None):
                archive_hook(done)
    finally:
        bar.close()
    return out


def open_fits(data: bytes, url: str):
    """A FITS product's bytes (gzipped or not) opened and verified; a MalformedResponse naming ``url`` when it cannot
    be read, or declares an image too large to hold."""
    try:
        data = gunzip_limited(data)
    except ValueError as e:
        raise MalformedResponse(f"{url} is refused: {e}") from None
    except zlib.error:
        pass  # not gzip after all: astropy says what it is not
    try:
        hdul = fits.open(io.BytesIO(data), memmap=False)
        hdul.verify("exception")
    except Exception as e:  # noqa: BLE001 - any failure here is a malformed product
        raise MalformedResponse(f"{url} is not a readable FITS file ({type(e).__name__}: {e}); "
                                "the product may be damaged: clear it with archive.cache.clear() and retry") from None
    if why := oversized_image(hdul):
        raise MalformedResponse(f"{url} is refused: {why}")
    return hdul


PRODUCT_KINDS = obscore.PRODUCT_KINDS
PRODUCT_NAMES = {"cutout": "cutout", "colour": "colour image (JPEG/PNG, or g, r, i FITS images)",
                 "lightcurve": "light curve", "spectrum": "spectrum"}  # for messages


def table_kind(names, ucds) -> str | None:
    """A product table's kind from its column names or UCDs: a time axis makes a light curve, a spectral one a
    spectrum."""
    pairs = list(zip(names, ucds))
    if any(is_time_column(n, u) for n, u in pairs):
        return "lightcurve"
    return "spectrum" if any(is_spectral_column(n, u) for n, u in pairs) else None


def fits_kind(hdul) -> str | None:
    """An opened FITS product's kind: its first binary table's (:func:`table_kind`), or its first image's (a
    ``spectrum`` when it holds wavelengths, else a ``cutout``); None when it has neither."""
    for h in hdul:
        if isinstance(h, fits.BinTableHDU):
            return table_kind(h.columns.names, [h.header.get(f"TUCD{k + 1}") for k in range(len(h.columns))])
        if h.is_image and h.data is not None:  # a 1-D image with wavelengths in its header is a spectrum
            try:
                return "spectrum" if spectrum_table(hdul) is not None else "cutout"
            except ValueError:  # spectra, but several in one file: fetch_tables names it
                return "spectrum"
    return None


def _fits_spectrum(hdul, url: str) -> Table | None:
    try:
        return spectrum_table(hdul)
    except ValueError as e:
        raise MalformedResponse(f"{url} is refused: {e}") from None


def _open_votable(data: bytes, url: str) -> Table:
    """The first table of a VOTable product (a spectrum or light curve in IVOA's data models), columns named by their
    names, UCDs and units kept; a MalformedResponse naming the URL when it is not one."""
    try:
        return votable_table(data)
    except Exception as e:  # noqa: BLE001 - any failure here is a malformed product
        raise MalformedResponse(f"{url} is not a readable VOTable ({type(e).__name__}: {e})") from None


def product_kind(data: bytes, url: str) -> str | None:
    """A product's kind from its bytes (``colour``, ``cutout``, ``spectrum``, ``lightcurve``; None: none of these); a
    MalformedResponse naming ``url`` when it is an unreadable FITS file or VOTable."""
    if is_colour_file(data):
        return "colour"
    if is_votable_file(data):
        t = _open_votable(data, url)
        return table_kind(t.colnames, [t[c].meta.get("ucd") for c in t.colnames])
    return fits_kind(open_fits(data, url))


def product_kinds(archive, table: Table, sample: int = 5, id_column: str | None = None) -> set[str]:
    """Kinds of product (``cutout``, ``colour``, ``spectrum``, ``lightcurve``) that each of the first ``sample``
    rows has: read from the first product of rows with access URLs (SIA/SSA), else discovered through
    ObsCore or DataLink (:func:`astrohub.vo.obscore.discover`; empty when none applies)."""
    head = table[:sample]
    if len(head) == 0:
        return set()
    direct = _row_urls(head)
    if direct is not None and id_column is None and not metadata.is_obscore(head):
        kind = product_kind(_download_all(archive, direct[:1], "products")[0], direct[0])
        kinds = {kind} if kind else set()
        if kind == "cutout" and all(metadata.bands(head)):  # single-band images: colour if each has g, r and i
            kinds |= obscore.colour_of_bands(archive, head).kinds_of_all(len(head))
        return kinds
    return obscore.discover(archive, head, PRODUCT_KINDS, id_column).kinds_of_all(len(head))


def fetch_images(archive, table: Table, id_column: str | None = None) -> ImageSet:
    """Download and open the FITS images for ``table``'s rows."""
    pairs, missing = _targets(archive, table, "cutout", id_column)
    return image_set(pairs, _download_all(archive, [u for _, u in pairs], "cutouts"), missing)


def image_set(pairs, blobs, missing) -> ImageSet:
    """An ImageSet of FITS files' bytes ``blobs``, one per (row, url) of ``pairs``; a MalformedResponse naming the url
    of one that is no FITS image."""
    images, headers = [], []
    for (_row, url), data in zip(pairs, blobs):
        hdu = image_hdu(open_fits(data, url), url)
        images.append(np.asarray(hdu.data, dtype=np.float32))
        headers.append(hdu.header)
    return ImageSet(images, headers, np.array([r for r, _ in pairs], dtype=np.int64), [u for _, u in pairs], missing)


def fetch_colour(archive, table: Table, id_column: str | None = None) -> ColourSet:
    """Download the colour images for ``table``'s rows: JPEG/PNG composites, or each galaxy's g, r and i FITS
    images (opened); a composite that is no JPEG or PNG (an HTML error page, a FITS file) or a band that is no
    FITS image is a MalformedResponse naming its URL."""
    pairs, missing = _targets(archive, table, "colour", id_column)
    flat = [u for _, us in pairs for u in ((us,) if isinstance(us, str) else us)]
    blobs = iter(_download_all(archive, flat, "colour images"))
    files: list = []
    for _row, urls in pairs:
        if not isinstance(urls, str):  # one galaxy's g, r, i images
            hduls = [open_fits(next(blobs), u) for u in urls]
            for hdul, u in zip(hduls, urls):
                image_hdu(hdul, u, " (a band of a colour composite must be a FITS image)")
            files.append(hduls)
            continue
        data = next(blobs)
        if not is_colour_file(data):
            head = bytes(data[:16])
            raise MalformedResponse(f"{urls} is not a JPEG or PNG colour image (it starts {head!r}); query rows whose "
                                    "product is a colour composite (access_format image/jpeg or image/png), or clear "
                                    "a damaged copy with archive.cache.clear() and retry")
        files.append(data)
    return ColourSet(files, np.array([r for r, _ in pairs], dtype=np.int64), [u for _, u in pairs], missing)


def image_hdu(hdul, url: str, hint: str = ""):
    """The first HDU of ``hdul`` with image data, else a MalformedResponse naming ``url`` (and ``hint``)."""
    hdu = next((h for h in hdul if h.is_image and h.data is not None), None)
    if hdu is None:
        raise MalformedResponse(f"{url} holds no image HDU{hint}")
    return hdu


def fetch_tables(archive, table: Table, kind: str, id_column: str | None = None) -> TableSet:
    """Download and open the FITS binary tables (spectra / light curves) for ``table``'s rows; a product served as a
    VOTable (IVOA's spectral and time-series data models, as SSA services serve them) is read as its first table,
    with an empty header."""
    pairs, missing = _targets(archive, table, kind, id_column)
    blobs = _download_all(archive, [u for _, u in pairs], f"{kind}s")
    tables, headers = [], []
    for (_row, url), data in zip(pairs, blobs):
        if is_votable_file(data):
            tables.append(_open_votable(data, url))
            headers.append(fits.Header())
            continue
        hdul = open_fits(data, url)
        if kind == "spectrum":  # a binary table, one row of arrays, or a 1-D image with wavelengths in its header
            t = _fits_spectrum(hdul, url)
            if t is None:
                raise MalformedResponse(f"{url} holds no spectrum (a binary table with a spectral axis column, or a "
                                        "1-D image with wavelengths in its header)")
            tables.append(t)
        else:
            hdu = next((h for h in hdul if isinstance(h, fits.BinTableHDU)), None)
            if hdu is None:
                raise MalformedResponse(f"{url} holds no binary table")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnitsWarning)
                tables.append(Table.read(hdu))
        headers.append(hdul[0].header)
    return TableSet(tables, headers, np.array([r for r, _ in pairs], dtype=np.int64), [u for _, u in pairs], missing)


def image_geometry(archive, table: Table, id_column: str | None = None) -> dict:
    """What the first row's cutout is: ``planes`` (1 for a single image, 3 for a science/reference/
    difference triplet stored as a cube), ``shape`` (h, w), ``pixel_scale`` in arcsec (from its WCS;
    None without one) and ``band`` (the band letter its header's FILTER names, else the row's passband or band
    column gives, :func:`astrohub.vo.metadata.bands`; None when neither says). Empty when the first row has no
    cutout."""
    head = table[:1]
    pairs, _missing = _targets(archive, head, "cutout", id_column)
    if not pairs:
        return {}
    url = pairs[0][1]
    got = geometry(open_fits(_download_all(archive, [url], "cutouts")[0], url), url)
    return {**got, "band": got["band"] or metadata.bands(head, metadata.SURVEY_BANDS)[0]}


def geometry(hdul, url: str) -> dict:
    """:func:`image_geometry` of an opened FITS cutout (``band`` from its header only, else None)."""
    hdu = image_hdu(hdul, url)
    shape = hdu.data.shape
    planes = shape[0] if len(shape) == 3 else 1
    if len(shape) == 2:  # a triplet stored as one image HDU per plane (ZTF alert stamps)
        planes = sum(1 for h in hdul if h.is_image and h.data is not None and h.data.shape == shape)
    return {"planes": int(planes), "shape": tuple(int(n) for n in shape[-2:]), "pixel_scale": _pixel_scale(hdu.header),
            "band": header_band(hdu.header), "url": url}


def celestial_wcs(header):
    """A FITS header's celestial WCS (astropy's fixes to non-standard headers made quietly), None when it has none or
    it cannot be read."""
    from astropy.wcs import WCS, FITSFixedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        try:
            w = WCS(header).celestial
        except Exception:  # noqa: BLE001 - an unreadable WCS is no WCS
            return None
    return w if w.has_celestial else None


def _pixel_scale(header) -> float | None:
    """Pixel scale in arcsec from a FITS header's celestial WCS (CDELT/CD/PC), else its PIXSCALE-like keyword; None
    when it has neither."""
    from astropy.wcs.utils import proj_plane_pixel_scales

    w = celestial_wcs(header)
    if w is None:
        for key in ("PIXSCALE", "PIXSCAL1", "SECPIX"):
            if isinstance(header.get(key), (int, float)):
                return float(header[key])
        return None
    return float(np.mean(proj_plane_pixel_scales(w)) * 3600.0)
