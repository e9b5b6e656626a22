"""Defaults shared by every part of astrohub: GPU detection, the cache folders, the ports and the
local archive's URL layout.

This is the ground floor of the package: it imports nothing from astrohub (and nothing heavy), so
kernel-side code (``vo``, ``models``, ``compute``), hub-side code (``hub``, ``archive``), the CLI
and the tests can all read their defaults from here without importing each other.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

# -- GPU and kernels -----------------------------------------------------------------------------------
CPU_KERNEL = "astrohub"
GPU_KERNEL = "astrohub-gpu"
KERNEL_NAMES = (CPU_KERNEL, GPU_KERNEL)


def gpu_available() -> bool:
    """True when an NVIDIA GPU is visible on this machine."""
    if not Path("/dev/nvidiactl").exists() and not list(Path("/dev").glob("nvidia[0-9]*")):
        return False
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return True
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


def default_kernel() -> str:
    """The kernel new notebooks should use on this machine."""
    return GPU_KERNEL if gpu_available() else CPU_KERNEL


# -- cache ---------------------------------------------------------------------------------------------
# One root for everything astrohub caches, one named subfolder per kind:
#   vo         query results and downloaded products (astrohub.vo)
#   sims       simulated image sets for training (astrohub.models.datasets.simulate_images)
#   series     simulated 1-D sets: light curves, spectra, photometry (astrohub.models.datasets.simulate_series)
#   snapshots  per-stage weights of staged zoo recipes (astrohub.models.training.images)
#
# The root is $ASTROHUB_CACHE, else ~/.cache/astrohub. The home cache (not ./.astrohub/cache):
# - it is the XDG place for a per-user cache, and the hub runs every user as their own Unix user
#   with their own home, so caches are private and shared by all of a user's notebooks, whatever
#   folder a kernel starts in (a cwd-relative cache is duplicated per notebook folder and can
#   land in a folder shared with collaborators);
# - ./.astrohub is the embedded hub's state folder (`astrohub up --data-dir .astrohub`), which
#   should not hold users' caches;
# - the VO cache, the one users meet, keeps its path: cache_dir("vo") is ~/.cache/astrohub/vo as
#   before. Tests that need an isolated cache set $ASTROHUB_CACHE (tests/models/test_training.py);
#   nothing in tests/, benchmarks/ or the Makefile relies on ./.astrohub/cache.
# Every process astrohub starts that may run torch (users' servers and kernels, Dask workers and their
# training ranks) gets this environment. torch's OpenMP threads otherwise spin between parallel regions:
# two busy processes on the same cores then slow each other down ~4x (benchmarks/contention_bench.py, 2 cores:
# galaxy_morphology on 512 cutouts in each of two processes, 21.8 s each, passive 5.2 s; one alone 3.5 s
# either way). A shared hub runs many such processes.
TORCH_PROCESS_ENV = {"OMP_WAIT_POLICY": "PASSIVE"}


CACHE_ENV = "ASTROHUB_CACHE"
CACHE_KINDS = ("vo", "sims", "series", "snapshots")


def cache_root() -> Path:
    """The folder all of astrohub's caches live in: ``$ASTROHUB_CACHE``, else ``~/.cache/astrohub``.

    Not created here; whoever writes into it creates what it needs."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "astrohub"


def cache_dir(kind: str) -> Path:
    """``cache_root() / kind`` for one of :data:`CACHE_KINDS` (e.g. ``cache_dir("vo")``); not created here."""
    if kind not in CACHE_KINDS:
        raise ValueError(f"unknown cache kind {kind!r}; kinds are {', '.join(CACHE_KINDS)}")
    return cache_root() / kind


# -- ports of the embedded platform ---------------------------------------------------------------------
LOOPBACK = "127.0.0.1"
PUBLIC_PORT = 8000  # the hub's public URL (`astrohub up --port`)
# The hub's own loopback services sit at fixed offsets from the public port, so a second
# platform on another port (the tests' 18300) never collides with the first.
PORT_OFFSETS = {"proxy_api": 1, "hub_api": 81, "share": 82, "gateway": 83}  # gateway: 3 ports, +83..+85


