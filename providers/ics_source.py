"""Calendars as iCalendar data: a local .ics file or vdir folder, or a published feed URL.

Neither form says what changed inside it, so a changed calendar is read whole (`replace=True`).
What these sources save is the read itself when nothing changed:

- `IcsFileSource` compares each file's modification time (ns) and size with the last read: no
  change, no file opened (vdirsyncer writes a vdir one .ics file per event, atomically).
- `IcsUrlSource` sends a conditional GET (RFC 9110 §13.1: If-None-Match with the stored ETag,
  If-Modified-Since with the stored Last-Modified); a 304 costs one request and no parsing. A feed
  that sends neither validator is still not parsed again when its body's digest is unchanged.

Both re-read when the window's first day changes (series expansion depends on the window) and
when the account's time zone changes (floating times and dates depend on it).

A calendar that suddenly reads as empty, cut short or unreadable while it gave events before is
taken for a rewrite in progress (a sync tool writing the file, a server mid-update), as
vdirsyncer's "storage empty" guard does: the read changes nothing, so the stored events and the
thank-yous they lead to stay, and the next sync reads it again. An empty or cut-short calendar
that is still the same on that next read is believed; an unreadable one never empties the
stored events. Series that went over their time budget are remembered by digest (`slow`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import httpx

from mailagent.core.models import CalendarEvent
from mailagent.errors import AuthError, ConfigError, NotFound, ProviderError, RateLimited, Transient
from providers.base import Skipped, Window
from providers.calendar_source import CalendarRead, window_day
from providers.ical import Budget, damage, latest_by_id, parse_calendar

__all__ = ["IcsFileSource", "IcsUrlSource", "feed_url"]

log = logging.getLogger(__name__)

_STATE_VERSION = 1
_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_USER_AGENT = "mailagent (calendar feed reader)"
_UNREADABLE = [-1, -1]
"""The stamp recorded for a file that could not be read, so that the next read tries again."""
SERIES_BUDGET = 1.0
"""Seconds one series may take to read (`providers.ical.Budget`)."""
_MEMORY = ("counts", "slow", "suspect")
"""State entries that are memory of earlier reads, not part of what identifies this read."""
_MAX_SLOW = 200
"""Digests of over-budget series kept at most (the newest)."""


def slow_digests(skipped: Sequence[Skipped], known: Sequence[str] = ()) -> list[str]:
    """The digests of over-budget series to remember: those just met, then older ones."""
    found = [s.digest for s in skipped if s.digest]
    return list(dict.fromkeys([*found, *known]))[:_MAX_SLOW]


def suddenly_empty(data: bytes, found: int, lost: Sequence[Skipped], source: str) -> str:
    """Why a read that gave `found` events from `data` looks like a calendar caught mid-rewrite
    (to be checked against what it gave before), or ""."""
    if damage(data):
        return damage(data)
    if any(skip.item == source for skip in lost):
        return "cannot be read as iCalendar"
    return "" if found else "has no events in the window"


def _transient(item: str, problem: str) -> Skipped:
    return Skipped(
        item,
        f"{problem}, yet it had events: taken for a rewrite in progress; the stored events are "
        "kept and it is read again at the next sync",
        stale=True,
    )


class IcsFileSource:
    """An .ics file, or a vdir folder of .ics files (as vdirsyncer keeps one)."""

    def __init__(self, path: Path, timezone: ZoneInfo) -> None:
        self.path = path
        self.timezone = timezone

    def read(self, state: Mapping[str, Any] | None, window: Window) -> CalendarRead:
        files = self._files()
        stamps: dict[str, list[int]] = {}
        for path in files:
            try:
                info = path.stat()
            except OSError:  # removed between listing and stat (vdirsyncer at work)
                stamps[str(path)] = _UNREADABLE
            else:
                stamps[str(path)] = [info.st_mtime_ns, info.st_size]
        new_state: dict[str, Any] = {
            "v": _STATE_VERSION,
            "path": str(self.path),
            "window_day": window_day(window),
            "tz": self.timezone.key,
            "stamps": stamps,
        }
        previous = dict(state) if state is not None else {}
        if previous.get("path") != str(self.path) or previous.get("v") != _STATE_VERSION:
            previous = {}
        if previous and {k: v for k, v in previous.items() if k not in _MEMORY} == new_state:
            return CalendarRead(events=(), replace=False, state=previous)
        before: dict[str, list[int]] = previous.get("stamps", {})
        counts: dict[str, int] = previous.get("counts", {})
        suspect: dict[str, list[int]] = previous.get("suspect", {})
        budget = Budget(SERIES_BUDGET, frozenset(previous.get("slow", [])))
        events: list[CalendarEvent] = []
        skipped: list[Skipped] = []
        transient: list[Skipped] = []
        new_counts: dict[str, int] = {}
        for path in files:
            key = str(path)
            try:
                data = path.read_bytes()
            except OSError as exc:
                skipped.append(Skipped(key, f"cannot read: {exc.strerror or exc}"))
                stamps[key] = _UNREADABLE
                continue
            found, lost = parse_calendar(
                data, window=window, default_tz=self.timezone, source=key, budget=budget
            )
            had = counts.get(key, 1 if before.get(key, [0, 0])[1] > 0 else 0) > 0
            problem = suddenly_empty(data, len(found), lost, key) if had else ""
            believed = suspect.get(key) == stamps[key] and "iCalendar" not in problem
            if problem and not believed:
                transient.append(_transient(key, problem))
                suspect = {**suspect, key: stamps[key]}
                continue
            events.extend(found)
            skipped.extend(lost)
            new_counts[key] = len(found)
        if not files and any(counts.values()) and suspect.get(str(self.path)) != []:
            transient.append(_transient(str(self.path), "holds no calendar file"))
            suspect = {**suspect, str(self.path): []}
        if transient:
            kept = {**previous, "suspect": suspect} if previous else {}
            return CalendarRead(
                events=(), replace=False, state=kept, skipped=transient, requests=len(files)
            )
        new_state.update(counts=new_counts, slow=slow_digests(skipped, previous.get("slow", [])))
        return CalendarRead(
            events=latest_by_id(events),
            replace=True,
            state=new_state,
            skipped=skipped,
            requests=len(files),
        )

    def _files(self) -> list[Path]:
        if self.path.is_dir():
            return sorted(
                p for p in self.path.iterdir() if p.suffix.lower() == ".ics" and p.is_file()
            )
        if self.path.is_file():
            return [self.path]
        raise ConfigError(
            f"calendar {self.path} does not exist",
            advice="set `calendar` to an .ics file or a vdir folder of .ics files",
        )

    def close(self) -> None:
        """Nothing to release."""


def feed_url(url: str) -> str:
    """`url` as an http(s) URL: webcal:// and webcals:// are https:// (as calendar apps do)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme in ("webcal", "webcals"):
        scheme = "https"
    if scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"calendar URL {url!r} is not an http(s) or webcal address",
            advice="give the feed's address, e.g. https://example.com/calendar.ics",
        )
    return urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, ""))


