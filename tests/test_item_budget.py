"""A time budget per item: one over it is skipped with its reason, remembered, and not read
again; the others are read and the cursor moves (issue 10, point 9)."""

from __future__ import annotations

import json
import threading
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from mailagent.core.detect import UserIdentity
from mailagent.core.models import Folder
from providers.base import Changes, Window
from providers.budget import Budget, ItemBudget, OverBudget
from providers.emulators import GoogleEmulator
from providers.emulators.graph import GraphEmulator
from providers.gmail import MIME_DEPTH, GmailProvider, GoogleEndpoints, _mime, full_message
from providers.maildir import MaildirProvider
from providers.mime import MAX_MESSAGE_BYTES, parse_message
from providers.outlook import OutlookProvider

from .test_gmail_provider import emulator_credentials
from .test_outlook_provider import Tokens

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(days=30), NOW + timedelta(days=30))


def good(n: int) -> bytes:
    return (
        f"From: Rita <rita@acme.example>\r\nTo: me@example.com\r\nSubject: Interview {n}\r\n"
        f"Date: Thu, 29 Feb 2024 10:0{n}:00 +0000\r\nMessage-ID: <m{n}@acme.example>\r\n\r\n"
        f"Thanks for your time, {n}.\r\n"
    ).encode()


def hostile() -> bytes:
    """The costliest message the bounds still let through: 4 MB in 100 parts whose
    Content-Type fields are as long as allowed."""
    part = (
        b"--b\r\nContent-Type: text/plain" + b"; a=b" * 100 + b"\r\n\r\n" + b"x" * 40_000 + b"\r\n"
    )
    return (
        b"From: x@evil.example\r\nDate: Thu, 29 Feb 2024 10:00:00 +0000\r\nSubject: x\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + part * 120
    )


def deliver(root: Path, name: str, data: bytes) -> None:
    (root / "INBOX" / "new" / name).write_bytes(data)


def maildir(tmp_path: Path, budget: Budget) -> MaildirProvider:
    for folder in ("INBOX", "Sent", "Drafts"):
        for sub in ("cur", "new", "tmp"):
            (tmp_path / folder / sub).mkdir(parents=True, exist_ok=True)
    return MaildirProvider(
        root=tmp_path,
        calendar=None,
        address="me@example.com",
        timezone=ZoneInfo("UTC"),
        clock=lambda: NOW,
        budget=budget,
    )


def test_a_message_over_budget_is_skipped_remembered_and_not_read_again(tmp_path: Path) -> None:
    provider = maildir(tmp_path, Budget(seconds=0.04))
    stamp = int(NOW.timestamp()) - 3600
    deliver(tmp_path, f"{stamp}.a.host", good(1))
    deliver(tmp_path, f"{stamp + 1}.bad.host", hostile())
    deliver(tmp_path, f"{stamp + 2}.b.host", good(2))

    first = provider.read_changes(None, WINDOW)

    assert sorted(m.subject for m in first.messages) == ["Interview 1", "Interview 2"]
    assert [s.item.rpartition("/")[2] for s in first.skipped] == [f"{stamp + 1}.bad.host"]
    assert "over the 0.04 s budget" in first.skipped[0].reason
    assert json.loads(first.cursor)["over_budget"] == {
        f"{Folder.INBOX.value}/{stamp + 1}.bad.host": first.skipped[0].reason
    }

    time.sleep(0.01)  # a new message changes the folder: the next sync lists it again
    deliver(tmp_path, f"{stamp + 3}.c.host", good(3))
    second = provider.read_changes(first.cursor, WINDOW)
    assert [m.subject for m in second.messages] == ["Interview 3"]
    assert second.skipped == []
    assert second.requests == 1  # only the new file was opened
    assert "over_budget" in json.loads(second.cursor)

    # even a cursor that forgot which files it has seen does not parse the bad one again
    state = json.loads(second.cursor)
    state[Folder.INBOX.value] = {}
    third = provider.read_changes(json.dumps(state), WINDOW)
    assert sorted(m.subject for m in third.messages) == [f"Interview {n}" for n in (1, 2, 3)]
    assert third.skipped == []
    assert third.requests == 3


