"""Connecting an Outlook account: MSAL against a fake Microsoft sign-in service, no network.

`FakeEntra` plays the Entra ID v2.0 endpoints as the `http_client` msal accepts (an object
whose get/post return responses with status_code, text, headers and raise_for_status, see
msal/oauth2cli/http.py): the tenant's OpenID configuration, the device authorization endpoint
and the token endpoint (device code, refresh token and authorization code grants). It is
strict about what a real one would refuse (client id, scopes, PKCE) and records every grant,
so the tests can tell a token from the cache from a renewed one. The authority
``https://login.test/<tenant>`` with ``instance_discovery=False`` keeps msal away from
login.microsoftonline.com. Nothing of mailagent or msal is mocked: the fake is injected
through the public functions' keyword arguments.

`FakeEntra` lives here, not in a module of its own, and a second process imports it from
here (`from tests.test_outlook_connect import FakeEntra`) to read the token cache.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import secrets
import stat
import subprocess
import sys
import threading
import time
import urllib.parse
import webbrowser
from pathlib import Path
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from mailagent import cli
from mailagent.errors import AuthError, ConfigError
from mailagent.tokens import default_token_store
from providers import outlook_auth
from providers.outlook_auth import (
    DEFAULT_AUTHORITY,
    GRAPH_SCOPES,
    MsalTokenSource,
    StaticToken,
    authority_for,
    cache_path_for,
    connect_device_flow,
    connect_interactive,
    reconnect_advice,
    token_provider_for,
)

REPO = Path(__file__).resolve().parents[1]
CLIENT_ID = "11111111-2222-4333-8444-555555555555"
RESERVED = {"openid", "profile", "offline_access"}
EXPECTED_SCOPES = {"Mail.ReadWrite", "Calendars.Read"} | RESERVED
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
LOOPBACK_REDIRECT = re.compile(r"http://localhost:\d+")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


class FakeResponse:
    """What msal reads from a response (msal/oauth2cli/http.py `Response`)."""

    def __init__(self, status_code: int, body: Any) -> None:
        self.status_code = status_code
        self.text = json.dumps(body)
        self.headers = {"Content-Type": "application/json; charset=utf-8"}

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise requests.HTTPError(f"{self.status_code} from the fake sign-in service")


class FakeEntra:
    """Microsoft Entra ID's v2.0 sign-in endpoints for one app and one user, as an msal
    `http_client`."""

    def __init__(
        self,
        tenant: str = "common",
        *,
        username: str = "alex.kim@contoso.example",
        interval: int = 0,
        access_lifetime: int = 3600,
    ) -> None:
        self.authority = f"https://login.test/{tenant}"
        self.client_id = CLIENT_ID
        self.username = username
        self.oid = "00000000-0000-0000-66f3-3332eca7ea81"
        self.tid = "9188040d-6c67-4c5b-b112-36a304b66dad"
        self.interval = interval  # seconds msal waits between polls; Entra says 5
        self.access_lifetime = access_lifetime
        self.pending_answers = 1  # "authorization_pending" this many times, then tokens
        self.device_outcome = "approved"  # or "authorization_declined"
        self.public_client_flows = True
        self.granted_scopes: list[str] | None = None  # None: what was asked (minus offline)
        # What each request must ask for, with the reserved scopes msal adds: Graph unless a
        # test says otherwise (IMAP; or Graph first, then IMAP from the same refresh token).
        self.expected_scopes: set[str] = EXPECTED_SCOPES
        self.revoked = False
        self.user_code = "F4KE-C0DE"
        self.message = (
            "To sign in, use a web browser to open the page https://login.test/device and "
            f"enter the code {self.user_code} to authenticate."
        )
        self.refresh_token: str | None = None
        self.device_codes: dict[str, str] = {}  # device code -> the scope it was asked for
        self.auth_codes: dict[str, dict[str, str]] = {}
        self.requests: list[tuple[str, str]] = []
        self.grants: list[str] = []
        self.poll_times: list[float] = []
        self.scopes_requested: list[str] = []
        self.access_tokens: list[str] = []
        self.access_token_scopes: dict[str, set[str]] = {}  # access token -> scopes it grants
        self.issued: list[str] = []  # every secret handed out, to look for in logs and files
        self.problems: list[str] = []

    # -- the http_client interface msal calls -------------------------------------------

    def get(self, url: str, params: Any = None, headers: Any = None, **kwargs: Any) -> FakeResponse:
        self.requests.append(("GET", url))
        if url == f"{self.authority}/v2.0/.well-known/openid-configuration":
            return FakeResponse(200, self.openid_configuration())
        self.problems.append(f"GET {url}")
        return FakeResponse(404, {"error": "not_found"})

    def post(
        self,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        **kwargs: Any,
    ) -> FakeResponse:
        self.requests.append(("POST", url))
        # msal passes a dict; requests would drop None values when encoding it.
        form = {k: str(v) for k, v in (data or {}).items() if v is not None}
        if url == f"{self.authority}/oauth2/v2.0/devicecode":
            return self.device_authorization(form)
        if url == f"{self.authority}/oauth2/v2.0/token":
            return self.token(form)
        self.problems.append(f"POST {url}")
        return FakeResponse(404, {"error": "not_found"})

    def close(self) -> None:
        pass

    # -- the endpoints --------------------------------------------------------------------

    def openid_configuration(self) -> dict[str, Any]:
        base = f"{self.authority}/oauth2/v2.0"
        return {
            "issuer": f"https://login.test/{self.tid}/v2.0",
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "device_authorization_endpoint": f"{base}/devicecode",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
        }

    def check(self, ok: bool, problem: str) -> bool:
        if not ok:
            self.problems.append(problem)
        return ok

    def check_scope(self, scope: str) -> bool:
        self.scopes_requested.append(scope)
        return self.check(set(scope.split()) == self.expected_scopes, f"scope {scope!r}")

    def device_authorization(self, form: dict[str, str]) -> FakeResponse:
        ok = self.check(form.get("client_id") == self.client_id, "wrong client_id")
        if not (self.check_scope(form.get("scope", "")) and ok):
            return FakeResponse(400, {"error": "invalid_scope"})
        device_code = "DAQABAAEAAAD-fake-device-" + secrets.token_hex(16)
        self.device_codes[device_code] = form.get("scope", "")
        self.issued.append(device_code)
        return FakeResponse(
            200,
            {
                "user_code": self.user_code,
                "device_code": device_code,
                "verification_uri": "https://login.test/device",
                "expires_in": 900,
                "interval": self.interval,
                "message": self.message,
            },
        )

    def token(self, form: dict[str, str]) -> FakeResponse:
        grant = form.get("grant_type", "")
        self.grants.append(grant)
        self.poll_times.append(time.monotonic())
        self.check(form.get("client_id") == self.client_id, "wrong client_id")
        self.check(form.get("client_info") == "1", "client_info not asked for")
        self.check("client_secret" not in form, "a public client sent a secret")
        if grant == DEVICE_GRANT:
            if form.get("device_code") not in self.device_codes:
                return self.error(400, "bad_verification_code", "AADSTS70019: unknown code.")
            if not self.public_client_flows:
                return self.error(
                    401,
                    "invalid_client",
                    "AADSTS7000218: The request body must contain the following parameter: "
                    "'client_assertion' or 'client_secret'.",
                )
            if self.pending_answers > 0:
                self.pending_answers -= 1
                return self.error(400, "authorization_pending", "AADSTS70016: pending.")
            if self.device_outcome != "approved":
                return self.error(400, self.device_outcome, "AADSTS70000: The user declined.")
            # msal's polls carry no scope: the tokens are for what the device code was for.
            scope = self.device_codes.pop(form["device_code"])
            return self.issue(form.get("scope") or scope)
        if grant == "refresh_token":
            self.check_scope(form.get("scope", ""))
            if self.revoked or form.get("refresh_token") != self.refresh_token:
                return self.error(
                    400,
                    "invalid_grant",
                    "AADSTS70008: The provided authorization code or refresh token has expired "
                    "due to inactivity.\r\nTrace ID: 0000\r\nCorrelation ID: 1111",
                )
            return self.issue(form["scope"])
        if grant == "authorization_code":
            issued = self.auth_codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = _b64url(hashlib.sha256(verifier.encode("ascii")).digest())
            if not (
                self.check(issued is not None, "unknown or reused code")
                and issued is not None
                and self.check(form.get("redirect_uri") == issued["redirect_uri"], "redirect")
                and self.check(challenge == issued["code_challenge"], "PKCE verifier mismatch")
            ):
                return self.error(400, "invalid_grant", "AADSTS70000: bad code.")
            return self.issue(issued["scope"], nonce=issued["nonce"])
        self.check(False, f"grant_type {grant!r}")
        return self.error(400, "unsupported_grant_type", "AADSTS70003: unsupported.")

    def authorize(self, auth_uri: str) -> tuple[str, dict[str, str]]:
        """The browser's visit to the authorization endpoint, by a user who is signed in and
        consents: the redirect and the form it posts back (response_mode=form_post)."""
        url = urllib.parse.urlsplit(auth_uri)
        query = dict(urllib.parse.parse_qsl(url.query))
        redirect = query.get("redirect_uri", "")
        self.check(
            f"{url.scheme}://{url.netloc}{url.path}" == f"{self.authority}/oauth2/v2.0/authorize",
            f"authorization endpoint {auth_uri}",
        )
        self.check(query.get("client_id") == self.client_id, "wrong client_id")
        self.check(query.get("response_type") == "code", "response_type is not code")
        self.check(query.get("response_mode") == "form_post", "response_mode is not form_post")
        self.check(bool(LOOPBACK_REDIRECT.fullmatch(redirect)), f"redirect {redirect!r}")
        self.check(query.get("prompt") == "select_account", "prompt is not select_account")
        self.check(query.get("code_challenge_method") == "S256", "PKCE method is not S256")
        self.check(bool(query.get("state")) and bool(query.get("nonce")), "no state or nonce")
        self.check_scope(query.get("scope", ""))
        code = "1.fake-auth-code-" + secrets.token_hex(12)
        self.issued.append(code)
        self.auth_codes[code] = {
            "redirect_uri": redirect,
            "code_challenge": query.get("code_challenge", ""),
            "nonce": query.get("nonce", ""),
            "scope": query.get("scope", ""),
        }
        return redirect, {"code": code, "state": query.get("state", "")}

    # -- answers ----------------------------------------------------------------------------

    def error(self, status: int, error: str, description: str) -> FakeResponse:
        return FakeResponse(status, {"error": error, "error_description": description})

    def issue(self, scope: str, *, nonce: str | None = None) -> FakeResponse:
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": self.client_id,
            "iss": f"https://login.test/{self.tid}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": "Alex Kim",
            "oid": self.oid,
            "preferred_username": self.username,
            "sub": "fake-subject-" + self.oid[-8:],
            "tid": self.tid,
            "ver": "2.0",
        }
        if nonce:
            claims["nonce"] = nonce
        header = _b64url(json.dumps({"typ": "JWT", "alg": "none"}).encode())
        id_token = f"{header}.{_b64url(json.dumps(claims).encode())}."
        access = "EwBYA8l6BAAU-fake-access-" + secrets.token_hex(16)
        refresh = "M.C105_fake-refresh-" + secrets.token_hex(16)
        self.refresh_token = refresh  # Entra rotates refresh tokens
        granted = self.granted_scopes or sorted(set(scope.split()) - {"offline_access"})
        self.access_tokens.append(access)
        self.access_token_scopes[access] = set(granted)
        self.issued += [access, refresh, id_token]
        return FakeResponse(
            200,
            {
                "token_type": "Bearer",
                "scope": " ".join(granted),
                "expires_in": self.access_lifetime,
                "ext_expires_in": self.access_lifetime,
                "access_token": access,
                "refresh_token": refresh,
                "id_token": id_token,
                "client_info": _b64url(json.dumps({"uid": self.oid, "utid": self.tid}).encode()),
            },
        )


# -- helpers ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def file_token_store(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tokens in 0600 files under tmp_path, never in the keyring of the machine running tests.
    monkeypatch.setenv("MAILAGENT_TOKEN_STORE", "file")


@pytest.fixture
def entra() -> FakeEntra:
    return FakeEntra()


def connect(
    entra: FakeEntra, state: Path, account: str = "me", messages: list[str] | None = None
) -> dict[str, Any]:
    """`connect outlook` without the CLI: device flow, then the record into the store."""
    record = connect_device_flow(
        CLIENT_ID,
        authority=entra.authority,
        cache=cache_path_for(account, state),
        announce=(messages if messages is not None else []).append,
        http_client=entra,
        instance_discovery=False,
    )
    default_token_store(state).save(account, record)
    return record


def source_for(entra: FakeEntra, record: dict[str, Any], account: str = "me") -> MsalTokenSource:
    return MsalTokenSource(record, account=account, http_client=entra, instance_discovery=False)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- the device code flow -----------------------------------------------------------------


def test_device_flow_signs_in_and_keeps_the_secrets_in_a_private_cache(tmp_path: Path) -> None:
    entra = FakeEntra(interval=1)  # msal really waits a second before polling again
    state = tmp_path / "state.db"
    (tmp_path / "tokens").mkdir(mode=0o755)  # an existing directory is made private too
    (tmp_path / "tokens").chmod(0o755)
    messages: list[str] = []
    record = connect_device_flow(
        CLIENT_ID,
        authority=entra.authority,
        cache=cache_path_for("me", state),
        announce=messages.append,
        http_client=entra,
        instance_discovery=False,
    )
    assert mode(tmp_path / "tokens") == 0o700
    default_token_store(state).save("me", record)

    assert entra.problems == []
    assert messages == [entra.message]  # the address and the code, as Microsoft worded them
    assert entra.grants == [DEVICE_GRANT, DEVICE_GRANT]  # pending once, then the tokens
    assert entra.poll_times[1] - entra.poll_times[0] >= 0.9
    cache = tmp_path / "tokens" / "me.msal.json"
    assert record == {
        "kind": "msal",
        "client_id": CLIENT_ID,
        "authority": entra.authority,
        "username": entra.username,
        "cache": str(cache),
        "cache_encrypted": False,
        "scopes": list(GRAPH_SCOPES),
    }
    # The record (tokens/me.json) holds no secret; the cache holds them, privately.
    record_text = (tmp_path / "tokens" / "me.json").read_text(encoding="utf-8")
    assert json.loads(record_text) == record
    for secret in entra.issued:
        assert secret not in record_text
    assert mode(tmp_path / "tokens") == 0o700
    assert mode(cache) == 0o600
    assert mode(tmp_path / "tokens" / "me.json") == 0o600
    content = json.loads(cache.read_text(encoding="utf-8"))
    assert {"AccessToken", "RefreshToken", "IdToken", "Account", "AppMetadata"} <= set(content)
    assert [a["username"] for a in content["Account"].values()] == [entra.username]
    assert entra.refresh_token in cache.read_text(encoding="utf-8")
    assert not (tmp_path / "tokens" / "me.msal.json.lockfile").exists()


def test_the_cache_serves_a_second_process_silently(entra: FakeEntra, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    connect(entra, state)
    script = (
        "import hashlib, json, sys\n"
        "from pathlib import Path\n"
        "from providers.outlook_auth import token_provider_for\n"
        "from tests.test_outlook_connect import FakeEntra\n"
        "fake = FakeEntra()\n"
        "token = token_provider_for('me', Path(sys.argv[1]), http_client=fake,"
        " instance_discovery=False)(False)\n"
        "print(json.dumps({'sha256': hashlib.sha256(token.encode()).hexdigest(),"
        " 'grants': fake.grants, 'problems': fake.problems}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(state)],
        capture_output=True,
        text=True,
        env={**os.environ, "MAILAGENT_TOKEN_STORE": "file", "PYTHONPATH": str(REPO)},
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen == {"sha256": sha256(entra.access_tokens[-1]), "grants": [], "problems": []}
    for secret in entra.issued:
        assert secret not in result.stdout + result.stderr


def test_an_expired_access_token_is_renewed_with_the_refresh_token(tmp_path: Path) -> None:
    # Under five minutes left counts as expired (msal application.py), so 60 s is "expired".
    entra = FakeEntra(access_lifetime=60)
    record = connect(entra, tmp_path / "state.db")
    first = entra.access_tokens[-1]
    token = source_for(entra, record)()
    assert entra.grants[-1] == "refresh_token"
    assert token == entra.access_tokens[-1] != first
    assert entra.problems == []
    cache = Path(record["cache"])
    assert entra.refresh_token in cache.read_text(encoding="utf-8")  # the rotated one, kept
    assert mode(cache) == 0o600  # msal rewrote it; it stays private


def test_a_valid_access_token_comes_from_the_cache_and_force_refresh_renews_it(
    entra: FakeEntra, tmp_path: Path
) -> None:
    record = connect(entra, tmp_path / "state.db")
    source = source_for(entra, record)
    grants = len(entra.grants)
    assert source() == entra.access_tokens[-1]
    assert source(False) == entra.access_tokens[-1]
    assert len(entra.grants) == grants  # no request: from the cache

    renewed = source(True)  # what the Outlook provider does after a 401
    assert entra.grants[grants:] == ["refresh_token"]
    assert renewed == entra.access_tokens[-1]
    assert source() == renewed
    assert entra.problems == []


def test_a_revoked_grant_asks_to_sign_in_again(entra: FakeEntra, tmp_path: Path) -> None:
    record = connect(entra, tmp_path / "state.db")
    entra.revoked = True  # e.g. the user removed mailagent at myaccount.microsoft.com
    with pytest.raises(AuthError) as caught:
        source_for(entra, record)(True)
    message = str(caught.value)
    assert message.startswith("account me: Microsoft needs you to sign in again (")
    assert "invalid_grant: AADSTS70008" in message
    assert "Trace ID" not in message  # only the first line of Entra's description
    assert caught.value.advice == reconnect_advice("me", client_id=CLIENT_ID)
    assert caught.value.advice == (
        f"run: mailagent connect outlook --account me --client-id {CLIENT_ID}"
    )
    for secret in entra.issued:
        assert secret not in message + caught.value.advice


def test_a_cache_without_the_account_asks_to_sign_in_again(
    entra: FakeEntra, tmp_path: Path
) -> None:
    record = connect(entra, tmp_path / "state.db")
    Path(record["cache"]).unlink()
    with pytest.raises(AuthError, match="Microsoft needs you to sign in again") as caught:
        source_for(entra, record)()
    assert "no sign-in of alex.kim@contoso.example" in str(caught.value)
    assert caught.value.advice.startswith("run: mailagent connect outlook --account me")


def test_only_mail_readwrite_and_calendars_read_are_requested(
    entra: FakeEntra, tmp_path: Path
) -> None:
    assert GRAPH_SCOPES == ("Mail.ReadWrite", "Calendars.Read")
    record = connect(entra, tmp_path / "state.db")
    source_for(entra, record)(True)
    assert len(entra.scopes_requested) == 2  # the device code request and the refresh
    for scope in entra.scopes_requested:
        assert set(scope.split()) == EXPECTED_SCOPES
        assert "Mail.Send" not in scope
    assert entra.problems == []


def test_fewer_permissions_than_needed_is_an_auth_error_and_leaves_no_sign_in(
    entra: FakeEntra, tmp_path: Path
) -> None:
    entra.granted_scopes = ["Mail.ReadWrite", "openid", "profile"]
    cache = cache_path_for("me", tmp_path / "state.db")
    with pytest.raises(AuthError, match=r"missing: Calendars\.Read") as caught:
        connect_device_flow(
            CLIENT_ID,
            authority=entra.authority,
            cache=cache,
            announce=lambda message: None,
            http_client=entra,
            instance_discovery=False,
        )
    assert "administrator" in caught.value.advice
    assert json.loads(cache.read_text(encoding="utf-8")).get("Account") == {}
    assert entra.refresh_token not in cache.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("setup", "match", "advice"),
    [
        ("declined", "authorization_declined", "accept the sign-in"),
        ("no-public-client", "invalid_client: AADSTS7000218", "Allow public client flows"),
    ],
)
def test_a_refused_device_sign_in_is_an_auth_error(
    entra: FakeEntra, tmp_path: Path, setup: str, match: str, advice: str
) -> None:
    entra.pending_answers = 0
    if setup == "declined":
        entra.device_outcome = "authorization_declined"
    else:
        entra.public_client_flows = False
    with pytest.raises(AuthError, match=match) as caught:
        connect(entra, tmp_path / "state.db")
    assert advice in caught.value.advice
    assert default_token_store(tmp_path / "state.db").load("me") is None


def test_a_cache_others_can_read_is_refused(entra: FakeEntra, tmp_path: Path) -> None:
    record = connect(entra, tmp_path / "state.db")
    cache = Path(record["cache"])
    cache.chmod(0o644)
    with pytest.raises(ConfigError, match="not private") as caught:
        source_for(entra, record)()
    assert f"chmod 600 {cache}" in caught.value.advice
    # Connecting again repairs it.
    connect(FakeEntra(), tmp_path / "state.db")
    assert mode(cache) == 0o600


def test_a_bad_client_id_or_tenant_is_a_config_error_before_any_request(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match="not an Application") as caught:
        connect_device_flow(
            "my-app",
            cache=cache_path_for("me", tmp_path / "state.db"),
            announce=lambda message: None,
        )
    assert "Overview page" in caught.value.advice
    assert not (tmp_path / "tokens").exists()
    with pytest.raises(ConfigError, match="not a Microsoft Entra tenant"):
        authority_for("contoso/../x")
    assert (
        authority_for("common") == DEFAULT_AUTHORITY == "https://login.microsoftonline.com/common"
    )
    assert authority_for(" contoso.onmicrosoft.com ") == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com"
    )


def test_cache_files_sit_beside_the_token_records_with_safe_names(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    assert cache_path_for("me", state) == tmp_path / "tokens" / "me.msal.json"
    odd = cache_path_for("../Me Work", state)
    assert odd.parent == tmp_path / "tokens"
    assert odd.name.endswith(".msal.json")
    assert odd != cache_path_for("../me work", state)


def test_reconnect_advice_quotes_the_name() -> None:
    assert reconnect_advice("me") == "run: mailagent connect outlook --account me --client-id ID"
    assert reconnect_advice("my work", client_id=CLIENT_ID, tenant="contoso.com") == (
        f"run: mailagent connect outlook --account 'my work' --client-id {CLIENT_ID} "
        "--tenant contoso.com"
    )
    assert "--tenant" not in reconnect_advice("me", tenant="common")


# -- the browser flow ---------------------------------------------------------------------


def test_browser_sign_in_uses_a_localhost_redirect_and_pkce(
    entra: FakeEntra, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NoBrowser:
        def open(self, url: str, *args: Any, **kwargs: Any) -> bool:
            return False

    # No browser on a test machine: msal then hands the address to `announce`.
    monkeypatch.setattr(webbrowser, "open", lambda *args, **kwargs: False)
    monkeypatch.setattr(webbrowser, "get", lambda *args, **kwargs: NoBrowser())
    pages: list[str] = []
    browsers: list[threading.Thread] = []

    def play_browser(auth_uri: str) -> None:
        redirect, form = entra.authorize(auth_uri)
        # msal listens on the loopback address (oauth2cli/authcode.py) behind "localhost".
        url = redirect.replace("http://localhost:", "http://127.0.0.1:", 1)
        with requests.Session() as session:
            session.trust_env = False  # no proxy between us and 127.0.0.1
            pages.append(session.post(url, data=form, timeout=10).text)

    def announce(auth_uri: str) -> None:
        browser = threading.Thread(target=play_browser, args=(auth_uri,))
        browser.start()
        browsers.append(browser)

    try:
        record = connect_interactive(
            CLIENT_ID,
            authority=entra.authority,
            cache=cache_path_for("me", tmp_path / "state.db"),
            announce=announce,
            timeout_seconds=15,
            http_client=entra,
            instance_discovery=False,
        )
    finally:
        for browser in browsers:
            browser.join(timeout=10)
    assert entra.problems == []
    assert entra.grants == ["authorization_code"]
    assert len(pages) == 1
    assert "Authentication complete" in pages[0]
    assert record["username"] == entra.username
    assert source_for(entra, record)() == entra.access_tokens[-1]


# -- token providers ----------------------------------------------------------------------


def test_static_token_is_returned_as_is_and_never_shown() -> None:
    token = StaticToken("emulator-token-123")
    assert token(False) == "emulator-token-123"
    assert token(True) == "emulator-token-123"  # cannot be renewed
    assert "emulator-token-123" not in repr(token)


def test_token_provider_for_each_kind_of_record(entra: FakeEntra, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    store = default_token_store(state)
    store.save("emu", {"kind": "static-bearer", "access_token": "emulator-token-123"})
    static = token_provider_for("emu", state)
    assert isinstance(static, StaticToken)
    assert static(False) == "emulator-token-123"

    connect(entra, state)
    provider = token_provider_for("me", state, http_client=entra, instance_discovery=False)
    assert isinstance(provider, MsalTokenSource)
    assert provider(False) == entra.access_tokens[-1]
    assert entra.username in repr(provider)
    for secret in entra.issued:
        assert secret not in repr(provider)

    with pytest.raises(AuthError) as caught:
        token_provider_for("nobody", state)
    assert str(caught.value).startswith("account nobody is not connected to Microsoft")
    assert caught.value.advice == reconnect_advice("nobody")

    store.save("gmail", {"refresh_token": "1//google", "token_uri": "https://oauth2.example"})
    with pytest.raises(AuthError, match="account gmail is not connected to Microsoft"):
        token_provider_for("gmail", state)


def test_nothing_secret_reaches_the_logs(
    entra: FakeEntra, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    msal_level = logging.getLogger("msal").level
    record = connect(entra, tmp_path / "state.db")
    source = source_for(entra, record)
    source()
    source(True)
    entra.revoked = True
    with pytest.raises(AuthError):
        source(True)
    assert "account me: Microsoft renewed the access token" in caplog.text
    assert entra.issued
    for secret in entra.issued:
        assert secret not in caplog.text
    assert logging.getLogger("msal").level == msal_level  # held only while msal ran


# -- the command --------------------------------------------------------------------------


def test_connect_outlook_help_names_its_options() -> None:
    result = CliRunner().invoke(cli.app, ["connect", "outlook", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--account", "--client-id", "--tenant", "--browser"):
        assert option in result.output
    listing = CliRunner().invoke(cli.app, ["connect", "--help"])
    assert "outlook" in listing.output
    assert "gmail" in listing.output


def test_connect_outlook_without_client_id_says_so(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailagent",
            "--config",
            str(tmp_path / "none.toml"),
            "connect",
            "outlook",
            "--account",
            "me",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "MAILAGENT_TOKEN_STORE": "file", "PYTHONPATH": str(REPO)},
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Missing option '--client-id'" in result.stderr
    assert not (tmp_path / "tokens").exists()


@pytest.mark.parametrize(
    ("args", "error", "fix"),
    [
        (["--client-id", "my-app"], "is not an Application (client) ID", "Overview page"),
        (["--client-id", CLIENT_ID, "--tenant", "a b"], "not a Microsoft Entra tenant", "common"),
    ],
)
def test_connect_outlook_reports_bad_values_with_a_fix(
    tmp_path: Path, args: list[str], error: str, fix: str
) -> None:
    config = tmp_path / "none.toml"
    result = CliRunner().invoke(
        cli.app, ["--config", str(config), "connect", "outlook", "--account", "me", *args]
    )
    assert result.exit_code == 2
    assert error in result.stderr
    fix_lines = [line for line in result.stderr.splitlines() if line.startswith("fix: ")]
    assert len(fix_lines) == 1
    assert fix in fix_lines[0]
    assert not (tmp_path / "tokens").exists()


def test_connect_outlook_prints_the_code_and_stores_the_record(
    entra: FakeEntra, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command is a thin layer over connect_device_flow; here that function gets the fake
    # sign-in service, everything else (paths, store, messages) is the real command.
    real = outlook_auth.connect_device_flow

    def against_fake(client_id: str, **kwargs: Any) -> dict[str, Any]:
        assert kwargs["authority"] == DEFAULT_AUTHORITY
        kwargs.update(authority=entra.authority, http_client=entra, instance_discovery=False)
        return real(client_id, **kwargs)

    monkeypatch.setattr(outlook_auth, "connect_device_flow", against_fake)
    config = tmp_path / "mailagent.toml"
    result = CliRunner().invoke(
        cli.app,
        [
            "-v",
            "--config",
            str(config),
            "connect",
            "outlook",
            "--account",
            "me",
            "--client-id",
            CLIENT_ID,
        ],
    )
    assert result.exit_code == 0, result.output
    cache = tmp_path / "tokens" / "me.msal.json"
    assert entra.message in result.stdout
    assert (
        f"Connected me as {entra.username}; token cache in {cache} (a file readable only by you)"
        in result.stdout
    )
    assert default_token_store(tmp_path / "state.db").load("me") == {
        "kind": "msal",
        "client_id": CLIENT_ID,
        "authority": entra.authority,
        "username": entra.username,
        "cache": str(cache),
        "cache_encrypted": False,
        "scopes": list(GRAPH_SCOPES),
    }
    for secret in entra.issued:
        assert secret not in result.output


@pytest.mark.skipif(
    sys.platform != "linux" or bool(__import__("importlib").util.find_spec("gi")),
    reason="only where libsecret cannot be loaded (else this would write to a real keyring)",
)
def test_keyring_store_without_os_encryption_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILAGENT_TOKEN_STORE", "keyring")
    with pytest.raises(ConfigError, match="encrypted by the system keyring") as caught:
        connect_device_flow(
            CLIENT_ID,
            cache=cache_path_for("me", tmp_path / "state.db"),
            announce=lambda message: None,
        )
    assert "MAILAGENT_TOKEN_STORE=file" in caught.value.advice
