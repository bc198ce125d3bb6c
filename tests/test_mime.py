"""providers.mime: parsing real-world mail robustly, rendering drafts safely.

The corpus lives beside the checkout (``../shared/corpus/eml``, see its SOURCES.md); each file is
named after what makes it tricky, which is what the specific tests below check.
"""

from __future__ import annotations

import base64
import email
import email.policy
import re
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailagent.core.models import SNIPPET_LIMIT, DraftContent, Folder, Message, Person
from mailagent.errors import ParseError
from providers.mime import make_message_id, parse_message, render_draft, sanitize_header_text

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "eml"
EML_FILES = sorted(CORPUS.glob("*.eml"))
ARRIVAL = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
KEPT = {
    "auto-submitted",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "precedence",
    "content-type",
    "x-failed-recipients",
    "return-path",
    "list-id",
    "list-unsubscribe",
    "x-mailagent-key",
    "thread-topic",
    "x-ms-exchange-generated-message-source",
}
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MSG_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")


EXPECTED_REASONS = {"empty message", "no sender", "no date", "MIME structure nested too deeply"}
"""parse_message turns any other failure into ParseError("unreadable message (...)") so that a
sync survives it; the tests treat that as a bug to fix."""


def parse_or_reason(
    data: bytes, *, id: str = "x", fallback_date: datetime | None = ARRIVAL
) -> Message | str:
    """The Message, or the reason of the ParseError; any other exception fails the test."""
    try:
        result: Message | str = parse_message(
            data, folder=Folder.INBOX, id=id, fallback_date=fallback_date
        )
    except ParseError as exc:
        result = str(exc)
    assert isinstance(result, Message) or result in EXPECTED_REASONS, result
    return result


def parse(name: str, *, fallback_date: datetime | None = ARRIVAL) -> Message:
    data = (CORPUS / name).read_bytes()
    return parse_message(data, folder=Folder.INBOX, id=name, fallback_date=fallback_date)


def addresses(people: tuple[Person, ...]) -> list[str]:
    return [person.address for person in people]


# --- the corpus as a whole ---------------------------------------------------------------------


def test_corpus_is_present() -> None:
    assert len(EML_FILES) == 40, f"expected the 40-message corpus in {CORPUS}"


@pytest.mark.parametrize("path", EML_FILES, ids=lambda path: path.name)
def test_corpus_message_parses_or_raises_parse_error(path: Path) -> None:
    data = path.read_bytes()
    for fallback in (None, ARRIVAL):
        msg = parse_or_reason(data, id=path.name, fallback_date=fallback)
        if isinstance(msg, str):
            continue
        assert isinstance(msg, Message)
        assert msg.id == path.name
        assert msg.folder is Folder.INBOX
        assert "@" in msg.sender.address
        assert msg.sender.address == msg.sender.address.lower()
        assert all(person.address == person.address.lower() for person in msg.recipients)
        assert msg.date.tzinfo is not None
        assert MSG_ID.fullmatch(msg.message_id)
        assert not CONTROL.search(msg.subject)
        assert not any(CONTROL.search(person.name) for person in (msg.sender, *msg.recipients))
        assert len(msg.snippet) <= SNIPPET_LIMIT
        assert "\r" not in msg.snippet
        assert "\x00" not in msg.snippet
        assert set(msg.headers) <= KEPT
        assert msg.thread_id == ""


def test_most_of_the_corpus_parses_fully() -> None:
    results = [parse_or_reason(path.read_bytes(), id=path.name) for path in EML_FILES]
    parsed = [msg for msg in results if isinstance(msg, Message)]
    assert len(parsed) >= 35
    assert sum(1 for msg in parsed if msg.snippet) >= 30
    # without an arrival time the five messages that have no Date header are skipped
    strict = [parse_or_reason(path.read_bytes(), fallback_date=None) for path in EML_FILES]
    assert sum(isinstance(msg, Message) for msg in strict) >= 35


# --- missing essentials ------------------------------------------------------------------------


def test_message_without_date_needs_a_fallback() -> None:
    name = "nylas--airmail_subject-entretien-d-embauche_no-date.eml"
    with pytest.raises(ParseError, match="no date"):
        parse(name, fallback_date=None)
    msg = parse(name)
    assert msg.date == ARRIVAL
    assert msg.subject == "Entretien d'embauche"