def hub_ports(port: int = PUBLIC_PORT) -> dict[str, int]:
    """Ports of a hub whose public port is ``port``: ``public``, ``proxy_api`` (configurable-http-proxy's
    REST API), ``hub_api`` (the hub's internal API), ``share`` (the astrohub-share page) and ``gateway``
    (the first of dask-gateway's three: API, HTTP proxy, scheduler proxy)."""
    return {"public": port, **{name: port + off for name, off in PORT_OFFSETS.items()}}


PROXY_API_PORT = hub_ports()["proxy_api"]  # 8001
HUB_API_PORT = hub_ports()["hub_api"]      # 8081
SHARE_PORT = hub_ports()["share"]          # 8082
GATEWAY_PORT = hub_ports()["gateway"]      # 8083 (and 8084, 8085)


def loopback_url(port: int, scheme: str = "http") -> str:
    """``http://127.0.0.1:<port>``."""
    return f"{scheme}://{LOOPBACK}:{port}"


# -- the local archive (DaCHS) ----------------------------------------------------------------------------
ARCHIVE_PORT = 8090
ARCHIVE_URL_ENV = "ASTROHUB_ARCHIVE_URL"
ARCHIVE_RESDIR = "astrohub"  # the DaCHS resource directory: services under /astrohub/q/...


def archive_base_url(port: int = ARCHIVE_PORT, host: str = LOOPBACK) -> str:
    """The local archive's root URL, ``http://127.0.0.1:8090`` by default."""
    return f"http://{host}:{port}"


DEFAULT_ARCHIVE_URL = archive_base_url()


def local_archive_urls(base: str) -> dict[str, str]:
    """Service URLs of a local archive at ``base`` (its root URL, or its TAP URL ending in ``/tap``):
    ``tap`` {base}/tap, ``scs`` {base}/astrohub/q/cone/scs.xml, ``sia`` .../im/siap.xml,
    ``ssa`` .../ssa/ssap.xml and ``datalink`` .../dl/dlmeta."""
    base = base.rstrip("/")
    if base.endswith("/tap"):
        base = base[: -len("/tap")]
    q = f"{base}/{ARCHIVE_RESDIR}/q"
    return {"tap": f"{base}/tap", "scs": f"{q}/cone/scs.xml", "sia": f"{q}/im/siap.xml",
            "ssa": f"{q}/ssa/ssap.xml", "datalink": f"{q}/dl/dlmeta"}


# -- fixed ports of test and benchmark sessions (all in one table, so that they never collide) --------------
TEST_PORT = 18300           # the tests' platform ($ASTROHUB_TEST_PORT)
TEST_ARCHIVE_PORT = 18390   # the tests' local archive ($ASTROHUB_TEST_ARCHIVE_PORT)
TEST_UP_PORT = 18400        # tests/hub/test_lifecycle.py's `astrohub up`
BENCH_ARCHIVE_PORT = 18490  # benchmarks' local archive
BENCH_HUB_PORT = 18600      # benchmarks/hub_bench.py's platform


# -- real labelled data kits ------------------------------------------------------------------------------
# The real development kits (SDSS photometry, Galaxy Zoo JPEGs, ZTF alerts, Kepler/TESS light curves) live
# outside the repository, in ../shared/real next to the checkout; $ASTROHUB_REAL_DATA points elsewhere.
REAL_DATA_ENV = "ASTROHUB_REAL_DATA"


def real_data_dir() -> Path:
    """The folder holding the real data kits: ``$ASTROHUB_REAL_DATA``, else ``../shared/real`` beside the
    repository (not checked here: :func:`astrohub.models.evaluation.kits.kit_dir` says what is missing)."""
    env = os.environ.get(REAL_DATA_ENV)
    return Path(env).expanduser() if env else Path(__file__).resolve().parents[3] / "shared" / "real"


# -- what is read from outside ---------------------------------------------------------------------------
MAX_IMAGE_PIXELS = 100_000_000  # what a FITS image may declare: a 10,000 x 10,000 mosaic; cutouts are far smaller
MAX_GUNZIP_BYTES = 1 << 30  # what a gzip-compressed product may decompress to


