"""Exceptions of the VO client: each says what went wrong and what to do next."""

from __future__ import annotations


class VOError(Exception):
    """Base class of astrohub.vo errors."""


class ADQLError(VOError):
    """The service rejected the ADQL (syntax error, unknown table or column)."""

    def __init__(self, message: str, suggestion: str | None = None):
        super().__init__(message + (f" (did you mean {suggestion!r}?)" if suggestion else ""))
        self.suggestion = suggestion


class ServiceUnreachable(VOError):
    """The service did not answer (after retries)."""


class RowLimitExceeded(VOError):
    """The result was truncated at the row limit (MAXREC); ``table`` holds the rows returned."""

    def __init__(self, message: str, table=None, rows: int = 0):
        super().__init__(message)
        self.table, self.rows = table, rows


class MalformedResponse(VOError):
    """The service answered, but not with a readable VOTable or FITS file."""


class JobError(VOError):
    """An asynchronous job failed, was aborted or is unknown."""


class MetadataError(VOError, ValueError):
    """The rows lack what a use needs (magnitudes with errors, positions, an id), judged from their UCDs and
    well-known column names; the message names what is missing."""


class DiscoveryError(VOError, ValueError):
    """No product could be discovered for the rows (no ObsCore table, DataLink service or access URL)."""
