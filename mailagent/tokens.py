"""Where OAuth token records live: the OS keyring, or one 0600 JSON file per account.

A token record is a small JSON object (refresh token, client id and secret, token URI, scopes)
that a provider turns into credentials. It is a secret, so:

- it never goes into the config file, the state database or a log line;
- the file store writes each record atomically (a fresh 0600 temp file, fsync, `os.replace`)
  into a 0700 directory, and refuses to read a record that group or others can access, the way
  ssh refuses a private key with loose permissions (a token someone else could read must be
  treated as leaked, not silently used);
- `describe()` says *where* records are kept, for messages; it never returns a secret.

`keyring` is an optional dependency (`pip install -e ".[keyring]"`); it is imported lazily, so
everything here works without it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Any, Protocol

from mailagent.errors import ConfigError

__all__ = [
    "TOKEN_STORE_ENV",
    "FileTokenStore",
    "KeyringTokenStore",
    "TokenStore",
    "default_token_store",
]

TOKEN_STORE_ENV = "MAILAGENT_TOKEN_STORE"  # noqa: S105  (a variable name, not a secret)
"""Environment variable that forces a store: ``file`` or ``keyring``."""

_PLAIN_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_UNSAFE = re.compile(r"[^a-z0-9_-]+")


class TokenStore(Protocol):
    """Token records keyed by account name."""

    def load(self, account: str) -> dict[str, Any] | None:
        """The stored record, or None when the account was never connected."""
        ...

    def save(self, account: str, record: dict[str, Any]) -> None:
        """Store (or replace) the account's record."""
        ...

    def delete(self, account: str) -> None:
        """Forget the account's record; no error when there is none."""
        ...

    def describe(self) -> str:
        """Where records are kept, for messages (never a secret)."""
        ...


def _reconnect_hint(account: str) -> str:
    return (
        f"run `mailagent connect <provider> --account {account} ...` again to store a fresh token"
    )


def _parse_record(text: str, *, where: str, account: str) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        # The decoder's message quotes no content, only a position, so it is safe to show.
        raise ConfigError(
            f"{where}: the stored token is not valid JSON ({exc.msg} at line {exc.lineno})",
            advice=_reconnect_hint(account),
        ) from exc
    if not isinstance(record, dict):
        raise ConfigError(
            f"{where}: the stored token is not a JSON object", advice=_reconnect_hint(account)
        )
    return record