def gunzip_limited(raw: bytes, limit: int | None = None) -> bytes:
    """``raw`` itself, or, when it is gzip-compressed (one member or several, as ``gzip.decompress`` reads), its
    contents, decompressed only up to ``limit`` bytes (default :data:`MAX_GUNZIP_BYTES`): past that a ValueError, so
    a few kB cannot decompress to gigabytes; a stream that ends early is a ``zlib.error``."""
    import zlib

    data = bytes(raw)
    if data[:2] != b"\x1f\x8b":
        return raw
    limit = MAX_GUNZIP_BYTES if limit is None else limit
    out = bytearray()
    while data[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out += d.decompress(data, limit + 1 - len(out))
        if len(out) > limit:
            raise ValueError(f"it decompresses to more than {limit:,} bytes (a damaged or hostile file?)")
        if not d.eof:
            raise zlib.error("the gzip stream ends early (a truncated file?)")
        data = d.unused_data
    return bytes(out)


def oversized_image(hdus) -> str | None:
    """Why an image HDU of ``hdus`` (astropy HDUs) is refused before its pixels are read: its header declares more
    than :data:`MAX_IMAGE_PIXELS` (NAXISn; a tile-compressed HDU's uncompressed size, so a few kB of compressed FITS
    cannot decompress to gigabytes). None when none is."""
    import math

    for h in hdus:
        if not getattr(h, "is_image", False):
            continue
        dims = [int(h.header.get(f"NAXIS{k}", 0) or 0) for k in range(1, int(h.header.get("NAXIS", 0) or 0) + 1)]
        n = math.prod(dims) if dims else 0
        if n > MAX_IMAGE_PIXELS:
            return (f"its header declares a {' x '.join(map(str, reversed(dims)))} image ({n:,} px; at most "
                    f"{MAX_IMAGE_PIXELS:,}): decoding it could take gigabytes (a damaged or hostile file?), so its "
                    "pixels are not read")
    return None


# -- optical bands, as survey files and services name them ----------------------------------------------------
BAND_LETTERS = "ugrizy"
BAND_KEYWORDS = ("FILTER", "BAND", "FILTNAM", "FILTER1")  # where a single-band FITS image names its band


def band_letter(value) -> str | None:
    """The band letter (u, g, r, i, z, y) a filter name gives: 'r', "r'", 'SDSS r', 'SDSS_R', 'SDSSr', 'HSC-R',
    'PS1.r', 'r.00000' (Pan-STARRS), 'r.MP9601' (CFHT), 'r_SDSS' (OmegaCAM), 'i2', 'r DECam SDSS c0002 ...';
    None when it names none ('Optical', 'F814W', 'Ks')."""
    import re

    s = str(value).strip().lower().replace("'", "")
    for prefix in ("sdss", "hsc"):
        if s.startswith(prefix) and len(s) == len(prefix) + 1 and s[-1] in BAND_LETTERS:
            return s[-1]
    tokens = [t for t in re.split(r"[\s._:/,;-]+", s) if t]
    return next((t[0] for t in tokens if t[0] in BAND_LETTERS and (len(t) == 1 or t[1:].isdigit())), None)


def header_filter(header) -> str | None:
    """The filter name a single-band FITS image's header gives (the first of :data:`BAND_KEYWORDS` it fills), None
    when it gives none."""
    return next((v for key in BAND_KEYWORDS if isinstance(v := header.get(key), str) and v.strip()), None)


def header_band(header) -> str | None:
    """The band letter a single-band FITS image's header names (:func:`header_filter`, read by :func:`band_letter`);
    None when it names none."""
    name = header_filter(header)
    return None if name is None else band_letter(name)


# -- light curves: the time axis, as missions and IVOA's time-series model name it -------------------------------
TIME_AXIS_NAMES = ("TIME", "BJD", "BTJD", "BKJD", "MJD", "HJD", "JD")  # any case
TIME_AXIS_UCDS = ("time.epoch",)


def is_time_column(name, ucd) -> bool:
    """Whether a table column is a light curve's time axis: by name (:data:`TIME_AXIS_NAMES`) or UCD."""
    return str(name).upper() in TIME_AXIS_NAMES or str(ucd or "").lower().split(";")[0] in TIME_AXIS_UCDS


# -- spectra: the spectral axis, as IVOA's spectral data model and surveys name it --------------------------------
SPECTRAL_AXIS_NAMES = ("WAVE", "WAVELENGTH", "LAMBDA", "SPECTRAL", "SPECTRAL_AXIS", "LOGLAM")  # any case; SDSS loglam
SPECTRAL_AXIS_UCDS = ("em.wl", "em.freq", "em.energy", "em.wavenumber")
SPECTRUM_ROW_NAMES = {"FLUX": ("SPECTRUM", "FLUX"), "ERROR": ("ERROR", "SIGMA"), "IVAR": ("INVERSE", "IVAR"),
                      "WAVE": ("WAVELENGTH",)}  # the rows of a 2-D spectrum image, by its ARRAYn / ROWn keywords
_WCS_UNITS = {"WAVE": "Angstrom", "AWAV": "Angstrom", "FREQ": "Hz", "ENER": "eV"}  # when CUNIT1 is not given


def is_spectral_column(name, ucd) -> bool:
    """Whether a table column is a spectrum's spectral axis: by name (:data:`SPECTRAL_AXIS_NAMES`) or UCD."""
    return str(name).upper() in SPECTRAL_AXIS_NAMES or str(ucd or "").lower().split(";")[0] in SPECTRAL_AXIS_UCDS


def spectrum_table(hdus):
    """The one spectrum a FITS file (astropy HDUs) holds, as a table with one row per pixel, or None when it holds
    none. Read as surveys and SSA services write them: a binary table with a spectral axis column (SDSS's spec files,
    IVOA's spectral data model; ``TUCDn`` kept as the columns' UCDs), also as one row of array columns (ESO's Phase 3
    spectra); or an image of one row (or of named rows: SDSS's spSpec ``ARRAYn``, LAMOST's ``ROWn``; the first row is
    the flux) whose wavelengths follow from its header: SDSS's ``COEFF0``/``COEFF1`` (log10 A), IRAF's
    ``DC-FLAG = 1`` (log10), ``CTYPE1 = 'WAVE-LOG'`` (FITS WCS paper III), else linear ``CRVAL1``, ``CDELT1`` (or
    ``CD1_1``), ``CRPIX1``, in ``CUNIT1`` (A when not given). The table's columns: WAVE (with its unit), FLUX and,
    where the file has them, ERROR or IVAR."""
    import warnings

    import astropy.units as u
    import numpy as np
    from astropy.table import Column, Table

    for h in hdus:
        if h.__class__.__name__ != "BinTableHDU":
            continue
        names = h.columns.names
        ucds = [h.header.get(f"TUCD{k + 1}") for k in range(len(names))]
        axis = next((n for n, c in zip(names, ucds) if is_spectral_column(n, c)), None)
        if axis is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", u.UnitsWarning)
            t = Table.read(h)
        for n, c in zip(names, ucds):
            if c:
                t[n].meta["ucd"] = c
        if t[axis].ndim == 2:  # one row of arrays: one column per array, one row per pixel
            if len(t) != 1:
                raise ValueError(f"its table holds {len(t)} spectra as rows of arrays; give one spectrum per file")
            n_pix = t[axis].shape[1]
            t = Table([Column(t[n][0], name=n, unit=t[n].unit, meta=t[n].meta) for n in names
                       if t[n].ndim == 2 and t[n].shape[1] == n_pix], meta=t.meta)
        return t
    for h in hdus:
        hd = h.header
        if not getattr(h, "is_image", False) or hd.get("NAXIS") not in (1, 2):
            continue
        n_rows = int(hd.get("NAXIS2", 0) or 0) if hd["NAXIS"] == 2 else 0
        labels = [str(hd.get(f"ARRAY{k + 1}") or hd.get(f"ROW{k + 1}") or "").upper() for k in range(min(n_rows, 11))]
        if n_rows > 10 and "COEFF0" in hd and "COEFF1" in hd:  # wavelengths along the rows: one spectrum per row
            raise ValueError(f"its image holds {n_rows} spectra as rows (an SDSS spPlate, one per fibre?); give one "
                             "spectrum per file, or its rows as flux arrays with wave=")
        if n_rows and (n_rows > 10 or not any(labels)) or h.data is None:
            continue  # an image, not rows of one spectrum
        data = np.asarray(h.data, np.float64)
        rows = {}
        if data.ndim == 2:
            for key, words in SPECTRUM_ROW_NAMES.items():
                k = next((k for k, lab in enumerate(labels) if any(w in lab for w in words)), None)
                if k is not None:
                    rows[key] = data[k]
            rows.setdefault("FLUX", data[0])
        else:
            rows["FLUX"] = data
        n_pix = len(rows["FLUX"])
        pix = np.arange(n_pix, dtype=np.float64)
        ctype = str(hd.get("CTYPE1") or "").upper()
        if "WAVE" in rows:
            wave = rows.pop("WAVE") * u.AA
        elif "COEFF0" in hd and "COEFF1" in hd:
            wave = 10 ** (float(hd["COEFF0"]) + float(hd["COEFF1"]) * pix) * u.AA
        elif "CRVAL1" in hd and ("CDELT1" in hd or "CD1_1" in hd):
            crval, step = float(hd["CRVAL1"]), float(hd.get("CDELT1", hd.get("CD1_1")))
            x = step * (pix + 1 - float(hd.get("CRPIX1", 1.0)))
            unit = _wcs_unit(str(hd.get("CUNIT1") or _WCS_UNITS.get(ctype[:4], "Angstrom")))
            if ctype == "WAVE-LOG":
                wave = crval * np.exp(x / crval) * unit
            elif int(hd.get("DC-FLAG", 0) or 0) == 1:
                wave = 10 ** (crval + x) * unit
            else:
                wave = (crval + x) * unit
        else:
            continue  # no wavelengths: not a spectrum
        return Table({"WAVE": wave, **rows})
    return None


def _wcs_unit(name: str):
    """An astropy unit from a FITS header's CUNIT1, also as IRAF and others spell it ('Angstroms', 'ANGSTROM');
    a ValueError naming it otherwise."""
    import astropy.units as u

    for cand in (name, name.lower(), name.lower().removesuffix("s")):
        try:
            return u.Unit(cand)
        except ValueError:
            continue
    raise ValueError(f"its wavelength unit CUNIT1 = {name!r} is no unit astropy knows")


COLOUR_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")  # how JPEG and PNG files start


def is_colour_file(data: bytes) -> bool:
    """Whether ``data`` starts as a JPEG or PNG file does (a colour composite)."""
    return bytes(data[:8]).startswith(COLOUR_MAGIC)


FITS_MAGIC = b"SIMPLE  ="  # how every FITS file starts (its first card)


def is_fits_file(data: bytes) -> bool:
    """Whether ``data`` starts as a FITS file does (uncompressed)."""
    return bytes(data[:len(FITS_MAGIC)]) == FITS_MAGIC


def is_votable_file(data: bytes) -> bool:
    """Whether ``data`` is XML that starts a VOTable (IVOA's spectral and time-series data models are served so)."""
    import zlib

    head = bytes(data[:2048])
    if head[:2] == b"\x1f\x8b":  # gzip: its first bytes decompressed
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(bytes(data), 2048)
        except zlib.error:
            return False
    head = head.lstrip()
    return head.startswith(b"<?xml") and b"<VOTABLE" in head or head.startswith(b"<VOTABLE")


def votable_table(data: bytes):
    """The first table of a VOTable document (gzipped or not, :func:`gunzip_limited`) as an astropy Table, columns
    named by their names, UCDs and units kept. The XML parser refuses entity-expansion bombs (its amplification
    limit); any failure raises, for the caller to name the file."""
    import io
    import warnings

    from astropy.io.votable import parse

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parse(io.BytesIO(gunzip_limited(data)), verify="ignore").get_first_table().to_table(
            use_names_over_ids=True)
