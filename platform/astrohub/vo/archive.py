"""``Archive``: one IVOA data service (TAP + optional SCS/SIA/SSA/DataLink) behind one object.

>>> arc = Archive.local()                      # the embedded DaCHS
>>> t = arc.query("SELECT TOP 10 * FROM astrohub.objects")
>>> imgs = arc.cutouts(arc.query("SELECT * FROM astrohub.objects "
...                               "WHERE obj_id IN (SELECT obj_id FROM astrohub.cutouts)"))

Results are astropy Tables with units. Sync results are cached on disk
(keyed by URL + ADQL + limits + uploads); async jobs are recorded in
``<cache>/jobs.json`` so a restarted kernel can resume or fetch them.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import time
import warnings
from pathlib import Path

import pyvo
import requests
from astropy.table import Table
from astropy.units import UnitsWarning
from pyvo.dal.exceptions import DALAccessError, DALFormatError, DALQueryError

from . import products
from .cache import CacheWriteWarning, QueryCache, query_key, write_bytes_atomic
from .config import VOConfig
from .errors import ADQLError, JobError, MalformedResponse, RowLimitExceeded, ServiceUnreachable
from .retry import is_transient, with_retries
from .services import KNOWN_SERVICES, local_services

_UNKNOWN_COL = re.compile(r"column '([^']+)' could not be located", re.I)
_UNKNOWN_TAB = re.compile(r"Could not locate table '([^']+)'", re.I)
_FROM = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_][\w.]*)", re.I)
_UP_SINCE = re.compile(r"<(?:\w+:)?upSince>\s*([^<]+?)\s*</", re.I)
BUILD_FILE = "static/astrohub-build.json"  # the local archive's build identity, rewritten on every rebuild


def suggest(word: str, candidates: list[str], cutoff: float = 0.6) -> str | None:
    """The candidate closest to ``word``, also matching reordered parts ('rmag' -> 'mag_r')."""
    w = word.lower()
    best, score = None, cutoff
    for c in candidates:
        parts = c.lower().split("_")
        variants = {c.lower(), "".join(parts), "".join(reversed(parts))}
        s = max(difflib.SequenceMatcher(None, w, v).ratio() for v in variants)
        if s > score:
            best, score = c, s
    return best


class Archive:
    """A VO archive reached through its TAP endpoint (plus optional SCS, SIA, SSA, DataLink URLs)."""

    def __init__(self, tap: str, *, name: str = "", scs: str | None = None, sia: str | None = None,
                 ssa: str | None = None, datalink: str | None = None, sia2: str | None = None,
                 obscore: str | None = None, cache_dir: Path | None = None,
                 retries: int | None = None, backoff: float | None = None, timeout: float | None = None,
                 progress: bool = True, config=None, build_url: str | None = None):
        """``retries``/``backoff``/``timeout``/``cache_dir`` default to :class:`VOConfig` (traitlets).

        ``build_url``: a URL whose content changes whenever the service is rebuilt (the local archive's
        ``/static/astrohub-build.json``); cached results are kept per build. Without one, the service's
        VOSI availability ``upSince`` (a restart) is the best build identity a TAP service offers.

        ``obscore``: the name of the service's ObsCore table (e.g. ``ivoa.obscore``; looked up in TAP_SCHEMA
        when not given); ``sia2``: an SIA v2 query URL."""
        if not isinstance(tap, str) or not tap.startswith(("http://", "https://")):
            raise ValueError(f"tap must be an http(s) URL, got {tap!r}")
        cfg = VOConfig(config=config) if config is not None else VOConfig()
        self.name = name or tap
        self.urls = {"tap": tap.rstrip("/"), "scs": scs, "sia": sia, "ssa": ssa, "datalink": datalink,
                     "sia2": sia2, "obscore": obscore, "build": build_url}
        self.cache = QueryCache(cache_dir or (Path(cfg.cache_dir) if cfg.cache_dir else None), ttl=cfg.cache_ttl)
        self.retries = cfg.retries if retries is None else retries
        self.backoff = cfg.backoff if backoff is None else backoff
        self.timeout = cfg.timeout if timeout is None else timeout
        self.progress = progress
        if self.retries < 0 or self.backoff < 0 or self.timeout <= 0:
            raise ValueError("retries and backoff must be >= 0 and timeout > 0")
        self.session = requests.Session()
        self._tap = pyvo.dal.TAPService(self.urls["tap"], session=self.session)
        self._columns: dict[str, list[str]] = {}

    # -- constructors -----------------------------------------------------------
    @classmethod
    def local(cls, base_url: str | None = None, **kw) -> "Archive":
        """The embedded astrohub archive (``$ASTROHUB_ARCHIVE_URL`` or http://127.0.0.1:8090)."""
        u = local_services(base_url)
        root = u["tap"][:-len("/tap")] if u["tap"].endswith("/tap") else u["tap"]
        kw.setdefault("build_url", f"{root}/{BUILD_FILE}")
        kw.setdefault("sia2", u.get("sia2") or f"{root}/__system__/siap2/sitewide/siap2.xml")  # DaCHS, on ObsCore
        return cls(u["tap"], name="astrohub-local", scs=u["scs"], sia=u["sia"], ssa=u["ssa"],
                   datalink=u["datalink"], **kw)

    @classmethod
    def from_urls(cls, urls: dict, **kw) -> "Archive":
        """An archive from another one's ``urls`` (e.g. sent to a Dask worker), with ``kw`` for the rest."""
        u = dict(urls)
        return cls(u.pop("tap"), build_url=u.pop("build", None), **{k: v for k, v in u.items() if v is not None},
                   **kw)

    @classmethod
    def named(cls, name: str, **kw) -> "Archive":
        """A well-known public service by name (see ``KNOWN_SERVICES``); needs the internet."""
        key = name.lower()
        if key not in KNOWN_SERVICES:
            close = difflib.get_close_matches(key, KNOWN_SERVICES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown service {name!r}{hint}; known: {', '.join(sorted(KNOWN_SERVICES))}; "
                             "or use Archive(tap_url) for any other TAP service")
        u = {k: v for k, v in KNOWN_SERVICES[key].items() if k != "description"}
        return cls(name=key, **u, **kw)

    @staticmethod
    def discover(keywords: str, servicetype: str = "tap", registry: str | None = None) -> list[dict]:
        """Search the IVOA registry (RegTAP) for services; returns dicts of ivoid, title, access_url."""
        if not isinstance(keywords, str) or not keywords.strip():
            raise ValueError("keywords must be a non-empty string, e.g. 'galaxy morphology'")
        kw = {"keywords": keywords, "servicetype": servicetype}
        previous = pyvo.registry.regtap.REGISTRY_BASEURL
        try:
            if registry:
                pyvo.registry.choose_RegTAP_service(registry)
            res = pyvo.registry.search(**kw)
        except DALAccessError as e:
            raise ServiceUnreachable(f"the registry did not answer ({str(e).strip().splitlines()[0]}); registry "
                                     "discovery needs the internet: use Archive.named(...) or Archive(tap_url) "
                                     "instead") from None
        finally:
            pyvo.registry.choose_RegTAP_service(previous)
        out = []
        for r in res:
            try:
                url = r.get_service(servicetype).baseurl
            except Exception:  # noqa: BLE001 - records without that capability are skipped
                continue
            out.append({"ivoid": r.ivoid, "title": r.res_title, "access_url": url})
        return out

    def __repr__(self) -> str:
        return f"Archive({self.name!r}, tap={self.urls['tap']!r})"

    # -- build identity -------------------------------------------------------------
    @property
    def _builds_file(self) -> Path:
        return self.cache.directory / "builds.json"

    def build_identity(self) -> str:
        """The service's current build identity ("" when it tells none): the content of ``build_url``,
        else the VOSI availability's ``upSince``. When the service does not answer, the last identity
        seen from this cache directory (so cached results still serve while it is down)."""
        sources = []
        if self.urls.get("build"):
            sources.append((self.urls["build"], lambda text: hashlib.sha256(text.encode()).hexdigest()))
        sources.append((self.urls["tap"] + "/availability",
                        lambda text: (m.group(1) if (m := _UP_SINCE.search(text)) else "")))
        answered = False
        for url, parse in sources:
            try:
                r = self.session.get(url, timeout=min(self.timeout, 10.0))
            except requests.RequestException:
                continue
            answered = True
            if r.status_code == 200 and (ident := parse(r.text)):
                self._remember_build(ident)
                return ident
        if answered:
            return ""
        try:
            return str(json.loads(self._builds_file.read_text()).get(self.urls["tap"], ""))
        except (OSError, ValueError, AttributeError):
            return ""

    def _remember_build(self, ident: str) -> None:
        try:
            known = json.loads(self._builds_file.read_text())
            if not isinstance(known, dict):
                known = {}
        except (OSError, ValueError):
            known = {}
        if known.get(self.urls["tap"]) == ident:
            return
        known[self.urls["tap"]] = ident
        try:
            write_bytes_atomic(self._builds_file, json.dumps(known, indent=1).encode())
        except OSError:
            pass  # a read-only cache: nothing is cached, nothing to remember

    def _revalidate(self) -> None:
        """Point the cache at the service's current build before it is read or written."""
        self.cache.build = self.build_identity()

    # -- errors -------------------------------------------------------------------
    def _call(self, fn, what: str):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnitsWarning)
                return with_retries(fn, self.retries, self.backoff)
        except DALQueryError as e:
            raise self._adql_error(e) from None
        except (DALFormatError, DALAccessError, requests.RequestException, OSError) as e:
            if is_transient(e):
                raise ServiceUnreachable(
                    f"{self.name} did not answer {what} at {self.urls['tap']} after {self.retries} retries "
                    f"({type(getattr(e, 'cause', None) or e).__name__}). Check the service is up "
                    "(for the local archive: `astrohub archive status`, `astrohub archive start`) "
                    "and your network, then run the call again.") from None
            if isinstance(e, DALFormatError):
                raise MalformedResponse(f"{self.name} answered {what} with something that is not a valid "
                                        f"VOTable: {e}. Retry later or report it to the service.") from None
            raise

    def columns(self, table: str) -> list[str]:
        """Column names of ``table`` according to the service's TAP_SCHEMA."""
        if table not in self._columns:
            t = self._tap.run_sync(f"SELECT column_name FROM tap_schema.columns WHERE table_name='{table}'")
            self._columns[table] = [str(c) for c in t.to_table()["column_name"]]
        return self._columns[table]

    def tables(self) -> list[str]:
        """Names of the tables the service exposes (TAP_SCHEMA)."""
        t = self._call(lambda: self._tap.run_sync("SELECT table_name FROM tap_schema.tables"), "a TAP_SCHEMA query")
        return [str(n) for n in t.to_table()["table_name"]]

    def _adql_error(self, e: DALQueryError) -> ADQLError:
        msg = str(e).replace("Field query: ", "")
        query = getattr(self, "_last_query", "")
        m = _UNKNOWN_COL.search(msg)
        if m:
            col, tables = m.group(1), _FROM.findall(query)
            cands = []
            for t in tables:
                try:
                    cands += self.columns(t)
                except Exception:  # noqa: BLE001 - a suggestion is best effort
                    pass
            where = f" {', '.join(tables)}" if tables else ""
            return ADQLError(f"column '{col}' not in table{where}", suggest(col, cands))
        m = _UNKNOWN_TAB.search(msg)
        if m:
            try:
                close = difflib.get_close_matches(m.group(1), self.tables(), n=1, cutoff=0.5)
            except Exception:  # noqa: BLE001
                close = []
            return ADQLError(f"table '{m.group(1)}' not found on {self.name}", close[0] if close else None)
        return ADQLError(f"ADQL error from {self.name}: {msg}")

    # -- TAP ------------------------------------------------------------------------
    def query(self, adql: str, *, mode: str = "sync", maxrec: int | None = None, upload: dict | None = None,
              cache: bool = True, allow_truncated: bool = False, job_name: str | None = None) -> Table:
        """Run ADQL and return an astropy Table (with units).

        ``mode`` "sync" or "async"; ``maxrec`` the row limit (service default if None);
        ``upload`` {name: Table} usable as TAP_UPLOAD.name. A truncated result raises
        RowLimitExceeded unless ``allow_truncated`` (then ``table.meta['truncated']`` is True).
        """
        if not isinstance(adql, str) or not adql.strip():
            raise ValueError("adql must be a non-empty ADQL string, e.g. 'SELECT TOP 10 * FROM tap_schema.tables'")
        if mode not in ("sync", "async"):
            raise ValueError(f"mode must be 'sync' or 'async', got {mode!r}")
        if maxrec is not None and (not isinstance(maxrec, int) or maxrec < 0):
            raise ValueError(f"maxrec must be a non-negative integer, got {maxrec!r}")
        if upload is not None and not all(isinstance(v, Table) for v in upload.values()):
            raise ValueError("upload must map names to astropy Tables")
        key = query_key(self.urls["tap"], adql, maxrec=maxrec, upload=upload or {})
        if cache:
            self._revalidate()
            hit = self.cache.get(key)
            if hit is not None:
                return self._check_limit(hit, maxrec, allow_truncated)
        self._last_query = adql
        if mode == "sync":
            res = self._call(lambda: self._tap.run_sync(adql, maxrec=maxrec, uploads=upload), "a sync TAP query")
            table = self._to_table(res)
        else:
            job = self.submit(adql, maxrec=maxrec, upload=upload, name=job_name)
            table = self.fetch(job)
        if cache and not table.meta.get("truncated"):
            self.cache.put(key, table)
        return self._check_limit(table, maxrec, allow_truncated)

    def _to_table(self, res) -> Table:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnitsWarning)
            table = res.to_table()
        table.meta["truncated"] = getattr(res, "query_status", None) == "OVERFLOW"
        for r in res.votable.resources:
            if r.type == "meta" and r.utype == "adhoc:service":
                for p in r.params:
                    if p.name == "accessURL":
                        table.meta["datalink_url"] = str(p.value)
                for g in r.groups:
                    for p in g.entries:
                        if getattr(p, "name", None) == "ID" and getattr(p, "ref", None):
                            try:
                                field = res.votable.get_first_table().get_field_by_id_or_name(p.ref)
                                table.meta["datalink_id"] = field.name
                            except KeyError:
                                pass
        return table

    def _check_limit(self, table: Table, maxrec, allow_truncated: bool) -> Table:
        if table.meta.get("truncated") and not allow_truncated:
            n = len(table)
            raise RowLimitExceeded(
                f"the result was truncated at the row limit: {n} rows returned"
                f"{f' (maxrec={maxrec})' if maxrec is not None else ' (the service default limit)'}. "
                "To get the rest, raise maxrec (up to the service's hard limit), page with "
                "WHERE/ORDER BY on a key column, or pass allow_truncated=True to keep these rows.",
                table=table, rows=n)
        return table

    # -- async jobs --------------------------------------------------------------------
    @property
    def _jobs_file(self) -> Path:
        return self.cache.directory / "jobs.json"

    def _jobs(self) -> dict:
        try:
            return json.loads(self._jobs_file.read_text())
        except (OSError, ValueError):
            return {}

    def _save_job(self, url: str, **info) -> None:
        jobs = self._jobs()
        jobs[url] = {"tap": self.urls["tap"], "created": time.time(), **info}
        try:
            write_bytes_atomic(self._jobs_file, json.dumps(jobs, indent=1).encode())
        except OSError as e:  # the job runs on the server all the same; only its record is lost
            warnings.warn(f"astrohub could not record async job {url} in {self._jobs_file} ({e.strerror or e}); "
                          "keep its URL to fetch() it later", CacheWriteWarning, stacklevel=3)

    def submit(self, adql: str, *, maxrec: int | None = None, upload: dict | None = None,
               name: str | None = None) -> str:
        """Start an async TAP job and record it; returns the job URL (use :meth:`fetch`)."""
        self._last_query = adql
        job = self._call(lambda: self._tap.submit_job(adql, maxrec=maxrec, uploads=upload), "an async submission")
        self._call(job.run, "starting the async job")
        self._save_job(job.url, adql=adql, maxrec=maxrec, name=name)
        return job.url

    def jobs(self) -> list[dict]:
        """Async jobs submitted to this service from this cache directory (newest last)."""
        return [{"url": u, **v} for u, v in self._jobs().items() if v.get("tap") == self.urls["tap"]]

    def fetch(self, job_url: str, timeout: float = 600) -> Table:
        """Wait up to ``timeout`` s for an async job (also one from an earlier session); return its result."""
        if not isinstance(job_url, str) or not job_url.startswith(("http://", "https://")):
            raise ValueError(f"job_url must be the URL returned by submit(), got {job_url!r}")
        deadline, interval = time.monotonic() + timeout, 0.2
        try:
            job = self._call(lambda: pyvo.dal.AsyncTAPJob(job_url, session=self.session), "a job lookup")
            while True:
                phase = self._call(lambda: job.phase, "a job status")
                if phase in ("COMPLETED", "ERROR", "ABORTED"):
                    break
                if phase == "PENDING":
                    self._call(job.run, "starting the async job")
                if time.monotonic() > deadline:
                    raise JobError(f"job {job_url} is still {phase} after {timeout:.0f} s; it goes on on the "
                                   "server: call fetch(job_url) again later, or abort(job_url)")
                time.sleep(interval)
                interval = min(interval * 1.5, 5.0)
        except DALAccessError as e:
            raise JobError(f"job {job_url} is not available any more ({e}); submit the query again") from None
        if phase == "ERROR":
            summary = job._job.errorsummary          # pyvo keeps the UWS job document here
            msg = (summary.message.content if summary is not None and summary.message else "") or "job failed"
            if _UNKNOWN_COL.search(msg) or _UNKNOWN_TAB.search(msg) or "parse" in msg.lower():
                raise self._adql_error(DALQueryError(msg))
            raise JobError(f"job {job_url} failed on the server: {msg.strip()}")
        if phase == "ABORTED":
            raise JobError(f"job {job_url} was aborted; submit the query again")
        res = self._call(job.fetch_result, "fetching the job result")
        return self._to_table(res)

    def abort(self, job_url: str) -> None:
        """Abort an async job."""
        pyvo.dal.AsyncTAPJob(job_url, session=self.session).abort()

    # -- cone search --------------------------------------------------------------------
    def cone(self, ra: float, dec: float, radius: float, *, maxrec: int | None = None,
             table: str | None = None, allow_truncated: bool = False) -> Table:
        """Objects within ``radius`` degrees of (ra, dec): SCS when the archive has it, else ADQL on ``table``."""
        for name, v, lo, hi in (("ra", ra, 0, 360), ("dec", dec, -90, 90), ("radius", radius, 0, 180)):
            if not isinstance(v, (int, float)) or not lo <= v <= hi or (name == "radius" and v <= 0):
                raise ValueError(f"{name} must be a number in {'(' if name == 'radius' else '['}{lo}, {hi}] degrees, "
                                 f"got {v!r}")
        if self.urls["scs"] and table is None:
            scs = pyvo.dal.SCSService(self.urls["scs"], session=self.session)
            res = self._call(lambda: scs.search((ra, dec), radius, verbosity=3, maxrec=maxrec), "a cone search")
            return self._check_limit(self._to_table(res), maxrec, allow_truncated)
        if table is None:
            raise ValueError(f"{self.name} has no cone-search URL: pass table='schema.table' to search it via TAP")
        adql = (f"SELECT * FROM {table} WHERE 1=CONTAINS(POINT('ICRS', ra, dec), "
                f"CIRCLE('ICRS', {ra}, {dec}, {radius}))")
        return self.query(adql, maxrec=maxrec, allow_truncated=allow_truncated)

    # -- images, spectra, light curves ------------------------------------------------------
    def sia(self, ra: float, dec: float, size: float = 0.01, **params) -> Table:
        """SIA (v1) image search around (ra, dec); extra params (e.g. task='lens') go to the service."""
        if not self.urls["sia"]:
            raise ValueError(f"{self.name} has no SIA URL; pass sia=... to Archive()")
        svc = pyvo.dal.SIAService(self.urls["sia"], session=self.session)
        res = self._call(lambda: svc.search((ra, dec), size, **params), "an SIA query")
        return self._to_table(res)

    def sia2(self, ra: float, dec: float, radius: float = 0.01, **params) -> Table:
        """SIA v2 search (ObsCore records) within ``radius`` degrees of (ra, dec); extra params (e.g.
        ``collection=``) go to the service."""
        if not self.urls["sia2"]:
            raise ValueError(f"{self.name} has no SIA v2 URL; pass sia2=... to Archive()")
        svc = pyvo.dal.SIA2Service(self.urls["sia2"], session=self.session, check_baseurl=False)
        res = self._call(lambda: svc.search(pos=(ra, dec, radius), **params), "an SIA v2 query")
        return self._to_table(res)

    def obscore(self, adql_where: str = "", *, top: int | None = None, **kw) -> Table:
        """The first ``top`` rows of the service's ObsCore table (``WHERE adql_where``, which may end in
        ORDER BY), e.g. ``arc.obscore("dataproduct_type = 'timeseries'", top=10)``; products of these rows
        are found by :meth:`products` through their ``access_url`` / DataLink. ``kw`` go to :meth:`query`."""
        if top is not None and (not isinstance(top, int) or top < 1):
            raise ValueError(f"top must be a positive integer, got {top!r}")
        from .obscore import obscore_table

        table = obscore_table(self)
        if table is None:
            raise ValueError(f"{self.name} publishes no ObsCore table (no ivoa.obscore in its TAP_SCHEMA)")
        where = f" WHERE {adql_where}" if adql_where.strip() else ""
        return self.query(f"SELECT {f'TOP {top} ' if top else ''}* FROM {table}{where}", **kw)

    def ssa(self, ra: float, dec: float, size: float = 0.01, **params) -> Table:
        """SSA spectrum search around (ra, dec)."""
        if not self.urls["ssa"]:
            raise ValueError(f"{self.name} has no SSA URL; pass ssa=... to Archive()")
        svc = pyvo.dal.SSAService(self.urls["ssa"], session=self.session)
        res = self._call(lambda: svc.search(pos=(ra, dec), diameter=size, **params), "an SSA query")
        return self._to_table(res)

    def datalinks(self, table: Table, id_column: str | None = None) -> Table:
        """DataLink rows (one per link) for every row of ``table``, with column ``row`` = source row index."""
        return products.datalinks(self, table, id_column)

    def cutouts(self, table: Table, **kw) -> "products.ImageSet":
        """FITS image cutouts for the rows of ``table``
        (SIA/TAP rows with access URLs, or catalogue rows via DataLink)."""
        self._revalidate()
        return products.fetch_images(self, table, **kw)

    def colour_images(self, table: Table, **kw) -> "products.ColourSet":
        """JPEG/PNG colour composites for the rows of ``table`` (Galaxy Zoo's SDSS cutouts: ObsCore images in
        image/jpeg or image/png, SIA rows, or DataLink ``#this`` links of those types), as the files' bytes."""
        self._revalidate()
        return products.fetch_colour(self, table, **kw)

    def products(self, table: Table, kind: str, **kw):
        """The rows' products of ``kind`` (``cutout``, ``colour``, ``lightcurve`` or ``spectrum``)."""
        getters = {"cutout": self.cutouts, "colour": self.colour_images, "lightcurve": self.lightcurves,
                   "spectrum": self.spectra}
        if kind not in getters:
            raise ValueError(f"unknown product kind {kind!r}; one of {', '.join(getters)}")
        return getters[kind](table, **kw)

    def product_kinds(self, table: Table, sample: int = 5, **kw) -> set[str]:
        """Which products (``cutout``, ``colour``, ``spectrum``, ``lightcurve``) the rows of ``table`` have."""
        self._revalidate()
        return products.product_kinds(self, table, sample, **kw)

    def spectra(self, table: Table, **kw) -> "products.TableSet":
        """Spectra (FITS tables) for the rows of ``table`` (SSA/TAP rows or catalogue rows via DataLink)."""
        self._revalidate()
        return products.fetch_tables(self, table, "spectrum", **kw)

    def lightcurves(self, table: Table, **kw) -> "products.TableSet":
        """Light curves (FITS tables) for the rows of ``table`` (TAP rows or catalogue rows via DataLink)."""
        self._revalidate()
        return products.fetch_tables(self, table, "lightcurve", **kw)

    def image_geometry(self, table: Table, **kw) -> dict:
        """Planes, shape and pixel scale (arcsec) of the first row's cutout (see products.image_geometry)."""
        self._revalidate()
        return products.image_geometry(self, table, **kw)