def test_naive_fallback_date_is_taken_as_utc() -> None:
    msg = parse(
        "nylas--message-id-with-trailing-whitespace.eml", fallback_date=datetime(2024, 1, 2)
    )
    assert msg.date == datetime(2024, 1, 2, tzinfo=UTC)


def test_message_without_any_sender_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="no sender"):
        parse("cc--malformed-multipart-mixed_pdf-before-alternative.eml")


def test_sender_falls_back_to_sender_then_return_path() -> None:
    base = b"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nSubject: x\r\n\r\nbody\r\n"
    via_sender = parse_message(
        b"From: undisclosed:;\r\nSender: Real One <Real@Example.com>\r\n" + base,
        folder=Folder.INBOX,
        id="1",
    )
    assert via_sender.sender == Person("Real One", "real@example.com")
    via_return_path = parse_message(
        b"Return-Path: <bounce@example.org>\r\n" + base, folder=Folder.INBOX, id="2"
    )
    assert via_return_path.sender == Person("", "bounce@example.org")


@pytest.mark.parametrize("data", [b"", b"   \r\n", b"\x00\xff\xfe garbage", b"no headers at all"])
def test_unusable_bytes_are_a_parse_error(data: bytes) -> None:
    assert isinstance(parse_or_reason(data), str)


def test_deeply_nested_multipart_is_a_parse_error_or_ignored() -> None:
    nested = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(2000)
    )
    data = b"From: a@example.com\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n" + nested
    result = parse_or_reason(data + b"Content-Type: text/plain\r\n\r\ndeep text\r\n")
    assert isinstance(result, str) or "deep text" not in result.snippet


# --- headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cc--cp932_encoded-word-subject-and-body.eml", "ここに本文がきます。"),
        (
            "cc--outlook2000_utf-7-encoded-word-subject.eml",
            "Die Hasen und die Frösche (Microsoft Outlook 00)",
        ),
        (
            "cc--outlook2000_windows-1252-encoded-word.eml",
            "Die Hasen und die Frösche (Microsoft Outlook 00)",
        ),
        ("spam--outlook-express_gb2312-encoded-words.eml", "代开各地增值税发票"),
        ("cc--utf8-b-encoded-subject_math-symbols.eml", "∀a∊A"),
        (
            "nylas--icloud_invite_french_encoded-word-split-mid-word.eml",
            "Karim Hamidou vous a invité à « Nilas test drive »",
        ),
        (
            "cc--eudora_iso-8859-1-encoded-words-in-to_disposition-notification.eml",
            "Die Hasen und die Frösche",
        ),
        ("cc--yahoo_very-long-folded-headers_malformed-subject.eml", "Rechnung Anwältin"),
        (
            "cc--badly-folded-headers_whitespace-only-continuations.eml",
            "Badly folded headers, one line with space between To and From",
        ),
        (
            "spam--mailchimp_newsletter_utf8-q-subject.eml",
            "New Webinar: So, You Have A Disaster... Now What?",
        ),
        ("cc--empty-subject.eml", ""),
    ],
)
def test_subjects_are_decoded(name: str, expected: str) -> None:
    assert parse(name).subject == expected


def test_iso_2022_jp_encoded_word_subject() -> None:
    word = base64.b64encode("面接のお礼".encode("iso-2022-jp")).decode("ascii")
    data = (
        "From: =?ISO-2022-JP?B?"
        + base64.b64encode("山田".encode("iso-2022-jp")).decode("ascii")
        + "?= <yamada@example.jp>\r\n"
        f"Subject: Re: =?ISO-2022-JP?B?{word}?=\r\n"
        "Date: Tue, 04 Dec 2018 15:23:22 +0900\r\n\r\nbody\r\n"
    ).encode("ascii")
    msg = parse_message(data, folder=Folder.INBOX, id="jp")
    assert msg.subject == "Re: 面接のお礼"
    assert msg.sender == Person("山田", "yamada@example.jp")


