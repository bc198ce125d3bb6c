"""Connecting a Google account: the installed-app OAuth flow, and credentials from its record.

`run_installed_app_flow` runs the OAuth 2.0 flow for installed apps
(https://developers.google.com/identity/protocols/oauth2/native-app) with google-auth-oauthlib:

- **PKCE, S256.** `Flow.authorization_url` (google_auth_oauthlib/flow.py, 1.5.0) generates a
  128-character code verifier when `autogenerate_code_verifier` is true and sends
  `code_challenge=BASE64URL(SHA256(verifier))` with `code_challenge_method=S256`;
  `Flow.fetch_token` sends the verifier. We set `autogenerate_code_verifier=True` explicitly
  rather than rely on that default.
- **Offline access.** `access_type=offline` asks for a refresh token; Google returns one only at
  the first consent unless `prompt=consent` forces the consent screen, so both are sent.
- **Loopback redirect** on `http://127.0.0.1:PORT/` (port 0 = a free one), the redirect Google
  accepts for Desktop app clients.

The record it returns (refresh token, token URI, client id and secret, requested and granted
scopes) goes to a `mailagent.tokens.TokenStore`; `credentials_from_record` turns it back into
`google.oauth2.credentials.Credentials`. A host application can skip both and hand the Gmail
provider any `google.auth.credentials.Credentials` of its own.

The same flow connects an IMAP account for XOAUTH2 (`GOOGLE_IMAP_SCOPES`: Gmail's IMAP server
accepts only the full-mail scope); `GoogleTokenSource` then hands the IMAP provider an access
token, renewing it with the refresh token when it is stale or the server refused it.

Secrets never reach a log: requests-oauthlib logs request bodies and tokens at DEBUG and the
loopback server logs the redirect (with the authorization code) at INFO, so those loggers are
held at WARNING while the flow runs.
"""

from __future__ import annotations

import json
import logging
import shlex
import webbrowser
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from google.auth import exceptions as google_exceptions
from google.auth.transport import requests as google_requests
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import (
    InstalledAppFlow,
    WSGITimeoutError,
)
from oauthlib.oauth2.rfc6749 import errors as oauth_errors  # type: ignore[import-untyped, unused-ignore]

from mailagent.errors import AuthError, ConfigError, Transient, first_line

__all__ = [
    "CALENDAR_EVENTS_READONLY",
    "GMAIL_COMPOSE",
    "GMAIL_IMAP",
    "GMAIL_READONLY",
    "GOOGLE_IMAP_SCOPES",
    "GOOGLE_SCOPES",
    "GoogleTokenSource",
    "credentials_from_record",
    "reconnect_advice",
    "run_installed_app_flow",
]

# Scopes: https://developers.google.com/gmail/api/auth/scopes and the discovery documents'
# per-method scope lists (see ../shared/API-FACTS.md section 5).
GMAIL_READONLY = "https://www.googleapis.com/auth/gmail.readonly"
"""messages.list/get, threads.get, history.list: reading mail (gmail.compose cannot)."""
GMAIL_COMPOSE = "https://www.googleapis.com/auth/gmail.compose"
"""drafts.create/list/get: Gmail has no drafts-only scope; this is the narrowest that writes
drafts (it would also allow sending, which mailagent never does)."""
CALENDAR_EVENTS_READONLY = "https://www.googleapis.com/auth/calendar.events.readonly"
"""events.list on the primary calendar; narrower than calendar.readonly."""

GOOGLE_SCOPES: tuple[str, ...] = (GMAIL_READONLY, GMAIL_COMPOSE, CALENDAR_EVENTS_READONLY)
"""The least that works: read mail and events, write drafts."""
GMAIL_IMAP = "https://mail.google.com/"
"""Gmail's IMAP server takes XOAUTH2 tokens of this scope only (full access to the mailbox,
https://developers.google.com/gmail/imap/xoauth2-protocol); the Gmail API provider needs less."""
GOOGLE_IMAP_SCOPES: tuple[str, ...] = (GMAIL_IMAP,)
GOOGLE_KIND = "google"
"""The `kind` of an IMAP account's token record that holds a Google sign-in."""

DEFAULT_TIMEOUT_SECONDS = 300
"""How long the loopback server waits for the browser to come back."""

_CONSOLE_HINT = (
    "in the Google Cloud console (https://console.cloud.google.com/apis/credentials) create an "
    "OAuth client ID of type Desktop app, download its JSON and pass it with --client-secrets "
    "(see docs/gmail.md)"
)
_CLIENT_KEYS = ("client_id", "client_secret", "auth_uri", "token_uri")
_RECORD_KEYS = ("refresh_token", "token_uri", "client_id", "client_secret")
_SECRET_LOGGERS = ("requests_oauthlib", "oauthlib", "google_auth_oauthlib")
log = logging.getLogger(__name__)
_SUCCESS_PAGE = (
    "mailagent received Google's answer. You can close this window and return to the terminal."
)


