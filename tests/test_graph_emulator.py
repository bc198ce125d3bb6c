"""The Microsoft Graph v1.0 mail + calendar emulator, driven over real HTTP with httpx.

The emulator is what the Outlook provider is tested against, so these tests pin it to Graph:
every JSON object it returns is checked against the resource shapes of the official SDK
models (shared/reference/graph-v1-resources.json), and its paging, delta, batching,
throttling and error behaviour against the documented rules.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from mailagent.core.models import Folder
from mailagent.scenario import load_scenario
from providers.emulators import GraphEmulator
from providers.emulators.graph_mime import html_to_text
from providers.emulators.graph_scenario import GraphScenarioMailbox, event_resource, fill_mailbox
from providers.emulators.graph_store import event_id_for
from providers.emulators.graph_time import parse_iso
from tests.conftest import DEMO, REPO

USER = "alex@example.com"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TAG = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name MailagentKey"
SCHEMA = json.loads(
    (REPO.parent / "shared" / "reference" / "graph-v1-resources.json").read_text("utf-8")
)
MAXPAGE = "odata.maxpagesize"


def mail(
    n: int,
    *,
    sender: str = "Jane Doe <jane@acme.com>",
    to: str = f"Alex Kim <{USER}>",
    subject: str = "Interview next week",
    body: str = "Hi Alex, it's Jane. Looking forward to it.",
    date: datetime | None = None,
    extra: str = "",
) -> bytes:
    when = date or NOW - timedelta(days=n)
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Date: {format_datetime(when)}\r\nMessage-ID: <m{n}@acme.com>\r\n{extra}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


HTML_MAIL = (
    b"From: Recruiter <talent@globex.com>\r\nTo: alex@example.com\r\nSubject: Offer\r\n"
    b"Date: Wed, 18 Nov 2026 10:00:00 +0000\r\nMessage-ID: <html1@globex.com>\r\n"
    b"Reply-To: Hiring <hiring@globex.com>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
    b'Content-Type: multipart/alternative; boundary="b2"\r\n\r\n--b2\r\n'
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nWe are happy.\r\n--b2\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>We are <b>happy</b>."
    b"</p></body></html>\r\n--b2--\r\n--b1\r\nContent-Type: application/pdf\r\n"
    b'Content-Disposition: attachment; filename="offer.pdf"\r\n\r\nJVBERi0=\r\n--b1--\r\n'
)


@pytest.fixture
def emu() -> Iterator[GraphEmulator]:
    with GraphEmulator(user_address=USER, user_name="Alex Kim") as emulator:
        emulator.now = NOW
        yield emulator


@pytest.fixture
def api(emu: GraphEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=emu.base_url,
        headers={"Authorization": f"Bearer {emu.static_token}"},
        timeout=10,
    ) as client:
        yield client


def pages(api: httpx.Client, url: str, **kwargs: Any) -> tuple[list[dict[str, Any]], str]:
    """Every item of a delta round and its deltaLink, following nextLinks exactly as given."""
    items: list[dict[str, Any]] = []
    response = api.get(url, **kwargs)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        assert ("@odata.nextLink" in body) != ("@odata.deltaLink" in body)
        items.extend(body["value"])
        if "@odata.deltaLink" in body:
            return items, body["@odata.deltaLink"]
        response = api.get(body["@odata.nextLink"], headers=kwargs.get("headers"))


def inbox_delta(api: httpx.Client, **params: str) -> tuple[list[dict[str, Any]], str]:
    return pages(api, "/me/mailFolders/inbox/messages/delta", params=params)


def create_draft(api: httpx.Client, key: str = "k1", **fields: Any) -> dict[str, Any]:
    body = {
        "subject": "Thank you",
        "body": {"contentType": "text", "content": "Hi Jane,\nthank you!"},
        "toRecipients": [{"emailAddress": {"name": "Jane Doe", "address": "jane@acme.com"}}],
        "singleValueExtendedProperties": [{"id": TAG, "value": key}],
        **fields,
    }
    response = api.post("/me/messages", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def window(start: datetime, end: datetime) -> dict[str, str]:
    return {"startDateTime": start.isoformat(), "endDateTime": end.isoformat()}


def event(emu: GraphEmulator, key: str, start: datetime, hours: float = 1, **extra: Any) -> str:
    end = start + timedelta(hours=hours)
    resource = {
        "id": emu.event_id(key),
        "subject": key,
        "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"},
        "end": {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"},
        **extra,
    }
    return str(emu.put_event(resource)["id"])


# --- the shapes against Graph's resource definitions ------------------------------------------


def _fields(resource: str) -> dict[str, str]:
    found: dict[str, str] = {}
    name: str | None = resource
    while name is not None:
        entry = SCHEMA["resources"][name]
        found = {**entry["fields"], **found}
        name = entry["extends"]
    return found


def check_value(value: Any, kind: str, where: str) -> None:
    """`value` is a valid `kind` of the schema (null stands for "not set", as Graph writes)."""
    if value is None:
        return
    if kind.startswith("array<"):
        assert isinstance(value, list), where
        for index, item in enumerate(value):
            check_value(item, kind[6:-1], f"{where}[{index}]")
    elif kind.startswith("enum "):
        assert value in SCHEMA["enums"][kind[5:]], f"{where}: {value!r} not in {kind}"
    elif kind == "string":
        assert isinstance(value, str), where
    elif kind == "boolean":
        assert isinstance(value, bool), where
    elif kind == "int":
        assert isinstance(value, int), where
        assert not isinstance(value, bool), where
    elif kind == "float":
        assert isinstance(value, int | float), where
    elif kind == "datetime":
        assert isinstance(value, str), where
        parse_iso(value)
    elif kind == "date":
        date.fromisoformat(value)
    elif kind == "base64":
        base64.b64decode(value, validate=True)
    else:
        check_resource(value, kind, where)


def check_resource(value: Any, resource: str, where: str) -> None:
    assert isinstance(value, dict), where
    if "@removed" in value:
        assert set(value) == {"@odata.type", "id", "@removed"}, where
        assert value["@removed"] == {"reason": "deleted"}
        assert value["@odata.type"] == f"#microsoft.graph.{resource[0].lower()}{resource[1:]}"
        return
    fields = _fields(resource)
    for key, item in value.items():
        if key.startswith("@odata."):
            assert isinstance(item, str), f"{where}.{key}"
            continue
        assert key in fields, f"{where}: {resource} has no property {key!r}"
        check_value(item, fields[key], f"{where}.{key}")


def check_answer(body: dict[str, Any], resource: str, where: str) -> int:
    """A collection page or an entity; returns how many resources it held."""
    if "value" in body:
        assert set(body) <= {"@odata.context", "@odata.nextLink", "@odata.deltaLink", "value"}
        for index, item in enumerate(body["value"]):
            check_resource(item, resource, f"{where}[{index}]")
        return len(body["value"])
    check_resource(body, resource, where)
    return 1


def test_every_object_matches_the_graph_resource_shapes(
    emu: GraphEmulator, api: httpx.Client
) -> None:
    emu.add_message(mail(1), "inbox")
    emu.add_message(HTML_MAIL, "inbox")
    sent = emu.add_message(mail(2, sender=f"Alex Kim <{USER}>", to="jane@acme.com"), "sentitems")
    draft = create_draft(api)
    checked: list[tuple[dict[str, Any], str]] = [(draft, "Message")]
    reply = api.post(f"/me/messages/{sent}/createReply", json={"comment": "Any news?"})
    checked.append((reply.json(), "Message"))
    patched = api.patch(f"/me/messages/{draft['id']}", json={"subject": "Thanks!"})
    checked.append((patched.json(), "Message"))
    text = {"Prefer": 'outlook.body-content-type="text"'}
    expand = f"singleValueExtendedProperties($filter=id eq '{TAG}')"
    for folder in ("inbox", "sentitems", "drafts"):
        for params, headers in (
            ({}, {}),
            ({"$select": "subject,from,toRecipients,body,internetMessageHeaders"}, text),
            ({"$expand": expand}, {"Prefer": f"{MAXPAGE}=1"}),
        ):
            url = f"/me/mailFolders/{folder}/messages/delta"
            items, delta = pages(api, url, params=params, headers=headers)
            checked.extend((item, "Message") for item in items)
    assert api.delete(f"/me/messages/{reply.json()['id']}").status_code == 204
    emu.user_edit_draft(draft["id"], "P.S.")
    changes = api.get(delta).json()
    assert any("@removed" in item for item in changes["value"])
    checked.append((changes, "Message"))
    for params in ({}, {"$select": "internetMessageHeaders,uniqueBody,conversationIndex"}):
        one = api.get(f"/me/messages/{draft['id']}", params={**params, "$expand": expand})
        checked.append((one.json(), "Message"))
    listed = api.get(
        "/me/mailFolders/drafts/messages",
        params={
            "$filter": f"singleValueExtendedProperties/Any(ep: ep/id eq '{TAG}' and "
            "ep/value eq 'K1')",
            "$expand": expand,
        },
    )
    checked.append((listed.json(), "Message"))
    checked.append((api.get("/me/mailFolders/inbox").json(), "MailFolder"))
    checked.extend((d, "Message") for d in emu.drafts())

    scenario = load_scenario(DEMO)
    for spec_event in scenario.events_at(scenario.local(datetime(2026, 11, 17, 18, 0))):
        emu.put_event(event_resource(spec_event, USER))
    event(emu, "all-day", datetime(2026, 11, 21, tzinfo=UTC), 24, isAllDay=True)
    span = window(datetime(2026, 11, 15, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))
    for prefer in ({}, {"Prefer": 'outlook.timezone="Pacific Standard Time"'}):
        items, event_delta = pages(api, "/me/calendarView/delta", params=span, headers=prefer)
        assert len(items) == 8
        checked.extend((item, "Event") for item in items)
    emu.delete_event(emu.event_id("all-day"))
    checked.append((api.get(event_delta).json(), "Event"))

    total = sum(check_answer(body, kind, kind) for body, kind in checked)
    assert total > 40


# --- message delta ------------------------------------------------------------------------------


def test_message_delta_pages_then_reports_changes(emu: GraphEmulator, api: httpx.Client) -> None:
    ids = [emu.add_message(mail(n), "inbox") for n in range(7)]
    first = api.get(
        "/me/mailFolders/inbox/messages/delta",
        params={"$select": "subject,isRead"},
        headers={"Prefer": f"{MAXPAGE}=3"},
    )
    assert first.headers["Preference-Applied"] == f"{MAXPAGE}=3"
    body = first.json()
    assert "$skiptoken=" in body["@odata.nextLink"]
    assert "@odata.deltaLink" not in body
    assert body["@odata.nextLink"].startswith(emu.base_url + "/me/mailFolders('")
    assert len(body["value"]) == 3
    again = api.get(body["@odata.nextLink"]).json()  # the round keeps its page size
    assert len(again["value"]) == 3
    items, delta = pages(api, body["@odata.nextLink"], headers={"Prefer": f"{MAXPAGE}=3"})
    assert len(body["value"]) + len(items) == 7
    assert "$deltatoken=" in delta
    assert set(body["value"][0]) == {"@odata.type", "@odata.etag", "id", "subject", "isRead"}

    nothing, delta = pages(api, delta)
    assert nothing == []
    emu.set_read(ids[0])
    api.patch(f"/me/messages/{ids[1]}", json={"isRead": True}).raise_for_status()
    emu.delete_message(ids[2])
    archived = emu.move_message(ids[3], "archive")
    back = emu.move_message(emu.add_message(mail(20), "archive"), "inbox")
    new = emu.add_message(mail(21), "inbox")
    changes, delta = pages(api, delta)
    by_id = {item["id"]: item for item in changes}
    assert set(by_id) == {ids[0], ids[1], ids[2], ids[3], back, new}
    assert by_id[ids[0]]["isRead"] is True
    assert set(by_id[ids[0]]) >= {"subject", "isRead"}
    for gone in (ids[2], ids[3]):
        assert by_id[gone] == {
            "@odata.type": "#microsoft.graph.message",
            "id": gone,
            "@removed": {"reason": "deleted"},
        }
    assert by_id[back]["subject"] == "Interview next week"
    archive, _ = pages(api, "/me/mailFolders/archive/messages/delta")
    assert [m["id"] for m in archive] == [archived]

    assert pages(api, delta)[0] == []
    everything, created_only = inbox_delta(api, changeType="created")
    assert len(everything) == 7
    emu.set_read(new, False)
    newest = emu.add_message(mail(22), "inbox")
    assert [m["id"] for m in pages(api, created_only)[0]] == [newest]


def test_delta_options_filter_select_expand_and_text_bodies(
    emu: GraphEmulator, api: httpx.Client
) -> None:
    for n in range(5):
        emu.add_message(mail(n), "inbox")
    html_id = emu.add_message(HTML_MAIL, "inbox")
    since = (NOW - timedelta(days=2, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    items, delta = inbox_delta(api, **{"$filter": f"receivedDateTime ge {since}"})
    assert [m["receivedDateTime"] for m in items] == [
        "2026-11-20T12:00:00Z",
        "2026-11-19T12:00:00Z",
        "2026-11-18T12:00:00Z",
    ]
    emu.add_message(mail(9), "inbox")  # older than the filter: not reported
    later, _ = pages(api, delta)
    assert later == []

    rich = api.get(f"/me/messages/{html_id}", params={"$select": "body,hasAttachments,replyTo"})
    assert rich.json()["body"]["contentType"] == "html"
    assert rich.json()["hasAttachments"] is True
    assert rich.json()["replyTo"][0]["emailAddress"]["address"] == "hiring@globex.com"
    plain = api.get(
        f"/me/messages/{html_id}",
        params={"$select": "body"},
        headers={"Prefer": 'outlook.body-content-type="text"'},
    )
    assert plain.json()["body"] == {"contentType": "text", "content": "We are happy.\n"}
    assert plain.headers["Preference-Applied"] == 'outlook.body-content-type="text"'

    draft = create_draft(api, key="abc")
    expand = f"singleValueExtendedProperties($filter=id eq '{TAG}')"
    drafts, _ = pages(
        api,
        "/me/mailFolders/drafts/messages/delta",
        params={"$select": "subject", "$expand": expand},
    )
    assert drafts[0]["id"] == draft["id"]
    assert drafts[0]["singleValueExtendedProperties"] == [{"id": TAG, "value": "abc"}]
    refused = [
        {"$search": '"interview"'},
        {"$filter": "subject eq 'x'"},
        {"$select": "nope"},
        {"$orderby": "subject"},
        {"startDateTime": "2026-11-01T00:00:00Z"},
    ]
    for params in refused:
        answer = api.get("/me/mailFolders/inbox/messages/delta", params=params)
        assert answer.status_code == 400, params
        assert set(answer.json()["error"]) == {"code", "message", "innerError"}


def test_delta_filter_caps_at_5000(emu: GraphEmulator, api: httpx.Client) -> None:
    fill_mailbox(emu, 8_000, seed=1, user_address=USER)
    assert len(emu.folder_messages("inbox")) > 5_000
    since = (NOW - timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    items, _ = pages(
        api,
        "/me/mailFolders/inbox/messages/delta",
        params={"$filter": f"receivedDateTime ge {since}", "$select": "id"},
        headers={"Prefer": f"{MAXPAGE}=1000"},
    )
    assert len(items) == 5_000


def test_lost_delta_tokens_answer_410_or_sync_state_not_found(
    emu: GraphEmulator, api: httpx.Client
) -> None:
    emu.add_message(mail(1), "inbox")
    first = api.get("/me/mailFolders/inbox/messages/delta", headers={"Prefer": f"{MAXPAGE}=1"})
    emu.add_message(mail(2), "inbox")
    _, delta = inbox_delta(api)
    emu.expire_delta_tokens()
    for link in (delta, first.json()["@odata.deltaLink"]):
        gone = api.get(link)
        assert gone.status_code == 410
        assert gone.json()["error"]["code"] == "SyncStateNotFound"
        location = gone.headers["Location"]
        assert location.endswith("$deltatoken=")
        assert "/messages/delta?" in location
    restarted, _ = pages(api, location)
    assert len(restarted) == 2
    for status in (400, 404):
        emu.delta_expiry_status = status
        lost = api.get(delta)
        assert lost.status_code == status
        assert lost.json()["error"]["code"] == "syncStateNotFound"
        assert lost.json()["error"]["message"] == (
            "The sync state generation is not found. The delta token is expired and data must "
            "be synchronized again."
        )
    unknown = api.get("/me/mailFolders/inbox/messages/delta", params={"$skiptoken": "bogus"})
    assert unknown.status_code == 404


# --- calendarView delta -------------------------------------------------------------------------


def test_calendar_view_delta_window_changes_and_time_zones(
    emu: GraphEmulator, api: httpx.Client
) -> None:
    url = "/me/calendarView/delta"
    assert api.get(url).json()["error"]["code"] == "ErrorInvalidParameter"
    span = window(datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC))
    for option in ("$select", "$filter", "$orderby", "$top"):
        refused = api.get(url, params={**span, option: "subject"})
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "ErrorInvalidUrlQuery"
    inside = [event(emu, f"in{n}", datetime(2026, 11, 17 + n, 15, tzinfo=UTC)) for n in range(3)]
    outside = event(emu, "later", datetime(2026, 12, 5, 15, tzinfo=UTC))
    all_day = event(emu, "holiday", datetime(2026, 11, 20, tzinfo=UTC), 24, isAllDay=True)
    zone = {"Prefer": f'outlook.timezone="America/New_York", {MAXPAGE}=2'}
    items, delta = pages(api, url, params=span, headers=zone)
    by_id = {item["id"]: item for item in items}
    assert set(by_id) == {*inside, all_day}
    assert by_id[inside[0]]["start"] == {
        "dateTime": "2026-11-17T10:00:00.0000000",
        "timeZone": "America/New_York",
    }
    assert by_id[all_day]["start"]["dateTime"] == "2026-11-20T00:00:00.0000000"
    assert by_id[all_day]["end"]["dateTime"] == "2026-11-21T00:00:00.0000000"
    windows = api.get(
        url, params=span, headers={"Prefer": 'outlook.timezone="Tokyo Standard Time"'}
    )
    first = next(e for e in windows.json()["value"] if e["id"] == inside[0])
    assert first["start"] == {
        "dateTime": "2026-11-18T00:00:00.0000000",
        "timeZone": "Tokyo Standard Time",
    }

    event(emu, "in0", datetime(2026, 11, 17, 16, tzinfo=UTC))  # rescheduled within the window
    event(emu, "in1", datetime(2026, 12, 18, 16, tzinfo=UTC))  # moved out of the window
    emu.delete_event(inside[2])
    event(emu, "later", datetime(2026, 12, 6, 15, tzinfo=UTC))  # changed, never in the window
    added = event(emu, "new", datetime(2026, 11, 22, 9, tzinfo=UTC))
    changes, delta = pages(api, delta)
    by_id = {item["id"]: item for item in changes}
    assert set(by_id) == {inside[0], inside[1], inside[2], outside, added}
    assert by_id[inside[0]]["start"]["dateTime"] == "2026-11-17T16:00:00.0000000"
    assert by_id[inside[0]]["start"]["timeZone"] == "UTC"
    for gone in (inside[1], inside[2], outside):
        assert by_id[gone] == {
            "@odata.type": "#microsoft.graph.event",
            "id": gone,
            "@removed": {"reason": "deleted"},
        }
    assert pages(api, delta)[0] == []
    emu.expire_delta_tokens()
    lost = api.get(delta)
    assert lost.status_code == 410
    assert "startDateTime=" in lost.headers["Location"]
    again, _ = pages(api, lost.headers["Location"])
    assert {e["id"] for e in again} == {inside[0], all_day, added}


# --- $batch ---------------------------------------------------------------------------------------


def batch(api: httpx.Client, requests: list[dict[str, Any]]) -> httpx.Response:
    return api.post("/$batch", json={"requests": requests})


def test_batch_is_checked_as_a_whole_first(emu: GraphEmulator, api: httpx.Client) -> None:
    get = {"method": "GET", "url": "/me/mailFolders/inbox"}
    too_many = batch(api, [{"id": str(n), **get} for n in range(21)])
    assert too_many.status_code == 400
    assert "20" in too_many.json()["error"]["message"]
    assert batch(api, [{"id": "1", **get}, {"id": "1", **get}]).status_code == 400
    no_type = batch(api, [{"id": "1", "method": "POST", "url": "/me/messages", "body": {}}])
    assert no_type.status_code == 400
    assert "Content-Type" in no_type.json()["error"]["message"]
    assert batch(api, [{"id": "1", "dependsOn": ["9"], **get}]).status_code == 400
    assert api.post("/$batch", content=b"[]").status_code == 400
    assert emu.stats.calls["mailFolders.get"] == 0
    twenty = batch(api, [{"id": str(n), **get} for n in range(20)])
    assert twenty.status_code == 200
    assert emu.stats.batch_sizes == [20]
    assert emu.stats.calls["mailFolders.get"] == 20


def test_batch_parts_run_like_requests(emu: GraphEmulator, api: httpx.Client) -> None:
    message = emu.add_message(mail(1), "inbox")
    emu.add_message(mail(2), "inbox")
    emu.batch_response_order = "reversed"
    emu.inject("429", operation="messages.get", retry_after=7)
    before = emu.stats.http_requests
    answer = batch(
        api,
        [
            {
                "id": "delta",
                "method": "GET",
                "url": "/me/mailFolders/inbox/messages/delta?$select=subject",
                "headers": {"Prefer": f"{MAXPAGE}=1"},
            },
            {"id": "get", "method": "GET", "url": f"/me/messages/{message}?$select=subject"},
            {"id": "after", "method": "GET", "url": "/me/mailFolders/inbox", "dependsOn": ["get"]},
            {
                "id": "draft",
                "method": "POST",
                "url": "/me/messages",
                "headers": {"Content-Type": "application/json"},
                "body": {"subject": "Hello"},
            },
            {"id": "missing", "method": "GET", "url": "/me/messages/AAMkAGnope"},
        ],
    )
    assert answer.status_code == 200
    assert emu.stats.http_requests == before + 1
    responses = answer.json()["responses"]
    assert [r["id"] for r in responses] == ["missing", "draft", "after", "get", "delta"]
    by_id = {r["id"]: r for r in responses}
    assert by_id["get"]["status"] == 429
    assert by_id["get"]["headers"]["Retry-After"] == "7"
    assert by_id["get"]["body"]["error"]["code"] == "TooManyRequests"
    assert by_id["after"]["status"] == 424
    assert by_id["draft"]["status"] == 201
    assert by_id["draft"]["body"]["isDraft"] is True
    assert by_id["missing"]["status"] == 400
    delta = by_id["delta"]
    assert delta["status"] == 200
    assert len(delta["body"]["value"]) == 1
    assert delta["headers"]["Preference-Applied"] == f"{MAXPAGE}=1"
    follow = urlpath(delta["body"]["@odata.nextLink"])
    next_page = batch(api, [{"id": "1", "method": "GET", "url": follow}]).json()["responses"][0]
    assert next_page["status"] == 200
    assert len(next_page["body"]["value"]) == 1
    assert emu.stats.calls["messages.get"] == 2  # the throttled part and the malformed one

    emu.inject("drop", path_contains="mailFolders/inbox")
    with pytest.raises(httpx.RemoteProtocolError):
        batch(api, [{"id": "1", "method": "GET", "url": "/me/mailFolders/inbox"}])
    emu.inject("drop-after", operation="messages.create")
    with pytest.raises(httpx.RemoteProtocolError):
        batch(
            api,
            [
                {
                    "id": "1",
                    "method": "POST",
                    "url": "/me/messages",
                    "headers": {"Content-Type": "application/json"},
                    "body": {"subject": "Lost answer"},
                }
            ],
        )
    assert [d["subject"] for d in emu.drafts()] == ["Hello", "Lost answer"]
    emu.expire_tokens()
    assert (
        batch(api, [{"id": "1", "method": "GET", "url": "/me/mailFolders/inbox"}]).status_code
        == 401
    )


def urlpath(link: str) -> str:
    """The path and query of a link, relative to /v1.0, as a batch part's url."""
    split = httpx.URL(link)
    return split.raw_path.decode().removeprefix("/v1.0")