@pytest.mark.parametrize(
    ("label", "superset", "text"),
    [
        (
            "gb2312",
            "gb18030",
            "面试通知：请于周一来镕",
        ),  # SpamScope/mail-parser's mail_test_9 is such
        ("GB2312", "gbk", "面试通知：请于周一来镕"),
        ("ks_c_5601-1987", "cp949", "똠방각하 면접"),
        ("euc-kr", "cp949", "똠방각하 면접"),
        ("iso-8859-1", "cp1252", "“Interview” – next steps €"),
        ("shift_jis", "cp932", "面接①のお礼"),
        ("big5", "big5hkscs", "面試㗎"),
    ],
)
def test_an_encoded_word_in_a_superset_of_its_declared_charset_is_decoded(
    label: str, superset: str, text: str
) -> None:
    """The standard parser decodes these with the declared charset and gives U+FFFD (or, for
    iso-8859-1, C1 control characters); mail clients decode them with the superset."""
    word = base64.b64encode(text.encode(superset)).decode("ascii")
    data = (
        f"From: =?{label}?B?{word}?= <a@example.com>\r\nSubject: =?{label}?B?{word}?=\r\n"
        "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nbody\r\n"
    ).encode("ascii")

    msg = parse_message(data, folder=Folder.INBOX, id="x")

    assert msg.subject == text
    assert msg.sender.name == text


def test_unknown_charset_in_encoded_word_is_best_effort() -> None:
    data = (
        b"From: =?x-no-such-charset?Q?Ren=C3=A9?= <rene@example.com>\r\n"
        b"Subject: =?x-no-such-charset?B?Q2Fmw6k=?= =?utf-8?B?!!!?=\r\n"
        b"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nbody\r\n"
    )
    msg = parse_message(data, folder=Folder.INBOX, id="x")
    assert msg.subject.startswith("Café")
    assert msg.sender == Person("René", "rene@example.com")


def test_raw_8bit_headers_are_decoded() -> None:
    data = (
        "From: Zoë Müller <zoe@example.com>\r\nSubject: Entretien d’embauche – café\r\n"
        "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nbody\r\n"
    ).encode()
    msg = parse_message(data, folder=Folder.INBOX, id="x")
    assert msg.subject == "Entretien d’embauche – café"
    assert msg.sender == Person("Zoë Müller", "zoe@example.com")
    latin = (
        "Subject: Réunion\r\nFrom: a@example.com\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n"
    )
    assert parse_message(latin.encode("latin-1"), folder=Folder.INBOX, id="y").subject == "Réunion"


def test_display_names_and_addresses() -> None:
    msg = parse("spam--iso-8859-1-encoded-display-name-with-comma.eml")
    assert msg.sender == Person("LastßlName, FirstName", "comma.name@example.com")
    assert msg.sender.first_name == "FirstName"
    assert msg.to == (Person("", "tony.stark@example.com"),)  # the name was just the address
    assert msg.cc == (
        Person("", "simple@example.net"),
        Person('John "Johnny" Doe', "john.doe@example.com"),
    )
    eudora = parse("cc--eudora_iso-8859-1-encoded-words-in-to_disposition-notification.eml")
    assert eudora.to == (Person("Jürgen Schmürgen", "jschmuergen@example.com"),)
    gb = parse("spam--outlook-express_gb2312-encoded-words.eml")
    assert gb.sender == Person("张先生", "baoguan@hotmail.com")


def test_address_shaped_display_name_is_not_a_name() -> None:
    msg = parse("spam--email-address-as-display-name.eml")
    assert msg.sender == Person("", "bob@example.com")
    assert msg.to == (
        Person("Charlie Brown", "charlie@example.com"),
        Person("", "dave@example.com"),
    )
    assert msg.cc == (Person("", "frank@example.com"),)


def test_addresses_are_lower_cased() -> None:
    msg = parse("spam--outlook-ios_qp-plain_7bit-html_inline-txt.eml")
    assert msg.sender == Person("Ava Oneil", "oneil.844@randtelekom.com.tr")


def test_duplicate_to_headers_are_merged_and_trailing_comma_tolerated() -> None:
    msg = parse("cc--duplicate-to-headers_trailing-comma.eml")
    assert addresses(msg.to) == [
        "second.to.field@invalid",
        "more@recipients.invalid",
        "third.to.field@invalid",
        "even.more@recipients.invalid",
        "lyukshinra@krw.rzd",
        "biakus@krw.rzd",
    ]


def test_whitespace_in_quoted_names_is_collapsed() -> None:
    msg = parse("cc--badly-folded-headers_whitespace-only-continuations.eml")
    assert msg.to == (Person("Recipient with spaces", "recipient@example.com"),)


def test_very_long_to_list_and_threading_headers() -> None:
    msg = parse("nylas--thunderbird_fwd-fwd-talk_in-reply-to_references_very-long-to.eml")
    assert "x@y.co" in addresses(msg.to)
    assert msg.in_reply_to == "<54204C4C.1070008@csail.mit.edu>"
    assert msg.references == ("<54204C4C.1070008@csail.mit.edu>",)
    assert msg.header("precedence") == "list"
    assert msg.header("List-Id").endswith("<csail-announce.lists.csail.mit.edu>")


