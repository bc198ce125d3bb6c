"""Connecting a Microsoft account (Outlook.com, Microsoft 365) with MSAL, and Graph tokens from it.

mailagent is a *public client* (msal `PublicClientApplication`, no secret) of the user's own
Entra app registration (docs/outlook.md). Sources for what follows: msal 1.39
(`application.py`, `authority.py`, `token_cache.py`, `oauth2cli/`) and msal-extensions 1.3.1
(`token_cache.py`, `persistence.py`); see also ../shared/API-FACTS.md section 4.

- **Sign-in.** `connect_device_flow` (RFC 8628) is the default: it shows a URL and a code, and
  the browser may be on another machine, so it works over SSH and on servers (the registration
  needs "Allow public client flows"). `connect_interactive` runs the authorization-code flow
  with PKCE in a local browser; MSAL hardcodes the redirect `http://localhost:PORT` and listens
  on 127.0.0.1 (`oauth2cli/authcode.py`), which the registration allows as `http://localhost`.
- **Scopes.** `GRAPH_SCOPES` only; or, for an IMAP account on XOAUTH2, `IMAP_SCOPES` (the
  Outlook resource's IMAP.AccessAsUser.All; one token request cannot mix two resources). `ClientApplication._decorate_scope` adds `openid`,
  `profile` and `offline_access` itself (offline_access brings the refresh token) and raises
  ValueError if we pass any of them. No `Mail.Send`: creating drafts needs only Mail.ReadWrite.
- **Token cache.** MSAL keeps access, refresh and ID tokens and the account in its token cache.
  msal-extensions' `PersistedTokenCache` reloads it from its persistence before each lookup and
  writes it back after each change, under a lock file (`<cache>.lockfile`), so `connect`, cron
  syncs and a host application can share it. The persistence is encrypted where the OS offers
  it (`build_encrypted_persistence`: DPAPI, Keychain, libsecret), else a plain file we keep 0600
  in a 0700 directory. Which of the two was used is recorded, so the unattended sync opens the
  same one (or says why it cannot) instead of finding an empty cache.
- **Record.** `mailagent.tokens` stores a small record per account (kind, client id, authority,
  username, cache path): no secret, the secrets stay in the cache.
- **Refresh.** `MsalTokenSource` is the token provider (`TokenProvider`) the Outlook provider
  calls before each sync, and again with ``force_refresh=True`` after a 401.
  `acquire_token_silent_with_error` returns a cached access token while it has more than five
  minutes left, else redeems the refresh token; a refused refresh means signing in again.
- **Logs.** msal logs the authorization response (with the code) and the token request data
  (with the device code) at DEBUG (`oauth2cli/authcode.py`, `token_cache.py`), so the `msal`
  logger is held at WARNING while we call it. Nothing here logs or prints a token.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import stat
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msal
import requests
from msal.exceptions import MsalServiceError
from msal_extensions import (
    FilePersistence,
    LockError,
    PersistedTokenCache,
    build_encrypted_persistence,
)
from msal_extensions.persistence import PersistenceError

from mailagent.errors import AuthError, ConfigError, Transient, first_line
from mailagent.tokens import TOKEN_STORE_ENV, FileTokenStore, default_token_store

__all__ = [
    "DEFAULT_AUTHORITY",
    "GRAPH_SCOPES",
    "IMAP_SCOPES",
    "MsalTokenSource",
    "StaticToken",
    "TokenProvider",
    "authority_for",
    "cache_path_for",
    "connect_device_flow",
    "connect_from_cache",
    "connect_interactive",
    "describe_token_cache",
    "reconnect_advice",
    "token_provider_for",
]

log = logging.getLogger(__name__)

GRAPH_SCOPES: tuple[str, ...] = ("Mail.ReadWrite", "Calendars.Read")
"""Delegated Microsoft Graph permissions: read mail and write drafts, read the calendar."""
IMAP_SCOPES: tuple[str, ...] = ("https://outlook.office.com/IMAP.AccessAsUser.All",)
"""The delegated permission of IMAP with XOAUTH2 on Outlook.com and Microsoft 365 (it reads
and writes the mailbox; IMAP has no narrower one)."""

MICROSOFT_LOGIN = "https://login.microsoftonline.com"
DEFAULT_TENANT = "common"
DEFAULT_AUTHORITY = f"{MICROSOFT_LOGIN}/{DEFAULT_TENANT}"
"""Work or school accounts of any organization, and personal Microsoft accounts."""

TokenProvider = Callable[[bool], str]
"""Returns an access token for Graph; True asks for a fresh one (after a 401)."""

MSAL_KIND = "msal"
STATIC_KIND = "static-bearer"

DEFAULT_TIMEOUT_SECONDS = 300
"""How long the interactive sign-in waits for the browser to come back."""
HTTP_TIMEOUT_SECONDS = 30
"""Per request to the sign-in service; msal's own requests session has no timeout."""

