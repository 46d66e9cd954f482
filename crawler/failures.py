"""Turn whatever went wrong with a request into (kind, reason, status) for the bad-response record.

Kinds are stable names for counting; reasons are for people. A transient kind means "try again next
time the source lists the page"; anything else is final until the source says the page changed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from scrapy.exceptions import (
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as twisted_errors
from twisted.internet.defer import CancelledError, TimeoutError

logger = logging.getLogger(__name__)

TRANSIENT_KINDS = frozenset({"timeout", "connection", "data-loss", "error"})
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 522, 524})


class BadResponseError(IgnoreRequest):
    """Raised by our middlewares for a response we refuse; the request's errback records it."""

    def __init__(self, kind: str, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True)
class Failure:
    kind: str
    reason: str
    status: int | None = None

    @property
    def transient(self) -> bool:
        return self.kind in TRANSIENT_KINDS or (
            self.kind == "http-status" and self.status in TRANSIENT_STATUSES
        )


def classify(exc: BaseException) -> Failure:
    if isinstance(exc, BadResponseError):
        return Failure(exc.kind, exc.reason, exc.status)
    if isinstance(exc, HttpError):
        status = exc.response.status
        return Failure("http-status", f"HTTP status {status}", status)
    message = str(exc)
    if isinstance(exc, IgnoreRequest):
        if "redirect" in message.lower():
            return Failure("redirect-loop", "redirect loop or too many redirects")
        if "robots.txt" in message.lower():
            return Failure("robots", "disallowed by robots.txt")
        return Failure("ignored", f"request ignored: {message or type(exc).__name__}")
    if ("max size" in message.lower() or "maxsize" in message.lower()) or isinstance(
        exc, DownloadCancelledError
    ):
        return Failure(
            "too-large", f"body over the size limit ({message})" if message else "body over the size limit"
        )
    if isinstance(exc, CancelledError):
        return Failure("too-large", "download cancelled (body over the size limit)")
    if isinstance(
        exc,
        DownloadTimeoutError | TimeoutError | twisted_errors.TimeoutError | twisted_errors.TCPTimedOutError,
    ):
        return Failure("timeout", f"timed out: {message}" if message else "timed out")
    if isinstance(
        exc,
        DownloadConnectionRefusedError
        | twisted_errors.ConnectError
        | twisted_errors.DNSLookupError
        | twisted_errors.ConnectionLost
        | ConnectionError,
    ):
        return Failure("connection", f"connection failed: {type(exc).__name__}: {message}".rstrip(": "))
    if isinstance(exc, ResponseDataLossError | DownloadFailedError):
        return Failure("data-loss", f"download failed: {message}")
    return Failure("error", f"{type(exc).__name__}: {message}".rstrip(": "))