class IcsUrlSource:
    """A published iCalendar feed (an "ICS link" or webcal:// subscription)."""

    def __init__(
        self,
        url: str,
        timezone: ZoneInfo,
        *,
        http: httpx.Client | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.url = feed_url(url)
        self.timezone = timezone
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=_TIMEOUT, follow_redirects=True, verify=True)
        self._auth = httpx.BasicAuth(username, password or "") if username else None

    def read(self, state: Mapping[str, Any] | None, window: Window) -> CalendarRead:
        day = window_day(window)
        previous = dict(state) if state and state.get("url") == self.url else {}
        if previous.get("v") != _STATE_VERSION:
            previous = {}
        same_day = previous.get("window_day") == day and previous.get("tz") == self.timezone.key
        headers = {"User-Agent": _USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
        if same_day:  # after a day or zone change we need the body whatever the validators say
            if previous.get("etag"):
                headers["If-None-Match"] = previous["etag"]
            if previous.get("last_modified"):
                headers["If-Modified-Since"] = previous["last_modified"]
        response = self._get(headers)
        requests = len(response.history) + 1
        if response.status_code == 304 and same_day:
            return CalendarRead(events=(), replace=False, state=previous, requests=requests)
        _raise_for_status(response, self.url)
        data = response.content
        digest = hashlib.sha256(data).hexdigest()
        new_state: dict[str, Any] = {
            "v": _STATE_VERSION,
            "url": self.url,
            "window_day": day,
            "tz": self.timezone.key,
            "etag": response.headers.get("ETag"),
            "last_modified": response.headers.get("Last-Modified"),
            "digest": digest,
        }
        if same_day and previous.get("digest") == digest:
            kept = {k: previous[k] for k in _MEMORY if k in previous}
            return CalendarRead(events=(), replace=False, state=new_state | kept, requests=requests)
        budget = Budget(SERIES_BUDGET, frozenset(previous.get("slow", [])))
        events, skipped = parse_calendar(
            data, window=window, default_tz=self.timezone, source=self.url, budget=budget
        )
        had = int(previous.get("counts", 1 if previous.get("digest") else 0)) > 0
        problem = suddenly_empty(data, len(events), skipped, self.url) if had else ""
        believed = previous.get("suspect") == digest and "iCalendar" not in problem
        if problem and not believed:
            return CalendarRead(
                events=(),
                replace=False,
                state={**previous, "suspect": digest},
                skipped=[_transient(self.url, problem)],
                requests=requests,
            )
        new_state.update(counts=len(events), slow=slow_digests(skipped, previous.get("slow", [])))
        return CalendarRead(
            events=events, replace=True, state=new_state, skipped=skipped, requests=requests
        )

    def _get(self, headers: dict[str, str]) -> httpx.Response:
        try:
            return self._http.get(
                self.url,
                headers=headers,
                auth=self._auth or httpx.USE_CLIENT_DEFAULT,
                follow_redirects=True,
            )
        except httpx.TooManyRedirects as exc:
            raise ProviderError(
                f"calendar feed {self.url}: too many redirects",
                advice="check the calendar URL in the configuration",
            ) from exc
        except httpx.TimeoutException as exc:
            raise Transient(f"calendar feed {self.url}: timed out ({exc})") from exc
        except httpx.TransportError as exc:  # DNS, refused connection, TLS verification
            raise Transient(f"calendar feed {self.url}: cannot connect ({exc})") from exc

    def close(self) -> None:
        if self._owns_http:
            self._http.close()


def _raise_for_status(response: httpx.Response, url: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    message = f"calendar feed {url}: HTTP {status} {response.reason_phrase}".rstrip()
    if status in (401, 403):
        raise AuthError(message, advice="check the feed's user name and password, or its URL")
    if status in (404, 410):
        raise NotFound(message, advice="the feed moved or was unpublished: update its URL")
    if status == 429:
        raise RateLimited(message, retry_after=_retry_after(response))
    if status >= 500:
        raise Transient(message)
    raise ProviderError(message, advice="check the calendar URL in the configuration")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