_GRAPH_RESOURCE = "https://graph.microsoft.com/"
_CLIENT_ID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_TENANT = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?")
_SIGN_IN_AGAIN = frozenset(
    {"invalid_grant", "interaction_required", "login_required", "consent_required"}
)
_TRY_LATER = frozenset({"temporarily_unavailable", "server_error"})
_REGISTRATION_HINT = "see docs/outlook.md for the app registration settings"
_PUBLIC_CLIENT_HINT = (
    "in the Microsoft Entra admin center open the app registration, then Authentication, and "
    "set 'Allow public client flows' to Yes (see docs/outlook.md)"
)


def reconnect_advice(
    account: str,
    *,
    client_id: str | None = None,
    tenant: str | None = None,
    subcommand: str = "outlook",
) -> str:
    """The command that connects `account` again (after a revoked or expired sign-in);
    `subcommand` is outlook, or imap for an IMAP account on XOAUTH2."""
    command = (
        f"run: mailagent connect {subcommand} --account {shlex.quote(account)} "
        f"--client-id {shlex.quote(client_id) if client_id else 'ID'}"
    )
    if tenant and tenant != DEFAULT_TENANT:
        command += f" --tenant {shlex.quote(tenant)}"
    return command


def authority_for(tenant: str) -> str:
    """The Microsoft sign-in authority of `tenant`: ``common`` (work, school and personal
    accounts), ``organizations``, ``consumers``, a tenant id or one of its domains."""
    tenant = tenant.strip()
    if not _TENANT.fullmatch(tenant):
        raise ConfigError(
            f"{tenant!r} is not a Microsoft Entra tenant",
            advice="use common, organizations, consumers, a tenant id (a GUID) or a domain "
            "such as contoso.onmicrosoft.com",
        )
    return f"{MICROSOFT_LOGIN}/{tenant}"


def cache_path_for(account: str, state: Path) -> Path:
    """Where `account`'s MSAL token cache lives: beside the token records of
    `mailagent.tokens` (``tokens/me.msal.json``), with the same safe file names."""
    record_file = FileTokenStore(state.parent / "tokens").path_for(account)
    return record_file.with_name(record_file.name.removesuffix(".json") + ".msal.json")


def describe_token_cache(record: Mapping[str, Any]) -> str:
    """Where a connected account's tokens are, for messages (never a secret)."""
    path = record.get("cache", "?")
    if not record.get("cache_encrypted"):
        return f"{path} (a file readable only by you)"
    if sys.platform.startswith("win"):
        return f"{path} (encrypted with Windows DPAPI)"
    if sys.platform.startswith("darwin"):
        return f"the macOS Keychain ({path} marks changes)"
    return f"the Secret Service keyring ({path} marks changes)"


# -- signing in ---------------------------------------------------------------------------


def connect_device_flow(
    client_id: str,
    *,
    authority: str = DEFAULT_AUTHORITY,
    cache: Path,
    announce: Callable[[str], None],
    http_client: Any = None,
    instance_discovery: bool | None = None,
    scopes: Sequence[str] = GRAPH_SCOPES,
) -> dict[str, Any]:
    """Sign in with a device code and return the record to store for the account.

    `announce` receives Microsoft's message (the address to open and the code to enter) and
    must show it; this then waits until the user has signed in (Microsoft allows 15 minutes).
    The tokens go to the token cache at `cache`. `http_client` and `instance_discovery` are
    passed to msal (tests give a fake sign-in service).

    Raises `ConfigError` for an unusable client id, authority or cache, `AuthError` when
    Microsoft refuses or the user declines, `Transient` when the service cannot be reached.
    """
    token_cache = _prepare_cache(cache, client_id)
    app = _application(client_id, authority, token_cache, http_client, instance_discovery)
    with _quiet_msal(), _talking_to_microsoft(authority, cache):
        flow = app.initiate_device_flow(scopes=list(scopes))
        if "user_code" not in flow:
            raise _sign_in_failed(flow, what="Microsoft did not start the device code sign-in")
        announce(
            str(
                flow.get("message")
                or f"To sign in, open {flow.get('verification_uri')} and enter the code "
                f"{flow['user_code']}"
            )
        )
        result = app.acquire_token_by_device_flow(flow)
        return _finish(app, result, client_id, authority, token_cache, cache, scopes)