def test_message_id_trailing_whitespace_is_stripped() -> None:
    msg = parse("nylas--message-id-with-trailing-whitespace.eml")
    assert msg.message_id == "<2342SFSDT45T423FSDFSDF@pervenche-5523>"


def test_missing_message_id_is_synthesised_deterministically() -> None:
    first = parse("cc--empty-subject.eml").message_id
    assert first == parse("cc--empty-subject.eml").message_id
    assert re.fullmatch(r"<[0-9a-f]{32}@mailagent\.invalid>", first)
    assert first != parse("cc--utf-16le_body.eml").message_id


def test_date_keeps_its_utc_offset() -> None:
    msg = parse("cc--cp932_encoded-word-subject-and-body.eml")
    assert msg.date == datetime(2018, 12, 4, 15, 23, 22, tzinfo=timezone(timedelta(hours=9)))
    assert msg.date.utcoffset() == timedelta(hours=9)


def test_only_classification_headers_are_kept() -> None:
    msg = parse("cc--outlook365_invite_base64-text-calendar_fle-standard-time.eml")
    assert msg.header("thread-topic") == "Testaus"
    assert msg.header("content-type").startswith("multipart/alternative;")
    assert "thread-index" not in msg.headers
    assert "received" not in msg.headers


# --- body text ---------------------------------------------------------------------------------


def test_bounce_report_has_human_text_and_delivery_status() -> None:
    msg = parse("spam--bounce_multipart-report_delivery-status.eml")
    assert msg.header("content-type").split(";")[0] == "multipart/report"
    assert "delivery-status" in msg.header("content-type")
    assert "Your message has encountered delivery problems" in msg.snippet
    assert "Final-Recipient: rfc822; abh@netpar.com.br" in msg.snippet
    assert "Status: 4.2.2" in msg.snippet
    assert msg.header("return-path") == "<>"
    assert "Trabajo perfecto" not in msg.snippet  # the returned headers are not the text


def test_plain_text_is_preferred_even_after_html() -> None:
    msg = parse("cc--multipart-alternative_html-before-plain.eml")
    assert msg.snippet == "Plain Text"


def test_html_only_message_gives_text_without_tags() -> None:
    data = (
        b"From: Recruiter <jobs@example.com>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
        b"Subject: Interview\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><title>T</title><style>p { color: red }</style></head><body>"
        b"<script>alert('x')</script><p>Dear&nbsp;Ana,</p><p>Your interview is on <b>Monday</b>"
        b" &amp; lasts 1&#160;hour.</p><br><br><br><div>Caf&eacute; &lt;3</div></body></html>"
    )
    msg = parse_message(data, folder=Folder.INBOX, id="h")
    assert msg.snippet == "Dear Ana,\n\nYour interview is on Monday & lasts 1 hour.\n\nCafé <3"


def test_empty_plain_part_falls_back_to_html() -> None:
    data = (
        b"From: a@example.com\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
        b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\n\r\n"
        b"--b\r\nContent-Type: text/html\r\n\r\n<p>See you <i>then</i></p>\r\n--b--\r\n"
    )
    assert parse_message(data, folder=Folder.INBOX, id="x").snippet == "See you then"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cc--declared-windows-1252-actually-utf8.eml", "メールを簡単に。"),
        ("cc--unknown-charset-name_bad-charset.eml", "search term Mätterhorn."),
        ("cc--utf-16le_body.eml", "Hi Magnus, here a better UTF-16 encoded mail."),
        ("cc--iso-2022-jp_body.eml", "世界"),
        ("cc--cp932_encoded-word-subject-and-body.eml", "ここに本文がきます。"),
        ("spam--outlook-express_gb2312-encoded-words.eml", "增值税发票"),
        ("cc--outlook2000_utf-7-encoded-word-subject.eml", "über ihre mißliche Lage"),
        ("cc--no-charset_windows-1250-body.eml", "En estos últimos meses"),
        ("cc--cancellation_method-cancel_malformed-qp.eml", "Single Event"),
        ("cc--lotus-notes-style_invite_windows-1257_tzid-FLE.eml", "invited to a meeting"),
    ],
)
def test_body_text_is_decoded(name: str, expected: str) -> None:
    assert expected in parse(name).snippet


