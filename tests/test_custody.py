"""Secrets at rest for the service (issue 13, point 4): Fernet keys from the environment,
several at once (the first seals, all open), rotation, and errors that say what to do."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st

from mailagent.errors import ConfigError, SecretError
from mailagent.service.custody import KEYS_ENV, Custody, new_key


def test_a_sealed_secret_opens_and_never_shows_its_text() -> None:
    custody = Custody.from_env({KEYS_ENV: new_key()})

    sealed = custody.seal("1//0g-refresh-token")

    assert "refresh" not in sealed
    assert custody.open(sealed) == "1//0g-refresh-token"


@given(st.text(max_size=300))
def test_any_text_round_trips(secret: str) -> None:
    custody = Custody([Fernet.generate_key().decode()])
    assert custody.open(custody.seal(secret)) == secret


def test_the_first_key_seals_and_every_key_opens() -> None:
    old, new = new_key(), new_key()
    sealed_with_old = Custody.from_env({KEYS_ENV: old}).seal("s")

    both = Custody.from_env({KEYS_ENV: f"{new}, {old}"})

    assert both.open(sealed_with_old) == "s"
    assert Custody.from_env({KEYS_ENV: new}).open(both.seal("t")) == "t"


def test_rotation_reseals_with_the_newest_key_so_the_old_one_can_go() -> None:
    old, new = new_key(), new_key()
    sealed = Custody.from_env({KEYS_ENV: old}).seal("s")

    rotated = Custody.from_env({KEYS_ENV: f"{new},{old}"}).rotate(sealed)

    assert Custody.from_env({KEYS_ENV: new}).open(rotated) == "s"
    assert Custody.from_env({KEYS_ENV: f"{new},{old}"}).needs_rotation(sealed)
    assert not Custody.from_env({KEYS_ENV: f"{new},{old}"}).needs_rotation(rotated)


def test_no_key_is_a_config_error_that_says_how_to_make_one() -> None:
    with pytest.raises(ConfigError) as raised:
        Custody.from_env({})

    assert KEYS_ENV in str(raised.value)
    assert "mailagent keys generate" in raised.value.advice


def test_a_malformed_key_is_named_by_position_never_printed() -> None:
    good = new_key()
    with pytest.raises(ConfigError) as raised:
        Custody.from_env({KEYS_ENV: f"{good},not-a-key"})

    message = f"{raised.value} {raised.value.advice}"
    assert "key 2" in message
    assert "not-a-key" not in message
    assert good not in message


def test_a_secret_sealed_with_a_key_no_longer_configured_says_so() -> None:
    sealed = Custody.from_env({KEYS_ENV: new_key()}).seal("s")

    with pytest.raises(SecretError) as raised:
        Custody.from_env({KEYS_ENV: new_key()}).open(sealed)

    assert "none of the" in str(raised.value)
    assert KEYS_ENV in raised.value.advice


def test_a_tampered_secret_does_not_open() -> None:
    custody = Custody.from_env({KEYS_ENV: new_key()})
    sealed = custody.seal("s")
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")

    with pytest.raises(SecretError):
        custody.open(tampered)