def connect_interactive(
    client_id: str,
    *,
    authority: str = DEFAULT_AUTHORITY,
    cache: Path,
    port: int | None = None,
    announce: Callable[[str], None] | None = None,
    timeout_seconds: int | None = DEFAULT_TIMEOUT_SECONDS,
    http_client: Any = None,
    instance_discovery: bool | None = None,
    scopes: Sequence[str] = GRAPH_SCOPES,
) -> dict[str, Any]:
    """Sign in in a local browser and return the record to store for the account.

    msal opens the browser on Microsoft's sign-in page (asking which account to use) and
    listens on ``http://localhost:PORT`` for the answer (`port` None: any free port). When no
    browser can be opened, `announce` receives the address to open by hand, on this machine.
    Raises like `connect_device_flow`.
    """
    token_cache = _prepare_cache(cache, client_id)
    app = _application(client_id, authority, token_cache, http_client, instance_discovery)
    with _quiet_msal(), _talking_to_microsoft(authority, cache):
        try:
            result = app.acquire_token_interactive(
                list(scopes),
                prompt=msal.Prompt.SELECT_ACCOUNT,
                port=port,
                timeout=timeout_seconds,
                auth_uri_callback=announce,  # relayed to oauth2cli's AuthCodeReceiver
            )
        except msal.BrowserInteractionTimeoutError as exc:
            raise AuthError(
                f"the browser did not come back within {timeout_seconds} seconds",
                advice="run the connect command again and finish the sign-in in the browser, "
                "or leave out --browser to sign in with a code",
            ) from exc
        except (LockError, PersistenceError, requests.RequestException, json.JSONDecodeError):
            raise  # the cache or the network, not the browser: _talking_to_microsoft maps them
        except (ValueError, RuntimeError) as exc:
            # ValueError: the loopback port cannot be used, or the answer's state differs;
            # RuntimeError: the ID token's nonce differs from ours (oauth2cli/oidc.py).
            raise AuthError(
                f"the browser sign-in failed: {first_line(str(exc))}",
                advice="run the connect command again, or leave out --browser to sign in "
                "with a code",
            ) from exc
        except OSError as exc:  # the loopback port is taken
            raise ConfigError(
                f"cannot listen on localhost:{port or 0} for Microsoft's answer: {exc.strerror}",
                advice="leave out --browser to sign in with a code",
            ) from exc
        return _finish(app, result, client_id, authority, token_cache, cache, scopes)


def connect_from_cache(
    client_id: str,
    *,
    authority: str = DEFAULT_AUTHORITY,
    cache: Path,
    scopes: Sequence[str],
    http_client: Any = None,
    instance_discovery: bool | None = None,
) -> dict[str, Any] | None:
    """The record for `scopes` from a sign-in already in the token cache at `cache` (one
    account), when Microsoft grants them silently with its refresh token; else None, and
    the caller signs in. This is how connecting an account again, or for IMAP after Graph,
    reuses a sign-in instead of asking for a new one."""
    if not cache.exists():
        return None
    token_cache = _prepare_cache(cache, client_id)
    app = _application(client_id, authority, token_cache, http_client, instance_discovery)
    with _quiet_msal(), _talking_to_microsoft(authority, cache):
        accounts = app.get_accounts()
        if len(accounts) != 1:
            return None
        # force_refresh: connecting again must prove the refresh token still works, not
        # hand back an access token the server may already have refused.
        result = app.acquire_token_silent_with_error(list(scopes), accounts[0], force_refresh=True)
    if not result or "access_token" not in result or _missing_scopes(result.get("scope"), scopes):
        return None
    return {
        "kind": MSAL_KIND,
        "client_id": client_id,
        "authority": authority,
        "username": str(accounts[0].get("username", "")),
        "cache": str(cache),
        "cache_encrypted": bool(token_cache.is_encrypted),
        "scopes": list(scopes),
    }