# --- drafts, replies, lookups ------------------------------------------------------------------


def test_create_reply_threads_and_leaves_the_original_unread(
    emu: GraphEmulator, api: httpx.Client
) -> None:
    parent = emu.add_message(
        mail(3, extra="References: <m0@acme.com> <m1@acme.com>\r\nIn-Reply-To: <m1@acme.com>\r\n"),
        "inbox",
    )
    original = api.get(f"/me/messages/{parent}").json()
    assert original["isRead"] is False
    made = api.post(f"/me/messages/{parent}/createReply", json={"comment": "Thanks, Jane!"})
    assert made.status_code == 201
    reply = made.json()
    assert reply["isDraft"] is True
    assert reply["subject"] == "RE: Interview next week"
    assert reply["conversationId"] == original["conversationId"]
    assert reply["parentFolderId"] == api.get("/me/mailFolders/drafts").json()["id"]
    assert [r["emailAddress"]["address"] for r in reply["toRecipients"]] == ["jane@acme.com"]
    assert reply["from"]["emailAddress"]["address"] == USER
    assert reply["body"]["contentType"] == "html"
    assert "Thanks, Jane!" in reply["body"]["content"]
    assert "Looking forward to it." in reply["body"]["content"]
    headers = api.get(
        f"/me/messages/{reply['id']}", params={"$select": "internetMessageHeaders"}
    ).json()["internetMessageHeaders"]
    assert headers == [
        {"name": "In-Reply-To", "value": "<m3@acme.com>"},
        {"name": "References", "value": "<m0@acme.com> <m1@acme.com> <m3@acme.com>"},
    ]
    assert api.get(f"/me/messages/{parent}").json()["isRead"] is False
    assert reply["internetMessageId"].endswith(".prod.outlook.com>")

    sent = emu.add_message(
        mail(4, sender=f"Alex Kim <{USER}>", to="Sam <sam@globex.com>", subject="Re: Hi"),
        "sentitems",
    )
    follow_up = api.post(
        f"/me/messages/{sent}/createReply",
        json={"message": {"body": {"contentType": "text", "content": "Any news?"}}},
    ).json()
    assert [r["emailAddress"]["address"] for r in follow_up["toRecipients"]] == ["sam@globex.com"]
    assert follow_up["subject"] == "RE: Hi"
    assert "Any news?" in follow_up["body"]["content"]
    to_reply_to = api.post(f"/me/messages/{emu.add_message(HTML_MAIL, 'inbox')}/createReply")
    assert to_reply_to.json()["toRecipients"][0]["emailAddress"]["address"] == "hiring@globex.com"
    both = api.post(
        f"/me/messages/{parent}/createReply",
        json={"comment": "x", "message": {"body": {"contentType": "text", "content": "y"}}},
    )
    assert both.status_code == 400
    assert api.post("/me/messages/AAMkAGbad/createReply").status_code == 400
    assert len(emu.drafts()) == 3