class FileTokenStore:
    """One JSON file per account in a private directory (0700 directory, 0600 files)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_for(self, account: str) -> Path:
        """The record file of `account`; the name can never leave the directory.

        Simple lower-case names are used as they are (``me`` -> ``me.json``). Any other name is
        reduced to safe characters and suffixed with a hash of the full name after a dot, a
        character plain names cannot contain, so two accounts never share a file, not even on
        a case-insensitive file system (``Me`` and ``me`` get different files).
        """
        if not account:
            raise ConfigError("an account name must not be empty")
        if _PLAIN_NAME.fullmatch(account):
            return self.directory / f"{account}.json"
        slug = _UNSAFE.sub("_", account.lower()).strip("_")[:40] or "account"
        digest = hashlib.sha256(account.encode("utf-8")).hexdigest()[:16]
        return self.directory / f"{slug}.{digest}.json"

    def describe(self) -> str:
        return f"{self.directory} (one file per account, readable only by you)"

    def load(self, account: str) -> dict[str, Any] | None:
        path = self.path_for(account)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(
                f"cannot read the token file {path}: {exc.strerror}",
                advice=f"check the permissions of {self.directory}",
            ) from exc
        with os.fdopen(fd, "r", encoding="utf-8") as handle:
            # fstat on the open descriptor: the checked file is the file we read.
            self._check_private(path, os.fstat(handle.fileno()))
            text = handle.read()
        return _parse_record(text, where=str(path), account=account)

    def save(self, account: str, record: dict[str, Any]) -> None:
        path = self.path_for(account)
        self._ensure_directory()
        data = json.dumps(record, indent=2, sort_keys=True).encode("utf-8")
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            with os.fdopen(fd, "wb") as handle:  # owns fd from here on
                if hasattr(os, "fchmod"):  # POSIX: exactly 0600, whatever the umask
                    os.fchmod(handle.fileno(), 0o600)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            raise ConfigError(
                f"cannot write the token file {path}: {exc.strerror}",
                advice=f"check that {self.directory} is writable by you",
            ) from exc
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)  # only left behind when writing failed
        self._fsync_directory()

    def delete(self, account: str) -> None:
        path = self.path_for(account)
        path.unlink(missing_ok=True)

    def _ensure_directory(self) -> None:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            # mkdir's mode is filtered by the umask, and an existing directory keeps its mode.
            os.chmod(self.directory, 0o700)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the token directory {self.directory}: {exc.strerror}",
                advice="choose a state path in a directory you own",
            ) from exc

    def _fsync_directory(self) -> None:
        # Makes the rename itself durable; not possible on every platform, hence best effort.
        with contextlib.suppress(OSError, AttributeError):
            fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    @staticmethod
    def _check_private(path: Path, info: os.stat_result) -> None:
        if os.name != "posix":
            return  # mode bits mean nothing on Windows; the profile directory is private
        if info.st_uid != os.geteuid():
            raise ConfigError(
                f"token file {path} belongs to another user (uid {info.st_uid}); refusing to use it",
                advice=f"delete {path} and run `mailagent connect` again as yourself",
            )
        if info.st_mode & 0o077:
            mode = stat.S_IMODE(info.st_mode)
            raise ConfigError(
                f"token file {path} is accessible by group or others (mode {mode:04o}); "
                "refusing to use it, as ssh does with a private key",
                advice=f"run: chmod 600 {path}  (and if someone else could have read it, "
                "revoke mailagent's access in your account's security settings and connect again)",
            )


class KeyringTokenStore:
    """The OS keyring (macOS Keychain, Windows Credential Locker, Secret Service): the record
    is stored as JSON, as the password of username=account under `service`."""

    def __init__(self, service: str = "mailagent") -> None:
        self.service = service

    def describe(self) -> str:
        backend = type(_require_keyring().get_keyring())
        return f"the system keyring ({backend.__module__}.{backend.__name__}, service {self.service!r})"

    def load(self, account: str) -> dict[str, Any] | None:
        keyring = _require_keyring()
        try:
            text = keyring.get_password(self.service, account)
        except keyring.errors.KeyringError as exc:
            raise _keyring_failure("read", exc) from exc
        if text is None:
            return None
        return _parse_record(text, where=f"keyring entry {self.service}/{account}", account=account)

    def save(self, account: str, record: dict[str, Any]) -> None:
        keyring = _require_keyring()
        try:
            keyring.set_password(self.service, account, json.dumps(record, sort_keys=True))
        except keyring.errors.KeyringError as exc:
            raise _keyring_failure("write", exc) from exc

    def delete(self, account: str) -> None:
        keyring = _require_keyring()
        try:
            keyring.delete_password(self.service, account)
        except keyring.errors.PasswordDeleteError:
            return  # nothing stored: deleting is idempotent
        except keyring.errors.KeyringError as exc:
            raise _keyring_failure("delete", exc) from exc


def _keyring_failure(action: str, exc: Exception) -> ConfigError:
    return ConfigError(
        f"cannot {action} the token in the system keyring: {type(exc).__name__}",
        advice=f"unlock the keyring, or set {TOKEN_STORE_ENV}=file to keep tokens in 0600 files",
    )


def _import_keyring() -> Any | None:
    """The `keyring` module, or None when the optional extra is not installed."""
    try:
        return importlib.import_module("keyring")
    except ImportError:
        return None


def _require_keyring() -> Any:
    keyring = _import_keyring()
    if keyring is None:
        raise ConfigError(
            "the keyring token store needs the optional `keyring` package",
            advice=f'pip install -e ".[keyring]"  (or set {TOKEN_STORE_ENV}=file)',
        )
    return keyring


def _is_real_backend(backend: Any) -> bool:
    """True for a keyring backend that keeps secrets safe and works unattended.

    keyring falls back to `fail.Keyring` (priority 0) or `null.Keyring` (-1) when no store is
    usable; keyrings.alt adds plaintext and password-prompting file backends. None of those is
    better than our own 0600 file, so they do not count. The chainer wraps several backends and
    counts when one of them does.
    """
    kind = type(backend)
    module, name = kind.__module__, kind.__name__
    if module.endswith("chainer"):
        return any(_is_real_backend(b) for b in getattr(backend, "backends", ()))
    if module in {"keyring.backends.fail", "keyring.backends.null"} or module.startswith(
        "keyrings.alt.file"
    ):
        return False
    if "plaintext" in name.lower():
        return False
    try:
        return float(backend.priority) >= 1
    except Exception:  # a backend's priority probe may raise when its service is absent
        return False


def default_token_store(state_path: Path) -> TokenStore:
    """The store to use: `MAILAGENT_TOKEN_STORE` (``file`` or ``keyring``) when set; otherwise
    the OS keyring when `keyring` is installed and has a real backend; otherwise 0600 files in
    ``tokens/`` beside the state file."""
    files = FileTokenStore(state_path.parent / "tokens")
    forced = os.environ.get(TOKEN_STORE_ENV, "").strip().lower()
    if forced == "file":
        return files
    if forced == "keyring":
        keyring = _require_keyring()
        if not _is_real_backend(keyring.get_keyring()):
            raise ConfigError(
                f"{TOKEN_STORE_ENV}=keyring, but no usable system keyring was found",
                advice=f"start your desktop keyring service, or set {TOKEN_STORE_ENV}=file",
            )
        return KeyringTokenStore()
    if forced:
        raise ConfigError(
            f"{TOKEN_STORE_ENV}={forced!r} is not a token store",
            advice=f"set {TOKEN_STORE_ENV} to `file` or `keyring`, or unset it",
        )
    keyring = _import_keyring()
    if keyring is not None:
        try:
            backend = keyring.get_keyring()
        except Exception:  # a broken keyring setup must not stop the file fallback
            backend = None
        if backend is not None and _is_real_backend(backend):
            return KeyringTokenStore()
    return files