def _prepare_cache(cache: Path, client_id: str) -> Any:
    """Checks the client id, then opens the token cache for a new sign-in."""
    if not _CLIENT_ID.fullmatch(client_id):
        raise ConfigError(
            f"{client_id!r} is not an Application (client) ID",
            advice="copy the Application (client) ID, a GUID, from the Overview page of your app "
            "registration in the Microsoft Entra admin center (see docs/outlook.md)",
        )
    _private_directory(cache.parent)
    if cache.exists():
        _chmod_private(cache)  # connecting again also repairs a loosened file
    return _open_cache(cache, encrypted=None)


def _finish(
    app: Any,
    result: Mapping[str, Any],
    client_id: str,
    authority: str,
    token_cache: Any,
    cache: Path,
    scopes: Sequence[str],
) -> dict[str, Any]:
    """The record of a successful sign-in; or AuthError, leaving no sign-in in the cache."""
    if "access_token" not in result:
        raise _sign_in_failed(result, what="Microsoft did not sign you in")
    try:
        missing = _missing_scopes(result.get("scope"), scopes)
        if missing:
            raise AuthError(
                "Microsoft granted fewer permissions than mailagent needs; missing: "
                + ", ".join(missing),
                advice="run the connect command again and accept every permission; in a work "
                "or school tenant an administrator may have to consent (see docs/outlook.md)",
            )
        if not result.get("refresh_token"):
            raise AuthError(
                "Microsoft returned no refresh token, so mailagent could not sync without you",
                advice="run the connect command again",
            )
        claims = result.get("id_token_claims") or {}
        username = claims.get("preferred_username") or claims.get("upn")
        if not isinstance(username, str) or not username:
            raise AuthError(
                "Microsoft did not say which account signed in (no username in the ID token)",
                advice="run the connect command again",
            )
        if not app.get_accounts(username=username):
            raise AuthError(
                f"the sign-in of {username} is missing from the token cache {cache}",
                advice="run the connect command again",
            )
        # One cache file per mailagent account: forget any other account signed in earlier.
        for other in app.get_accounts():
            if str(other.get("username", "")).lower() != username.lower():
                app.remove_account(other)
    except AuthError:
        for account in app.get_accounts():
            app.remove_account(account)
        raise
    return {
        "kind": MSAL_KIND,
        "client_id": client_id,
        "authority": authority,
        "username": username,
        "cache": str(cache),
        "cache_encrypted": bool(token_cache.is_encrypted),
        "scopes": list(scopes),
    }


def _missing_scopes(granted_raw: Any, wanted: Sequence[str]) -> list[str]:
    if not isinstance(granted_raw, str):
        return []  # RFC 6749 section 5.1: no scope in the answer means the one requested
    granted = {s.lower().removeprefix(_GRAPH_RESOURCE) for s in granted_raw.split()}
    return [s for s in wanted if s.lower().removeprefix(_GRAPH_RESOURCE) not in granted]


def _sign_in_failed(answer: Mapping[str, Any], *, what: str) -> AuthError:
    error = str(answer.get("error") or "no_token")
    description = first_line(answer.get("error_description"))
    if error == "authorization_declined":
        advice = "run the connect command again and accept the sign-in"
    elif error == "expired_token":
        advice = "run the connect command again and finish the sign-in within 15 minutes"
    elif "AADSTS7000218" in description or error in {"invalid_client", "unauthorized_client"}:
        advice = _PUBLIC_CLIENT_HINT
    elif "AADSTS700016" in description:
        advice = (
            "check --client-id (the Application (client) ID) and --tenant: an app registered "
            "for one organization only needs --tenant with that organization"
        )
    else:
        advice = f"run the connect command again; {_REGISTRATION_HINT}"
    detail = f"{error}: {description}" if description else error
    return AuthError(f"{what} ({detail})", advice=advice)


# -- the token cache ----------------------------------------------------------------------


class _PrivateFile:
    """msal-extensions' plaintext `FilePersistence`, kept 0600.

    Its `save` opens the file with mode 0600 only when it creates it (and the umask applies);
    an existing file keeps its mode. So we set 0600 after every write. It implements the
    persistence interface `PersistedTokenCache` uses (load, save, time_last_modified,
    get_location, is_encrypted).
    """

    is_encrypted = False

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file = FilePersistence(str(path))

    def save(self, content: str) -> None:
        self._file.save(content)
        _chmod_private(self._path)

    def load(self) -> str:
        return str(self._file.load())

    def time_last_modified(self) -> float:
        return float(self._file.time_last_modified())

    def get_location(self) -> str:
        return str(self._path)