@pytest.mark.parametrize(
    "name",
    [
        "cc--declared-utf8-actually-shift_jis.eml",
        "cc--no-charset_koi8-u-russian-body.eml",
        "cc--unknown-charset-name_bad-charset.eml",
    ],
)
def test_wrongly_declared_charsets_do_not_raise(name: str) -> None:
    msg = parse(name)
    assert msg.snippet
    assert "\x00" not in msg.snippet


def test_attachments_and_calendar_parts_are_not_snippet_text() -> None:
    msg = parse("cc--non-invite_text-calendar-publish-attachment.eml")
    assert msg.snippet == "Hey, we're having a party! You're not invited ;)"
    assert "BEGIN:VCALENDAR" not in parse("cc--invite_recurring-event_rrule.eml").snippet


def test_snippet_is_bounded() -> None:
    body = ("word " * 3000).encode("ascii")
    data = b"From: a@example.com\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n" + body
    assert len(parse_message(data, folder=Folder.INBOX, id="x").snippet) <= SNIPPET_LIMIT


# --- robustness against arbitrary input -------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise_anything_but_parse_error(data: bytes) -> None:
    parse_or_reason(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(EML_FILES),
    cut=st.floats(min_value=0, max_value=1),
    junk=st.binary(max_size=40),
)
def test_damaged_corpus_messages_never_raise_anything_but_parse_error(
    path: Path, cut: float, junk: bytes
) -> None:
    data = path.read_bytes()
    at = int(len(data) * cut)
    damaged = data[:at] + junk + data[at : at + 3000]
    parse_or_reason(damaged)


# --- sanitize_header_text ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Thank you\r\nBcc: evil@x  ", "Thank you Bcc: evil@x"),
        ("a\tb\x00c\u2028d\u0085e\u2029f\x7fg", "a b c d e f g"),
        ("\r\n\r\n", ""),
        ("Zoë  Müller", "Zoë Müller"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
    ],
)
def test_sanitize_header_text_examples(value: str, expected: str) -> None:
    assert sanitize_header_text(value) == expected


@given(st.text())
def test_sanitize_header_text_gives_one_clean_line(value: str) -> None:
    clean = sanitize_header_text(value)
    assert not CONTROL.search(clean)
    assert clean == clean.strip()
    assert "  " not in clean
    assert sanitize_header_text(clean) == clean


# --- render_draft ------------------------------------------------------------------------------

SENDER = Person("Ana Candidate", "ana@example.org")
WHEN = datetime(2024, 5, 2, 17, 30, tzinfo=timezone(timedelta(hours=-4)))
KEY = "3f2a9c0d41b7e8a5"
NASTY = st.sampled_from(
    [
        "\r\n",
        "\n",
        "\r",
        "\r\n\r\n",
        "Bcc: evil@x",
        "\r\nBcc: evil@x",
        "\x00",
        "\u2028",
        "\u2029",
        "\u0085",
        "\t",
        ",",
        ";",
        ":",
        '"',
        "\\",
        "<evil@x>",
        "(c)",
        "=?utf-8?q?=0D=0ABcc:_x?=",
        "é",
        "面接",
        "😀",
        " ",
        "x" * 120,
    ]
)
UNTRUSTED = st.lists(st.one_of(NASTY, st.text(max_size=15)), max_size=10).map("".join)
CLEAN_TEXT = st.lists(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
    | st.sampled_from(["\n", "\r\n", "\r", "\t", " "]),
    max_size=40,
).map("".join)
REQUIRED = ("from", "to", "subject", "date", "message-id")


def render(content: DraftContent, **overrides: object) -> bytes:
    kwargs: dict[str, object] = {
        "sender": SENDER,
        "key": KEY,
        "date": WHEN,
        "message_id": make_message_id(KEY, SENDER.domain, stable=True),
    }
    kwargs.update(overrides)
    return render_draft(content, **kwargs)  # type: ignore[arg-type]


def header_lines(data: bytes) -> list[bytes]:
    head, sep, _ = data.partition(b"\r\n\r\n")
    assert sep, "no blank line between headers and body"
    return head.split(b"\r\n")


def header_names(data: bytes) -> Counter[str]:
    names: Counter[str] = Counter()
    for line in header_lines(data):
        if line[:1] in (b" ", b"\t"):
            continue
        name, colon, _ = line.partition(b":")
        assert colon, f"header line without a colon: {line!r}"
        assert re.fullmatch(rb"[!-9;-~]+", name), f"bad field name {name!r}"
        names[name.decode("ascii").lower()] += 1
    return names


