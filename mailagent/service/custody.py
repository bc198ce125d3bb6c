"""Custody of the secrets of many accounts: refresh tokens and passwords sealed at rest.

Design note. The service keeps every account's grant in its database, so that any worker on
any machine can sync any account; a database dump must not be a bag of live grants. Each
secret is sealed with Fernet (AES-128-CBC and HMAC-SHA256 with a timestamp,
cryptography.io/en/latest/fernet/), under keys that never enter the database: they come from
the environment, `MAILAGENT_SECRET_KEYS`, comma-separated. The first key seals; every key opens
(`MultiFernet`), so a new key is put first, `mailagent keys rotate` reseals every secret with
it, and the old key is then removed. A secret that no configured key opens is an error that
says so, never an empty secret: an account without its grant must be reconnected, not
silently dropped.

Keys and secrets never appear in messages or logs; a malformed key is named by its position.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from mailagent.errors import ConfigError, SecretError

__all__ = ["KEYS_ENV", "Custody", "new_key"]

KEYS_ENV = "MAILAGENT_SECRET_KEYS"
"""The environment variable with the Fernet keys, newest first, comma-separated."""

_KEY_ADVICE = (
    f"make a key with `mailagent keys generate` and set {KEYS_ENV} to it (several keys, newest "
    "first, comma-separated, while rotating)"
)


def new_key() -> str:
    """A new random Fernet key (32 bytes, URL-safe base64)."""
    return Fernet.generate_key().decode("ascii")


class Custody:
    """Seals and opens secrets with the configured keys (see the module note)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ConfigError(
                f"no secret key is configured ({KEYS_ENV} is empty)", advice=_KEY_ADVICE
            )
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                if len(base64.urlsafe_b64decode(key.encode("ascii"))) != 32:
                    raise ValueError
                fernets.append(Fernet(key.encode("ascii")))
            except (ValueError, binascii.Error, UnicodeEncodeError):
                raise ConfigError(
                    f"{KEYS_ENV}: key {position} of {len(keys)} is not a Fernet key "
                    "(44 characters of URL-safe base64)",
                    advice=_KEY_ADVICE,
                ) from None
        self._newest = fernets[0]
        self._all = MultiFernet(fernets)
        self.key_count = len(fernets)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Custody:
        """The keys of `KEYS_ENV` in `environ` (os.environ in the service)."""
        raw = environ.get(KEYS_ENV, "")
        keys = [k.strip() for k in raw.split(",") if k.strip()]
        if not keys:
            raise ConfigError(
                f"{KEYS_ENV} is not set: secrets cannot be sealed", advice=_KEY_ADVICE
            )
        return cls(keys)

    def seal(self, secret: str) -> str:
        """`secret` sealed with the newest key, as text for a database column."""
        return self._newest.encrypt(secret.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        """The secret `sealed` holds; `SecretError` when no configured key opens it."""
        try:
            return self._all.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretError(
                f"a stored secret opens with none of the {self.key_count} configured key(s): "
                "it was sealed with a key that is not configured, or it was altered",
                advice=f"put the key it was sealed with back into {KEYS_ENV} (after the newest), "
                "or reconnect the account",
            ) from None

    def needs_rotation(self, sealed: str) -> bool:
        """Whether `sealed` was sealed with another key than the newest."""
        try:
            self._newest.decrypt(sealed.encode("ascii"))
        except InvalidToken:
            return True
        return False

    def rotate(self, sealed: str) -> str:
        """`sealed`, sealed again with the newest key (`SecretError` if nothing opens it)."""
        self.open(sealed)  # the error in words, before MultiFernet's bare one
        return self._all.rotate(sealed.encode("ascii")).decode("ascii")