def _open_cache(path: Path, *, encrypted: bool | None) -> Any:
    """MSAL's token cache persisted at `path`.

    `encrypted`: True requires the OS encryption, False uses the 0600 file, None decides by
    `MAILAGENT_TOKEN_STORE` (``file``: the file; ``keyring``: require encryption; unset:
    encryption when the OS offers it, else the file).
    """
    if encrypted is None:
        forced = os.environ.get(TOKEN_STORE_ENV, "").strip().lower()
        if forced == "file":
            encrypted = False
        elif forced == "keyring":
            encrypted = True
        elif forced:
            raise ConfigError(
                f"{TOKEN_STORE_ENV}={forced!r} is not a token store",
                advice=f"set {TOKEN_STORE_ENV} to `file` or `keyring`, or unset it",
            )
    _private_directory(path.parent)
    persistence: Any
    if encrypted is False:
        persistence = _PrivateFile(path)
    else:
        try:
            persistence = build_encrypted_persistence(str(path))
        except (ImportError, ValueError, RuntimeError, OSError) as exc:
            # Linux without PyGObject or libsecret raises ImportError or ValueError, a
            # headless session RuntimeError (msal_extensions/libsecret.py `trial_run`).
            if encrypted:
                raise ConfigError(
                    f"the token cache {path} is encrypted by the system keyring, which cannot "
                    f"be used here ({type(exc).__name__}: {first_line(str(exc))})",
                    advice="run mailagent where the keyring is unlocked (your desktop session), "
                    f"or set {TOKEN_STORE_ENV}=file and run `mailagent connect outlook` again",
                ) from exc
            log.info(
                "token cache %s: no OS encryption here (%s); using a file readable only by you",
                path,
                type(exc).__name__,
            )
            persistence = _PrivateFile(path)
    return PersistedTokenCache(persistence)


def _private_directory(directory: Path) -> None:
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkdir's mode is filtered by the umask, and an existing directory keeps its mode.
        os.chmod(directory, 0o700)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the token directory {directory}: {exc.strerror}",
            advice="choose a state path in a directory you own",
        ) from exc


def _chmod_private(path: Path) -> None:
    try:
        os.chmod(path, 0o600)
    except OSError as exc:
        raise ConfigError(
            f"cannot make the token cache {path} private: {exc.strerror}",
            advice=f"check that {path.parent} and the file belong to you",
        ) from exc


def _check_private(path: Path, account: str) -> None:
    """Refuse a plaintext cache that others can read, as ssh does with a private key."""
    if os.name != "posix":
        return  # mode bits mean nothing on Windows; the profile directory is private
    try:
        info = path.stat()
    except FileNotFoundError:
        return  # an empty cache: the lookup then asks to sign in again
    if info.st_uid != os.geteuid() or info.st_mode & 0o077:
        mode = stat.S_IMODE(info.st_mode)
        raise ConfigError(
            f"account {account}: the token cache {path} is not private (mode {mode:04o}, "
            f"owner uid {info.st_uid}); refusing to use it, as ssh does with a private key",
            advice=f"run: chmod 600 {shlex.quote(str(path))}  (and if someone else could have "
            "read it, revoke mailagent's access to your account and connect again; "
            "docs/outlook.md says where)",
        )


def _application(
    client_id: str,
    authority: str,
    token_cache: Any,
    http_client: Any,
    instance_discovery: bool | None,
) -> Any:
    """A msal public client; constructing it fetches the authority's OpenID configuration."""
    options: dict[str, Any] = {"authority": authority, "token_cache": token_cache}
    if http_client is not None:
        options["http_client"] = http_client
    else:
        options["timeout"] = HTTP_TIMEOUT_SECONDS
    if instance_discovery is not None:
        options["instance_discovery"] = instance_discovery
    with _quiet_msal(), _talking_to_microsoft(authority, None):
        try:
            return msal.PublicClientApplication(client_id, **options)
        except ValueError as exc:
            # authority.py: not an https URL with a tenant, or the tenant's OpenID
            # configuration answered 4xx (an unknown tenant).
            raise ConfigError(
                f"{authority} is not a Microsoft sign-in authority that answers",
                advice="check --tenant: common, organizations, consumers, your tenant id or "
                "one of its domains",
            ) from exc