def test_drafts_are_created_updated_found_by_tag_and_deleted(
    emu: GraphEmulator, api: httpx.Client
) -> None:
    drafts_id = api.get("/me/mailFolders/drafts").json()["id"]
    draft = create_draft(api, key="Key-1", ccRecipients=[{"emailAddress": {"address": "x@y.z"}}])
    assert draft["isDraft"] is True
    assert draft["isRead"] is True
    assert draft["parentFolderId"] == drafts_id
    assert draft["createdDateTime"] == draft["lastModifiedDateTime"] == "2026-11-20T12:00:00Z"
    assert draft["ccRecipients"] == [{"emailAddress": {"name": "x@y.z", "address": "x@y.z"}}]
    assert "from" not in draft
    assert draft["body"] == {"contentType": "text", "content": "Hi Jane,\nthank you!"}
    create_draft(api, key="other")

    def lookup(prop: str, value: str) -> list[dict[str, Any]]:
        flt = f"singleValueExtendedProperties/Any(ep: ep/id eq '{prop}' and ep/value eq '{value}')"
        answer = api.get(
            "/me/mailFolders/drafts/messages", params={"$filter": flt, "$select": "id", "$top": "5"}
        )
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["value"]
        return found

    assert [m["id"] for m in lookup(TAG, "key-1")] == [draft["id"]]
    shouted = "STRING {66F5A359-4659-4830-9070-00047EC6AC6E} Name MailagentKey"
    assert [m["id"] for m in lookup(shouted, "KEY-1")] == [draft["id"]]
    assert lookup(TAG.replace("MailagentKey", "mailagentkey"), "Key-1") == []

    emu.now = NOW + timedelta(minutes=5)
    patched = api.patch(
        f"/me/messages/{draft['id']}",
        json={"body": {"contentType": "html", "content": "<p>Hi</p>"}, "subject": "Thanks"},
    )
    assert patched.status_code == 200
    assert patched.json()["lastModifiedDateTime"] == "2026-11-20T12:05:00Z"
    assert patched.json()["body"]["content"].startswith("<html>")
    assert patched.json()["changeKey"] != draft["changeKey"]
    half = {"subject": "Half", "toRecipients": [{"emailAddress": {"address": "nobody"}}]}
    assert api.patch(f"/me/messages/{draft['id']}", json=half).status_code == 400
    assert emu.message(draft["id"])["subject"] == "Thanks"  # a refused update changes nothing
    received = emu.add_message(mail(1), "inbox")
    refused = api.patch(f"/me/messages/{received}", json={"subject": "Mine now"})
    assert refused.status_code == 400
    assert api.patch(f"/me/messages/{received}", json={"isRead": True}).status_code == 200
    assert api.patch(f"/me/messages/{received}", json={"colour": "red"}).status_code == 400
    header = {"internetMessageHeaders": [{"name": "Y", "value": "1"}]}
    assert api.post("/me/messages", json=header).status_code == 400

    assert api.delete(f"/me/messages/{draft['id']}").status_code == 204
    gone = api.get(f"/me/messages/{draft['id']}")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "ErrorItemNotFound"
    [deleted] = emu.folder_messages("deleteditems")
    assert deleted != draft["id"]
    assert emu.message(deleted)["subject"] == "Thanks"
    assert api.get("/me/messages/not-an-id").json()["error"]["code"] == "ErrorInvalidIdMalformed"