def reconnect_advice(account: str, *, command: str = "gmail") -> str:
    """The command that connects `account` again (after a revoked or expired token);
    `command` is the connect subcommand: gmail, or imap for an IMAP account on XOAUTH2."""
    return (
        f"run: mailagent connect {command} --account {shlex.quote(account)} --client-secrets FILE"
    )


class _AnnouncingFlow(InstalledAppFlow):  # type: ignore[misc]  # the library ships no types
    """Hands the authorization URL to a callback instead of print()ing it to stdout."""

    announce: Callable[[str], None] = staticmethod(lambda url: None)

    def authorization_url(self, **kwargs: Any) -> tuple[str, str]:
        url, state = super().authorization_url(**kwargs)
        self.announce(str(url))
        return str(url), str(state)


def run_installed_app_flow(
    client_secrets: Path,
    *,
    open_browser: bool,
    port: int = 0,
    announce: Callable[[str], None],
    timeout_seconds: int | None = DEFAULT_TIMEOUT_SECONDS,
    scopes: Sequence[str] = GOOGLE_SCOPES,
) -> dict[str, Any]:
    """Ask the user to authorize mailagent for `scopes` and return the token record to store.

    `announce` receives the authorization URL before the browser is opened (or instead, with
    ``open_browser=False`` or when no browser is available), so the caller can show it.
    Raises `ConfigError` for an unusable client secrets file or port, `AuthError` when Google
    refuses, returns no refresh token or grants fewer scopes than asked for, and
    `Transient` when the token endpoint cannot be reached.
    """
    client_config = _load_client_config(client_secrets)
    installed = client_config["installed"]
    flow = _AnnouncingFlow.from_client_config(
        client_config, scopes=list(scopes), autogenerate_code_verifier=True
    )
    flow.announce = announce
    if open_browser and not _browser_available():
        open_browser = False  # the URL was announced; the user opens it by hand
    try:
        # Leaving the session closes its pooled connection to the token endpoint.
        with flow.oauth2session, _quiet_secret_loggers():
            flow.run_local_server(
                host="127.0.0.1",
                port=port,
                open_browser=open_browser,
                authorization_prompt_message=None,  # `announce` shows the URL instead
                success_message=_SUCCESS_PAGE,
                timeout_seconds=timeout_seconds,
                access_type="offline",
                prompt="consent",
            )
        token: Mapping[str, Any] = flow.oauth2session.token
    except oauth_errors.InsecureTransportError as exc:
        raise ConfigError(
            f"{client_secrets}: auth_uri and token_uri must use https",
            advice=_CONSOLE_HINT,
        ) from exc
    except oauth_errors.OAuth2Error as exc:
        raise AuthError(
            f"Google did not authorize mailagent: {_describe_oauth_error(exc)}",
            advice="run the connect command again and allow access in the browser",
        ) from exc
    except Warning as exc:
        # oauthlib *raises* Warning("Scope has changed ...") when the granted scopes differ
        # from the requested ones (a user can untick scopes on Google's consent screen). The
        # parsed token rides on the exception; the scope check below reports what is missing.
        parsed = getattr(exc, "token", None)
        if parsed is None:
            raise
        token = parsed
    except WSGITimeoutError as exc:
        raise AuthError(
            f"the browser did not come back within {timeout_seconds} seconds",
            advice="run the connect command again and finish the sign-in in the browser",
        ) from exc
    except requests.RequestException as exc:
        raise Transient(
            f"cannot reach Google's token endpoint {installed['token_uri']}: {type(exc).__name__}",
            advice="check the network connection and run the connect command again",
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on 127.0.0.1:{port} for Google's redirect: {exc.strerror}",
            advice="pass --port 0 to use a free port",
        ) from exc
    return _record_from_token(token, installed, scopes)


def _record_from_token(
    token: Mapping[str, Any], installed: Mapping[str, Any], scopes: Sequence[str]
) -> dict[str, Any]:
    granted_raw = token.get("scope")
    if granted_raw is None:
        # RFC 6749 section 5.1: the scope is omitted when it is the one requested.
        granted = set(scopes)
    elif isinstance(granted_raw, str):
        granted = set(granted_raw.split())
    else:
        granted = {str(s) for s in granted_raw}
    missing = [s for s in scopes if s not in granted]
    if missing:
        raise AuthError(
            "Google granted fewer permissions than mailagent needs; missing: " + ", ".join(missing),
            advice="run the connect command again and tick every permission on Google's "
            "consent screen",
        )
    refresh_token = token.get("refresh_token")
    if not refresh_token:
        raise AuthError(
            "Google returned no refresh token, so mailagent could not sync without you",
            advice="remove mailagent's access at https://myaccount.google.com/permissions, "
            "then run the connect command again",
        )
    return {
        "refresh_token": str(refresh_token),
        "token_uri": installed["token_uri"],
        "client_id": installed["client_id"],
        "client_secret": installed["client_secret"],
        "scopes": list(scopes),
        "granted_scopes": sorted(granted),
    }