@contextmanager
def _talking_to_microsoft(authority: str, cache: Path | None) -> Iterator[None]:
    """Maps what msal and msal-extensions raise into mailagent's errors."""
    try:
        yield
    except requests.RequestException as exc:  # msal's default transport is requests
        raise Transient(
            f"cannot reach Microsoft's sign-in service {authority}: {type(exc).__name__}",
            advice="check the network connection and try again",
        ) from exc
    except MsalServiceError as exc:  # a 5xx from the sign-in service
        raise Transient(
            f"Microsoft's sign-in service {authority} failed ({exc})",
            advice="try again later",
        ) from exc
    except json.JSONDecodeError as exc:
        # A damaged cache file (PersistedTokenCache reloads it as JSON), or an answer from
        # the sign-in service that is not JSON.
        raise ConfigError(
            f"cannot read the token cache {cache} or Microsoft's answer: not JSON ({exc.msg})",
            advice=f"if {cache} is damaged, delete it and run `mailagent connect outlook` again",
        ) from exc
    except LockError as exc:
        raise Transient(
            f"the token cache {cache} stayed locked by another mailagent process",
            advice=f"try again; if no other mailagent runs, delete {cache}.lockfile",
        ) from exc
    except OSError as exc:  # the cache file, or an encrypted store refusing
        raise ConfigError(
            f"cannot use the token cache {cache}: {exc.strerror or type(exc).__name__}",
            advice=f"check that {cache} and its directory belong to you",
        ) from exc