def test_the_same_messages_are_all_read_within_the_default_budget(tmp_path: Path) -> None:
    provider = maildir(tmp_path, Budget())
    stamp = int(NOW.timestamp()) - 3600
    deliver(tmp_path, f"{stamp}.a.host", good(1))
    deliver(tmp_path, f"{stamp + 1}.bad.host", hostile())
    changes = provider.read_changes(None, WINDOW)
    assert len(changes.messages) == 2
    assert changes.skipped == []
    assert {m.folder for m in changes.messages} == {Folder.INBOX}


def test_the_hard_stop_interrupts_a_runaway_parse_in_the_main_thread() -> None:
    guard = ItemBudget(Budget(seconds=0.05, hard_seconds=0.2))

    def runaway() -> str:
        try:
            while True:
                pass
        except Exception:  # a parser's broad fallback must not swallow the stop
            return "swallowed"

    started = time.perf_counter()
    result = guard.run("k", runaway)
    assert isinstance(result, OverBudget)
    assert time.perf_counter() - started < 2
    assert "stopped after 0.2 s" in result.reason
    assert guard.is_remembered("k")


def test_in_a_worker_thread_the_budget_is_measured_and_remembered() -> None:
    guard = ItemBudget(Budget(seconds=0.01, hard_seconds=0.01))
    results: list[object] = []

    def slow() -> str:
        started = time.thread_time()
        while time.thread_time() - started < 0.05:
            pass
        return "parsed"

    worker = threading.Thread(
        target=lambda: results.extend([guard.run("k", slow), guard.run("j", lambda: "ok")])
    )
    worker.start()
    worker.join()
    assert isinstance(results[0], OverBudget)
    assert results[1] == "ok"
    assert guard.remembered == {"k": results[0].reason}


def test_an_item_is_charged_for_its_own_work_not_for_a_busy_machine() -> None:
    """Waiting (another process on the CPU, a slow disk) costs the item nothing: an item over
    budget is skipped for good, so a loaded worker must not lose a user's ordinary mail."""
    guard = ItemBudget(Budget(seconds=0.02, hard_seconds=0))

    def waits() -> str:
        time.sleep(0.1)
        return "parsed"

    assert guard.run("k", waits) == "parsed"
    assert guard.remembered == {}


def test_a_multipart_message_costs_each_header_once() -> None:
    """The costliest message the bounds let through, with a different long Content-Type in
    every part, parses in a small part of the default budget (it took 2.4 s of a 2 s budget
    on a loaded CI machine when each part's field was parsed four times)."""
    parts = b"".join(
        b"--b\r\nContent-Type: text/plain"
        + b"".join(b"; a%d=b%d" % (i, j) for j in range(100))
        + b"\r\n\r\n"
        + b"x" * 40_000
        + b"\r\n"
        for i in range(120)
    )
    data = hostile().split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n" + parts
    started = time.thread_time()
    parse_message(data, folder=Folder.INBOX, id="x")
    assert time.thread_time() - started < Budget().seconds / 2


def test_a_remembered_item_comes_back_from_a_cursor_and_junk_is_ignored() -> None:
    assert ItemBudget(Budget(), {"a": "why"}).reason("a") == "why"
    assert ItemBudget(Budget(), ["not", "a", "mapping"]).remembered == {}  # type: ignore[arg-type]


# -- Gmail ----------------------------------------------------------------------------------------


def _nested(depth: int) -> dict[str, object]:
    part: dict[str, object] = {"mimeType": "text/plain", "body": {"data": "aGk"}}
    for _ in range(depth):
        part = {"mimeType": "multipart/mixed", "parts": [part]}
    return part


def test_a_gmail_payload_of_endless_parts_or_nesting_is_rebuilt_within_the_parser_bounds() -> None:
    """`format=full` payloads are rebuilt as MIME before parsing: that step is bounded too."""
    text = {"mimeType": "text/plain", "body": {"data": "VGhhbmtzIGZvciB5b3VyIHRpbWUu"}}
    wide = {"mimeType": "multipart/mixed", "parts": [text] * 100_000}
    deep = _nested(5_000)
    for payload in (wide, deep):
        item = {
            "id": "m1",
            "threadId": "t1",
            "internalDate": str(int(NOW.timestamp() * 1000)),
            "payload": {
                **payload,
                "headers": [
                    {"name": "From", "value": "Rita <rita@acme.example>"},
                    {"name": "Subject", "value": "Interview"},
                ],
            },
        }
        started = time.thread_time()
        message = full_message(item, Folder.INBOX)
        assert time.thread_time() - started < 1.0
        assert message.sender.address == "rita@acme.example"
    assert len(_mime(wide)) < MAX_MESSAGE_BYTES
    assert _mime(deep).count(b"multipart/mixed") <= MIME_DEPTH + 1