def as_written(text: str) -> str:
    """Untrusted header text as a reader sees it: sanitised, and "=?" never starts an encoded
    word (render_draft writes it as "= ?")."""
    return sanitize_header_text(text).replace("=?", "= ?")


def expected_name(name: str) -> str:
    clean = as_written(name)
    return "" if "@" in clean and " " not in clean else clean


def check_structure(data: bytes) -> None:
    names = header_names(data)
    for required in REQUIRED:
        assert names[required] == 1, (required, names)
    assert names["bcc"] == 0
    assert names["cc"] == 0
    assert all(count == 1 for count in names.values()), names
    head = data.partition(b"\r\n\r\n")[0]
    assert head.isascii()
    assert b"\n" not in head.replace(b"\r\n", b"")
    assert b"\r" not in head.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed.get_all("bcc") is None
    assert len(parsed.get_all("to") or []) == 1


@settings(max_examples=300, deadline=None)
@given(subject=UNTRUSTED, to_name=UNTRUSTED, sender_name=UNTRUSTED, body=UNTRUSTED)
def test_untrusted_text_cannot_inject_headers(
    subject: str, to_name: str, sender_name: str, body: str
) -> None:
    content = DraftContent(
        subject=subject,
        body=body,
        to=(Person(to_name, "Interviewer@Example.com"), Person("", "second@example.net")),
    )
    data = render(content, sender=Person(sender_name, SENDER.address))
    check_structure(data)

    msg = parse_message(data, folder=Folder.DRAFTS, id="d")
    assert msg.subject == as_written(subject)
    assert msg.sender == Person(expected_name(sender_name), SENDER.address)
    assert msg.to == (
        Person(expected_name(to_name), "interviewer@example.com"),
        Person("", "second@example.net"),
    )
    assert "x-mailagent-key" not in msg.headers  # a client may send headers along
    assert msg.agent_key == KEY  # read back from the key-derived Message-ID


@settings(max_examples=200, deadline=None)
@given(signed=UNTRUSTED)
def test_the_from_has_the_name_the_draft_is_signed_with_and_the_accounts_address(
    signed: str,
) -> None:
    """`DraftContent.sender` (the name learned from the mailbox) names the From; the address
    stays the account's whatever the composer put there, and the name cannot inject."""
    content = DraftContent(
        subject="s",
        body="b",
        to=(Person("Bo", "bo@example.com"),),
        sender=Person(signed, "someone.else@example.net"),
    )
    data = render(content, sender=Person("", SENDER.address))
    check_structure(data)

    msg = parse_message(data, folder=Folder.DRAFTS, id="d")
    assert msg.sender == Person(expected_name(signed), SENDER.address)


def test_without_a_signed_name_the_from_is_the_providers_own() -> None:
    for signed in (None, Person("", "ana@example.org"), Person("  ", "ana@example.org")):
        content = DraftContent("s", "b", (Person("Bo", "bo@example.com"),), sender=signed)
        msg = parse_message(render(content), folder=Folder.DRAFTS, id="d")
        assert msg.sender == SENDER


@settings(max_examples=200, deadline=None)
@given(subject=CLEAN_TEXT.map(lambda text: text[:200]), body=CLEAN_TEXT)
def test_subject_and_body_round_trip(subject: str, body: str) -> None:
    content = DraftContent(subject=subject, body=body, to=(Person("Bo", "bo@example.com"),))
    data = render(content)
    check_structure(data)
    msg = parse_message(data, folder=Folder.DRAFTS, id="d")
    assert msg.subject == as_written(subject)
    normalised = body.replace("\r\n", "\n").replace("\r", "\n")
    assert msg.snippet.strip() == normalised.strip()


def test_encoded_word_in_untrusted_text_cannot_smuggle_a_line_break() -> None:
    evil = "=?utf-8?q?=0D=0ABcc:_evil@x?="
    content = DraftContent(subject=evil, body="b", to=(Person(evil, "jobs@example.com"),))
    data = render(content, sender=Person(evil, SENDER.address))
    check_structure(data)
    msg = parse_message(data, folder=Folder.DRAFTS, id="d")
    assert msg.subject == "= ?utf-8?q?=0D=0ABcc:_evil@x?="
    assert msg.to[0].name == "= ?utf-8?q?=0D=0ABcc:_evil@x?="


