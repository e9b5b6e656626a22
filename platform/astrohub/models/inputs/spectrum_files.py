"""Spectrum files as surveys and SSA services write them, read into the tables the spectrum models take.

:func:`read` opens a path by its contents, not its name: FITS (gzipped or not; SDSS's spec and spSpec files, IVOA's
spectral data model, ESO's Phase 3 one-row tables, 1-D images with wavelengths in their header, LAMOST's:
:func:`astrohub.defaults.spectrum_table`), a VOTable (SSA's usual format), or a text table (ECSV, CSV, whitespace
columns; without a header: wavelength in A, flux[, error]). Whatever is wrong is an :class:`InputError` naming the
file.

Serving code: imports nothing from training.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from ...defaults import gunzip_limited, is_fits_file, is_votable_file, spectrum_table, votable_table
from .images import InputError

TEXT_SUFFIXES = (".ecsv", ".csv", ".txt", ".dat", ".tbl", ".ascii")


def is_path(x) -> bool:
    """Whether ``x`` names a file (a str or a Path), as opposed to a table or an array."""
    return isinstance(x, (str, Path))


def read(path, name: str):
    """The spectrum in the file at ``path`` as an astropy Table (see the module's help)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{name}: spectrum file {str(p)!r} not found")
    raw = p.read_bytes()
    try:
        data = gunzip_limited(raw)
    except (ValueError, zlib.error) as e:
        raise InputError(f"{name}: {p.name} is gzip-compressed but cannot be read ({e})") from None
    if is_fits_file(data):
        return _fits(data, p.name, name)
    if is_votable_file(data):
        try:
            return votable_table(data)
        except Exception as e:  # noqa: BLE001 - any failure here is a broken file
            raise InputError(f"{name}: {p.name} is not a readable VOTable ({type(e).__name__}: {e})") from None
    if p.name.lower().removesuffix(".gz").endswith(TEXT_SUFFIXES):
        return _text(data, p.name, name)
    raise InputError(f"{name}: unknown spectrum file type {p.name!r}: expected FITS (a binary table with a spectral "
                     f"axis, or a 1-D image with wavelengths in its header), a VOTable, or a text table "
                     f"({', '.join(TEXT_SUFFIXES)})")


def _fits(data: bytes, label: str, name: str):
    import io

    from astropy.io import fits

    try:
        hdul = fits.open(io.BytesIO(data), memmap=False)
        with hdul:
            t = spectrum_table(hdul)
            kinds = ", ".join(f"{type(h).__name__} {h.name}" for h in hdul)
    except ValueError as e:
        raise InputError(f"{name}: {label} is refused: {e}") from None
    except OSError as e:
        raise InputError(f"{name}: {label} is not a readable FITS file ({e})") from None
    if t is None:
        raise InputError(f"{name}: {label} holds no spectrum: no binary table with a spectral axis column (WAVE, "
                         "LOGLAM ... or UCD em.wl) and no 1-D image with wavelengths in its header (CRVAL1 and CDELT1, "
                         f"or COEFF0 and COEFF1); found {kinds}")
    return t


def _text(data: bytes, label: str, name: str):
    from astropy.table import Table

    try:
        t = Table.read(data.decode("utf-8", "replace"), format="ascii")
    except Exception as e:  # noqa: BLE001 - astropy's reader says what it could not parse
        raise InputError(f"{name}: {label} is not a readable text table ({type(e).__name__}: {e})") from None
    cols = t.colnames
    if cols[:2] == ["col1", "col2"]:  # no header: wavelength (A), flux[, error], as spectra are often written
        t.rename_columns(cols[:3], ["WAVE", "FLUX", "ERROR"][:len(cols[:3])])
    return t


__all__ = ["read", "is_path", "TEXT_SUFFIXES"]
