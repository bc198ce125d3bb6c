"""Calendar sources against real things: a Radicale CalDAV server on loopback, files on disk, and
a small local HTTP server that publishes an ICS feed the way calendar hosts do (ETag,
Last-Modified, 304, redirects).

Each CalDAV test works in its own calendar collection of one Radicale for the module."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx
import pytest

from mailagent.core.models import CalendarEvent
from mailagent.errors import AuthError, ConfigError, NotFound, Transient
from mailagent.scenario import load_scenario
from providers.base import Window
from providers.caldav_source import CalDavSource
from providers.calendar_source import CalendarRead, CalendarSource
from providers.ics_source import IcsFileSource, IcsUrlSource, feed_url
from providers.testservers import radicale as radicale_module
from providers.testservers.radicale import RadicaleServer, publish

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo" / "scenario.yaml"
NEW_YORK = ZoneInfo("America/New_York")
WINDOW = Window(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
NEXT_DAY = Window(WINDOW.start + timedelta(days=1), WINDOW.end + timedelta(days=1))
RADICALE_TOKEN = "http://radicale.org/ns/sync/"  # noqa: S105 - Radicale's sync-token prefix


def ics(
    uid: str, start: str = "20260310T150000Z", *, tzid: str = "", summary: str = "", extra: str = ""
) -> bytes:
    """One hour-long VEVENT in a VCALENDAR; `start` is an iCalendar DATE-TIME."""
    params = f";TZID={tzid}" if tzid else ""
    end = f"{start[:9]}{int(start[9:11]) + 1:02}{start[11:]}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//tests//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART{params}:{start}",
        f"DTEND{params}:{end}",
        f"SUMMARY:{summary or 'Interview ' + uid}",
        *([extra] if extra else []),
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def ids(read: CalendarRead) -> set[str]:
    return {event.id for event in read.events}


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with RadicaleServer() as server:
        yield server


@pytest.fixture
def calendar(radicale: RadicaleServer, request: pytest.FixtureRequest) -> str:
    """A fresh calendar collection named after the test."""
    name = str(request.node.name).replace("[", "-").replace("]", "")
    radicale.calendar_url(name)
    return name


def open_source(
    radicale: RadicaleServer, url: str, timezone: ZoneInfo = NEW_YORK, **options: Any
) -> CalDavSource:
    options.setdefault("password", radicale.password)
    return CalDavSource(url, timezone, username=radicale.username, **options)


@pytest.fixture
def source(radicale: RadicaleServer, calendar: str) -> Iterator[CalDavSource]:
    caldav = open_source(radicale, radicale.calendar_url(calendar))
    yield caldav
    caldav.close()


# -- CalDAV --------------------------------------------------------------------------------------


def test_caldav_source_is_a_calendar_source(source: CalDavSource) -> None:
    assert isinstance(source, CalendarSource)


def test_first_read_then_only_what_changed(
    radicale: RadicaleServer, calendar: str, source: CalDavSource
) -> None:
    for uid in ("a", "b", "c"):
        radicale.put_event_ics(calendar, uid, ics(uid))
    first = source.read(None, WINDOW)
    assert first.replace
    assert ids(first) == {"a", "b", "c"}
    assert first.state["sync_token"].startswith(RADICALE_TOKEN)
    assert sorted(first.state["objects"]) == [f"/alex/{calendar}/{u}.ics" for u in "abc"]

    quiet = source.read(first.state, WINDOW)
    assert (list(quiet.events), list(quiet.removed_ids), quiet.replace) == ([], [], False)
    assert quiet.requests == 1  # one sync-collection REPORT, nothing fetched

    radicale.put_event_ics(calendar, "a", ics("a", summary="Interview a (room moved)"))
    radicale.put_event_ics(calendar, "d", ics("d"))
    radicale.delete_event(calendar, "b")
    changed = source.read(quiet.state, WINDOW)
    assert not changed.replace
    assert {(e.id, e.title) for e in changed.events} == {
        ("a", "Interview a (room moved)"),
        ("d", "Interview d"),
    }
    assert changed.removed_ids == ["b"]
    assert changed.requests == 2  # the sync REPORT and one calendar-multiget for a and d
    assert changed.state["sync_token"] != quiet.state["sync_token"]
    assert set(changed.state["objects"]) == {f"/alex/{calendar}/{u}.ics" for u in "acd"}


def test_refused_sync_token_reads_everything_again(
    radicale: RadicaleServer, calendar: str, source: CalDavSource
) -> None:
    radicale.put_event_ics(calendar, "a", ics("a"))
    first = source.read(None, WINDOW)
    stale = {**first.state, "sync_token": RADICALE_TOKEN + "0" * 64}
    again = source.read(stale, WINDOW)
    assert again.replace
    assert ids(again) == {"a"}
    assert again.requests == 3  # the refused REPORT (403), a REPORT without token, a multiget
    assert again.state["sync_token"] == first.state["sync_token"]


def test_a_new_window_day_reads_everything_again(
    radicale: RadicaleServer, calendar: str, source: CalDavSource
) -> None:
    radicale.put_event_ics(calendar, "a", ics("a", "20260301T120000Z"))
    radicale.put_event_ics(calendar, "b", ics("b"))
    first = source.read(None, WINDOW)
    assert ids(first) == {"a", "b"}
    moved = source.read(first.state, NEXT_DAY)
    assert moved.replace
    assert ids(moved) == {"b"}  # a is before the new window


def test_a_collection_suddenly_empty_on_a_full_read_is_believed_only_the_second_time(
    radicale: RadicaleServer, calendar: str, source: CalDavSource
) -> None:
    """A server caught mid-update (or a sync tool that empties the collection before it fills
    it again) must not make a sync forget every interview: the stored events are kept, the
    read is marked stale (so no draft rests on it), and the next full read decides."""
    for uid in ("a", "b"):
        radicale.put_event_ics(calendar, uid, ics(uid))
    first = source.read(None, WINDOW)
    assert ids(first) == {"a", "b"}
    for uid in ("a", "b"):
        radicale.delete_event(calendar, uid)

    suspect = source.read(first.state, NEXT_DAY)  # a new window day: a full read
    assert (list(suspect.events), suspect.replace, list(suspect.removed_ids)) == ([], False, [])
    assert [s.stale for s in suspect.skipped] == [True]
    assert "yet it had some" in suspect.skipped[0].reason

    believed = source.read(suspect.state, NEXT_DAY)
    assert believed.replace
    assert ids(believed) == set()
    assert believed.skipped == []


def test_series_are_expanded_and_a_new_exdate_removes_an_occurrence(
    radicale: RadicaleServer, calendar: str, source: CalDavSource
) -> None:
    weekly = "RRULE:FREQ=WEEKLY;COUNT=4"
    radicale.put_event_ics(calendar, "weekly", ics("weekly", "20260302T150000Z", extra=weekly))
    first = source.read(None, WINDOW)
    assert sorted(ids(first)) == [f"weekly/202603{d:02}T150000Z" for d in (2, 9, 16, 23)]
    assert all(event.recurring for event in first.events)

    exdate = f"{weekly}\r\nEXDATE:20260309T150000Z"
    radicale.put_event_ics(calendar, "weekly", ics("weekly", "20260302T150000Z", extra=exdate))
    changed = source.read(first.state, WINDOW)
    assert changed.removed_ids == ["weekly/20260309T150000Z"]
    assert len(changed.events) == 3


def test_windows_time_zone_names_are_resolved(
    radicale: RadicaleServer, calendar: str, source: CalDavSource
) -> None:
    windows_zone = ics("berlin", "20260310T100000", tzid="W. Europe Standard Time")
    radicale.put_event_ics(calendar, "berlin", windows_zone)
    (event,) = source.read(None, WINDOW).events
    assert event.start == datetime(2026, 3, 10, 10, tzinfo=ZoneInfo("Europe/Berlin"))


def test_an_unreadable_object_is_skipped_with_its_href_and_reason(
    radicale: RadicaleServer, calendar: str, source: CalDavSource
) -> None:
    # Radicale (vobject) stores an UNTIL that is only a year; icalendar cannot read it.
    radicale.put_event_ics(calendar, "bad", ics("bad", extra="RRULE:FREQ=DAILY;UNTIL=2026"))
    radicale.put_event_ics(calendar, "good", ics("good"))
    read = source.read(None, WINDOW)
    assert ids(read) == {"good"}
    (skipped,) = read.skipped
    assert skipped.item.startswith(f"/alex/{calendar}/bad.ics")
    assert skipped.reason.startswith("unreadable RRULE")


def test_without_sync_collection_the_ctag_decides(radicale: RadicaleServer, calendar: str) -> None:
    radicale.put_event_ics(calendar, "a", ics("a"))
    radicale.put_event_ics(calendar, "b", ics("b"))
    with closing(open_source(radicale, radicale.calendar_url(calendar), use_sync=False)) as source:
        first = source.read(None, WINDOW)
        assert (first.state["sync_token"], bool(first.state["ctag"])) == (None, True)
        quiet = source.read(first.state, WINDOW)
        assert (list(quiet.events), quiet.requests, quiet.replace) == ([], 1, False)  # PROPFIND

        radicale.put_event_ics(calendar, "a", ics("a", summary="Renamed"))
        radicale.delete_event(calendar, "b")
        changed = source.read(quiet.state, WINDOW)
    assert [e.title for e in changed.events] == ["Renamed"]
    assert changed.removed_ids == ["b"]
    assert changed.requests == 3  # PROPFIND Depth 0, PROPFIND Depth 1, multiget of a


def test_a_server_url_finds_the_named_calendar(radicale: RadicaleServer, calendar: str) -> None:
    radicale.put_event_ics(calendar, "a", ics("a"))
    with closing(open_source(radicale, radicale.url, calendar=calendar)) as named:
        read = named.read(None, WINDOW)
        assert named.read(read.state, WINDOW).requests == 1  # the URL is remembered
    assert read.state["calendar_url"] == radicale.calendar_url(calendar)
    assert ids(read) == {"a"}
    wrong = open_source(radicale, radicale.url, calendar="x")
    with closing(wrong), pytest.raises(ConfigError, match="no calendar named 'x'"):
        wrong.read(None, WINDOW)


def test_a_wrong_password_is_an_auth_error(radicale: RadicaleServer, calendar: str) -> None:
    url = radicale.calendar_url(calendar)
    source = open_source(radicale, url, password="wrong-" + radicale.password)
    with closing(source), pytest.raises(AuthError, match="access refused"):
        source.read(None, WINDOW)


def test_state_survives_a_server_restart(
    radicale: RadicaleServer, calendar: str, source: CalDavSource
) -> None:
    radicale.put_event_ics(calendar, "a", ics("a"))
    first = source.read(None, WINDOW)
    radicale.restart()
    radicale.put_event_ics(calendar, "b", ics("b"))
    after = source.read(first.state, WINDOW)
    assert (after.replace, ids(after)) == (False, {"b"})


def test_publish_mirrors_a_scenarios_calendar(radicale: RadicaleServer, calendar: str) -> None:
    scenario = load_scenario(DEMO)
    times = scenario.sync_times()
    window = Window(times[0] - timedelta(days=30), times[0] + timedelta(days=30))
    url = radicale.calendar_url(calendar)
    radicale.http.put(url + "stray.ics", content=ics("stray"))  # another client's: deleted

    def writes_of_publish(events: list[CalendarEvent]) -> int:
        before = radicale.writes
        publish(radicale, calendar, events)
        return radicale.writes - before

    with closing(open_source(radicale, url, scenario.zone)) as source:
        expected = scenario.events_at(times[0])
        assert writes_of_publish(expected) == len(expected) + 1
        assert writes_of_publish(expected) == 0  # nothing changed, nothing written
        first = source.read(None, window)
        assert sorted(first.events, key=lambda e: e.id) == sorted(expected, key=lambda e: e.id)

        later = scenario.events_at(times[len(times) // 2])
        changed_ids = {e.id for e in set(later) - set(expected)}
        assert changed_ids == {"initech-technical@scenario"}  # the demo cancels it
        assert writes_of_publish(later[1:]) == 2  # one PUT, one DELETE
        update = source.read(first.state, window)
    assert ids(update) == changed_ids
    assert update.removed_ids == [later[0].id]


def test_radicale_without_authentication_takes_any_password() -> None:
    with RadicaleServer(auth="none") as server:
        url = server.calendar_url()
        server.put_event_ics("calendar", "a", ics("a"))
        with closing(open_source(server, url, password=server.password[::-1])) as source:
            assert ids(source.read(None, WINDOW)) == {"a"}


def test_a_radicale_that_cannot_start_says_why(
    radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(RuntimeError, match=f"port {radicale.port} is in use"):
        RadicaleServer(port=radicale.port).__enter__()
    broken = radicale_module.CONFIG_TEMPLATE + "[no_such_section]\nanswer = 42\n"
    monkeypatch.setattr(radicale_module, "CONFIG_TEMPLATE", broken)
    with pytest.raises(RuntimeError, match=r"did not start(.|\n)*no_such_section"):
        RadicaleServer().__enter__()


# -- ICS files -----------------------------------------------------------------------------------


def test_an_unchanged_file_is_not_read_again(tmp_path: Path) -> None:
    path = tmp_path / "calendar.ics"
    path.write_bytes(ics("a"))
    source = IcsFileSource(path, NEW_YORK)
    first = source.read(None, WINDOW)
    assert (ids(first), first.replace, first.requests) == ({"a"}, True, 1)
    quiet = source.read(first.state, WINDOW)
    assert (quiet.events, quiet.replace, quiet.requests) == ((), False, 0)

    path.write_bytes(ics("b"))
    os.utime(path, ns=(1, 1_000_000_000))  # a different mtime even on a coarse clock
    changed = source.read(quiet.state, WINDOW)
    assert (ids(changed), changed.replace, changed.requests) == ({"b"}, True, 1)
    assert source.read(changed.state, NEXT_DAY).replace  # a new window day re-reads


def test_a_vdir_folder_is_read_whole_when_one_file_changes(tmp_path: Path) -> None:
    for uid in ("a", "b"):
        (tmp_path / f"{uid}.ics").write_bytes(ics(uid))
    (tmp_path / "notes.txt").write_text("not a calendar")
    source = IcsFileSource(tmp_path, NEW_YORK)
    first = source.read(None, WINDOW)
    assert (ids(first), first.requests) == ({"a", "b"}, 2)
    (tmp_path / "c.ics").write_bytes(ics("c"))
    changed = source.read(first.state, WINDOW)
    assert (ids(changed), changed.replace, changed.requests) == ({"a", "b", "c"}, True, 3)


def test_a_missing_calendar_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        IcsFileSource(tmp_path / "nope.ics", NEW_YORK).read(None, WINDOW)


# -- ICS URLs ------------------------------------------------------------------------------------


@dataclass
class Feed:
    """What the local feed server publishes, and the requests it saw."""

    body: bytes = b""
    modified: datetime = datetime(2026, 3, 1, tzinfo=UTC)
    requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


class FeedHandler(http.server.BaseHTTPRequestHandler):
    feed: ClassVar[Feed]

    def do_GET(self) -> None:
        feed = self.feed
        feed.requests.append({"path": self.path, **dict(self.headers.items())})
        if self.path == "/old.ics":
            self.send_response(301)
            self.send_header("Location", "/calendar.ics")
            self.send_header("Content-Length", "0")
        elif self.path == "/broken.ics":
            self.send_response(503)
            self.send_header("Content-Length", "0")
        elif self.path != "/calendar.ics":
            self.send_response(404)
            self.send_header("Content-Length", "0")
        elif self.headers.get("If-None-Match") == feed.etag:
            self.send_response(304)
            self.send_header("ETag", feed.etag)
        else:
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("ETag", feed.etag)
            self.send_header("Last-Modified", format_datetime(feed.modified, usegmt=True))
            self.send_header("Content-Length", str(len(feed.body)))
            self.end_headers()
            self.wfile.write(feed.body)
            return
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def feed() -> Iterator[tuple[Feed, str]]:
    class Handler(FeedHandler):
        feed = Feed(body=ics("a"))

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield Handler.feed, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_an_unchanged_feed_answers_304(feed: tuple[Feed, str]) -> None:
    published, base = feed
    with closing(IcsUrlSource(f"{base}/calendar.ics", NEW_YORK)) as source:
        first = source.read(None, WINDOW)
        assert (ids(first), first.replace, first.requests) == ({"a"}, True, 1)
        quiet = source.read(first.state, WINDOW)
        assert (quiet.events, quiet.replace, quiet.requests) == ((), False, 1)
        sent = published.requests[-1]
        assert sent["If-None-Match"] == published.etag
        assert sent["If-Modified-Since"] == "Sun, 01 Mar 2026 00:00:00 GMT"

        published.body = ics("b")
        changed = source.read(quiet.state, WINDOW)
        assert (ids(changed), changed.replace) == ({"b"}, True)
        next_day = source.read(changed.state, NEXT_DAY)  # the day moved: ask without validators
    assert next_day.replace
    assert "If-None-Match" not in published.requests[-1]


def test_redirects_are_followed_and_counted(feed: tuple[Feed, str]) -> None:
    with closing(IcsUrlSource(f"{feed[1]}/old.ics", NEW_YORK)) as source:
        read = source.read(None, WINDOW)
    assert (ids(read), read.requests) == ({"a"}, 2)


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [("/gone.ics", NotFound, "HTTP 404"), ("/broken.ics", Transient, "HTTP 503")],
)
def test_feed_errors_are_mapped(
    feed: tuple[Feed, str], path: str, error: type[Exception], message: str
) -> None:
    source = IcsUrlSource(feed[1] + path, NEW_YORK)
    with closing(source), pytest.raises(error, match=message):
        source.read(None, WINDOW)
    unreachable = IcsUrlSource("http://127.0.0.1:9/calendar.ics", NEW_YORK)  # nothing on port 9
    with closing(unreachable), pytest.raises(Transient, match="cannot connect"):
        unreachable.read(None, WINDOW)


def test_webcal_feeds_without_validators_through_an_injected_client() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=ics("a"))  # no ETag, no Last-Modified

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        source = IcsUrlSource("webcal://calendar.example.com/u/alex.ics", NEW_YORK, http=client)
        first = source.read(None, WINDOW)
        again = source.read(first.state, WINDOW)  # same body: not parsed again
        source.close()  # not ours: the client stays open
        assert not client.is_closed
    assert (ids(first), first.replace) == ({"a"}, True)
    assert (list(again.events), again.replace, again.requests) == ([], False, 1)
    assert str(seen[0].url) == "https://calendar.example.com/u/alex.ics"
    assert "If-None-Match" not in seen[1].headers
    assert feed_url("WEBCALS://h.example/x.ics?k=1") == "https://h.example/x.ics?k=1"
    with pytest.raises(ConfigError):
        feed_url("ftp://h.example/x.ics")
