"""ZTF alert packets as ZTF serves them (Avro; schema ``ztf.alert`` 3.3's names and types, the fields astrohub reads),
made from the ztf_alerts kit's real stamps and candidate records: each cutout the gzip-compressed FITS image the
packet carries, the candidate's position, filter, magnitude and real/bogus scores from the kit's metadata."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import fastavro
import numpy as np
from astropy.io import fits
from astropy.table import Table

from astrohub.models.evaluation import kits

CUTOUTS = ("cutoutScience", "cutoutTemplate", "cutoutDifference")
_CUTOUT = {"type": "record", "name": "cutout", "namespace": "ztf.alert",
           "fields": [{"name": "fileName", "type": "string"}, {"name": "stampData", "type": "bytes"}]}
_CANDIDATE = {"type": "record", "name": "candidate", "namespace": "ztf.alert", "fields": [
    {"name": "jd", "type": "double"}, {"name": "fid", "type": "int"}, {"name": "candid", "type": ["null", "long"]},
    {"name": "ra", "type": "double"}, {"name": "dec", "type": "double"}, {"name": "magpsf", "type": "float"},
    {"name": "sigmapsf", "type": "float"}, {"name": "isdiffpos", "type": "string"},
    {"name": "rb", "type": ["null", "float"]}, {"name": "drb", "type": ["null", "float"]}]}
SCHEMA = fastavro.parse_schema({"type": "record", "name": "alert", "namespace": "ztf", "fields": [
    {"name": "schemavsn", "type": "string"}, {"name": "publisher", "type": "string"},
    {"name": "objectId", "type": "string"}, {"name": "candid", "type": "long"},
    {"name": "candidate", "type": _CANDIDATE},
    {"name": "cutoutScience", "type": ["null", _CUTOUT]},
    {"name": "cutoutTemplate", "type": ["null", "ztf.alert.cutout"]},
    {"name": "cutoutDifference", "type": ["null", "ztf.alert.cutout"]}]})


def kit():
    """(stamps float32 [1000, 3, 63, 63], metadata Table) of the ztf_alerts kit."""
    d = kits.kit_dir("ztf_alerts")
    return np.load(d / "ztf_triplets_63x63.npz")["triplets"], Table.read(d / "ztf_alerts_meta.csv")


def _stamp(image: np.ndarray) -> bytes:
    out = io.BytesIO()
    fits.PrimaryHDU(image.astype(np.float32)).writeto(out)
    return gzip.compress(out.getvalue())


def packet(stamps: np.ndarray, meta: Table, i: int) -> dict:
    """Kit alert ``i`` as its Avro packet."""
    m = meta[i]

    def score(v):
        return None if np.ma.is_masked(v) or not np.isfinite(v) else float(v)

    cand = {"jd": float(m["jd"]), "fid": int(m["fid"]), "candid": int(m["candid"]), "ra": float(m["ra"]),
            "dec": float(m["dec"]), "magpsf": float(m["magpsf"]), "sigmapsf": float(m["sigmapsf"]),
            "isdiffpos": str(m["isdiffpos"]), "rb": score(m["rb"]), "drb": score(m["drb"])}
    return {"schemavsn": "3.3", "publisher": "ZTF (www.ztf.caltech.edu)", "objectId": str(m["objectId"]),
            "candid": int(m["candid"]), "candidate": cand,
            **{k: {"fileName": f"candid{int(m['candid'])}_{k[6:].lower()}.fits.gz", "stampData": _stamp(stamps[i, j])}
               for j, k in enumerate(CUTOUTS)}}


def write(path: Path, packets: list[dict], codec: str = "null") -> Path:
    with open(path, "wb") as f:
        fastavro.writer(f, SCHEMA, packets, codec=codec)
    return path
