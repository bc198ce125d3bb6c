"""What tests do to a CalDAV server's content, over plain HTTP: `CalDavTestServer` is the base of
the Radicale and Xandikos test servers, and `publish` makes one of its calendars hold exactly a
given list of events.

The helpers talk plain HTTP through httpx (PUT, DELETE, MKCALENDAR, PROPFIND), not through
caldav: the CalDAV source under test must not share code with the server that checks it.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote, unquote, urlsplit
from xml.etree import ElementTree as ET

import httpx

from mailagent.core.models import CalendarEvent
from providers.ical import events_to_ics
from providers.testservers.ports import free_port, port_is_free

__all__ = ["CalDavTestServer", "publish", "resource_name"]

START_TIMEOUT = 15.0
_PROPFIND_HREFS = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'
)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9@._-]{1,200}$")


class CalDavTestServer:
    """A CalDAV server in a child process on 127.0.0.1:`port`; a subclass says how to start it
    (`command`, `prepare`) and where a user's calendars are (`calendar_home`)."""

    name = "CalDAV server"
    username = "alex"
    password = "secret"  # noqa: S105 - a throwaway password for a loopback test server

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._process: subprocess.Popen[bytes] | None = None
        self._http: httpx.Client | None = None
        self._calendars: set[str] = set()
        self.published: dict[tuple[str, str], bytes] = {}
        """What `put_event_ics` last wrote, by (calendar, uid): `publish` skips unchanged PUTs."""
        self.writes = 0
        """How many PUTs and DELETEs the helpers made (tests check that `publish` is lazy)."""

    # -- what a subclass says --

    def prepare(self) -> None:
        """Write what the server needs in `root` before it starts."""

    def command(self) -> list[str]:
        raise NotImplementedError

    @property
    def calendar_home(self) -> str:
        """The URL under which `calendar_url` makes calendars, ending in "/"."""
        raise NotImplementedError

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.stop()

    def start(self) -> None:
        if self._process is not None:
            return
        self.prepare()
        if not port_is_free(self.port):  # else our readiness check would see the other server
            raise RuntimeError(f"{self.name} cannot start: port {self.port} is in use")
        log_path = self.root / "server.log"
        with log_path.open("ab") as log_file:
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and config
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_up(self._process, log_path)
        self._http = httpx.Client(auth=httpx.BasicAuth(self.username, self.password), timeout=10.0)

    def _wait_until_up(self, process: subprocess.Popen[bytes], log_path: Path) -> None:
        """Until our process answers OPTIONS as a CalDAV server (RFC 4791 §5.1), or exits."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(httpx.TransportError):
                response = httpx.options(self.calendar_home, timeout=0.5)
                if "calendar-access" in response.headers.get("DAV", ""):
                    return
            time.sleep(0.05)
        self.stop()
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RuntimeError(f"{self.name} did not start on port {self.port}:\n{tail}")

    def stop(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def restart(self) -> None:
        """Stop and start again on the same port and storage (the data survives)."""
        self.stop()
        self.start()

    # -- content -----------------------------------------------------------------------------

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            raise RuntimeError(f"the {self.name} is not running")
        return self._http

    def calendar_url(self, name: str = "calendar") -> str:
        """The URL of calendar `name`, created (MKCALENDAR) on first use."""
        url = f"{self.calendar_home}{name}/"
        if name not in self._calendars:
            response = self.http.request("MKCALENDAR", url)
            # 405: it exists already (a restart, or a server over an earlier storage folder)
            if response.status_code not in (201, 405):
                raise RuntimeError(f"MKCALENDAR {url}: {response.status_code} {response.text}")
            self._calendars.add(name)
        return url

    def event_url(self, name: str, uid: str) -> str:
        return self.calendar_url(name) + quote(resource_name(uid), safe="@")

    def put_event_ics(self, name: str, uid: str, ics: bytes) -> None:
        """Write `ics` as the resource of `uid` in calendar `name` (created or replaced)."""
        response = self.http.put(
            self.event_url(name, uid),
            content=ics,
            headers={"Content-Type": "text/calendar; charset=utf-8"},
        )
        if response.status_code not in (201, 204):
            raise RuntimeError(f"PUT {uid}: {response.status_code} {response.text}")
        self.published[(name, uid)] = ics
        self.writes += 1

    def delete_event(self, name: str, uid: str) -> None:
        self.delete_resource(name, resource_name(uid))

    def delete_resource(self, name: str, resource: str) -> None:
        """DELETE resource `resource` (a file name such as "x.ics") of calendar `name`."""
        response = self.http.delete(self.calendar_url(name) + quote(resource, safe="@"))
        if response.status_code not in (200, 204, 404):
            raise RuntimeError(f"DELETE {resource}: {response.status_code} {response.text}")
        self.writes += 1
        for key in [k for k in self.published if k[0] == name and resource_name(k[1]) == resource]:
            del self.published[key]

    def resource_names(self, name: str = "calendar") -> set[str]:
        """The names of the resources in calendar `name` (PROPFIND Depth 1)."""
        url = self.calendar_url(name)
        response = self.http.request(
            "PROPFIND",
            url,
            content=_PROPFIND_HREFS,
            headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
        )
        if response.status_code != 207:
            raise RuntimeError(f"PROPFIND {url}: {response.status_code} {response.text}")
        collection = urlsplit(url).path
        names = set()
        for href in ET.fromstring(response.content).iter("{DAV:}href"):  # noqa: S314 - our server
            path = unquote(urlsplit((href.text or "").strip()).path)
            if path.rstrip("/") != collection.rstrip("/"):
                names.add(path.rsplit("/", 1)[-1])
        return names


def resource_name(uid: str) -> str:
    """The resource name of `uid`: `<uid>.ics`, or a hash when the UID is not path-safe."""
    if _SAFE_NAME.match(uid):
        return f"{uid}.ics"
    return hashlib.sha256(uid.encode("utf-8")).hexdigest()[:32] + ".ics"


def publish(server: CalDavTestServer, calendar_name: str, events: Sequence[CalendarEvent]) -> None:
    """Make calendar `calendar_name` hold exactly `events`: one resource per UID (a series'
    occurrences together), PUT only where the ICS changed, every other resource DELETEd.
    `ImapScenarioMailbox(calendar=lambda events: publish(server, "calendar", events))` mirrors
    `scenario.events_at(moment)` at every step."""
    by_uid: dict[str, list[CalendarEvent]] = {}
    for event in events:
        by_uid.setdefault(event.uid, []).append(event)
    wanted = {uid: events_to_ics(group) for uid, group in by_uid.items()}
    present = server.resource_names(calendar_name)
    for uid, ics in wanted.items():
        if resource_name(uid) not in present or server.published.get((calendar_name, uid)) != ics:
            server.put_event_ics(calendar_name, uid, ics)
    for resource in sorted(present - {resource_name(uid) for uid in wanted}):
        server.delete_resource(calendar_name, resource)
