"""`mailagent connect imap`: an IMAP password, or a Google or Microsoft sign-in for XOAUTH2,
as the account's `imap_auth` in the config says (or, for an account not in the config, as the
options suggest).

Google: the real command in a subprocess against `FakeGoogle` (tests/test_google_connect.py),
a real HTTP fake of Google's OAuth endpoints, with a urllib opener as the browser. Microsoft:
the real command through typer's CliRunner, with `FakeEntra` (tests/test_outlook_connect.py)
handed to the sign-in functions as msal's `http_client`, the accepted seam for the sign-in
service; paths, token store, reuse of a cached sign-in and messages are the real command's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from google.auth.transport.requests import Request
from typer.testing import CliRunner, Result

from mailagent import cli
from mailagent.config import load_config
from mailagent.errors import AuthError, ConfigError
from mailagent.tokens import default_token_store
from providers import outlook_auth
from providers.google_auth import GOOGLE_IMAP_SCOPES, GOOGLE_KIND, GoogleTokenSource
from providers.outlook_auth import (
    DEFAULT_AUTHORITY,
    GRAPH_SCOPES,
    IMAP_SCOPES,
    MsalTokenSource,
    cache_path_for,
)
from tests.test_google_connect import FakeGoogle, mode, run_cli_with_browser
from tests.test_outlook_connect import (
    CLIENT_ID,
    DEVICE_GRANT,
    EXPECTED_SCOPES,
    RESERVED,
    FakeEntra,
)
from tests.test_outlook_connect import connect as connect_outlook

GRAPH_REQUEST = EXPECTED_SCOPES  # Mail.ReadWrite Calendars.Read + what msal adds
IMAP_REQUEST = set(IMAP_SCOPES) | RESERVED
IMAP_GRANT = IMAP_REQUEST - {"offline_access"}  # what an IMAP access token is good for
IMAP_HOSTS = {"google": "imap.gmail.com", "microsoft": "outlook.office365.com"}
CALDAV_PASSWORD = "caldav-secret-7"  # noqa: S105 - a test password, looked for in the output


# -- helpers ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def file_token_store(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tokens in 0600 files under tmp_path, never in the keyring of the machine running tests.
    monkeypatch.setenv("MAILAGENT_TOKEN_STORE", "file")


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with FakeGoogle() as fake:
        fake.expected_scopes = fake.granted_scopes = GOOGLE_IMAP_SCOPES
        yield fake


@pytest.fixture
def entra(monkeypatch: pytest.MonkeyPatch) -> FakeEntra:
    """The Microsoft sign-in service of every sign-in `connect imap` runs; it expects
    requests for the IMAP scope only."""
    fake = FakeEntra()
    fake.expected_scopes = IMAP_REQUEST
    for name in ("connect_device_flow", "connect_from_cache", "connect_interactive"):
        monkeypatch.setattr(outlook_auth, name, _against(fake, getattr(outlook_auth, name)))
    return fake


def _against(entra: FakeEntra, real: Any) -> Any:
    def sign_in(client_id: str, **kwargs: Any) -> Any:
        assert kwargs["authority"] == DEFAULT_AUTHORITY  # --tenant common
        kwargs.update(authority=entra.authority, http_client=entra, instance_discovery=False)
        return real(client_id, **kwargs)

    return sign_in


def write_config(tmp_path: Path, imap_auth: str | None = None, *, account: str = "a") -> Path:
    """A config with one imap account; `imap_auth` None leaves the line out."""
    lines = [
        'state = "state.db"',
        "",
        "[[accounts]]",
        f'name = "{account}"',
        'provider = "imap"',
        'address = "alex.kim@contoso.example"',
        f'imap_host = "{IMAP_HOSTS.get(imap_auth or "", "imap.example.com")}"',
    ]
    if imap_auth is not None:
        lines.append(f'imap_auth = "{imap_auth}"')
    config = tmp_path / "mailagent.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def connect_imap(
    config: Path, *args: str, account: str = "a", input_text: str | None = None
) -> Result:
    return CliRunner().invoke(
        cli.app,
        ["--config", str(config), "connect", "imap", "--account", account, *args],
        input=input_text,
    )


def stored(tmp_path: Path, account: str = "a") -> dict[str, Any] | None:
    return default_token_store(tmp_path / "state.db").load(account)


def sign_in_for_graph(entra: FakeEntra, tmp_path: Path, account: str = "a") -> None:
    """What `connect outlook` under the same name leaves: a Graph sign-in in the account's
    MSAL cache (and its record in the store). From then on `entra` expects IMAP again."""
    entra.expected_scopes = GRAPH_REQUEST
    connect_outlook(entra, tmp_path / "state.db", account=account)
    entra.expected_scopes = IMAP_REQUEST


def source_for(entra: FakeEntra, record: dict[str, Any], account: str = "a") -> MsalTokenSource:
    return MsalTokenSource(record, account=account, http_client=entra, instance_discovery=False)


def fix_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("fix: ")]
    assert len(lines) == 1, stderr
    return lines[0]


# -- imap_auth = "google" -----------------------------------------------------------------


def test_google_sign_in_asks_for_imap_access_only_and_stores_a_private_record(
    google: FakeGoogle, tmp_path: Path
) -> None:
    config = write_config(tmp_path, "google")
    secrets_file = google.client_secrets(tmp_path)
    run = run_cli_with_browser(
        google,
        ["-v", "--config", str(config), "connect", "imap", "--account", "a",
         "--client-secrets", str(secrets_file), "--no-browser"],
        cwd=tmp_path,
    )  # fmt: skip
    assert "close this window" in run.page
    assert run.returncode == 0, run.stderr

    assert google.problems == []
    assert [scope.split() for scope in google.requested_scopes] == [["https://mail.google.com/"]]
    assert google.grants == ["authorization_code"]
    token_dir = tmp_path / "tokens"
    token_file = token_dir / "a.json"
    assert f"Connected a to Google for IMAP in {token_dir}" in run.stdout
    assert mode(token_file) == 0o600
    assert mode(token_dir) == 0o700
    record = json.loads(token_file.read_text(encoding="utf-8"))
    assert record["kind"] == GOOGLE_KIND == "google"
    assert record["scopes"] == ["https://mail.google.com/"]
    assert record["granted_scopes"] == ["https://mail.google.com/"]
    assert record["refresh_token"] == google.refresh_token
    assert record["token_uri"] == f"{google.base}/token"
    assert "caldav_password" not in record
    # -v is on: even the detailed log holds no token, secret or authorization code.
    assert google.issued_codes, "the fake never issued a code"
    for secret in (google.refresh_token, google.client_secret, *google.access_tokens):
        assert secret not in run.stdout + run.stderr
    for code in google.issued_codes:
        assert code not in run.stdout + run.stderr

    # The record is what the IMAP provider renews its access tokens from.
    with requests.Session() as session:
        session.trust_env = False  # no proxy between us and 127.0.0.1
        source = GoogleTokenSource(record, account="a", request=Request(session=session))
        assert source() == google.access_tokens[-1]
    assert google.grants == ["authorization_code", "refresh_token"]
    assert source.advice == "run: mailagent connect imap --account a --client-secrets FILE"
    assert google.problems == []


def test_google_sign_in_with_a_caldav_password_stores_both(
    google: FakeGoogle, tmp_path: Path
) -> None:
    config = write_config(tmp_path, "google")
    secrets_file = google.client_secrets(tmp_path)
    run = run_cli_with_browser(
        google,
        ["--config", str(config), "connect", "imap", "--account", "a",
         "--client-secrets", str(secrets_file), "--no-browser",
         "--caldav-password", "--password-stdin"],
        cwd=tmp_path,
        input_text=CALDAV_PASSWORD + "\n",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert google.problems == []
    record = json.loads((tmp_path / "tokens" / "a.json").read_text(encoding="utf-8"))
    assert record["kind"] == GOOGLE_KIND
    assert record["refresh_token"] == google.refresh_token
    assert record["caldav_password"] == CALDAV_PASSWORD
    assert CALDAV_PASSWORD not in run.stdout + run.stderr


# -- imap_auth = "microsoft" --------------------------------------------------------------


def test_microsoft_device_sign_in_asks_for_imap_only_and_stores_the_record(
    entra: FakeEntra, tmp_path: Path
) -> None:
    config = write_config(tmp_path, "microsoft")
    result = connect_imap(config, "--client-id", CLIENT_ID)
    assert result.exit_code == 0, result.output

    assert entra.problems == []
    assert entra.grants == [DEVICE_GRANT, DEVICE_GRANT]  # pending once, then the tokens
    assert entra.scopes_requested  # the device code request
    for scope in entra.scopes_requested:
        assert set(scope.split()) == IMAP_REQUEST
        assert "Mail.Send" not in scope
    assert entra.message in result.stdout
    assert "Reusing" not in result.stdout
    assert f"Connected a to Microsoft for IMAP as {entra.username}" in result.stdout
    cache = tmp_path / "tokens" / "a.msal.json"
    assert stored(tmp_path) == {
        "kind": "msal",
        "client_id": CLIENT_ID,
        "authority": entra.authority,
        "username": entra.username,
        "cache": str(cache),
        "cache_encrypted": False,
        "scopes": list(IMAP_SCOPES),
    }
    assert mode(tmp_path / "tokens" / "a.json") == 0o600
    assert mode(cache) == 0o600
    for secret in entra.issued:
        assert secret not in result.output


@pytest.mark.parametrize(
    "first", [GRAPH_SCOPES, IMAP_SCOPES], ids=["after-connect-outlook", "connecting-again"]
)
def test_microsoft_sign_in_in_the_accounts_cache_is_reused_without_a_code(
    entra: FakeEntra, tmp_path: Path, first: tuple[str, ...]
) -> None:
    config = write_config(tmp_path, "microsoft")
    if first == GRAPH_SCOPES:
        sign_in_for_graph(entra, tmp_path)
    else:
        assert connect_imap(config, "--client-id", CLIENT_ID).exit_code == 0
    signed_in = len(entra.grants)

    result = connect_imap(config, "--client-id", CLIENT_ID)
    assert result.exit_code == 0, result.output

    assert entra.problems == []
    assert DEVICE_GRANT not in entra.grants[signed_in:]  # no second sign-in
    assert entra.message not in result.stdout  # no code to enter
    assert f"Reusing the Microsoft sign-in of {entra.username} for a" in result.stdout
    assert f"Connected a to Microsoft for IMAP as {entra.username}" in result.stdout
    record = stored(tmp_path)
    assert record is not None
    assert record["scopes"] == list(IMAP_SCOPES)
    assert record["cache"] == str(cache_path_for("a", tmp_path / "state.db"))
    if first == GRAPH_SCOPES:
        # The IMAP token came from the Graph sign-in's refresh token.
        assert entra.grants[signed_in:] == ["refresh_token"]
        assert set(entra.scopes_requested[-1].split()) == IMAP_REQUEST
    for secret in entra.issued:
        assert secret not in result.output


def test_a_cached_sign_in_microsoft_no_longer_honours_is_replaced_by_a_new_one(
    entra: FakeEntra, tmp_path: Path
) -> None:
    sign_in_for_graph(entra, tmp_path)
    entra.revoked = True  # the refresh token no longer works
    signed_in = len(entra.grants)

    result = connect_imap(write_config(tmp_path, "microsoft"), "--client-id", CLIENT_ID)
    assert result.exit_code == 0, result.output
    tried, *signed_in_again = entra.grants[signed_in:]
    assert tried == "refresh_token"  # the cached sign-in first, refused
    assert signed_in_again
    assert set(signed_in_again) == {DEVICE_GRANT}
    assert "Reusing" not in result.stdout
    assert entra.message in result.stdout
    record = stored(tmp_path)
    assert record is not None
    assert record["scopes"] == list(IMAP_SCOPES)
    assert entra.problems == []


def test_connecting_again_after_microsoft_refused_the_refresh_token_signs_in_again(
    entra: FakeEntra, tmp_path: Path
) -> None:
    # The sync's advice after a refused renewal is `mailagent connect imap`; following it
    # must end with a sign-in that works, not with the cached access token of the dead one.
    # (A server may refuse an unexpired access token too: Exchange Online with continuous
    # access evaluation does once the sign-in is revoked.)
    config = write_config(tmp_path, "microsoft")
    assert connect_imap(config, "--client-id", CLIENT_ID).exit_code == 0
    record = stored(tmp_path)
    assert record is not None
    entra.revoked = True
    source = source_for(entra, record)
    with pytest.raises(AuthError) as caught:
        source(True)  # what the IMAP provider does when the server refuses the token
    assert caught.value.advice.startswith("run: mailagent connect imap --account a")
    signed_in = len(entra.grants)

    result = connect_imap(config, "--client-id", CLIENT_ID)
    assert result.exit_code == 0, result.output
    assert "Reusing" not in result.stdout, "reused a sign-in Microsoft just refused"
    assert DEVICE_GRANT in entra.grants[signed_in:]
    assert entra.message in result.stdout
    assert entra.problems == []


@pytest.mark.parametrize("reuse", [False, True], ids=["device-sign-in", "reused-sign-in"])
def test_the_stored_microsoft_record_gives_imap_access_tokens(
    entra: FakeEntra, tmp_path: Path, reuse: bool
) -> None:
    if reuse:  # the cache then also holds a Graph access token, which must not be used
        sign_in_for_graph(entra, tmp_path)
    result = connect_imap(write_config(tmp_path, "microsoft"), "--client-id", CLIENT_ID)
    assert result.exit_code == 0, result.output
    record = stored(tmp_path)
    assert record is not None

    source = source_for(entra, record)
    token = source()
    assert entra.access_token_scopes[token] == IMAP_GRANT
    renewed = source(True)  # after the server refused it
    assert renewed != token
    assert entra.grants[-1] == "refresh_token"
    assert set(entra.scopes_requested[-1].split()) == IMAP_REQUEST
    assert entra.access_token_scopes[renewed] == IMAP_GRANT
    assert source.advice == f"run: mailagent connect imap --account a --client-id {CLIENT_ID}"
    assert entra.problems == []


def test_microsoft_sign_in_with_a_caldav_password_stores_both(
    entra: FakeEntra, tmp_path: Path
) -> None:
    config = write_config(tmp_path, "microsoft")
    result = connect_imap(
        config,
        "--client-id",
        CLIENT_ID,
        "--caldav-password",
        "--password-stdin",
        input_text=CALDAV_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    record = stored(tmp_path)
    assert record is not None
    assert record["kind"] == "msal"
    assert record["scopes"] == list(IMAP_SCOPES)
    assert record["caldav_password"] == CALDAV_PASSWORD
    assert CALDAV_PASSWORD not in result.output
    assert source_for(entra, record)() == entra.access_tokens[-1]  # still a working record


# -- imap_auth = "password" ---------------------------------------------------------------


@pytest.mark.parametrize("in_config", [True, False], ids=["in-config", "not-in-config"])
def test_password_and_caldav_password_from_stdin_are_stored_and_never_shown(
    tmp_path: Path, in_config: bool
) -> None:
    config = write_config(tmp_path) if in_config else tmp_path / "mailagent.toml"
    result = connect_imap(
        config,
        "--password-stdin",
        "--caldav-password",
        input_text="imap-secret-3\ncaldav-secret-3\n",
    )
    assert result.exit_code == 0, result.output
    assert f"Stored the password of a in {tmp_path / 'tokens'}" in result.stdout
    assert stored(tmp_path) == {
        "kind": "password",
        "password": "imap-secret-3",
        "caldav_password": "caldav-secret-3",
    }
    assert mode(tmp_path / "tokens" / "a.json") == 0o600
    assert "secret-3" not in result.output


def test_password_alone_stores_no_caldav_password(tmp_path: Path) -> None:
    result = connect_imap(write_config(tmp_path), "--password-stdin", input_text="imap-secret\n")
    assert result.exit_code == 0, result.output
    assert stored(tmp_path) == {"kind": "password", "password": "imap-secret"}


def test_an_empty_password_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    result = connect_imap(write_config(tmp_path), "--password-stdin", input_text="\n")
    assert result.exit_code == 2
    assert "no password given" in result.stderr
    assert "--password-stdin" in fix_line(result.stderr)
    assert stored(tmp_path) is None


# -- options that do not fit the account --------------------------------------------------


CLIENT_SECRETS = ["--client-secrets", "client_secrets.json"]
CLIENT_ID_OPTION = ["--client-id", CLIENT_ID]


@pytest.mark.parametrize(
    ("imap_auth", "args", "error", "fix"),
    [
        (
            "google",
            [],
            'account a signs in to IMAP with Google (imap_auth = "google")',
            "run: mailagent connect imap --account a --client-secrets FILE",
        ),
        (
            "google",
            CLIENT_ID_OPTION,
            'account a signs in to IMAP with Google (imap_auth = "google")',
            "run: mailagent connect imap --account a --client-secrets FILE",
        ),
        (
            "google",
            [*CLIENT_SECRETS, *CLIENT_ID_OPTION],
            '--client-id is for imap_auth = "microsoft"; account a uses imap_auth = "google"',
            "leave the option out, or change imap_auth in the config",
        ),
        (
            "microsoft",
            [],
            'account a signs in to IMAP with Microsoft (imap_auth = "microsoft")',
            "run: mailagent connect imap --account a --client-id ID",
        ),
        (
            "microsoft",
            CLIENT_SECRETS,
            'account a signs in to IMAP with Microsoft (imap_auth = "microsoft")',
            "run: mailagent connect imap --account a --client-id ID",
        ),
        (
            "microsoft",
            [*CLIENT_ID_OPTION, *CLIENT_SECRETS],
            '--client-secrets is for imap_auth = "google"; account a uses imap_auth = "microsoft"',
            "leave the option out, or change imap_auth in the config",
        ),
        (
            None,
            CLIENT_SECRETS,
            '--client-secrets is for imap_auth = "google"; account a uses imap_auth = "password"',
            "leave the option out, or change imap_auth in the config",
        ),
        (
            "password",
            CLIENT_ID_OPTION,
            '--client-id is for imap_auth = "microsoft"; account a uses imap_auth = "password"',
            "leave the option out, or change imap_auth in the config",
        ),
    ],
)
def test_options_for_another_sign_in_are_a_config_error_with_the_fix(
    tmp_path: Path, imap_auth: str | None, args: list[str], error: str, fix: str
) -> None:
    config = write_config(tmp_path, imap_auth)
    result = connect_imap(config, *args, "--password-stdin", input_text="imap-secret\n")
    assert result.exit_code == 2, result.output
    assert f"error: {error}" in result.stderr
    assert fix_line(result.stderr) == f"fix: {fix}"
    assert not (tmp_path / "tokens").exists()  # nothing signed in, nothing stored


def test_an_account_not_in_the_config_cannot_have_both_sign_ins(tmp_path: Path) -> None:
    config = write_config(tmp_path, "google")
    result = connect_imap(config, *CLIENT_SECRETS, *CLIENT_ID_OPTION, account="other")
    assert result.exit_code == 2
    assert (
        '--client-id is for imap_auth = "microsoft"; account other uses imap_auth = "google"'
        in result.stderr
    )
    assert not (tmp_path / "tokens").exists()


@pytest.mark.parametrize(
    ("provider", "fields", "imap_auth"),
    [
        ("outlook", "", "microsoft"),
        ("gmail", "", "google"),
        ("maildir", 'maildir = "Mail"\n', "google"),
    ],
)
def test_imap_auth_on_an_account_that_is_not_imap_is_a_config_error(
    tmp_path: Path, provider: str, fields: str, imap_auth: str
) -> None:
    config = tmp_path / "mailagent.toml"
    config.write_text(
        f'[[accounts]]\nname = "a"\nprovider = "{provider}"\naddress = "a@example.com"\n'
        f'{fields}imap_auth = "{imap_auth}"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"`imap_auth`.* are for imap accounts") as caught:
        load_config(config)
    assert "accounts[0]" in str(caught.value)
    assert "README" in caught.value.advice


def test_an_unknown_imap_auth_is_a_config_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, "oauth")
    with pytest.raises(ConfigError, match="imap_auth") as caught:
        load_config(config)
    for choice in ("'password'", "'google'", "'microsoft'"):
        assert choice in str(caught.value)


def test_connect_imap_help_lists_the_sign_in_options() -> None:
    result = CliRunner().invoke(cli.app, ["connect", "imap", "--help"])
    assert result.exit_code == 0, result.output
    for option in (
        "--account",
        "--password-stdin",
        "--caldav-password",
        "--client-secrets",
        "--no-browser",
        "--port",
        "--client-id",
        "--tenant",
        "--browser",
    ):
        assert option in result.output
    # Which options go with which imap_auth (rich wraps the text, so not word for word).
    assert '"google"' in result.output
    assert '"microsoft"' in result.output


def test_imap_auth_password_written_out_on_another_account_is_a_config_error(
    tmp_path: Path,
) -> None:
    config = tmp_path / "mailagent.toml"
    config.write_text(
        '[[accounts]]\nname = "a"\nprovider = "gmail"\naddress = "a@example.com"\n'
        'imap_auth = "password"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"`imap_auth`.* are for imap accounts"):
        load_config(config)


@pytest.mark.parametrize("provider", ["gmail", "outlook"])
def test_connect_imap_on_a_gmail_or_outlook_account_leaves_its_sign_in_alone(
    tmp_path: Path, provider: str
) -> None:
    config = tmp_path / "mailagent.toml"
    config.write_text(
        f'state = "state.db"\n[[accounts]]\nname = "a"\nprovider = "{provider}"\n'
        'address = "a@example.com"\n',
        encoding="utf-8",
    )
    default_token_store(tmp_path / "state.db").save("a", {"kind": "kept"})
    result = connect_imap(config, "--password-stdin", input_text="imap-secret\n")
    assert result.exit_code == 2
    assert f"account a is a {provider} account, not an imap one" in result.stderr
    assert fix_line(result.stderr) == f"fix: run: mailagent connect {provider} --account a"
    assert stored(tmp_path) == {"kind": "kept"}


def test_the_caldav_password_is_asked_before_a_sign_in(entra: FakeEntra, tmp_path: Path) -> None:
    config = write_config(tmp_path, "microsoft")
    result = connect_imap(
        config, "--client-id", CLIENT_ID, "--caldav-password", "--password-stdin", input_text="\n"
    )
    assert result.exit_code == 2
    assert "no password given" in result.stderr
    assert entra.grants == []  # no sign-in was started, so none was thrown away
    assert stored(tmp_path) is None
