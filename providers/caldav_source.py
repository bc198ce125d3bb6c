"""A CalDAV calendar collection as a `CalendarSource`, read incrementally.

Design notes:

- The state remembers, per resource href, its ETag and the ids of the events it gave, plus the
  collection's sync token (RFC 6578) or, on a server without sync-collection, its CTag. A later
  read asks only for what changed and fetches only those resources; a deleted resource turns its
  event ids into `removed_ids`. An id that another resource still gives is not removed.
- A first read, a refused sync token (RFC 6578 §3.2: 403 with the DAV:valid-sync-token
  precondition; some servers answer 409 or 412), a new window day and a new account time zone
  (floating times and dates depend on it) read the whole collection
  (`replace=True`): a sync-collection REPORT without token lists every member with its ETag and
  gives a token, then one calendar-multiget REPORT (RFC 4791 §7.9) per 100 resources brings the
  data. The token comes before the data, so a change in between is reported again next time.
- Every resource is fetched and expanded by `parse_calendar` rather than asking the server for
  a time-range calendar-query: servers disagree about time ranges on series (caldav's
  compatibility hints list several that get them wrong), and our parser repairs what they store.
- A full read that finds no events where the state remembers some is taken for a server
  mid-update (vdirsyncer's "storage empty" guard): it changes nothing, and is believed only when
  the next full read finds the collection empty again. Series that went over their time budget
  are remembered by digest (`slow`) and skipped unread while they are unchanged.
- Without sync-collection (or with `use_sync=False`): a Depth 0 PROPFIND compares the CTag
  (`{http://calendarserver.org/ns/}getctag`); when it moved, a Depth 1 PROPFIND lists the ETags.
- `requests` counts HTTP responses at the session (a response hook), so authentication
  challenges and redirects count too. caldav's and niquests' errors become `mailagent.errors`
  in `_mapped_errors`; nothing else here raises them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any, NoReturn
from urllib.parse import quote, unquote, urlsplit
from zoneinfo import ZoneInfo

from caldav.collection import Calendar, SynchronizableCalendarObjectCollection
from caldav.davclient import DAVClient
from caldav.lib import error as dav_error
from caldav.lib.url import URL

from mailagent.core.models import CalendarEvent
from mailagent.errors import AuthError, ConfigError, NotFound, ProviderError, RateLimited, Transient
from providers.base import Skipped, Window
from providers.calendar_source import CalendarRead, window_day
from providers.ical import Budget, latest_by_id, parse_calendar
from providers.ics_source import SERIES_BUDGET, slow_digests

__all__ = ["CalDavSource"]

log = logging.getLogger(__name__)

_STATE_VERSION = 1
_TIMEOUT = 30
_MULTIGET_BATCH = 100
_VALID_SYNC_PRECONDITION = "{DAV:}valid-sync-token"
_SUPPORTED_REPORT = "{DAV:}supported-report"
_RESOURCETYPE = "{DAV:}resourcetype"
_GETETAG = "{DAV:}getetag"
_GETCTAG = "{http://calendarserver.org/ns/}getctag"
_PROPFIND = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">'
    "<d:prop><d:resourcetype/><d:getetag/><cs:getctag/></d:prop></d:propfind>"
)
# caldav's own PROPFIND builder drops properties it has no element for, getctag among them.

Objects = dict[str, list[Any]]
"""href -> [etag, [event ids]]: what the state remembers of each resource."""
Listing = dict[str, str | None]
"""href -> etag (None when the server gave none) of resources to look at."""


class _TokenRefused(Exception):
    """The server no longer knows our sync token: read everything again."""


class _NoSync(Exception):
    """The server cannot do sync-collection: use the CTag and ETag listings."""


class CalDavSource:
    """One calendar collection. `url` is the collection, or a server or principal URL: then the
    calendar named `calendar` (display name or last path segment), else the first one."""

    def __init__(
        self,
        url: str,
        timezone: ZoneInfo,
        *,
        username: str | None,
        password: str | None,
        calendar: str | None = None,
        use_sync: bool = True,
    ) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.timezone = timezone
        self.calendar = calendar
        self.use_sync = use_sync
        self._credentials = (username, password)
        self._client: DAVClient | None = None
        self._responses = 0
        self._slow: list[str] = []

    def read(self, state: Mapping[str, Any] | None, window: Window) -> CalendarRead:
        before = self._responses
        with _mapped_errors(self.url):
            result = self._read(state, window)
        return replace(result, requests=self._responses - before)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- reading ------------------------------------------------------------------------------

    def _read(self, state: Mapping[str, Any] | None, window: Window) -> CalendarRead:
        key = f"{self.url}#{self.calendar or ''}"
        known = dict(state) if state else {}
        if known.get("v") != _STATE_VERSION or known.get("source") != key:
            known = {}
        url = str(known["calendar_url"]) if known else self._find_calendar()
        self._slow = list(known.get("slow", []))
        calendar = Calendar(client=self._dav(), url=url)
        base = {"v": _STATE_VERSION, "source": key, "calendar_url": url}
        base["window_day"] = window_day(window)
        base["tz"] = self.timezone.key  # floating times and dates depend on it
        if known and all(known.get(k) == base[k] for k in ("window_day", "tz")):
            objects: Objects = {h: list(v) for h, v in dict(known["objects"]).items()}
            try:
                if known.get("sync_token") and self.use_sync:
                    new, changed, deleted = self._sync_listing(calendar, known["sync_token"])
                    marks: dict[str, Any] = {"sync_token": new, "ctag": None}
                    return self._update(calendar, objects, changed, deleted, window, base | marks)
                if known.get("ctag") and self._listing(url, 0)[0] == known["ctag"]:
                    return CalendarRead(events=(), replace=False, state=known)
                ctag, listing = self._listing(url, 1)
                marks = {"sync_token": None, "ctag": ctag}
                deleted = set(objects) - set(listing)
                return self._update(calendar, objects, listing, deleted, window, base | marks)
            except _TokenRefused:
                log.info("%s: sync token refused, reading the whole calendar", url)
        token, ctag = None, None
        try:
            if not self.use_sync:
                raise _NoSync
            token, listing, _ = self._sync_listing(calendar, None)
        except _NoSync:
            ctag, listing = self._listing(url, 1)
        objects, events, skipped = self._fetch(calendar, listing, window)
        had = any(ids for _, ids in dict(known.get("objects", {})).values())
        if had and not events and known.get("suspect") != "empty":
            reason = (
                "the collection has no events any more, yet it had some: taken for a server "
                "mid-update; the stored events are kept and it is read again at the next sync"
            )
            kept = {**known, "suspect": "empty", "window_day": None}  # the next read is full
            return CalendarRead((), False, (), kept, [Skipped(url, reason, stale=True)])
        state = {**base, "sync_token": token, "ctag": ctag, "objects": objects}
        state["slow"] = slow_digests(skipped, self._slow)
        return CalendarRead(latest_by_id(events), True, (), state, skipped)

    def _update(
        self,
        calendar: Calendar,
        objects: Objects,
        changed: Listing,
        deleted: set[str],
        window: Window,
        state: dict[str, Any],
    ) -> CalendarRead:
        """Fetch the changed resources; the ids that deleted and changed resources gave and no
        resource gives any more are removed."""
        gone: set[str] = set()
        for href in deleted:
            gone.update(objects.pop(href, [None, []])[1])
        wanted = {h: e for h, e in changed.items() if e is None or objects.get(h, [None])[0] != e}
        for href in wanted:
            gone.update(objects.pop(href, [None, []])[1])
        fetched, events, skipped = self._fetch(calendar, wanted, window)
        objects.update(fetched)
        present = {event_id for _, ids in objects.values() for event_id in ids}
        state["objects"] = objects
        state["slow"] = slow_digests(skipped, self._slow)
        return CalendarRead(latest_by_id(events), False, sorted(gone - present), state, skipped)

    def _fetch(
        self, calendar: Calendar, listing: Listing, window: Window
    ) -> tuple[Objects, list[CalendarEvent], list[Skipped]]:
        objects: Objects = {}
        events: list[CalendarEvent] = []
        skipped: list[Skipped] = []
        hrefs = sorted(listing)
        for start in range(0, len(hrefs), _MULTIGET_BATCH):
            batch = [
                URL.objectify(quote(h, safe="/@:")) for h in hrefs[start : start + _MULTIGET_BATCH]
            ]
            resources: Any = calendar.multiget(batch)
            if not isinstance(resources, list):
                raise TypeError("CalDavSource needs caldav's synchronous client")
            for resource in resources:
                href = _path(resource.url)
                data = resource.raw_data
                if data is None:  # deleted since the listing: the next sync reports it
                    log.debug("%s: no calendar data in the multiget answer", href)
                    continue
                found, lost = parse_calendar(
                    data,
                    window=window,
                    default_tz=self.timezone,
                    source=href,
                    budget=Budget(SERIES_BUDGET, frozenset(self._slow)),
                )
                events.extend(found)
                skipped.extend(lost)
                objects[href] = [resource.etag or listing.get(href), sorted({e.id for e in found})]
        return objects, events, skipped

    # -- talking ------------------------------------------------------------------------------

    def _dav(self) -> DAVClient:
        if self._client is None:
            user, password = self._credentials
            self._client = DAVClient(self.url, username=user, password=password, timeout=_TIMEOUT)
            self._client.session.hooks["response"].append(self._count)
        return self._client

    def _count(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        self._responses += 1
        return response

    def _propfind(self, url: str, depth: int) -> list[tuple[str, dict[str, Any]]]:
        """(href path, properties) of `url` (Depth 0) or of it and its members (Depth 1)."""
        response = self._dav().propfind(url, props=_PROPFIND, depth=depth)
        if response.status == 404:
            raise NotFound(f"CalDAV: {url} does not exist", advice="check the CalDAV URL")
        if response.status not in (200, 207):
            raise ProviderError(f"CalDAV: PROPFIND {url} answered {response.status}")
        return [
            (_path(result.href), dict(getattr(result, "properties", None) or {}))
            for result in response.results or []
        ]

    def _find_calendar(self) -> str:
        """`self.url` when it is a calendar (one PROPFIND), else a calendar found through the
        principal's calendar-home-set (RFC 4791 §6.2.1)."""
        for _, props in self._propfind(self.url, 0):
            if "{urn:ietf:params:xml:ns:caldav}calendar" in (props.get(_RESOURCETYPE) or []):
                return self.url
        calendars = self._dav().get_calendars()
        if not calendars:
            raise ConfigError(f"CalDAV: no calendar at {self.url}", advice="give its own URL")
        if self.calendar is None:
            return str(calendars[0].url)
        names: list[str] = []
        for item in calendars:
            display = item.get_display_name()
            segment = _path(item.url).rstrip("/").rsplit("/", 1)[-1]
            if self.calendar in (display, segment):
                return str(item.url)
            names.append(str(display or segment))
        raise ConfigError(
            f"CalDAV: no calendar named {self.calendar!r} at {self.url}",
            advice=f"set `calendar` to one of: {', '.join(names)}",
        )

    def _sync_listing(self, calendar: Calendar, token: str | None) -> tuple[str, Listing, set[str]]:
        """RFC 6578 sync-collection: (new token, changed href -> etag, deleted hrefs)."""
        try:
            result = calendar.get_objects_by_sync_token(
                token, load_objects=False, disable_fallback=True
            )
        except dav_error.DAVError as exc:
            _sync_failure(exc, token)
        if not isinstance(result, SynchronizableCalendarObjectCollection):
            raise TypeError("CalDavSource needs caldav's synchronous client")
        new_token = result.sync_token
        if not isinstance(new_token, str) or not new_token or new_token.startswith("fake-"):
            raise _NoSync
        collection = _path(calendar.url).rstrip("/")
        deleted = {_path(url) for url in result.deleted_urls}
        changed: Listing = {}
        for resource in result:
            href = _path(resource.url)
            if href.rstrip("/") != collection and href not in deleted:  # iCloud lists itself
                changed[href] = resource.etag
        return new_token, changed, deleted

    def _listing(self, url: str, depth: int) -> tuple[str | None, Listing]:
        """PROPFIND: the collection's CTag, and (Depth 1) its members' href -> etag."""
        collection = _path(url).rstrip("/")
        ctag: str | None = None
        listing: Listing = {}
        for href, props in self._propfind(url, depth):
            if href.rstrip("/") == collection:
                ctag = str(props.get(_GETCTAG) or "") or None
            elif "{DAV:}collection" not in (props.get(_RESOURCETYPE) or []):
                listing[href] = props.get(_GETETAG)
        return ctag, listing