def credentials_from_record(
    record: Mapping[str, Any], *, account: str | None = None, command: str = "gmail"
) -> Credentials:
    """Credentials that fetch an access token (with the refresh token) on first use.

    Built field by field rather than with `Credentials.from_authorized_user_info`, which
    ignores the record's `token_uri` (API-FACTS section 5) and so could not talk to an emulator.
    """
    missing = [k for k in _RECORD_KEYS if not isinstance(record.get(k), str) or not record[k]]
    if missing:
        raise AuthError(
            f"the stored Google token is incomplete (no {', '.join(missing)})",
            advice=reconnect_advice(account or "NAME", command=command),
        )
    scopes = record.get("scopes") or list(GOOGLE_SCOPES)
    granted = record.get("granted_scopes")
    return Credentials(  # type: ignore[no-untyped-call]  # google-auth leaves __init__ unannotated
        token=None,
        refresh_token=record["refresh_token"],
        token_uri=record["token_uri"],
        client_id=record["client_id"],
        client_secret=record["client_secret"],
        scopes=list(scopes),
        granted_scopes=list(granted) if granted else None,
    )


class GoogleTokenSource:
    """Access tokens of a stored Google sign-in, for IMAP's XOAUTH2: a call returns the
    current token, renewed with the refresh token when it is stale or when
    ``force_refresh=True`` (the IMAP server refused it). Google keeps the refresh token the
    same, so nothing is written back."""

    def __init__(self, record: Mapping[str, Any], *, account: str, request: Any = None) -> None:
        self.account = account
        self.advice = reconnect_advice(account, command="imap")
        self.credentials = credentials_from_record(record, account=account, command="imap")
        self._request = request

    def __repr__(self) -> str:
        return f"GoogleTokenSource(account={self.account!r})"

    def __call__(self, force_refresh: bool = False) -> str:
        if force_refresh or not self.credentials.valid:
            request = self._request or google_requests.Request()
            try:
                with _quiet_secret_loggers():
                    self.credentials.refresh(request)  # type: ignore[no-untyped-call]
            except google_exceptions.RefreshError as exc:
                raise AuthError(
                    f"account {self.account}: Google refused to renew the access token "
                    f"({first_line(exc.args[0] if exc.args else type(exc).__name__)})",
                    advice=self.advice,
                ) from exc
            except google_exceptions.TransportError as exc:
                raise Transient(
                    f"account {self.account}: cannot reach Google's token endpoint "
                    f"({type(exc).__name__})",
                    advice="the next sync tries again",
                ) from exc
            finally:
                if self._request is None:
                    request.session.close()
            log.info("account %s: Google renewed the access token", self.account)
        return str(self.credentials.token)


def _load_client_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"client secrets file {path} not found", advice=_CONSOLE_HINT) from exc
    except OSError as exc:
        raise ConfigError(
            f"cannot read client secrets file {path}: {exc.strerror}", advice=_CONSOLE_HINT
        ) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})", advice=_CONSOLE_HINT
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a Google client secrets file", advice=_CONSOLE_HINT)
    section = data.get("installed")
    if not isinstance(section, dict):
        kind = "a Web application client" if "web" in data else "not a Google client secrets file"
        raise ConfigError(
            f"{path}: {kind}; mailagent needs a Desktop app OAuth client", advice=_CONSOLE_HINT
        )
    missing = [k for k in _CLIENT_KEYS if not isinstance(section.get(k), str) or not section[k]]
    if missing:
        raise ConfigError(
            f"{path}: the `installed` section lacks {', '.join(missing)}", advice=_CONSOLE_HINT
        )
    return {"installed": section}


def _describe_oauth_error(exc: Any) -> str:
    # oauthlib errors carry an error code and Google's description; neither holds a secret.
    code = getattr(exc, "error", None) or type(exc).__name__
    description = getattr(exc, "description", None)
    return f"{code} ({description})" if description else str(code)


def _browser_available() -> bool:
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


@contextmanager
def _quiet_secret_loggers() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in _SECRET_LOGGERS]
    saved = [logger.level for logger in loggers]
    for logger in loggers:
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, saved, strict=True):
            logger.setLevel(level)
