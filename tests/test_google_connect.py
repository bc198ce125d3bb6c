"""Connecting a Gmail account, end to end over real HTTP against a fake Google OAuth server.

The fake plays Google's authorization endpoint (it checks what a real one would refuse: PKCE
S256, offline access, the exact scopes, a loopback redirect) and its token endpoint (it checks
the code, the redirect and that SHA-256 of the verifier matches the challenge). A urllib opener
plays the browser. Nothing of mailagent is mocked.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import re
import secrets
import stat
import subprocess
import sys
import threading
import types
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request

from mailagent.errors import AuthError, ConfigError
from mailagent.tokens import FileTokenStore, KeyringTokenStore, default_token_store
from providers.google_auth import (
    GOOGLE_SCOPES,
    credentials_from_record,
    reconnect_advice,
    run_installed_app_flow,
)
from tests.conftest import REPO

LOOPBACK_REDIRECT = re.compile(r"http://127\.0\.0\.1:\d+/")
NO_PROXY = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


class FakeGoogle:
    """Google's OAuth endpoints, strict about what mailagent must send."""

    def __init__(self) -> None:
        self.client_id = "fake-client.apps.googleusercontent.com"
        self.client_secret = "fake-client-secret-" + secrets.token_hex(8)
        self.refresh_token = "1//fake-refresh-" + secrets.token_hex(16)
        self.expected_scopes: tuple[str, ...] = GOOGLE_SCOPES  # what authorize insists on
        self.granted_scopes: tuple[str, ...] = GOOGLE_SCOPES
        self.requested_scopes: list[str] = []  # the scope parameter of each authorization
        self.issue_refresh_token = True
        self.revoked = False
        self.problems: list[str] = []
        self.grants: list[str] = []
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (challenge, redirect_uri)
        self.access_tokens: list[str] = []
        self.issued_codes: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGoogle:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def client_secrets(self, directory: Path) -> Path:
        path = directory / "client_secrets.json"
        path.write_text(
            json.dumps(
                {
                    "installed": {
                        "client_id": self.client_id,
                        "client_secret": self.client_secret,
                        "project_id": "fake-project",
                        "auth_uri": f"{self.base}/o/oauth2/auth",
                        "token_uri": f"{self.base}/token",
                        "redirect_uris": ["http://localhost"],
                    }
                }
            ),
            encoding="utf-8",
        )
        return path

    def check(self, ok: bool, problem: str) -> bool:
        if not ok:
            self.problems.append(problem)
        return ok

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        redirect = query.get("redirect_uri", "")
        self.requested_scopes.append(query.get("scope", ""))
        checks = [
            self.check(query.get("response_type") == "code", "response_type is not code"),
            self.check(query.get("client_id") == self.client_id, "wrong client_id"),
            self.check(bool(LOOPBACK_REDIRECT.fullmatch(redirect)), f"redirect {redirect!r}"),
            self.check(
                sorted(query.get("scope", "").split()) == sorted(self.expected_scopes),
                f"scopes {query.get('scope')!r}",
            ),
            self.check(query.get("access_type") == "offline", "access_type is not offline"),
            self.check(query.get("prompt") == "consent", "prompt is not consent"),
            self.check(query.get("code_challenge_method") == "S256", "PKCE method is not S256"),
            self.check(len(query.get("code_challenge", "")) >= 43, "no PKCE code_challenge"),
            self.check(bool(query.get("state")), "no state"),
        ]
        if not all(checks):
            return 400, {}, b"bad authorization request"
        code = "4/fake-code-" + secrets.token_hex(8)
        self.codes[code] = (query["code_challenge"], redirect)
        self.issued_codes.append(code)
        answer = urllib.parse.urlencode(
            {"code": code, "state": query["state"], "scope": " ".join(self.granted_scopes)}
        )
        return 302, {"Location": f"{redirect}?{answer}"}, b""

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = (urllib.parse.unquote(p) for p in decoded.partition(":"))
        if not self.check(
            (client_id, client_secret) == (self.client_id, self.client_secret),
            "wrong client credentials",
        ):
            return 401, {"error": "invalid_client"}
        grant = form.get("grant_type", "")
        self.grants.append(grant)
        access = "ya29.fake-" + secrets.token_hex(8)
        if grant == "authorization_code":
            challenge, redirect = self.codes.pop(form.get("code", ""), ("", ""))
            verifier = form.get("code_verifier", "")
            computed = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .decode()
                .rstrip("=")
            )
            checks = [
                self.check(bool(challenge), "unknown or reused code"),
                self.check(form.get("redirect_uri") == redirect, "redirect_uri differs"),
                self.check(bool(verifier) and computed == challenge, "PKCE verifier mismatch"),
            ]
            if not all(checks):
                return 400, {"error": "invalid_grant"}
            body: dict[str, Any] = {
                "access_token": access,
                "expires_in": 3599,
                "scope": " ".join(self.granted_scopes),
                "token_type": "Bearer",
            }
            if self.issue_refresh_token:
                body["refresh_token"] = self.refresh_token
        elif grant == "refresh_token":
            if self.revoked or form.get("refresh_token") != self.refresh_token:
                return 400, {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                }
            body = {
                "access_token": access,
                "expires_in": 3599,
                "scope": " ".join(self.granted_scopes),
                "token_type": "Bearer",
            }
        else:
            self.check(False, f"grant_type {grant!r}")
            return 400, {"error": "unsupported_grant_type"}
        self.access_tokens.append(access)
        return 200, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                if url.path != "/o/oauth2/auth":
                    self._send(404, {}, b"")
                    return
                query = dict(urllib.parse.parse_qsl(url.query))
                self._send(*fake.authorize(query))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if self.path != "/token":
                    self._send(404, {}, b"")
                    return
                status, body = fake.token(form, self.headers.get("Authorization", ""))
                self._send(status, {"Content-Type": "application/json"}, json.dumps(body).encode())

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        return Handler