def _costly(parts: int, body: int) -> bytes:
    """A message whose every part has a different long Content-Type, with parameter names no
    other test uses (parsed headers are cached: these must cost their full price)."""
    sections = b"".join(
        b"--b\r\nContent-Type: text/plain"
        + b"".join(b"; g%d=h%d" % (i, j) for j in range(100))
        + b"\r\n\r\n"
        + b"x" * body
        + b"\r\n"
        for i in range(parts)
    )
    return (
        b"From: x@evil.example\r\nTo: me@example.com\r\nSubject: x\r\n"
        b"Date: Thu, 29 Feb 2024 10:00:00 +0000\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + sections + b"--b--\r\n"
    )


def test_gmail_skips_an_over_budget_text_remembers_it_and_keeps_the_headers() -> None:
    with GoogleEmulator(user_address="me@example.com") as emulator:
        emulator.put_event(
            {
                "id": "acmeonsite1",
                "summary": "Interview with Acme",
                "start": {"dateTime": "2024-02-29T10:00:00Z"},
                "end": {"dateTime": "2024-02-29T11:00:00Z"},
                "attendees": [
                    {"email": "me@example.com"},
                    {"email": "rita@acme.example"},
                    {"email": "x@evil.example"},
                ],
            }
        )
        good_id = emulator.add_message(good(1), ["INBOX"])
        bad_id = emulator.add_message(_costly(parts=40, body=1_000), ["INBOX"])
        credentials = emulator_credentials(emulator)
        provider = GmailProvider(
            credentials,
            user=UserIdentity("me@example.com", "Me"),
            timezone=ZoneInfo("UTC"),
            clock=lambda: NOW,
            endpoints=GoogleEndpoints.at(emulator.base_url),
            budget=Budget(seconds=0.05, hard_seconds=0),
        )
        with closing(provider):
            first = provider.read_changes(None, WINDOW)
            emulator.expire_history()  # the next read searches and reads every message again
            second = provider.read_changes(first.cursor, WINDOW)

    texts = {m.id: m.snippet for m in first.messages}
    assert texts[good_id] == "Thanks for your time, 1."
    assert bad_id in texts  # classified from its headers and Gmail's snippet
    assert [s.item for s in first.skipped] == [f"gmail message {bad_id}"]
    assert "over the 0.05 s budget" in first.skipped[0].reason
    assert set(json.loads(first.cursor)["over_budget"]) == {f"{bad_id}/text"}
    assert {m.id for m in second.messages} == {good_id, bad_id}
    assert second.skipped == []  # remembered: not parsed, nor reported, again
    assert set(json.loads(second.cursor)["over_budget"]) == {f"{bad_id}/text"}


# -- Outlook --------------------------------------------------------------------------------------


def test_outlook_skips_an_over_budget_message_remembers_it_and_moves_on() -> None:
    """Every parse is over a 0 s budget: skipped with its reason and remembered, so a full
    re-read (an expired delta link) neither parses nor reports it again."""
    with GraphEmulator(user_address="me@example.com") as emulator:
        message_id = emulator.add_message(good(1), "inbox")
        tokens = Tokens(emulator)

        def read(cursor: str | None, budget: Budget) -> Changes:
            provider = OutlookProvider(
                tokens,
                user=UserIdentity("me@example.com", "Me"),
                timezone=ZoneInfo("UTC"),
                clock=lambda: NOW,
                base_url=emulator.base_url,
                budget=budget,
            )
            with closing(provider):
                return provider.read_changes(cursor, WINDOW)

        nothing = Budget(seconds=0, hard_seconds=0)
        first = read(None, nothing)
        emulator.expire_delta_tokens()
        again = read(first.cursor, nothing)
        fresh = read(None, Budget())

    assert first.messages == []
    assert [s.item for s in first.skipped] == [f"outlook message {message_id}"]
    assert "over the 0 s budget" in first.skipped[0].reason
    assert set(json.loads(first.cursor)["over_budget"]) == {message_id}
    assert (again.messages, again.skipped) == ([], [])
    assert [m.subject for m in fresh.messages] == ["Interview 1"]