def test_user_actions_as_outlook_does_them(emu: GraphEmulator, api: httpx.Client) -> None:
    parent = emu.add_message(mail(1), "inbox")
    reply = api.post(f"/me/messages/{parent}/createReply", json={"comment": "Thanks"}).json()
    api.patch(
        f"/me/messages/{reply['id']}",
        json={"singleValueExtendedProperties": [{"id": TAG, "value": "k-reply"}]},
    ).raise_for_status()
    _, drafts_delta = pages(api, "/me/mailFolders/drafts/messages/delta")
    _, sent_delta = pages(api, "/me/mailFolders/sentitems/messages/delta")

    emu.now = NOW + timedelta(hours=1)
    emu.user_edit_draft(reply["id"], "P.S. See you soon.")
    [edited] = pages(api, drafts_delta)[0]
    assert edited["lastModifiedDateTime"] == "2026-11-20T13:00:00Z"
    assert "P.S. See you soon." in edited["body"]["content"]

    at = NOW + timedelta(hours=2)
    sent_id = emu.user_send_draft(reply["id"], at)
    assert sent_id != reply["id"]
    assert emu.drafts() == []
    [sent] = pages(api, sent_delta, params=None)[0]
    assert sent["id"] == sent_id
    assert sent["isDraft"] is False
    assert sent["sentDateTime"] == "2026-11-20T14:00:00Z"
    assert sent["conversationId"] == reply["conversationId"]
    assert sent["internetMessageId"] == reply["internetMessageId"]
    assert emu.message(sent_id)["singleValueExtendedProperties"] == [
        {"id": TAG, "value": "k-reply"}
    ]

    other = create_draft(api, key="k2")
    trashed = emu.user_delete_draft(other["id"])
    assert emu.folder_messages("deleteditems") == [trashed]
    with pytest.raises(KeyError):
        emu.user_send_draft(other["id"], at)