def test_long_non_ascii_names_keep_every_recipient_and_space() -> None:
    # Python 3.11's own folder encodes the comma between these two mailboxes and drops the
    # space between "¡¡" and "¡" when it splits the subject into encoded words.
    name = ",000000¡¡¡¡¡𐀀𐀀 Zoë Ångström-Müller ¡¡ ¡"
    content = DraftContent(
        subject=name,
        body="b",
        to=(Person(name, "Interviewer@Example.com"), Person("", "second@example.net")),
    )
    data = render(content)
    check_structure(data)
    msg = parse_message(data, folder=Folder.DRAFTS, id="d")
    assert msg.subject == name
    assert msg.to == (
        Person(name, "interviewer@example.com"),
        Person("", "second@example.net"),
    )


def test_rendered_draft_headers() -> None:
    content = DraftContent(
        subject="Thank you — Jörg",
        body="Hi Jörg,\n\nThank you for your time today.\n\nAna\n",
        to=(Person("Jörg Müller", "joerg@example.de"), Person("Smith, Sam", "sam@example.com")),
    )
    message_id = make_message_id(KEY, "example.org")
    data = render(content, message_id=message_id)
    check_structure(data)
    head = data.partition(b"\r\n\r\n")[0].decode("ascii")
    assert "=?utf-8?" in head  # non-ASCII name and subject are RFC 2047 encoded
    assert f"\r\nMessage-ID: {message_id}\r\n" in f"\r\n{head}\r\n"
    assert "x-mailagent" not in head.lower()
    assert "\r\nDate: Thu, 02 May 2024 17:30:00 -0400\r\n" in f"\r\n{head}\r\n"
    assert "\r\nMIME-Version: 1.0\r\n" in f"\r\n{head}\r\n"
    assert 'Content-Type: text/plain; charset="utf-8"' in head
    assert "In-Reply-To" not in head
    assert "References" not in head

    msg = parse_message(data, folder=Folder.DRAFTS, id="d")
    assert msg.message_id == message_id
    assert msg.subject == "Thank you — Jörg"
    assert msg.sender == SENDER
    assert msg.to == (
        Person("Jörg Müller", "joerg@example.de"),
        Person("Smith, Sam", "sam@example.com"),
    )
    assert msg.date == WHEN
    assert msg.date.utcoffset() == timedelta(hours=-4)
    assert msg.snippet == "Hi Jörg,\n\nThank you for your time today.\n\nAna"
    assert msg.in_reply_to == ""
    assert msg.references == ()


def test_long_body_lines_survive() -> None:
    line = "word " * 400 + "€" * 300
    content = DraftContent(subject="s", body=f"{line}\n\n{'x' * 2500}", to=(SENDER,))
    data = render(content)
    check_structure(data)
    assert (
        parse_message(data, folder=Folder.DRAFTS, id="d").snippet
        == (f"{line}\n\n{'x' * 2500}")[:SNIPPET_LIMIT].rstrip()
    )


OUTLOOK_ID = "<HE1P190MB0540579ABA18FCE320901B31E39C9@HE1P190MB0540.EURP190.PROD.OUTLOOK.COM>"


def test_in_reply_to_and_references_round_trip() -> None:
    content = DraftContent(
        subject="Re: Interview",
        body="Following up.",
        to=(Person("Recruiter", "jobs@example.com"),),
        in_reply_to=OUTLOOK_ID,
        references=(
            "<first@example.com>",
            "not a msg-id",
            "<a b@c>",
            "<x@y>\r\nBcc: e@x",
            "<=?utf-8?q?=0D=0ABcc:_e@x?=@example.com>",
        ),
    )
    data = render(content)
    check_structure(data)
    head = data.partition(b"\r\n\r\n")[0].decode("ascii")
    assert f"In-Reply-To: {OUTLOOK_ID}\r\n" in head  # long ids are not RFC 2047 encoded
    assert "=?" not in head
    msg = parse_message(data, folder=Folder.DRAFTS, id="d")
    assert msg.in_reply_to == OUTLOOK_ID
    assert msg.references == ("<first@example.com>", OUTLOOK_ID)


def test_in_reply_to_already_last_reference_is_not_repeated() -> None:
    content = DraftContent(
        subject="Re: x",
        body="b",
        to=(SENDER,),
        in_reply_to="<b@example.com>",
        references=("<a@example.com>", "<b@example.com>"),
    )
    msg = parse_message(render(content), folder=Folder.DRAFTS, id="d")
    assert msg.references == ("<a@example.com>", "<b@example.com>")


