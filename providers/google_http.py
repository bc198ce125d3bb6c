"""Calls to Google APIs with the retry rules Google documents, batching, and request counting.

googleapiclient retries on its own only with `num_retries`, ignores Retry-After and cannot
shrink a batch, so calls go through `GoogleCalls` instead:

- 429, and 403 with a rate-limit reason (`rateLimitExceeded`, `userRateLimitExceeded`), back
  off exponentially with full jitter, never waiting less than a Retry-After the server gave;
  inside a batch only the failed parts are retried, in batches half as large.
- 500, 502, 503, 504 and dropped connections are retried the same bounded number of times.
- 401: google-auth refreshes the access token once and repeats the call; if Google still says
  401, or the refresh itself is refused (a revoked or expired grant), the account needs to be
  connected again and `AuthError` says how.
Every HTTP request (retries and token refreshes included) is counted in `requests`.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import google.auth.exceptions
import httplib2
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest, HttpRequest

from mailagent.errors import AuthError, NotFound, RateLimited, Transient
from providers.retry import RetryPolicy

log = logging.getLogger(__name__)

RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionResetError, BrokenPipeError, socket timeouts
    http.client.HTTPException,
    httplib2.HttpLib2Error,
)
MAX_BATCH = 50
"""Google's batch guide: up to 100 calls, but more than 50 tends to trigger rate limits."""


