"""Microsoft Graph over one injected httpx client: auth, throttling, retries and JSON batching.

- Every request carries a bearer token from the account's token provider (`TokenProvider`:
  MSAL's silent refresh, or a host application's own). On 401 the token is asked for again
  with `force_refresh=True`, once; a second 401 means the account must sign in again.
- 429 and 503 wait for Retry-After (seconds), else back off exponentially with full jitter;
  500, 502, 504 and dropped connections are retried the same bounded number of times.
- `$batch` takes at most 20 requests; parts that fail with a retryable status are sent again,
  by themselves, after the longest Retry-After among them.
- Requests are sent one at a time, so at most one is in flight per mailbox (Outlook allows 4;
  inside a `$batch`, Outlook itself runs up to 4 parts at once).
Every HTTP request, retries included, is counted in `requests`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from mailagent.errors import AuthError, NotFound, Transient
from providers.retry import RetryPolicy

log = logging.getLogger(__name__)

GRAPH_BASE = "https://graph.microsoft.com/v1.0"
BATCH_LIMIT = 20
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

TokenProvider = Callable[[bool], str]
"""Returns an access token for Graph; True asks for a fresh one (after a 401)."""


@dataclass(frozen=True, slots=True)
class GraphRequest:
    id: str
    method: str
    url: str
    """Relative to the v1.0 base: "/me/messages" or the path and query of a nextLink."""
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GraphResponse:
    status: int
    body: Any
    headers: Mapping[str, str]
    content: bytes = b""
    """The body as it came, for an answer that is not JSON (a message's `$value`)."""

    @property
    def error_code(self) -> str:
        if isinstance(self.body, Mapping):
            error = self.body.get("error")
            if isinstance(error, Mapping):
                return str(error.get("code", ""))
        return ""


def relative(url: str, base: str) -> str:
    """A nextLink or deltaLink as a path under the v1.0 base (what `$batch` parts want)."""
    for prefix in (base.rstrip("/"), GRAPH_BASE):
        if url.startswith(prefix):
            return url[len(prefix) :]
    marker = url.find("/v1.0/")
    return url[marker + len("/v1.0") :] if marker >= 0 else url


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


@dataclass
class GraphClient:
    """Sends Graph requests for one mailbox."""

    http: httpx.Client
    token: TokenProvider
    account: str
    reconnect: str
    base: str = GRAPH_BASE
    attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 64.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    requests: int = 0
    _access: str = ""

    def _bearer(self, fresh: bool) -> str:
        if fresh or not self._access:
            self._access = self.token(fresh)
        return self._access

    def _auth_error(self, cause: str) -> AuthError:
        return AuthError(
            f"account {self.account}: Microsoft refused the sign-in ({cause}); "
            "the account needs to be connected again",
            advice=self.reconnect,
        )

    def _wait(self, attempt: int, what: str, failure: str, retry_after: float | None) -> int:
        policy = RetryPolicy(self.attempts, self.base_delay, self.max_delay)
        return policy.wait(attempt, what, failure, retry_after, sleep=self.sleep, rng=self.rng)

    def send(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        what: str = "",
        done_already: Callable[[], Any] | None = None,
    ) -> GraphResponse:
        """One request with the retry rules above. `done_already` is asked before a retry
        that follows an ambiguous failure of a request that is not idempotent."""
        what = what or f"{method} {url.split('?', maxsplit=1)[0]}"
        attempt, refreshed, ambiguous = 0, False, False
        while True:
            if ambiguous and done_already is not None:
                found = done_already()
                if found is not None:
                    return GraphResponse(200, found, {})
            ambiguous = False
            try:
                self.requests += 1
                response = self.http.request(
                    method,
                    self.base.rstrip("/") + url,
                    json=json,
                    headers={**(headers or {}), "Authorization": f"Bearer {self._bearer(False)}"},
                )
            except httpx.TransportError as exc:
                ambiguous = method != "GET"
                attempt = self._wait(attempt, what, f"connection error {type(exc).__name__}", None)
                continue
            result = _response(response)
            if result.status == 401 and not refreshed:
                refreshed = True
                self._bearer(True)
                continue
            if result.status == 401:
                raise self._auth_error(result.error_code or "401")
            if result.status in RETRY_STATUSES:
                ambiguous = method != "GET" and result.status >= 500
                failure = f"HTTP {result.status} {result.error_code}".strip()
                attempt = self._wait(attempt, what, failure, _retry_after(result.headers))
                continue
            if result.status == 404:
                raise NotFound(f"{what}: not found")
            return result

    def batch(self, requests: Sequence[GraphRequest], what: str) -> dict[str, GraphResponse]:
        """Runs the requests through `$batch`, 20 at a time; returns every final answer by id
        (retryable failures are retried; other failures are returned for the caller to read)."""
        pending = {r.id: r for r in requests}
        answers: dict[str, GraphResponse] = {}
        attempt, refreshed = 0, False
        while pending:
            chunk = list(pending.values())[:BATCH_LIMIT]
            body = {"requests": [_part(r) for r in chunk]}
            response = self.send("POST", "/$batch", json=body, what=f"{what} ($batch)")
            if response.status != 200 or not isinstance(response.body, Mapping):
                raise Transient(f"{what}: $batch answered HTTP {response.status}")
            retry: dict[str, GraphResponse] = {}
            refresh = False
            for part in response.body.get("responses", ()):
                part_id = str(part.get("id"))
                if part_id not in pending:
                    continue
                answer = GraphResponse(
                    int(part.get("status", 0)), part.get("body"), dict(part.get("headers") or {})
                )
                if answer.status == 401:
                    refresh = True
                    retry[part_id] = answer
                elif answer.status in RETRY_STATUSES:
                    retry[part_id] = answer
                else:
                    answers[part_id] = answer
                    del pending[part_id]
            missing = [r.id for r in chunk if r.id not in answers and r.id not in retry]
            if not retry and not missing:
                continue
            if refresh:
                if refreshed:
                    raise self._auth_error("401 in a $batch after a token refresh")
                refreshed = True
                self._bearer(True)
                if all(a.status == 401 for a in retry.values()) and not missing:
                    continue
            waits = [w for w in (_retry_after(a.headers) for a in retry.values()) if w is not None]
            statuses = sorted({a.status for a in retry.values()})
            failure = f"{len(retry) + len(missing)} parts failed (HTTP {statuses or 'none'})"
            attempt = self._wait(attempt, what, failure, max(waits, default=None))
        return answers


def _part(request: GraphRequest) -> dict[str, Any]:
    part: dict[str, Any] = {"id": request.id, "method": request.method, "url": request.url}
    headers = dict(request.headers)
    if request.body is not None:
        part["body"] = request.body
        headers.setdefault("Content-Type", "application/json")
    if headers:
        part["headers"] = headers
    return part


def _response(response: httpx.Response) -> GraphResponse:
    try:
        body = response.json() if response.content else None
    except ValueError:
        return GraphResponse(response.status_code, None, dict(response.headers), response.content)
    return GraphResponse(response.status_code, body, dict(response.headers))
