"""Our exceptions for tracking-API failures (each keeps the API's code and message).

* ``LogisticsAPIError`` — the API refused the call (4xx: bad parameters, unknown carrier, …).
* ``LogisticsUnavailable`` — 5xx, connection errors or timeouts after our retries: nothing was
  recorded as done, the caller keeps its state (the outbox retries later).
* ``LogisticsSignatureError`` — a push whose signature (or timestamp) does not verify.
"""

from __future__ import annotations


class LogisticsError(Exception):
    def __init__(self, code: str | None, message: str, *, status: int | None = None):
        self.code = code
        self.message = message
        self.status = status
        super().__init__(f"logistics {code}: {message}" if code else f"logistics: {message}")


class LogisticsAPIError(LogisticsError):
    pass


class LogisticsNotFound(LogisticsAPIError):
    """The carrier knows no such parcel (yet)."""


class LogisticsUnavailable(LogisticsError):
    pass


class LogisticsSignatureError(LogisticsError):
    pass