def test_malformed_in_reply_to_is_dropped() -> None:
    content = DraftContent(subject="Re: x", body="b", to=(SENDER,), in_reply_to="junk\r\nBcc: x@y")
    data = render(content)
    check_structure(data)
    msg = parse_message(data, folder=Folder.DRAFTS, id="d")
    assert (msg.in_reply_to, msg.references) == ("", ())


MSG_IDS = st.from_regex(r"\A<[A-Za-z0-9._%+-]{1,70}@[A-Za-z0-9.-]{1,70}>\Z")


@settings(deadline=None)
@given(references=st.lists(MSG_IDS, max_size=30), in_reply_to=MSG_IDS)
def test_threading_headers_round_trip(references: list[str], in_reply_to: str) -> None:
    content = DraftContent(
        subject="Re: x",
        body="b",
        to=(SENDER,),
        in_reply_to=in_reply_to,
        references=tuple(references),
    )
    data = render(content)
    check_structure(data)
    msg = parse_message(data, folder=Folder.DRAFTS, id="d")
    expected = references if references[-1:] == [in_reply_to] else [*references, in_reply_to]
    assert msg.in_reply_to == in_reply_to
    assert msg.references == tuple(expected)


@pytest.mark.parametrize(
    "address",
    [
        "",
        "no-at-sign",
        "a@",
        "@example.com",
        "a b@example.com",
        "a@example.com, b@example.com",
        "<a@example.com>",
        "Name <a@example.com>",
        "a@example.com\r\nBcc: evil@x",
        "a@example.com\nBcc: evil@x",
        '"quoted"@example.com',
        "a@@example.com",
        "a@exa mple.com",
        "a@-example.com",
        "jörg@example.com",
        "a@[127.0.0.1]",
        "=?utf-8?q?=0D=0A?=@example.com",
    ],
)
def test_invalid_recipient_address_is_refused(address: str) -> None:
    content = DraftContent(subject="s", body="b", to=(Person("X", address),))
    with pytest.raises(ValueError, match="address"):
        render(content)
    with pytest.raises(ValueError, match="address"):
        render(DraftContent(subject="s", body="b", to=(SENDER,)), sender=Person("X", address))


def test_internationalised_domain_is_punycoded() -> None:
    data = render(DraftContent(subject="s", body="b", to=(Person("", "info@bücher.de"),)))
    assert parse_message(data, folder=Folder.DRAFTS, id="d").to == (
        Person("", "info@xn--bcher-kva.de"),
    )


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"key": ""}, "key"),
        ({"key": "has space"}, "key"),
        ({"key": "abc\r\nBcc: x@y"}, "key"),
        ({"key": "=?utf-8?q?x?="}, "key"),
        ({"date": datetime(2024, 5, 2, 17, 30)}, "timezone-aware"),  # a naive date
        ({"message_id": "no-brackets@example.com"}, "Message-ID"),
        ({"message_id": "<a@b>\r\nBcc: x@y"}, "Message-ID"),
        ({"message_id": "<two@ids> <x@y>"}, "Message-ID"),
        ({"message_id": "<=?utf-8?q?=0D=0A?=@example.com>"}, "Message-ID"),
    ],
)
def test_invalid_draft_parameters_are_refused(overrides: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        render(DraftContent(subject="s", body="b", to=(SENDER,)), **overrides)


def test_draft_without_recipients_is_refused() -> None:
    with pytest.raises(ValueError, match="recipients"):
        render(DraftContent(subject="s", body="b", to=()))


# --- make_message_id ---------------------------------------------------------------------------


def test_make_message_id_is_a_unique_valid_msg_id() -> None:
    first = make_message_id("thank_you:3f2a/0", "Example.ORG")
    second = make_message_id("thank_you:3f2a/0", "Example.ORG")
    assert first != second
    for value in (first, second):
        assert re.fullmatch(r"<mailagent\.thank_you-3f2a-0\.[0-9a-f]+@example\.org>", value)


@given(key=st.text(max_size=80))
def test_make_message_id_accepts_any_key(key: str) -> None:
    value = make_message_id(key, "example.com")
    assert re.fullmatch(r"<mailagent\.[A-Za-z0-9_-]+\.[0-9a-f]+@example\.com>", value)


@pytest.mark.parametrize("domain", ["", "exa mple.com", "a@b.com", "<x>", "example.com\r\nBcc: x"])
def test_make_message_id_refuses_bad_domains(domain: str) -> None:
    with pytest.raises(ValueError, match="domain"):
        make_message_id(KEY, domain)