# --- throttling, faults, latency, auth ----------------------------------------------------------


def test_more_than_four_requests_in_flight_get_429(emu: GraphEmulator, api: httpx.Client) -> None:
    emu.latency = 0.4
    barrier = threading.Barrier(5)

    def one(_: int) -> httpx.Response:
        barrier.wait()
        return api.get("/me/mailFolders/inbox")

    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(one, range(5)))
    refused = [a for a in answers if a.status_code == 429]
    assert len(refused) == 1
    assert refused[0].json() == {
        "error": {
            "code": "ApplicationThrottled",
            "message": "Application is over its MailboxConcurrency limit.",
        }
    }
    assert "Retry-After" in refused[0].headers
    assert emu.stats.max_in_flight == 5
    assert emu.stats.concurrency_refusals == 1
    emu.reset_stats()
    emu.latency = 0
    for _ in range(6):
        assert api.get("/me/mailFolders/inbox").status_code == 200
    assert emu.stats.max_in_flight == 1


def test_fault_kinds_and_aims(emu: GraphEmulator, api: httpx.Client) -> None:
    emu.add_message(mail(1), "inbox")
    url = "/me/mailFolders/inbox/messages/delta"
    emu.inject("429", path_contains="mailFolders/sentitems")
    emu.inject("429", operation="messages.delta", times=2, retry_after=3)
    for _ in range(2):
        throttled = api.get(url)
        assert throttled.status_code == 429
        assert throttled.headers["Retry-After"] == "3"
        assert throttled.json()["error"]["code"] == "TooManyRequests"
    assert api.get(url).status_code == 200
    assert api.get("/me/mailFolders/sentitems/messages/delta").status_code == 429
    for kind, status, code in (
        ("503", 503, "ServiceUnavailable"),
        ("500", 500, "InternalServerError"),
        ("401", 401, "InvalidAuthenticationToken"),
    ):
        emu.inject(kind)
        failed = api.get(url)
        assert failed.status_code == status
        assert failed.json()["error"]["code"] == code
    assert emu.faults_pending() == []
    emu.inject("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        api.get(url)
    emu.inject("drop-after", operation="messages.create")
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/me/messages", json={"subject": "Created anyway"})
    assert [d["subject"] for d in emu.drafts()] == ["Created anyway"]
    with pytest.raises(ValueError, match="unknown fault"):
        emu.inject("418")


def test_latency_is_per_http_request(emu: GraphEmulator, api: httpx.Client) -> None:
    emu.latency = 0.25
    started = time.monotonic()
    get = {"method": "GET", "url": "/me/mailFolders/inbox"}
    assert batch(api, [{"id": str(n), **get} for n in range(4)]).status_code == 200
    assert 0.25 <= time.monotonic() - started < 0.6
    started = time.monotonic()
    api.get("/me/mailFolders/inbox")
    assert time.monotonic() - started >= 0.25


def test_bearer_tokens_and_their_expiry(emu: GraphEmulator, api: httpx.Client) -> None:
    url = "/me/mailFolders/inbox"
    token = emu.issue_token()
    assert api.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    empty = api.get(url, headers={"Authorization": ""})
    assert empty.status_code == 401
    assert empty.json()["error"]["message"] == "Access token is empty."
    assert "WWW-Authenticate" in empty.headers
    wrong = api.get(url, headers={"Authorization": "Bearer nope"})
    assert wrong.json()["error"]["code"] == "InvalidAuthenticationToken"
    emu.expire_tokens()
    for stale in (token, emu.static_token):
        expired = api.get(url, headers={"Authorization": f"Bearer {stale}"})
        assert expired.status_code == 401
        assert "expired" in expired.json()["error"]["message"]
    fresh = emu.issue_token()
    assert api.get(url, headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_unknown_routes_methods_and_options(emu: GraphEmulator, api: httpx.Client) -> None:
    unknown = api.get("/me/contacts", headers={"client-request-id": "abc-123"})
    assert unknown.status_code == 404
    error = unknown.json()["error"]
    assert set(error) == {"code", "message", "innerError"}
    assert error["innerError"]["client-request-id"] == "abc-123"
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert unknown.headers["client-request-id"] == "abc-123"
    assert api.get("/me/mailFolders/nowhere").json()["error"]["code"] == "ErrorInvalidIdMalformed"
    assert api.put("/me/messages/x", json={}).status_code == 405
    assert api.get("/me/mailFolders/inbox", params={"$count": "true"}).status_code == 400
    with httpx.Client(timeout=5) as bare:
        assert bare.get(emu.base_url.replace("/v1.0", "/beta/me")).status_code == 404
    assert emu.stats.calls == {"mailFolders.get": 2}


# --- scenarios, scale and the command -----------------------------------------------------------


def test_scenario_mailbox_materializes_the_demo(emu: GraphEmulator, api: httpx.Client) -> None:
    scenario = load_scenario(DEMO)
    box = GraphScenarioMailbox(emu)
    moment = scenario.local(datetime(2026, 11, 16, 12, 0))
    box.materialize(scenario, moment)
    assert emu.now == moment
    assert len(emu.folder_messages("inbox")) == 1
    span = window(datetime(2026, 11, 15, tzinfo=UTC), datetime(2026, 11, 22, tzinfo=UTC))
    items, delta = pages(api, "/me/calendarView/delta", params=span)
    by_uid = {item["id"]: item for item in items}
    screen = by_uid[event_id_for(USER, "globex-screen@scenario")]
    assert screen["start"] == {"dateTime": "2026-11-16T15:00:00.0000000", "timeZone": "UTC"}
    assert screen["organizer"]["emailAddress"] == {
        "name": "Sam Patel",
        "address": "sam.patel@globex.com",
    }
    assert screen["responseStatus"]["response"] == "accepted"
    assert screen["isOrganizer"] is False
    assert {a["emailAddress"]["address"] for a in screen["attendees"]} == {
        USER,
        "sam.patel@globex.com",
    }
    assert screen["location"]["displayName"] == "https://zoom.us/j/5550001111"
    assert screen["isOnlineMeeting"] is False
    teams = by_uid[event_id_for(USER, "umbrella-hm@scenario")]
    assert teams["isOnlineMeeting"] is True
    assert teams["onlineMeetingProvider"] == "teamsForBusiness"
    assert teams["onlineMeeting"]["joinUrl"] == "https://teams.microsoft.com/l/meetup-join/umbrella"
    panel = by_uid[event_id_for(USER, "acme-panel@scenario")]
    room = next(a for a in panel["attendees"] if a["emailAddress"]["address"].startswith("room"))
    assert room["type"] == "resource"
    hooli = by_uid[event_id_for(USER, "hooli-hm@scenario")]
    assert hooli["organizer"]["emailAddress"]["address"] == "jian.yang@hooli.xyz"
    assert {a["emailAddress"]["address"]: a["status"]["response"] for a in hooli["attendees"]} == {
        USER: "accepted",
        "gavin@hooli.xyz": "accepted",
        "jian.yang@hooli.xyz": "declined",
    }

    box.materialize(scenario, moment)  # nothing changed: the round stays empty
    assert pages(api, delta)[0] == []
    later = scenario.local(datetime(2026, 11, 17, 18, 0))
    box.materialize(scenario, later)
    changes, _ = pages(api, delta)
    [cancelled] = [c for c in changes if c.get("isCancelled")]
    assert cancelled["id"] == event_id_for(USER, "initech-technical@scenario")
    assert cancelled["subject"] == "Canceled: Initech technical interview"
    assert len(emu.folder_messages("inbox")) == 2

    reply = api.post(
        f"/me/messages/{emu.folder_messages('inbox')[-1]}/createReply",
        json={"message": {"singleValueExtendedProperties": [{"id": TAG, "value": "thanks-sam"}]}},
    )
    assert reply.status_code == 201
    [draft] = box.drafts()
    assert draft.folder is Folder.DRAFTS
    assert draft.agent_key == "thanks-sam"
    assert draft.sender.address == USER
    assert [p.address for p in draft.to] == ["sam.patel@globex.com"]
    assert draft.in_reply_to == scenario.message_id("globex-setup")
    assert draft.references == (scenario.message_id("globex-setup"),)
    box.edit_draft("thanks-sam", "P.S. Talk soon.")
    assert "Talk soon" in box.drafts()[0].snippet
    box.send_draft("thanks-sam", later)
    assert box.drafts() == []
    [sent] = emu.folder_messages("sentitems")
    assert emu.message(sent)["toRecipients"][0]["emailAddress"]["address"] == "sam.patel@globex.com"
    with pytest.raises(LookupError):
        box.delete_draft("thanks-sam")


def test_fill_mailbox_is_fast(emu: GraphEmulator, api: httpx.Client) -> None:
    started = time.monotonic()
    fill_mailbox(emu, 50_000, seed=3, user_address=USER)
    assert time.monotonic() - started < 5
    inbox, sent = len(emu.folder_messages("inbox")), len(emu.folder_messages("sentitems"))
    assert inbox + sent == 50_000
    assert 0.55 < inbox / 50_000 < 0.78
    started = time.monotonic()
    first = api.get(
        "/me/mailFolders/inbox/messages/delta",
        params={"$select": "subject,from,receivedDateTime"},
        headers={"Prefer": f"{MAXPAGE}=500"},
    )
    assert time.monotonic() - started < 2
    items = first.json()["value"]
    assert len(items) == 500
    stamps = [parse_iso(m["receivedDateTime"]) for m in items]
    assert stamps == sorted(stamps, reverse=True)
    assert NOW - timedelta(days=90) <= stamps[-1] <= stamps[0] <= NOW


def test_standalone_command_serves_a_scenario_and_writes_a_config(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "providers.emulators.graph",
            "--scenario",
            str(DEMO),
            "--port",
            "0",
            "--at",
            "2026-11-18T12:00:00",
            "--config-dir",
            str(tmp_path),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not any(line.startswith("Ctrl-C") for line in lines):
            line = process.stdout.readline()
            assert line, "the emulator exited early"
            lines.append(line)
        base = next(line.split()[-1] for line in lines if "base URL" in line)
        token = next(line.split()[-1] for line in lines if "static token" in line)
        assert base.endswith("/v1.0")
        config = (tmp_path / "mailagent.toml").read_text()
        assert 'provider = "outlook"' in config
        assert f'graph_endpoint = "{base}"' in config
        assert 'timezone = "America/New_York"' in config
        record = json.loads((tmp_path / "tokens" / "demo.json").read_text())
        assert record == {"kind": "static-bearer", "access_token": token}
        with httpx.Client(timeout=5, headers={"Authorization": f"Bearer {token}"}) as client:
            inbox = client.get(base + "/me/mailFolders/inbox").json()
            assert inbox["totalItemCount"] == 2
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        if process.stdout is not None:
            process.stdout.close()


def test_the_text_of_an_html_bomb_is_made_in_linear_time() -> None:
    """Exchange answers `<a <a <a ...` quickly; the emulator's tag pattern did not (2 s for
    60 KB, which made a chaos-campaign sync miss its budget)."""
    started = time.perf_counter()
    html_to_text("<a " * 20_000)
    assert time.perf_counter() - started < 0.5
    assert html_to_text("<p>Hi <b>there</b></p><div>x</div>") == "Hi there\nx\n"


INVITATION = (
    b"From: Jane Doe <jane@acme.com>\r\nTo: alex@example.com\r\nSubject: Interview\r\n"
    b"Date: Wed, 18 Nov 2026 10:00:00 +0000\r\nMessage-ID: <inv1@acme.com>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n--b1\r\n'
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nYou are invited.\r\n--b1\r\n"
    b"Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\n"
    b"METHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:i1@acme.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    b"--b1--\r\n"
)


def test_an_emailed_invitation_is_an_event_message_with_its_mime(
    emu: GraphEmulator, api: httpx.Client
) -> None:
    """Exchange shows an iMIP request as an eventMessageRequest (learn.microsoft.com/graph/api/
    resources/eventmessage); `$value` gives any message's MIME (graph/outlook-get-mime-message)."""
    invite = emu.add_message(INVITATION, "inbox")
    plain = emu.add_message(HTML_MAIL, "inbox")
    items, _ = inbox_delta(api, **{"$select": "id,subject"})
    kinds = {i["id"]: i.get("@odata.type") for i in items}
    assert kinds == {
        invite: "#microsoft.graph.eventMessageRequest",
        plain: "#microsoft.graph.message",
    }
    full = api.get(f"/me/messages/{invite}").json()
    assert full["meetingMessageType"] == "meetingRequest"
    mime = api.get(f"/me/messages/{invite}/$value")
    assert mime.status_code == 200
    assert mime.headers["content-type"].startswith("text/plain")
    assert mime.content == INVITATION
    assert b"Subject: Offer" in api.get(f"/me/messages/{plain}/$value").content
