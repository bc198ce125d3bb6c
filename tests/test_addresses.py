"""The one recipient check every provider relies on (mailagent.core.addresses)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailagent.core.addresses import MAX_LENGTH, address_problem, is_valid_address
from mailagent.core.models import DraftContent, Person
from providers.mime import render_draft

GOOD = [
    "priya.raman@acme.com",
    "o'brien+jobs@sub.example.co.uk",
    "x@a-b.io",
    "jörg@bücher.de".replace("jörg", "joerg"),  # an internationalised domain
]
BAD = [
    "two@acme.com, evil@x.com",
    "crlf@acme.com\r\nbcc: evil@x.com",
    "lf@acme.com\nBcc: evil@x.com",
    "Priya <priya@acme.com>",
    '"quoted local"@acme.com',
    "space in@acme.com",
    "tab\t@acme.com",
    "nul\x00@acme.com",
    "=?utf-8?q?=0D=0ABcc:_x?=@acme.com",
    "no-at-sign",
    "@acme.com",
    "user@",
    "user@localhost",
    "user@-bad-.com",
    "user@acme..com",
    ".dot@acme.com",
    "a" * 65 + "@acme.com",
    "user@" + "a" * 250 + ".com",
    "user@[127.0.0.1]",
    "ünïcode@acme.com",
    "",
]


@pytest.mark.parametrize("address", GOOD)
def test_plain_addresses_are_valid(address: str) -> None:
    assert address_problem(address) == ""
    assert is_valid_address(address)


@pytest.mark.parametrize("address", BAD)
def test_anything_but_one_plain_address_is_refused_with_a_reason(address: str) -> None:
    assert address_problem(address)
    assert not is_valid_address(address)


def _renders(address: str) -> bool:
    content = DraftContent(to=(Person("X", address),), subject="Thank you", body="Hello")
    try:
        render_draft(
            content,
            sender=Person("Me", "me@example.com"),
            key="k1",
            date=datetime(2026, 11, 17, tzinfo=UTC),
            message_id="<m1@example.com>",
        )
    except ValueError:
        return False
    return True


@given(st.text(max_size=80) | st.emails())
def test_an_address_valid_here_is_never_refused_by_the_renderer(address: str) -> None:
    if is_valid_address(address):
        assert _renders(address)
        assert len(address) <= MAX_LENGTH
        assert not any(c.isspace() or c in ',;<>()"\\' for c in address)


@pytest.mark.parametrize("address", GOOD)
def test_the_good_examples_render(address: str) -> None:
    assert _renders(address)