def _sync_failure(exc: dav_error.DAVError, token: str | None) -> NoReturn:
    """Sort a failed sync-collection REPORT: refused token, no support, or a real error."""
    status = exc.status or 0
    server_error = status >= 500 and status != 501  # 501 Not Implemented: no sync-collection
    if isinstance(exc, dav_error.RateLimitError) or status == 401 or server_error:
        raise exc
    refused = _VALID_SYNC_PRECONDITION in exc.preconditions or status in (409, 412)
    if isinstance(exc, dav_error.AuthorizationError):
        if token and (refused or not exc.preconditions):
            raise _TokenRefused from exc
        if token is None and _SUPPORTED_REPORT in exc.preconditions:  # Zimbra
            raise _NoSync from exc
        raise exc
    raise (_TokenRefused if token else _NoSync) from exc


def _path(url: Any) -> str:
    """A resource's key in the state: its URL path, percent-decoded."""
    return unquote(urlsplit(str(url)).path)


@contextlib.contextmanager
def _mapped_errors(url: str) -> Iterator[None]:
    """caldav's and the HTTP library's errors as `mailagent.errors` (STYLE habit 9)."""
    try:
        yield
    except dav_error.RateLimitError as exc:
        raise RateLimited(
            f"CalDAV {url}: rate limited", retry_after=exc.retry_after_seconds
        ) from exc
    except dav_error.AuthorizationError as exc:
        raise AuthError(
            f"CalDAV {url}: access refused ({exc.status or 'no status'})",
            advice="check the CalDAV user name and password, and that it may read this calendar",
        ) from exc
    except dav_error.NotFoundError as exc:
        raise NotFound(f"CalDAV {url}: not found", advice="check the CalDAV URL") from exc
    except dav_error.DAVError as exc:
        reason = " ".join(str(exc.reason or "").split())[:200]
        message = f"CalDAV {url}: {type(exc).__name__} ({exc.status or 'no status'}) {reason}"
        if (exc.status or 0) >= 500:
            raise Transient(message) from exc
        raise ProviderError(message) from exc
    except OSError as exc:  # niquests' and requests' errors are OSErrors: DNS, TLS, timeouts
        raise Transient(f"CalDAV {url}: cannot connect ({exc})") from exc