def play_browser(url: str) -> str:
    """Open `url` like a browser that is already signed in: follow Google's redirect to the
    loopback server and return the page it shows."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return str(response.read().decode())


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with FakeGoogle() as fake:
        yield fake


@pytest.fixture
def insecure_local_oauth(monkeypatch: pytest.MonkeyPatch) -> None:
    # oauthlib refuses http token endpoints unless told that this is a local test.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    for name, value in NO_PROXY.items():
        monkeypatch.setenv(name, value)


def connect_in_process(google: FakeGoogle, tmp_path: Path) -> dict[str, Any]:
    browsers: list[threading.Thread] = []
    pages: list[str] = []

    def announce(url: str) -> None:
        # Called before the loopback server waits, so the "browser" runs beside it.
        browser = threading.Thread(target=lambda: pages.append(play_browser(url)))
        browser.start()
        browsers.append(browser)

    try:
        return run_installed_app_flow(
            google.client_secrets(tmp_path),
            open_browser=False,
            announce=announce,
            timeout_seconds=10,
        )
    finally:
        for browser in browsers:
            browser.join(timeout=10)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@dataclass(frozen=True)
class BrowserRun:
    """What the command printed, how it ended, and the page the browser was shown."""

    returncode: int
    stdout: str
    stderr: str
    page: str


def run_cli_with_browser(
    google: FakeGoogle, args: Sequence[str], *, cwd: Path, input_text: str | None = None
) -> BrowserRun:
    """The real `mailagent` command (`args` after ``mailagent``) in a subprocess that signs in
    to `google`: wait for the authorization URL it prints, open it like a browser that is
    signed in, and wait for the command to end. `input_text` is its standard input; tokens
    go to files under `cwd` (MAILAGENT_TOKEN_STORE=file)."""
    env = {
        **os.environ,
        **NO_PROXY,
        "OAUTHLIB_INSECURE_TRANSPORT": "1",
        "MAILAGENT_TOKEN_STORE": "file",
        "PYTHONPATH": str(REPO),
    }
    command = [sys.executable, "-m", "mailagent", *args]
    stdout: list[str] = []
    stderr: list[str] = []
    lines: queue.Queue[str | None] = queue.Queue()
    with subprocess.Popen(
        command,
        stdin=subprocess.PIPE if input_text is not None else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
    ) as process:
        if input_text is not None:
            assert process.stdin is not None
            process.stdin.write(input_text)
            process.stdin.close()

        def pump_stdout() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                stdout.append(line)
                lines.put(line)
            lines.put(None)

        def pump_stderr() -> None:
            assert process.stderr is not None
            stderr.extend(process.stderr)

        pumps = [threading.Thread(target=pump_stdout), threading.Thread(target=pump_stderr)]
        for pump in pumps:
            pump.start()
        try:
            url = None
            while url is None:
                line = lines.get(timeout=15)
                if line is None:
                    break
                if line.startswith(f"{google.base}/o/oauth2/auth?"):
                    url = line.strip()
            assert url is not None, f"no authorization URL:\n{''.join(stdout)}{''.join(stderr)}"
            page = play_browser(url)
            returncode = process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
            for pump in pumps:
                pump.join(timeout=5)
    return BrowserRun(returncode, "".join(stdout), "".join(stderr), page)


# -- the real command ---------------------------------------------------------------------


def test_connect_gmail_cli_stores_a_private_token_and_never_shows_it(
    google: FakeGoogle, tmp_path: Path
) -> None:
    config = tmp_path / "mailagent.toml"
    config.write_text(
        'state = "state.db"\n\n[[accounts]]\nname = "a"\nprovider = "maildir"\n'
        'address = "a@example.com"\nmaildir = "Mail"\n',
        encoding="utf-8",
    )
    secrets_file = google.client_secrets(tmp_path)
    run = run_cli_with_browser(
        google,
        ["-v", "--config", str(config), "connect", "gmail", "--account", "a",
         "--client-secrets", str(secrets_file), "--no-browser"],
        cwd=tmp_path,
    )  # fmt: skip
    assert "close this window" in run.page
    assert run.returncode == 0, run.stderr

    assert google.problems == []
    assert google.grants == ["authorization_code"]
    out, err = run.stdout, run.stderr
    token_dir = tmp_path / "tokens"
    token_file = token_dir / "a.json"
    assert f"Connected a; token stored in {token_dir}" in out
    assert token_file.exists()
    assert mode(token_file) == 0o600
    assert mode(token_dir) == 0o700
    record = json.loads(token_file.read_text(encoding="utf-8"))
    assert record["refresh_token"] == google.refresh_token
    assert record["token_uri"] == f"{google.base}/token"
    assert record["client_id"] == google.client_id
    assert sorted(record["granted_scopes"]) == sorted(GOOGLE_SCOPES)
    # -v is on: even the detailed log holds no token, secret or authorization code.
    secrets_seen = (google.refresh_token, google.client_secret, *google.access_tokens)
    for secret in (*secrets_seen, *google.issued_codes):
        assert secret not in out
        assert secret not in err
        assert secret not in config.read_text(encoding="utf-8")
    assert google.issued_codes, "the fake never issued a code"
    assert not list(token_dir.glob(".*.tmp")), "a temp file was left behind"


def test_connect_with_a_missing_client_secrets_file_points_to_the_console(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailagent",
            "--config",
            str(tmp_path / "none.toml"),
            "connect",
            "gmail",
            "--account",
            "a",
            "--client-secrets",
            str(tmp_path / "nope.json"),
            "--no-browser",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "MAILAGENT_TOKEN_STORE": "file", "PYTHONPATH": str(REPO)},
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "nope.json not found" in result.stderr
    assert "Desktop app" in result.stderr
    assert not (tmp_path / "tokens").exists()


# -- the flow: what Google may answer -----------------------------------------------------


@pytest.mark.usefixtures("insecure_local_oauth")
def test_flow_returns_a_complete_record(google: FakeGoogle, tmp_path: Path) -> None:
    record = connect_in_process(google, tmp_path)
    assert google.problems == []
    assert record == {
        "refresh_token": google.refresh_token,
        "token_uri": f"{google.base}/token",
        "client_id": google.client_id,
        "client_secret": google.client_secret,
        "scopes": list(GOOGLE_SCOPES),
        "granted_scopes": sorted(GOOGLE_SCOPES),
    }


@pytest.mark.usefixtures("insecure_local_oauth")
def test_no_refresh_token_is_an_auth_error(google: FakeGoogle, tmp_path: Path) -> None:
    google.issue_refresh_token = False
    with pytest.raises(AuthError, match="no refresh token") as caught:
        connect_in_process(google, tmp_path)
    assert "myaccount.google.com/permissions" in caught.value.advice
    assert google.problems == []


@pytest.mark.usefixtures("insecure_local_oauth")
def test_a_scope_left_unticked_is_an_auth_error(google: FakeGoogle, tmp_path: Path) -> None:
    google.granted_scopes = GOOGLE_SCOPES[:2]  # the user unticked the calendar
    with pytest.raises(AuthError, match=r"missing: .*calendar\.events\.readonly"):
        connect_in_process(google, tmp_path)
    assert google.problems == []


def test_a_web_client_secrets_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "web.json"
    path.write_text(json.dumps({"web": {"client_id": "x"}}), encoding="utf-8")
    with pytest.raises(ConfigError, match="Web application") as caught:
        run_installed_app_flow(path, open_browser=False, announce=lambda url: None)
    assert "Desktop app" in caught.value.advice


# -- credentials from the stored record ---------------------------------------------------


@pytest.mark.usefixtures("insecure_local_oauth")
def test_credentials_from_record_refresh_against_the_token_endpoint(
    google: FakeGoogle,
) -> None:
    record = {
        "refresh_token": google.refresh_token,
        "token_uri": f"{google.base}/token",
        "client_id": google.client_id,
        "client_secret": google.client_secret,
        "scopes": list(GOOGLE_SCOPES),
        "granted_scopes": sorted(GOOGLE_SCOPES),
    }
    credentials = credentials_from_record(record)
    assert credentials.token is None
    with requests.Session() as session:
        session.trust_env = False  # no proxy between us and 127.0.0.1
        credentials.refresh(Request(session=session))
        assert credentials.token == google.access_tokens[-1]
        assert credentials.valid
        assert google.grants == ["refresh_token"]

        google.revoked = True  # the user removed mailagent's access
        with pytest.raises(RefreshError, match="invalid_grant"):
            credentials_from_record(record).refresh(Request(session=session))
    assert google.problems == []


def test_an_incomplete_record_names_the_reconnect_command() -> None:
    with pytest.raises(AuthError) as caught:
        credentials_from_record({"token_uri": "https://oauth2.googleapis.com/token"}, account="me")
    assert "refresh_token" in str(caught.value)
    assert caught.value.advice == reconnect_advice("me")


# -- the file token store -----------------------------------------------------------------


def test_file_store_round_trip_and_atomic_overwrite_stay_private(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "state" / "tokens")
    assert store.load("me") is None
    store.save("me", {"refresh_token": "one"})
    path = store.path_for("me")
    assert mode(path) == 0o600
    assert mode(store.directory) == 0o700
    inode = path.stat().st_ino
    store.save("me", {"refresh_token": "two"})
    assert store.load("me") == {"refresh_token": "two"}
    assert mode(path) == 0o600
    assert path.stat().st_ino != inode, "overwrite must replace the file, not rewrite it"
    assert sorted(p.name for p in store.directory.iterdir()) == ["me.json"]
    store.delete("me")
    store.delete("me")
    assert store.load("me") is None


def test_file_store_refuses_a_token_others_can_read(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens")
    store.save("me", {"refresh_token": "secret-value"})
    path = store.path_for("me")
    path.chmod(0o644)
    with pytest.raises(ConfigError) as caught:
        store.load("me")
    assert str(path) in str(caught.value)
    assert "0644" in str(caught.value)
    assert f"chmod 600 {path}" in caught.value.advice
    assert "secret-value" not in str(caught.value) + caught.value.advice


def test_file_store_reports_a_corrupt_token_file(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens")
    store.save("me", {"refresh_token": "x"})
    path = store.path_for("me")
    path.write_text('{"refresh_token": "half-writ', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        store.load("me")
    assert str(path) in str(caught.value)
    assert "mailagent connect" in caught.value.advice
    assert "half-writ" not in str(caught.value)


@pytest.mark.parametrize("account", ["../../escape", "/etc/passwd", "..", "Me", "a b/c"])
def test_file_store_names_stay_inside_the_directory(tmp_path: Path, account: str) -> None:
    store = FileTokenStore(tmp_path / "tokens")
    store.save(account, {"refresh_token": "x"})
    path = store.path_for(account)
    assert path.parent == store.directory
    assert path != store.path_for(account.lower()) or account == account.lower()
    assert store.load(account) == {"refresh_token": "x"}
    assert [p.name for p in store.directory.iterdir()] == [path.name]


def test_default_store_honours_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state.db"
    monkeypatch.setenv("MAILAGENT_TOKEN_STORE", "file")
    store = default_token_store(state)
    assert isinstance(store, FileTokenStore)
    assert store.directory == tmp_path / "tokens"
    monkeypatch.setenv("MAILAGENT_TOKEN_STORE", "vault")
    with pytest.raises(ConfigError, match="vault"):
        default_token_store(state)


def test_default_store_without_keyring_uses_private_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAILAGENT_TOKEN_STORE", raising=False)
    monkeypatch.setitem(sys.modules, "keyring", None)  # as if the extra were not installed
    store = default_token_store(tmp_path / "state.db")
    assert isinstance(store, FileTokenStore)
    monkeypatch.setenv("MAILAGENT_TOKEN_STORE", "keyring")
    with pytest.raises(ConfigError) as caught:
        default_token_store(tmp_path / "state.db")
    assert ".[keyring]" in caught.value.advice


def _fake_keyring(backend_module: str) -> types.ModuleType:
    """A stand-in for the optional `keyring` package: a dict behind its documented API."""

    class KeyringError(Exception):
        pass

    class PasswordDeleteError(KeyringError):
        pass

    saved: dict[tuple[str, str], str] = {}

    def get_password(service: str, user: str) -> str | None:
        return saved.get((service, user))

    def set_password(service: str, user: str, value: str) -> None:
        saved[service, user] = value

    def delete_password(service: str, user: str) -> None:
        if saved.pop((service, user), None) is None:
            raise PasswordDeleteError(user)

    errors = types.ModuleType("keyring.errors")
    errors.__dict__.update(KeyringError=KeyringError, PasswordDeleteError=PasswordDeleteError)
    backend = type("Keyring", (), {"priority": 5, "__module__": backend_module})
    module = types.ModuleType("keyring")
    module.__dict__.update(
        errors=errors,
        get_keyring=backend,
        get_password=get_password,
        set_password=set_password,
        delete_password=delete_password,
    )
    return module


def test_keyring_store_is_chosen_only_for_a_real_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAILAGENT_TOKEN_STORE", raising=False)
    monkeypatch.setitem(sys.modules, "keyring", _fake_keyring("keyring.backends.fail"))
    assert isinstance(default_token_store(tmp_path / "state.db"), FileTokenStore)

    monkeypatch.setitem(sys.modules, "keyring", _fake_keyring("keyring.backends.macOS"))
    store = default_token_store(tmp_path / "state.db")
    assert isinstance(store, KeyringTokenStore)
    assert store.load("me") is None
    store.save("me", {"refresh_token": "1//kept-in-keyring"})
    assert store.load("me") == {"refresh_token": "1//kept-in-keyring"}
    assert "keyring.backends.macOS" in store.describe()
    assert "kept-in-keyring" not in store.describe()
    store.delete("me")
    store.delete("me")
    assert store.load("me") is None
    assert not (tmp_path / "tokens").exists()