class _QuietMsal:
    """Holds the `msal` logger at WARNING while any thread calls into msal."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved = logging.NOTSET

    @contextmanager
    def __call__(self) -> Iterator[None]:
        logger = logging.getLogger("msal")
        with self._lock:
            if self._users == 0:
                self._saved = logger.level
                if logger.getEffectiveLevel() < logging.WARNING:
                    logger.setLevel(logging.WARNING)
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    logger.setLevel(self._saved)


_quiet_msal = _QuietMsal()


def _tenant_of(authority: str) -> str | None:
    if not authority.startswith(MICROSOFT_LOGIN + "/"):
        return None
    return authority.removeprefix(MICROSOFT_LOGIN + "/").strip("/").split("/")[0] or None


# -- tokens for Graph ---------------------------------------------------------------------


class MsalTokenSource:
    """Access tokens (for Graph, or for IMAP) of one connected account, from its MSAL cache.

    Built from the account's record (see `token_provider_for`). Each call returns a cached
    access token or silently redeems the refresh token; ``force_refresh=True`` (after a 401)
    skips the cached access token. When Microsoft wants the user to sign in again (the
    refresh token expired or was revoked, a new policy needs MFA or consent), it raises
    `AuthError` whose advice is the reconnect command.
    """

    def __init__(
        self,
        record: Mapping[str, Any],
        *,
        account: str,
        authority: str | None = None,
        http_client: Any = None,
        instance_discovery: bool | None = None,
    ) -> None:
        self.account = account
        scopes = record.get("scopes")
        self.scopes: tuple[str, ...] = (
            tuple(str(s) for s in scopes) if isinstance(scopes, list) and scopes else GRAPH_SCOPES
        )
        """What the sign-in was for: Graph, or IMAP (an IMAP account on XOAUTH2)."""
        subcommand = "imap" if self.scopes == IMAP_SCOPES else "outlook"
        fields = {key: record.get(key) for key in ("client_id", "authority", "username", "cache")}
        if authority:
            fields["authority"] = authority
        missing = [key for key, value in fields.items() if not isinstance(value, str) or not value]
        if missing:
            raise AuthError(
                f"account {account}: the stored Microsoft sign-in is incomplete "
                f"(no {', '.join(missing)})",
                advice=reconnect_advice(account, subcommand=subcommand),
            )
        self.client_id = str(fields["client_id"])
        self.authority = str(fields["authority"])
        self.username = str(fields["username"])
        self.cache_path = Path(str(fields["cache"]))
        encrypted = record.get("cache_encrypted")
        self._encrypted: bool | None = encrypted if isinstance(encrypted, bool) else None
        self._http_client = http_client
        self._instance_discovery = instance_discovery
        self._app: Any = None
        self._init_lock = threading.Lock()
        self.advice = reconnect_advice(
            account,
            client_id=self.client_id,
            tenant=_tenant_of(self.authority),
            subcommand=subcommand,
        )

    def __repr__(self) -> str:
        return (
            f"MsalTokenSource(account={self.account!r}, username={self.username!r}, "
            f"cache={str(self.cache_path)!r})"
        )

    def __call__(self, force_refresh: bool = False) -> str:
        app = self._application()
        with _quiet_msal(), _talking_to_microsoft(self.authority, self.cache_path):
            accounts = app.get_accounts(username=self.username)
            if not accounts:
                raise self._sign_in_again(f"no sign-in of {self.username} in {self.cache_path}")
            result = app.acquire_token_silent_with_error(
                list(self.scopes), accounts[0], force_refresh=force_refresh
            )
        if result and "access_token" in result:
            source = result.get("token_source", "cache")
            if source == "cache":
                log.debug("account %s: access token from the token cache", self.account)
            else:
                log.info("account %s: Microsoft renewed the access token", self.account)
            return str(result["access_token"])
        if not result:
            raise self._sign_in_again(f"no refresh token of {self.username} in the token cache")
        error = str(result.get("error"))
        description = first_line(result.get("error_description"))
        detail = f"{error}: {description}" if description else error
        if error in _TRY_LATER:
            raise Transient(
                f"account {self.account}: Microsoft could not renew the access token now "
                f"({detail})",
                advice="the next sync tries again",
            )
        if error in _SIGN_IN_AGAIN:
            raise self._sign_in_again(detail)
        raise AuthError(
            f"account {self.account}: Microsoft refused to renew the access token ({detail})",
            advice=f"{self.advice}  ({_REGISTRATION_HINT})",
        )

    def _sign_in_again(self, reason: str) -> AuthError:
        return AuthError(
            f"account {self.account}: Microsoft needs you to sign in again ({reason})",
            advice=self.advice,
        )

    def _application(self) -> Any:
        with self._init_lock:
            if self._app is None:
                if self._encrypted is False:
                    _check_private(self.cache_path, self.account)
                token_cache = _open_cache(self.cache_path, encrypted=self._encrypted)
                self._app = _application(
                    self.client_id,
                    self.authority,
                    token_cache,
                    self._http_client,
                    self._instance_discovery,
                )
            return self._app


class StaticToken:
    """A fixed bearer token (record kind ``static-bearer``), as emulators and tests use.

    It cannot be renewed: ``force_refresh=True`` returns the same token, so a second 401 from
    the server ends in the Outlook provider's AuthError.
    """

    def __init__(self, token: str) -> None:
        if not token:
            raise ConfigError("a static bearer token must not be empty")
        self._token = token

    def __repr__(self) -> str:
        return "StaticToken(<hidden>)"

    def __call__(self, force_refresh: bool = False) -> str:
        return self._token


def token_provider_for(
    account: str,
    state: Path,
    *,
    authority: str | None = None,
    http_client: Any = None,
    instance_discovery: bool | None = None,
    subcommand: str = "outlook",
) -> TokenProvider:
    """The token provider of a connected account, from its record in
    ``default_token_store(state)``: `MsalTokenSource` or `StaticToken`.

    `authority`, `http_client` and `instance_discovery` override what msal would use (tests
    give a fake sign-in service). Raises `AuthError` when the account is not connected.
    """
    store = default_token_store(state)
    record = store.load(account)
    if record is None:
        raise AuthError(
            f"account {account} is not connected to Microsoft (no sign-in in {store.describe()})",
            advice=reconnect_advice(account, subcommand=subcommand),
        )
    kind = record.get("kind")
    if kind == MSAL_KIND:
        return MsalTokenSource(
            record,
            account=account,
            authority=authority,
            http_client=http_client,
            instance_discovery=instance_discovery,
        )
    if kind == STATIC_KIND:
        token = record.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthError(
                f"account {account}: the stored static bearer token is empty",
                advice=reconnect_advice(account, subcommand=subcommand),
            )
        return StaticToken(token)
    raise AuthError(
        f"account {account} is not connected to Microsoft (its stored token is of kind "
        f"{kind!r}, not {MSAL_KIND!r})",
        advice=reconnect_advice(account, subcommand=subcommand),
    )