class CountingHttp(httplib2.Http):  # type: ignore[misc]
    """httplib2 with a count of the HTTP requests it made, and of the POSTs it sent twice.

    httplib2 sends a request again, on its own, when a connection closes before the answer
    (it takes that for a stale keep-alive connection). For a POST the server may then have
    done the work twice: `resent` lets the caller look for, and undo, a duplicate."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.count = 0
        self.resent = 0

    def request(self, *args: Any, **kwargs: Any) -> Any:
        self.count += 1
        return super().request(*args, **kwargs)

    def _conn_request(
        self, conn: Any, request_uri: str, method: str, body: Any, headers: Any
    ) -> Any:
        sent = 0
        send = conn.request

        def counted(*args: Any, **kwargs: Any) -> Any:
            nonlocal sent
            sent += 1
            return send(*args, **kwargs)

        conn.request = counted
        try:
            return super()._conn_request(conn, request_uri, method, body, headers)
        finally:
            del conn.request
            if sent > 1:
                self.count += sent - 1
                if method not in ("GET", "HEAD"):
                    self.resent += 1


def error_reason(error: HttpError) -> str:
    try:
        body = json.loads(error.content.decode("utf-8", "replace"))
        errors = body.get("error", {}).get("errors") or [{}]
        return str(errors[0].get("reason", ""))
    except (ValueError, AttributeError, TypeError):
        return ""


def _retry_after(error: HttpError) -> float | None:
    value = error.resp.get("retry-after") if error.resp is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the exponential backoff is used instead


def is_retryable(error: HttpError) -> bool:
    status = int(error.resp.status)
    return status in RETRY_STATUSES or (status == 403 and error_reason(error) in RATE_LIMIT_REASONS)


@dataclass
class GoogleCalls:
    """Executes googleapiclient requests for one account."""

    http: CountingHttp
    account: str
    reconnect: str
    """The command that connects the account again, for the error message after a 401."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    @property
    def requests(self) -> int:
        return self.http.count

    def _auth_error(self, cause: str) -> AuthError:
        return AuthError(
            f"account {self.account}: Google refused the credentials ({cause}); "
            "the account needs to be connected again",
            advice=self.reconnect,
        )

    def execute(
        self,
        request: HttpRequest,
        what: str,
        *,
        gone_ok: bool = False,
        done_already: Callable[[], Any] | None = None,
    ) -> Any:
        """One call, retried as the module describes. 404 raises `NotFound`; 410 (an expired
        sync token) raises the `HttpError` itself when `gone_ok`.

        For a call that is not idempotent (creating a draft), `done_already` is asked before
        each retry that follows an ambiguous failure (a 5xx or a dropped connection, after
        which the server may have done the work): what it returns, unless None, is the result."""
        attempt, ambiguous = 0, False
        while True:
            if attempt and done_already is not None and ambiguous:
                found = done_already()
                if found is not None:
                    return found
            ambiguous = False
            try:
                return request.execute(num_retries=0)
            except google.auth.exceptions.RefreshError as exc:
                raise self._auth_error("token refresh refused") from exc
            except google.auth.exceptions.TransportError as exc:
                failure: str = f"token endpoint unreachable: {type(exc).__name__}"
                retry_after = None
            except HttpError as exc:
                status = int(exc.resp.status)
                if status == 401:
                    raise self._auth_error("401 after a token refresh") from exc
                if status == 404:
                    raise NotFound(f"{what}: not found") from exc
                if status == 410 and gone_ok:
                    raise
                if not is_retryable(exc):
                    raise _final_error(exc, what) from exc
                failure, retry_after = f"HTTP {status} {error_reason(exc)}", _retry_after(exc)
                ambiguous = status >= 500
            except CONNECTION_ERRORS as exc:
                failure, retry_after = f"connection error {type(exc).__name__}", None
                ambiguous = True
            attempt = self._backoff(attempt, what, failure, retry_after)

    def _backoff(self, attempt: int, what: str, failure: str, retry_after: float | None) -> int:
        return self.retry.wait(attempt, what, failure, retry_after, sleep=self.sleep, rng=self.rng)

    def batch(
        self,
        batch_uri: str,
        requests: Mapping[str, HttpRequest] | Iterable[tuple[str, HttpRequest]],
        what: str,
    ) -> tuple[dict[str, Any], dict[str, HttpError]]:
        """Runs the calls in batches of at most 50; returns (results, failures) by request id.

        Failures are the parts that failed for good (a 404 for a message deleted since it was
        listed, say); rate-limited and failing-server parts are retried in smaller batches."""
        pending = dict(requests.items() if isinstance(requests, Mapping) else requests)
        results: dict[str, Any] = {}
        failures: dict[str, HttpError] = {}
        size, attempt = MAX_BATCH, 0
        while pending:
            chunk = list(pending.items())[:size]
            retry_parts: dict[str, HttpError] = {}

            def collect(
                request_id: str,
                response: Any,
                exception: HttpError | None,
                retry_parts: dict[str, HttpError] = retry_parts,
            ) -> None:
                if exception is None:
                    results[request_id] = response
                elif is_retryable(exception):
                    retry_parts[request_id] = exception
                else:
                    failures[request_id] = exception

            batch = BatchHttpRequest(callback=collect, batch_uri=batch_uri)
            for request_id, request in chunk:
                batch.add(request, request_id=request_id)
            try:
                batch.execute(http=chunk[0][1].http)
            except google.auth.exceptions.RefreshError as exc:
                raise self._auth_error("token refresh refused") from exc
            except HttpError as exc:
                if int(exc.resp.status) == 401:
                    raise self._auth_error("401 after a token refresh") from exc
                if not is_retryable(exc):
                    raise _final_error(exc, what) from exc
                size = max(1, size // 2)
                failure = f"batch got HTTP {exc.resp.status} {error_reason(exc)}"
                attempt = self._backoff(attempt, what, failure, _retry_after(exc))
                continue
            except CONNECTION_ERRORS as exc:
                failure = f"connection error {type(exc).__name__}"
                attempt = self._backoff(attempt, what, failure, None)
                continue
            if any(int(e.resp.status) == 401 for e in failures.values()):
                raise self._auth_error("401 after a token refresh")
            for request_id, _ in chunk:
                if request_id not in retry_parts:
                    pending.pop(request_id)
            if retry_parts:
                size = max(1, min(size, len(retry_parts)) // 2)
                first = next(iter(retry_parts.values()))
                failure = (
                    f"{len(retry_parts)} parts got HTTP {first.resp.status} {error_reason(first)}"
                )
                waits = [w for w in map(_retry_after, retry_parts.values()) if w is not None]
                attempt = self._backoff(attempt, what, failure, max(waits, default=None))
        return results, failures


def _final_error(error: HttpError, what: str) -> Exception:
    status, reason = int(error.resp.status), error_reason(error)
    if status == 403 and reason in {"dailyLimitExceeded", "quotaExceeded"}:
        return RateLimited(f"{what}: Google's daily quota is used up ({reason})")
    if status == 403 and reason in {"insufficientPermissions", "forbidden"}:
        return AuthError(
            f"{what}: permission denied ({reason})",
            advice="connect the account again and grant every scope the consent screen asks for",
        )
    return Transient(f"{what}: HTTP {status} {reason or error.reason}")
