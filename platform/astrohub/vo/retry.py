"""Retries with exponential backoff for transient network faults."""

from __future__ import annotations

import time

import requests
from pyvo.dal.exceptions import DALAccessError, DALServiceError

TRANSIENT_HTTP = {408, 429, 500, 502, 503, 504}


def is_transient(exc: BaseException) -> bool:
    """True for connection failures, timeouts and 5xx/429 answers."""
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                        ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, DALAccessError):
        code = getattr(exc, "code", None)
        if code in TRANSIENT_HTTP:
            return True
        cause = getattr(exc, "cause", None) or exc.__cause__ or exc.__context__
        if cause is not None and cause is not exc:
            return is_transient(cause)
        return isinstance(exc, DALServiceError) and code is None and "Connection" in str(exc)
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return exc.response.status_code in TRANSIENT_HTTP
    return False


def with_retries(fn, retries: int = 3, backoff: float = 0.5, on_retry=None):
    """Call ``fn()``; on a transient fault retry up to ``retries`` times, sleeping backoff*2**k."""
    for attempt in range(retries + 1):
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - filtered by is_transient
            if attempt == retries or not is_transient(e):
                raise
            if on_retry:
                on_retry(attempt + 1, e)
            time.sleep(backoff * 2 ** attempt)
