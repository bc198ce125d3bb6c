"""The Gmail v1 + Calendar v3 emulator, driven by the real google-api-python-client.

The emulator is what the Gmail provider is tested against, so these tests pin it to Google:
its routes to the discovery documents, its answers to what the client library parses.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import google_auth_httplib2
import googleapiclient
import httplib2
import pytest
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from mailagent.core.models import Folder
from mailagent.scenario import load_scenario
from providers.emulators import GoogleEmulator
from providers.emulators.google_routes import ROUTES, STANDARD_PARAMS
from providers.emulators.google_scenario import GoogleScenarioMailbox, event_id_for, fill_mailbox
from tests.conftest import DEMO, REPO

USER = "alex@example.com"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DOCS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"


def mail(
    n: int,
    *,
    sender: str = "Jane Doe <jane@mail.acme.com>",
    to: str = USER,
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


def reply(parent: int, *, subject: str = "Re: Interview next week", key: str = "k1") -> bytes:
    return (
        f"From: Alex Kim <{USER}>\r\nTo: jane@mail.acme.com\r\nSubject: {subject}\r\n"
        f"In-Reply-To: <m{parent}@acme.com>\r\nReferences: <m{parent}@acme.com>\r\n"
        f"X-Mailagent-Key: {key}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Thank you, Jane!\r\n"
    ).encode()


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@pytest.fixture
def emu() -> Iterator[GoogleEmulator]:
    with GoogleEmulator(user_address=USER) as emulator:
        emulator.now = NOW
        yield emulator


Factory = Callable[..., Any]


@pytest.fixture
def client(emu: GoogleEmulator) -> Iterator[Factory]:
    """build("gmail"|"calendar", credentials=None) -> a service over the emulator."""
    opened: list[httplib2.Http] = []

    def make(api: str = "gmail", credentials: Credentials | None = None) -> Any:
        http = google_auth_httplib2.AuthorizedHttp(
            credentials or Credentials(token=emu.static_token), http=httplib2.Http(timeout=10)
        )
        opened.append(http.http)
        endpoint = emu.base_url if api == "gmail" else emu.calendar_endpoint
        version = "v1" if api == "gmail" else "v3"
        return build(
            api,
            version,
            http=http,
            static_discovery=True,
            client_options={"api_endpoint": endpoint},
        )

    yield make
    for connection_pool in opened:
        connection_pool.close()


def raw_call(
    emu: GoogleEmulator, path: str, *, token: str | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(emu.base_url + path, method=method)  # noqa: S310
    request.add_header("Authorization", f"Bearer {token or emu.static_token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            body = response.read()
            return response.status, dict(response.headers), json.loads(body) if body else None
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), json.loads(error.read())


def no_sleep(request: Any) -> Any:
    """googleapiclient sleeps up to 2**n seconds between retries; tests need not."""
    request._sleep = lambda seconds: None
    return request


# --- the route table against the discovery documents ----------------------------------------------


def _methods(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def walk(resources: dict[str, Any]) -> None:
        for resource in resources.values():
            for method in resource.get("methods", {}).values():
                found[method["id"]] = method
            walk(resource.get("resources", {}))

    walk(doc["resources"])
    return found


def test_every_route_is_a_discovery_method() -> None:
    docs = {
        "gmail": json.loads((DOCS / "gmail.v1.json").read_text()),
        "calendar": json.loads((DOCS / "calendar.v3.json").read_text()),
    }
    methods = {api: _methods(doc) for api, doc in docs.items()}
    for api, doc in docs.items():
        assert set(doc["parameters"]) == STANDARD_PARAMS[api]
    for route in ROUTES:
        doc = docs[route.api]
        method = methods[route.api].get(route.method_id)
        assert method is not None, route.method_id
        assert method["httpMethod"] == route.http_method, route.method_id
        path = method["path"] if route.api == "gmail" else doc["servicePath"] + method["path"]
        assert route.path_template == path, route.method_id
        params = method.get("parameters", {})
        for name in route.params:
            assert name in params or name in doc["parameters"], (route.method_id, name)
            if name in params:
                assert params[name]["location"] == "query", (route.method_id, name)
        placeholders = {p[1:-1] for p in route.path_template.split("/") if p.startswith("{")}
        assert placeholders == {n for n, p in params.items() if p["location"] == "path"}
    served = {r.method_id for r in ROUTES}
    assert "gmail.users.drafts.send" not in served
    assert "gmail.users.messages.send" not in served


# --- Gmail ------------------------------------------------------------------------------------------


def test_profile_and_list_with_query_and_paging(emu: GoogleEmulator, client: Factory) -> None:
    ids = [emu.add_message(mail(n), ["INBOX"]) for n in range(1, 8)]
    emu.add_message(mail(9, sender="news@techweekly.io", subject="Digest"), ["INBOX"])
    gmail = client()
    profile = gmail.users().getProfile(userId="me").execute()
    assert profile == {
        "emailAddress": USER,
        "messagesTotal": 8,
        "threadsTotal": 8,
        "historyId": profile["historyId"],
    }
    assert int(profile["historyId"]) > 0
    request = gmail.users().messages().list(userId=USER, q="from:acme.com", maxResults=3)
    pages = []
    while request is not None:
        page = request.execute()
        pages.append(page)
        request = gmail.users().messages().list_next(request, page)
    assert [len(p["messages"]) for p in pages] == [3, 3, 1]
    assert "nextPageToken" not in pages[-1]
    assert all(p["resultSizeEstimate"] == 7 for p in pages)
    listed = [m["id"] for p in pages for m in p["messages"]]
    assert listed == ids  # newest first: message n is n days old
    assert all(set(m) == {"id", "threadId"} for p in pages for m in p["messages"])
    empty = gmail.users().messages().list(userId="me", q="from:nobody.example").execute()
    assert empty == {"resultSizeEstimate": 0}
    sixteen_hex = all(len(i) == 16 and int(i, 16) >= 0 for i in ids)
    assert sixteen_hex
    assert sorted(ids) == ids  # ids grow with insertion


def test_a_query_too_long_for_a_url_is_sent_as_a_form_and_served(
    emu: GoogleEmulator, client: Factory
) -> None:
    """Google's client turns a GET whose URL passes 2,048 characters into a POST with
    X-HTTP-Method-Override: GET, and Google serves it; so must the emulator."""
    wanted = emu.add_message(mail(1), ["INBOX"])
    emu.add_message(mail(2, sender="news@techweekly.io", subject="Digest"), ["INBOX"])
    others = " OR ".join(f"from:person{n}@elsewhere.example" for n in range(120))
    q = f"{{{others} OR from:acme.com}}"
    assert len(q) > 3000
    found = client().users().messages().list(userId="me", q=q).execute()
    assert [m["id"] for m in found["messages"]] == [wanted]


def test_list_labels_spam_trash_and_drafts(emu: GoogleEmulator, client: Factory) -> None:
    inbox = emu.add_message(mail(1), ["INBOX", "UNREAD"])
    spam = emu.add_message(mail(2, subject="Prize"), ["SPAM"])
    trash = emu.add_message(mail(3, subject="Old"), ["TRASH"])
    gmail = client()
    draft = gmail.users().drafts().create(userId="me", body={"message": {"raw": b64(reply(1))}})
    draft_message = draft.execute()["message"]["id"]

    def listed(**kwargs: Any) -> set[str]:
        found = gmail.users().messages().list(userId="me", **kwargs).execute()
        return {m["id"] for m in found.get("messages", [])}

    assert listed() == {inbox, draft_message}
    assert listed(includeSpamTrash=True) == {inbox, spam, trash, draft_message}
    assert listed(q="in:anywhere") == {inbox, spam, trash, draft_message}
    assert listed(q="in:trash") == {trash}
    assert listed(labelIds=["INBOX", "UNREAD"]) == {inbox}
    assert listed(labelIds=["DRAFT"]) == {draft_message}
    assert listed(q="-in:drafts") == {inbox}
    emu.modify_labels(inbox, remove=["UNREAD"])
    assert listed(q="is:unread") == set()
    assert emu.messages_with_label("INBOX") == [inbox]


def test_get_formats_snippet_and_metadata_headers(emu: GoogleEmulator, client: Factory) -> None:
    message_id = emu.add_message(mail(1, extra="X-Custom: yes\r\n"), ["INBOX"])
    gmail = client()
    meta = (
        gmail.users()
        .messages()
        .get(userId="me", id=message_id, format="metadata", metadataHeaders=["subject", "FROM"])
        .execute()
    )
    assert meta["payload"]["headers"] == [
        {"name": "From", "value": "Jane Doe <jane@mail.acme.com>"},
        {"name": "Subject", "value": "Interview next week"},
    ]
    assert meta["snippet"] == "Hi Alex, it&#39;s Jane. Looking forward to it."
    assert meta["labelIds"] == ["INBOX"]
    assert meta["internalDate"] == str(int((NOW - timedelta(days=1)).timestamp() * 1000))
    assert "parts" not in meta["payload"]
    assert "body" not in meta["payload"]
    full = gmail.users().messages().get(userId="me", id=message_id).execute()
    payload = full["payload"]
    assert payload["partId"] == ""
    assert payload["mimeType"] == "text/plain"
    assert {"name": "X-Custom", "value": "yes"} in payload["headers"]
    data = base64.urlsafe_b64decode(payload["body"]["data"])
    assert data == b"Hi Alex, it's Jane. Looking forward to it.\r\n"
    assert payload["body"]["size"] == len(data)
    raw = gmail.users().messages().get(userId="me", id=message_id, format="raw").execute()
    assert base64.urlsafe_b64decode(raw["raw"]) == mail(1, extra="X-Custom: yes\r\n")
    assert "payload" not in raw
    minimal = gmail.users().messages().get(userId="me", id=message_id, format="minimal").execute()
    assert set(minimal) == {
        "id",
        "threadId",
        "labelIds",
        "snippet",
        "sizeEstimate",
        "historyId",
        "internalDate",
    }
    with pytest.raises(HttpError) as missing:
        gmail.users().messages().get(userId="me", id="0123456789abcdef").execute()
    assert missing.value.status_code == 404


def test_multipart_payload_parts_and_encoded_headers(emu: GoogleEmulator, client: Factory) -> None:
    raw = (
        b"From: =?utf-8?q?Ren=C3=A9e?= <renee@acme.com>\r\nTo: alex@example.com\r\n"
        b"Subject: =?utf-8?b?UsOpc3Vtw6k=?=\r\nDate: Mon, 16 Nov 2026 10:00:00 +0000\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b'--b1\r\nContent-Type: multipart/alternative; boundary="b2"\r\n\r\n'
        b"--b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlain <text> & more\r\n"
        b"--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Plain</p>\r\n--b2--\r\n"
        b'--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="cv.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b1--\r\n"
    )
    message_id = emu.add_message(raw, ["INBOX"])
    gmail = client()
    full = gmail.users().messages().get(userId="me", id=message_id).execute()
    payload = full["payload"]
    headers = {h["name"]: h["value"] for h in payload["headers"]}
    assert headers["Subject"] == "Résumé"
    assert headers["From"] == "Renée <renee@acme.com>"
    assert [p["partId"] for p in payload["parts"]] == ["0", "1"]
    assert [p["partId"] for p in payload["parts"][0]["parts"]] == ["0.0", "0.1"]
    attachment = payload["parts"][1]
    assert attachment["filename"] == "cv.pdf"
    assert attachment["body"]["size"] == 5
    assert "attachmentId" in attachment["body"]
    assert full["snippet"] == "Plain &lt;text&gt; &amp; more"
    found = gmail.users().messages().list(userId="me", q="has:attachment résumé").execute()
    assert [m["id"] for m in found["messages"]] == [message_id]


def test_unknown_parameters_routes_and_users_are_refused(emu: GoogleEmulator) -> None:
    status, _, body = raw_call(emu, "/gmail/v1/users/me/messages?orderBy=date")
    assert status == 400
    assert body["error"]["errors"][0]["reason"] == "badRequest"
    assert "orderBy" in body["error"]["message"]
    status, _, _ = raw_call(emu, "/gmail/v1/users/me/messages?alt=json&prettyPrint=false")
    assert status == 200
    for path, method in [
        ("/gmail/v1/users/me/messages/send", "POST"),
        ("/gmail/v1/users/me/drafts/send", "POST"),
        ("/gmail/v1/users/me/labels", "GET"),
        ("/nothing/here", "GET"),
    ]:
        status, _, body = raw_call(emu, path, method=method)
        assert status == 404, path
        assert body["error"]["code"] == 404
    status, _, body = raw_call(emu, "/gmail/v1/users/someone@else.com/profile")
    assert status == 403
    status, _, body = raw_call(emu, f"/gmail/v1/users/{USER}/profile")
    assert status == 200


def test_fields_selects_a_partial_response(emu: GoogleEmulator, client: Factory) -> None:
    emu.add_message(mail(1), ["INBOX"])
    gmail = client()
    found = gmail.users().messages().list(userId="me", fields="messages(id)").execute()
    assert list(found) == ["messages"]
    assert list(found["messages"][0]) == ["id"]


def test_threads_get_follows_gmail_threading(emu: GoogleEmulator, client: Factory) -> None:
    first = emu.add_message(mail(3), ["INBOX"])
    answer = emu.add_message(
        mail(2, subject="RE: interview next week", extra="In-Reply-To: <m3@acme.com>\r\n"),
        ["INBOX"],
    )
    other_subject = emu.add_message(
        mail(1, subject="Something else", extra="References: <m3@acme.com>\r\n"), ["INBOX"]
    )
    assert emu.thread_id(answer) == first
    assert emu.thread_id(other_subject) == other_subject
    gmail = client()
    thread = gmail.users().threads().get(userId="me", id=first, format="metadata").execute()
    assert [m["id"] for m in thread["messages"]] == [first, answer]
    assert thread["historyId"] == str(max(int(m["historyId"]) for m in thread["messages"]))


def test_history_records_changes_and_expires(emu: GoogleEmulator, client: Factory) -> None:
    gmail = client()
    start = gmail.users().getProfile(userId="me").execute()["historyId"]
    first = emu.add_message(mail(1), ["INBOX", "UNREAD"])
    emu.modify_labels(first, add=["STARRED"], remove=["UNREAD"])
    second = emu.add_message(mail(2), ["INBOX"])
    emu.delete_message(second)
    page = gmail.users().history().list(userId="me", startHistoryId=start).execute()
    records = page["history"]
    assert [int(r["id"]) for r in records] == sorted(int(r["id"]) for r in records)
    assert all(int(r["id"]) > int(start) for r in records)
    assert records[0]["messagesAdded"] == [
        {"message": {"id": first, "threadId": first, "labelIds": ["INBOX", "UNREAD"]}}
    ]
    assert records[1]["labelsAdded"][0]["labelIds"] == ["STARRED"]
    assert records[2]["labelsRemoved"][0]["labelIds"] == ["UNREAD"]
    assert records[4]["messagesDeleted"][0]["message"]["id"] == second
    assert all(r["messages"] for r in records)
    assert page["historyId"] == records[-1]["id"]
    message = gmail.users().messages().get(userId="me", id=first, format="minimal").execute()
    assert message["historyId"] == records[2]["id"]
    added = (
        gmail.users()
        .history()
        .list(userId="me", startHistoryId=start, historyTypes=["messageAdded"], maxResults=1)
    )
    one = added.execute()
    assert len(one["history"]) == 1
    assert "nextPageToken" in one
    two = gmail.users().history().list_next(added, one).execute()
    assert [r["messagesAdded"][0]["message"]["id"] for r in two["history"]] == [second]
    assert "nextPageToken" not in two
    starred = gmail.users().history().list(userId="me", startHistoryId=start, labelId="STARRED")
    assert [r["id"] for r in starred.execute()["history"]] == [records[1]["id"], records[2]["id"]]
    latest = page["historyId"]
    nothing = gmail.users().history().list(userId="me", startHistoryId=latest).execute()
    assert nothing == {"historyId": latest}
    emu.expire_history()
    for old in (start, latest):
        with pytest.raises(HttpError) as gone:
            gmail.users().history().list(userId="me", startHistoryId=old).execute()
        assert gone.value.status_code == 404
        assert json.loads(gone.value.content) == {
            "error": {
                "code": 404,
                "message": "Requested entity was not found.",
                "errors": [
                    {
                        "message": "Requested entity was not found.",
                        "domain": "global",
                        "reason": "notFound",
                    }
                ],
                "status": "NOT_FOUND",
            }
        }
    fresh = gmail.users().getProfile(userId="me").execute()["historyId"]
    assert gmail.users().history().list(userId="me", startHistoryId=fresh).execute() == {
        "historyId": fresh
    }


def test_drafts_crud_and_thread_rules(emu: GoogleEmulator, client: Factory) -> None:
    parent = emu.add_message(mail(1), ["INBOX"])
    gmail = client()
    drafts = gmail.users().drafts()

    def create(raw: bytes, thread_id: str | None) -> dict[str, Any]:
        message: dict[str, Any] = {"raw": b64(raw)}
        if thread_id:
            message["threadId"] = thread_id
        return drafts.create(userId="me", body={"message": message}).execute()  # type: ignore[no-any-return]

    good = create(reply(1), parent)
    assert good["message"]["threadId"] == parent
    assert good["message"]["labelIds"] == ["DRAFT"]
    assert good["id"] != good["message"]["id"]
    no_thread = create(reply(1, key="k2"), None)
    assert no_thread["message"]["threadId"] == no_thread["message"]["id"]
    wrong_subject = create(reply(1, subject="Thanks", key="k3"), parent)
    assert wrong_subject["message"]["threadId"] == wrong_subject["message"]["id"]
    unknown_thread = create(reply(1, key="k4"), "0000000000000001")
    assert unknown_thread["message"]["threadId"] == unknown_thread["message"]["id"]
    plain = mail(5, sender=USER, to="jane@mail.acme.com", subject="Re: Interview next week")
    no_refs = create(plain, parent)
    assert no_refs["message"]["threadId"] == no_refs["message"]["id"]

    listed = drafts.list(userId="me").execute()
    assert {d["id"] for d in listed["drafts"]} == {
        d["id"] for d in (good, no_thread, wrong_subject, unknown_thread, no_refs)
    }
    assert all(set(d["message"]) == {"id", "threadId"} for d in listed["drafts"])
    assert [d["id"] for d in drafts.list(userId="me", q="subject:thanks").execute()["drafts"]] == [
        wrong_subject["id"]
    ]
    got = drafts.get(userId="me", id=good["id"], format="raw").execute()
    assert base64.urlsafe_b64decode(got["message"]["raw"]) == reply(1)

    updated = drafts.update(
        userId="me",
        id=good["id"],
        body={"message": {"raw": b64(reply(1, key="k1b")), "threadId": parent}},
    ).execute()
    assert updated["id"] == good["id"]
    assert updated["message"]["id"] != good["message"]["id"]
    assert updated["message"]["threadId"] == parent
    with pytest.raises(HttpError) as old:
        gmail.users().messages().get(userId="me", id=good["message"]["id"]).execute()
    assert old.value.status_code == 404

    assert drafts.delete(userId="me", id=no_thread["id"]).execute() == ""
    status, _, body = raw_call(
        emu, f"/gmail/v1/users/me/drafts/{wrong_subject['id']}", method="DELETE"
    )
    assert (status, body) == (204, None)
    with pytest.raises(HttpError) as gone:
        drafts.get(userId="me", id=no_thread["id"]).execute()
    assert gone.value.status_code == 404
    with pytest.raises(HttpError) as bad:
        drafts.create(userId="me", body={"message": {}}).execute()
    assert bad.value.status_code == 400
    assert len(emu.drafts()) == 3


def test_user_actions_in_the_gmail_ui(emu: GoogleEmulator, client: Factory) -> None:
    parent = emu.add_message(mail(1), ["INBOX"])
    gmail = client()
    body = {"message": {"raw": b64(reply(1)), "threadId": parent}}
    draft = gmail.users().drafts().create(userId="me", body=body).execute()
    edited = emu.user_edit_draft(draft["id"], "P.S. One more thing.")
    assert edited != draft["message"]["id"]
    again = gmail.users().drafts().get(userId="me", id=draft["id"], format="full").execute()
    assert again["message"]["id"] == edited
    assert again["message"]["threadId"] == parent
    text = base64.urlsafe_b64decode(again["message"]["payload"]["body"]["data"]).decode()
    assert text.startswith("Thank you, Jane!")
    assert text.rstrip().endswith("P.S. One more thing.")
    at = datetime(2026, 11, 21, 9, 30, tzinfo=ZoneInfo("America/New_York"))
    sent = emu.user_send_draft(draft["id"], at)
    assert emu.drafts() == []
    assert emu.labels(sent) == {"SENT"}
    assert emu.thread_id(sent) == parent
    assert f"Date: {format_datetime(at)}".encode() in emu.raw_message(sent)
    assert b"X-Mailagent-Key: k1" in emu.raw_message(sent)
    message = gmail.users().messages().get(userId="me", id=sent, format="minimal").execute()
    assert message["internalDate"] == str(int(at.timestamp() * 1000))
    other = gmail.users().drafts().create(userId="me", body=body).execute()
    emu.user_delete_draft(other["id"])
    assert emu.drafts() == []


def test_batch_with_a_failing_part(emu: GoogleEmulator, client: Factory) -> None:
    ids = [emu.add_message(mail(n), ["INBOX"]) for n in range(1, 4)]
    gmail = client()
    emu.reset_stats()
    emu.inject("429", method="gmail.users.messages.get", retry_after=7)
    emu.batch_response_order = "reversed"
    answers: dict[str, Any] = {}
    errors: dict[str, HttpError] = {}

    def callback(request_id: str, response: Any, exception: HttpError | None) -> None:
        if exception is not None:
            errors[request_id] = exception
        else:
            answers[request_id] = response

    batch = BatchHttpRequest(callback=callback, batch_uri=emu.gmail_batch_uri)
    for message_id in ids:
        batch.add(
            gmail.users().messages().get(userId="me", id=message_id, format="metadata"),
            request_id=message_id,
        )
    batch.add(gmail.users().getProfile(userId="me"), request_id="profile")
    batch.execute()
    assert set(errors) == {ids[0]}
    assert errors[ids[0]].status_code == 429
    assert errors[ids[0]].resp["retry-after"] == "7"
    assert errors[ids[0]].error_details[0]["reason"] == "rateLimitExceeded"
    assert {k: v["id"] for k, v in answers.items() if k != "profile"} == {i: i for i in ids[1:]}
    assert answers["profile"]["emailAddress"] == USER
    stats = emu.stats
    assert stats.http_requests == 1
    assert stats.calls["gmail.users.messages.get"] == 3
    assert stats.quota_units["gmail.users.messages.get"] == 15
    assert stats.quota_units["gmail.users.getProfile"] == 1
    assert emu.faults_pending() == []


def test_batch_limit_and_drop(emu: GoogleEmulator, client: Factory) -> None:
    gmail = client()
    batch = BatchHttpRequest(callback=lambda *args: None, batch_uri=emu.gmail_batch_uri)
    for _ in range(101):
        batch.add(gmail.users().getProfile(userId="me"))
    with pytest.raises(HttpError) as too_many:
        batch.execute()
    assert too_many.value.status_code == 400
    emu.inject("drop", method="gmail.users.getProfile", times=2)
    small = BatchHttpRequest(callback=lambda *args: None, batch_uri=emu.gmail_batch_uri)
    small.add(gmail.users().getProfile(userId="me"))
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        small.execute()
    assert emu.faults_pending() == []


def test_calendar_batch(emu: GoogleEmulator, client: Factory) -> None:
    calendar = client("calendar")
    found: list[Any] = []
    batch = BatchHttpRequest(
        callback=lambda _id, response, exc: found.append(response or exc),
        batch_uri=emu.calendar_batch_uri,
    )
    batch.add(calendar.events().list(calendarId="primary"))
    batch.execute()
    assert found[0]["kind"] == "calendar#events"


@pytest.mark.parametrize(
    ("kind", "code", "reason", "domain"),
    [
        ("429", 429, "rateLimitExceeded", "usageLimits"),
        ("403-rate", 403, "rateLimitExceeded", "usageLimits"),
        ("403-user-rate", 403, "userRateLimitExceeded", "usageLimits"),
        ("500", 500, "backendError", "global"),
        ("503", 503, "backendError", "global"),
    ],
)
def test_fault_kinds(
    emu: GoogleEmulator, client: Factory, kind: str, code: int, reason: str, domain: str
) -> None:
    emu.inject(kind, method="gmail.users.getProfile", times=2, retry_after=3)
    assert [(f.kind, f.times) for f in emu.faults_pending()] == [(kind, 2)]
    status, headers, body = raw_call(emu, "/calendar/v3/calendars/primary/events")
    assert status == 200  # another method is not affected
    status, headers, body = raw_call(emu, "/gmail/v1/users/me/profile")
    assert status == code
    assert headers["Retry-After"] == "3"
    assert body["error"]["code"] == code
    assert body["error"]["errors"][0]["reason"] == reason
    assert body["error"]["errors"][0]["domain"] == domain
    if kind == "429":
        assert body["error"]["message"] == "Too many requests"
    gmail = client()
    request = no_sleep(gmail.users().getProfile(userId="me"))
    assert request.execute(num_retries=1)["emailAddress"] == USER  # the client retries these
    assert emu.faults_pending() == []
    assert emu.stats.calls["gmail.users.getProfile"] == 3


def test_drop_closes_the_connection(emu: GoogleEmulator, client: Factory) -> None:
    emu.inject("drop")
    connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=5)
    try:
        connection.request(
            "GET", "/gmail/v1/users/me/profile", headers={"Authorization": "Bearer emulator-token"}
        )
        with pytest.raises(http.client.RemoteDisconnected):
            connection.getresponse()
    finally:
        connection.close()
    emu.inject("drop", method="gmail.users.getProfile")
    gmail = client()
    assert (
        gmail.users().getProfile(userId="me").execute()["emailAddress"] == USER
    )  # httplib2 retried
    emu.inject("drop", method="gmail.users.getProfile", times=2)
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        gmail.users().getProfile(userId="me").execute()


def test_keep_alive_and_content_length(emu: GoogleEmulator) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=5)
    try:
        for _ in range(3):
            connection.request(
                "GET",
                "/gmail/v1/users/me/profile",
                headers={"Authorization": f"Bearer {emu.static_token}"},
            )
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200
            assert int(response.headers["Content-Length"]) == len(body)
        connection.request("GET", "/gmail/v1/users/me/profile")
        response = connection.getresponse()
        body = response.read()
        assert response.status == 401
        assert int(response.headers["Content-Length"]) == len(body)
    finally:
        connection.close()


def test_latency_applies_once_per_http_request(emu: GoogleEmulator, client: Factory) -> None:
    gmail = client()
    gmail.users().getProfile(userId="me").execute()  # connect first
    emu.latency = 0.2
    started = time.monotonic()
    gmail.users().getProfile(userId="me").execute()
    assert time.monotonic() - started >= 0.2
    batch = BatchHttpRequest(callback=lambda *args: None, batch_uri=emu.gmail_batch_uri)
    for _ in range(5):
        batch.add(gmail.users().getProfile(userId="me"))
    started = time.monotonic()
    batch.execute()
    assert 0.2 <= time.monotonic() - started < 0.9


def test_quota_units_per_method(emu: GoogleEmulator, client: Factory) -> None:
    message_id = emu.add_message(mail(1), ["INBOX"])
    users = client().users()
    start = users.getProfile(userId="me").execute()["historyId"]
    emu.reset_stats()
    users.getProfile(userId="me").execute()
    users.messages().list(userId="me").execute()
    users.messages().get(userId="me", id=message_id).execute()
    users.threads().get(userId="me", id=message_id).execute()
    users.history().list(userId="me", startHistoryId=start).execute()
    draft = users.drafts().create(userId="me", body={"message": {"raw": b64(reply(1))}}).execute()
    users.drafts().update(
        userId="me", id=draft["id"], body={"message": {"raw": b64(reply(1))}}
    ).execute()
    users.drafts().get(userId="me", id=draft["id"]).execute()
    users.drafts().list(userId="me").execute()
    users.drafts().delete(userId="me", id=draft["id"]).execute()
    client("calendar").events().list(calendarId="primary").execute()
    stats = emu.stats
    assert dict(stats.quota_units) == {
        "gmail.users.getProfile": 1,
        "gmail.users.messages.list": 5,
        "gmail.users.messages.get": 5,
        "gmail.users.threads.get": 10,
        "gmail.users.history.list": 2,
        "gmail.users.drafts.create": 10,
        "gmail.users.drafts.update": 15,
        "gmail.users.drafts.get": 5,
        "gmail.users.drafts.list": 5,
        "gmail.users.drafts.delete": 10,
        "calendar.events.list": 1,
    }
    assert stats.http_requests == 11
    assert sum(stats.calls.values()) == 11


# --- auth -------------------------------------------------------------------------------------------


def test_refresh_on_401_and_revocation(emu: GoogleEmulator, client: Factory) -> None:
    credentials = Credentials(
        token="stale",  # noqa: S106 (fake credentials for the emulator)
        refresh_token=emu.refresh_token,
        token_uri=emu.token_uri,
        client_id="client",
        client_secret="secret",  # noqa: S106 (fake credentials for the emulator)
    )
    gmail = client(credentials=credentials)
    assert gmail.users().getProfile(userId="me").execute()["emailAddress"] == USER
    assert credentials.token != "stale"  # noqa: S105 (not a secret)
    assert emu.stats.token_requests == 1
    emu.expire_tokens()
    assert gmail.users().getProfile(userId="me").execute()["emailAddress"] == USER
    assert emu.stats.token_requests == 2
    status, headers, body = raw_call(emu, "/gmail/v1/users/me/profile")  # the static token
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert body["error"]["errors"][0] == {
        "message": "Invalid Credentials",
        "domain": "global",
        "reason": "authError",
        "location": "Authorization",
        "locationType": "header",
    }
    assert body["error"]["status"] == "UNAUTHENTICATED"
    status, _, _ = raw_call(emu, "/gmail/v1/users/me/profile", token="made-up")  # noqa: S106 (a fake)
    assert status == 401
    answers: list[Any] = []
    batch = BatchHttpRequest(
        callback=lambda _id, response, exc: answers.append(exc or response["emailAddress"]),
        batch_uri=emu.gmail_batch_uri,
    )
    batch.add(gmail.users().getProfile(userId="me"))
    batch.add(gmail.users().getProfile(userId="me"))
    emu.expire_tokens()
    batch.execute()  # both parts get 401; the client refreshes once and resends them
    assert answers == [USER, USER]
    assert emu.stats.token_requests == 3
    emu.revoke()
    with pytest.raises(RefreshError) as revoked:
        gmail.users().getProfile(userId="me").execute()
    assert "invalid_grant" in str(revoked.value)


def test_token_endpoint(emu: GoogleEmulator) -> None:
    def post(form: str) -> tuple[int, Any]:
        request = urllib.request.Request(emu.token_uri, data=form.encode(), method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read())

    status, body = post(
        f"grant_type=refresh_token&refresh_token={emu.refresh_token}&client_id=a&client_secret=b"
    )
    assert status == 200
    assert body["token_type"] == "Bearer"  # noqa: S105 (not a secret)
    assert body["expires_in"] == 3599
    assert body["scope"]
    assert raw_call(emu, "/gmail/v1/users/me/profile", token=body["access_token"])[0] == 200
    status, body = post("grant_type=refresh_token&refresh_token=wrong&client_id=a")
    assert (status, body) == (
        400,
        {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
    )


# --- Calendar -----------------------------------------------------------------------------------


def _event(event_id: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "summary": extra.pop("summary", event_id),
        "start": {"dateTime": start, "timeZone": "America/New_York"},
        "end": {"dateTime": end, "timeZone": "America/New_York"},
        **extra,
    }


def _ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def test_events_list_window_semantics(emu: GoogleEmulator, client: Factory) -> None:
    emu.put_event(_event("morning1", "2026-11-16T09:00:00-05:00", "2026-11-16T10:00:00-05:00"))
    emu.put_event(_event("noon00", "2026-11-16T12:00:00-05:00", "2026-11-16T13:00:00-05:00"))
    emu.put_event(_event("late00", "2026-11-16T15:00:00-05:00", "2026-11-16T16:00:00-05:00"))
    events = client("calendar").events()

    def window(time_min: str | None, time_max: str | None) -> list[str]:
        kwargs = {k: v for k, v in (("timeMin", time_min), ("timeMax", time_max)) if v}
        return _ids(events.list(calendarId="primary", **kwargs).execute())

    # timeMin bounds the END (exclusive), timeMax the START (exclusive).
    assert window("2026-11-16T10:00:00-05:00", None) == ["noon00", "late00"]
    assert window("2026-11-16T14:59:00-05:00", None) == ["late00"]
    assert window(None, "2026-11-16T12:00:00-05:00") == ["morning1"]
    assert window("2026-11-16T17:00:00Z", "2026-11-16T20:00:01Z") == ["noon00", "late00"]
    page = events.list(calendarId=USER).execute()
    assert page["kind"] == "calendar#events"
    assert page["accessRole"] == "owner"
    assert {"etag", "summary", "updated", "timeZone", "defaultReminders"} <= set(page)
    item = page["items"][0]
    assert item["kind"] == "calendar#event"
    assert item["iCalUID"] == "morning1@google.com"
    assert {"etag", "created", "updated", "sequence", "status"} <= set(item)
    for bad in ("2026-11-16T10:00:00", "2026-11-16", "yesterday"):
        status, _, body = raw_call(emu, f"/calendar/v3/calendars/primary/events?timeMin={bad}")
        assert status == 400, bad
    status, _, body = raw_call(
        emu,
        "/calendar/v3/calendars/primary/events?timeMin=2026-11-17T00:00:00Z"
        "&timeMax=2026-11-16T00:00:00Z",
    )
    assert status == 400
    assert body["error"]["errors"][0]["reason"] == "timeRangeEmpty"
    with pytest.raises(HttpError) as order:
        events.list(calendarId="primary", orderBy="startTime").execute()
    assert order.value.status_code == 400
    with pytest.raises(HttpError) as other:
        events.list(calendarId="someone@else.com").execute()
    assert other.value.status_code == 404


def test_single_events_expand_recurrence(emu: GoogleEmulator, client: Factory) -> None:
    emu.put_event(
        _event(
            "standup",
            "2026-11-16T09:00:00-05:00",
            "2026-11-16T09:15:00-05:00",
            recurrence=[
                "RRULE:FREQ=DAILY;COUNT=5",
                "EXDATE;TZID=America/New_York:20261118T090000",
                "RDATE;TZID=America/New_York:20261122T100000",
            ],
        )
    )
    emu.put_event({"id": "feast1", "start": {"date": "2026-11-26"}, "end": {"date": "2026-11-27"},
                   "recurrence": ["RRULE:FREQ=YEARLY;COUNT=2"]})  # fmt: skip
    events = client("calendar").events()
    masters = events.list(calendarId="primary").execute()
    assert _ids(masters) == ["standup", "feast1"]
    expanded = events.list(calendarId="primary", singleEvents=True, orderBy="startTime").execute()
    assert _ids(expanded) == [
        "standup_20261116T140000Z",
        "standup_20261117T140000Z",
        "standup_20261119T140000Z",
        "standup_20261120T140000Z",
        "standup_20261122T150000Z",
        "feast1_20261126",
        "feast1_20271126",
    ]
    first = expanded["items"][0]
    assert first["recurringEventId"] == "standup"
    assert first["originalStartTime"] == {
        "dateTime": "2026-11-16T09:00:00-05:00",
        "timeZone": "America/New_York",
    }
    assert first["end"]["dateTime"] == "2026-11-16T09:15:00-05:00"
    assert "recurrence" not in first
    windowed = events.list(
        calendarId="primary",
        singleEvents=True,
        timeMin="2026-11-19T00:00:00Z",
        timeMax="2026-11-21T00:00:00Z",
    ).execute()
    assert _ids(windowed) == ["standup_20261119T140000Z", "standup_20261120T140000Z"]
    token = expanded["nextSyncToken"]
    emu.delete_event("standup_20261119T140000Z")
    changes = events.list(calendarId="primary", singleEvents=True, syncToken=token).execute()
    assert changes["items"] == [
        {
            "kind": "calendar#event",
            "etag": changes["items"][0]["etag"],
            "id": "standup_20261119T140000Z",
            "status": "cancelled",
            "recurringEventId": "standup",
            "originalStartTime": {
                "dateTime": "2026-11-19T09:00:00-05:00",
                "timeZone": "America/New_York",
            },
        }
    ]
    after = events.list(calendarId="primary", singleEvents=True).execute()
    assert "standup_20261119T140000Z" not in _ids(after)
    quirk = events.list(calendarId="primary").execute()  # cancelled instances stay listed
    assert _ids(quirk) == ["standup", "feast1", "standup_20261119T140000Z"]


def test_series_changes_reach_single_event_syncs(emu: GoogleEmulator, client: Factory) -> None:
    series = _event(
        "series1",
        "2026-11-16T09:00:00-05:00",
        "2026-11-16T10:00:00-05:00",
        recurrence=["RRULE:FREQ=WEEKLY;COUNT=2"],
    )
    emu.put_event(series)
    events = client("calendar").events()
    token = events.list(calendarId="primary", singleEvents=True).execute()["nextSyncToken"]
    moved = {**series, "start": {**series["start"], "dateTime": "2026-11-16T11:00:00-05:00"}}
    moved["end"] = {**series["end"], "dateTime": "2026-11-16T12:00:00-05:00"}
    emu.put_event(moved)  # every instance id changes with the start time
    changes = events.list(calendarId="primary", singleEvents=True, syncToken=token).execute()
    state = {item["id"]: item["status"] for item in changes["items"]}
    assert state == {
        "series1_20261116T160000Z": "confirmed",
        "series1_20261123T160000Z": "confirmed",
        "series1_20261116T140000Z": "cancelled",
        "series1_20261123T140000Z": "cancelled",
    }
    emu.delete_event("series1")
    gone = events.list(
        calendarId="primary", singleEvents=True, syncToken=changes["nextSyncToken"]
    ).execute()
    assert {item["id"]: item["status"] for item in gone["items"]} == {
        "series1_20261116T160000Z": "cancelled",
        "series1_20261123T160000Z": "cancelled",
    }
    assert events.list(calendarId="primary", singleEvents=True).execute()["items"] == []
    with pytest.raises(ValueError, match="recurrence"):
        emu.put_event({**series, "recurrence": ["RRULE:FREQ=SOMETIMES"]})
    with pytest.raises(ValueError, match="a-v"):
        emu.put_event({**series, "id": "Not_Valid"})


def test_an_exception_overrides_one_instance(emu: GoogleEmulator, client: Factory) -> None:
    emu.put_event(
        _event(
            "series2",
            "2026-11-16T09:00:00-05:00",
            "2026-11-16T10:00:00-05:00",
            recurrence=["RRULE:FREQ=DAILY;COUNT=3"],
        )
    )
    moved = _event(
        "series2_20261117T140000Z",
        "2026-11-17T13:00:00-05:00",
        "2026-11-17T14:00:00-05:00",
        summary="Moved",
        recurringEventId="series2",
        originalStartTime={"dateTime": "2026-11-17T09:00:00-05:00"},
    )
    emu.put_event(moved)
    events = client("calendar").events()
    single = events.list(calendarId="primary", singleEvents=True, orderBy="startTime").execute()
    assert [(i["id"], i["summary"]) for i in single["items"]] == [
        ("series2_20261116T140000Z", "series2"),
        ("series2_20261117T140000Z", "Moved"),
        ("series2_20261118T140000Z", "series2"),
    ]
    assert single["items"][1]["iCalUID"] == "series2@google.com"
    assert _ids(events.list(calendarId="primary").execute()) == [
        "series2",
        "series2_20261117T140000Z",
    ]


def test_events_paging_and_sync_tokens(emu: GoogleEmulator, client: Factory) -> None:
    for n in range(5):
        emu.put_event(
            _event(f"event{n}", f"2026-11-1{n}T09:00:00-05:00", f"2026-11-1{n}T10:00:00-05:00")
        )
    events = client("calendar").events()
    request = events.list(calendarId="primary", maxResults=2, singleEvents=True)
    pages = []
    while request is not None:
        page = request.execute()
        pages.append(page)
        request = events.list_next(request, page)
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert all("nextPageToken" in p and "nextSyncToken" not in p for p in pages[:-1])
    assert "nextPageToken" not in pages[-1]
    assert "nextSyncToken" in pages[-1]
    token = pages[-1]["nextSyncToken"]

    quiet = events.list(calendarId="primary", singleEvents=True, syncToken=token).execute()
    assert quiet["items"] == []
    assert quiet["nextSyncToken"]
    emu.now = NOW + timedelta(hours=1)
    emu.put_event(
        _event("event1", "2026-11-11T11:00:00-05:00", "2026-11-11T12:00:00-05:00", summary="Moved")
    )
    emu.delete_event("event3")
    emu.put_event(_event("event9", "2026-11-30T09:00:00-05:00", "2026-11-30T10:00:00-05:00"))
    changes = events.list(calendarId="primary", singleEvents=True, syncToken=token).execute()
    by_id = {item["id"]: item for item in changes["items"]}
    assert set(by_id) == {"event1", "event3", "event9"}
    assert by_id["event1"]["summary"] == "Moved"
    assert by_id["event1"]["updated"] == "2026-11-20T13:00:00.000Z"
    assert by_id["event3"] == {
        "kind": "calendar#event",
        "etag": by_id["event3"]["etag"],
        "id": "event3",
        "status": "cancelled",
    }
    assert "event3" not in _ids(events.list(calendarId="primary").execute())
    assert "event3" in _ids(events.list(calendarId="primary", showDeleted=True).execute())
    newer = changes["nextSyncToken"]
    assert events.list(calendarId="primary", syncToken=newer).execute()["items"] == []
    for name, value in [("timeMin", "2026-11-01T00:00:00Z"), ("q", "x"), ("orderBy", "updated")]:
        status, _, _ = raw_call(
            emu, f"/calendar/v3/calendars/primary/events?syncToken={newer}&{name}={value}"
        )
        assert status == 400, name
    emu.expire_sync_tokens()
    with pytest.raises(HttpError) as gone:
        events.list(calendarId="primary", syncToken=newer).execute()
    assert gone.value.status_code == 410
    assert json.loads(gone.value.content)["error"]["errors"] == [
        {
            "domain": "calendar",
            "reason": "fullSyncRequired",
            "message": "Sync token is no longer valid, a full sync is required.",
            "locationType": "parameter",
            "location": "syncToken",
        }
    ]
    fresh = events.list(calendarId="primary").execute()
    assert (
        events.list(calendarId="primary", syncToken=fresh["nextSyncToken"]).execute()["items"] == []
    )


# --- scenarios and scale ----------------------------------------------------------------------------


def test_scenario_mailbox_materializes_the_demo(emu: GoogleEmulator, client: Factory) -> None:
    scenario = load_scenario(DEMO)
    box = GoogleScenarioMailbox(emu)
    emu.time_zone = scenario.spec.user.timezone
    moment = scenario.local(datetime(2026, 11, 16, 12, 0))
    box.materialize(scenario, moment)
    assert emu.now == moment
    assert len(emu.messages_with_label("INBOX")) == 1  # only globex-setup is dated before noon
    calendar = client("calendar").events()
    page = calendar.list(calendarId="primary", singleEvents=True, orderBy="startTime").execute()
    by_uid = {item["iCalUID"]: item for item in page["items"]}
    screen = by_uid["globex-screen@scenario"]
    assert screen["id"] == event_id_for("globex-screen@scenario")
    assert set(screen["id"]) <= set("0123456789abcdefghijklmnopqrstuv")
    assert screen["start"] == {
        "dateTime": "2026-11-16T10:00:00-05:00",
        "timeZone": "America/New_York",
    }
    assert screen["organizer"] == {"email": "sam.patel@globex.com", "displayName": "Sam Patel"}
    assert {
        "email": USER,
        "displayName": "Alex Kim",
        "self": True,
        "responseStatus": "accepted",
    } in (screen["attendees"])
    assert screen["conferenceData"]["entryPoints"][0]["uri"] == "https://zoom.us/j/5550001111"
    initech = by_uid["initech-technical@scenario"]
    assert initech["hangoutLink"] == "https://meet.google.com/abc-defg-hij"
    panel = by_uid["acme-panel@scenario"]
    room = next(a for a in panel["attendees"] if a["email"].startswith("room-4b"))
    assert room["resource"] is True
    token = page["nextSyncToken"]

    box.materialize(scenario, moment)  # nothing changed: the sync stays empty
    same = calendar.list(calendarId="primary", singleEvents=True, syncToken=token).execute()
    assert same["items"] == []
    later = scenario.local(datetime(2026, 11, 17, 18, 0))
    box.materialize(scenario, later)
    changes = calendar.list(calendarId="primary", singleEvents=True, syncToken=token).execute()
    cancelled = [i for i in changes["items"] if i.get("status") == "cancelled"]
    assert [i["id"] for i in cancelled] == [event_id_for("initech-technical@scenario")]
    assert len(emu.messages_with_label("INBOX")) == 2

    gmail = client()
    raw = (
        f"From: Alex Kim <{USER}>\r\nTo: sam.patel@globex.com\r\nSubject: Thank you\r\n"
        f"Date: {format_datetime(later)}\r\nX-Mailagent-Key: thanks-sam\r\n\r\nThanks, Sam!\r\n"
    ).encode()
    gmail.users().drafts().create(userId="me", body={"message": {"raw": b64(raw)}}).execute()
    [draft] = box.drafts()
    assert draft.folder is Folder.DRAFTS
    assert draft.agent_key == "thanks-sam"
    box.edit_draft("thanks-sam", "P.S. Talk soon.")
    assert "Talk soon" in box.drafts()[0].snippet
    box.send_draft("thanks-sam", later)
    assert box.drafts() == []
    sent = gmail.users().messages().list(userId="me", q="in:sent to:sam.patel@globex.com")
    assert len(sent.execute()["messages"]) == 1
    with pytest.raises(LookupError):
        box.delete_draft("thanks-sam")


def test_fill_mailbox_is_fast_and_searchable(emu: GoogleEmulator, client: Factory) -> None:
    started = time.monotonic()
    fill_mailbox(emu, 20_000, seed=3, user_address=USER)
    assert time.monotonic() - started < 10
    inbox, sent = len(emu.messages_with_label("INBOX")), len(emu.messages_with_label("SENT"))
    assert inbox + sent == 20_000
    assert 0.55 < inbox / 20_000 < 0.78
    gmail = client()
    started = time.monotonic()
    found = gmail.users().messages().list(userId="me", q="from:github.com newer_than:7d").execute()
    assert time.monotonic() - started < 2
    assert 0 < found["resultSizeEstimate"] < 20_000
    first = gmail.users().messages().get(userId="me", id=found["messages"][0]["id"]).execute()
    headers = {h["name"]: h["value"] for h in first["payload"]["headers"]}
    assert headers["From"] == "GitHub <notifications@github.com>"
    assert int(first["internalDate"]) > (NOW - timedelta(days=7)).timestamp() * 1000


def test_standalone_command_serves_a_scenario() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "providers.emulators.google",
            "--scenario",
            str(DEMO),
            "--port",
            "0",
            "--at",
            "2026-11-18T12:00:00",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert process.stdout is not None
        lines = []
        while not any(line.startswith('google_endpoint = "') for line in lines):
            line = process.stdout.readline()
            assert line, "the emulator exited early"
            lines.append(line)
        base = next(line.split()[-1] for line in lines if "base URL" in line)
        assert 'provider = "gmail"' in "".join(lines)
        request = urllib.request.Request(base + "/gmail/v1/users/me/profile")  # noqa: S310
        request.add_header("Authorization", "Bearer emulator-token")
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            assert json.loads(response.read())["emailAddress"] == "alex@example.com"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        if process.stdout is not None:
            process.stdout.close()
