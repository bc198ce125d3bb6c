"""The `mailagent` command: a thin layer over the runner, the store and the policy loader."""

from __future__ import annotations

import functools
import inspect
import json
import logging
import sqlite3
import sys
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from mailagent import explanation, report, serialize, statefile
from mailagent.accounts import choose_accounts
from mailagent.config import Config, load_config
from mailagent.core.compose import TemplateComposer, clean_text
from mailagent.core.identity import as_kept
from mailagent.core.policy import check_policy_file, load_policy, shipped_policies
from mailagent.errors import ConfigError, MailAgentError
from mailagent.runner import SyncResult, record_outcome, state_lock, sync_account
from mailagent.store import Store
from mailagent.textlines import WIDTH, say
from mailagent.wiring import build_account, close_provider

app = typer.Typer(
    help="Drafts per-interviewer thank-you notes and timed follow-ups in your own mailbox. "
    "It never sends: you review every draft in your mail client.\n\n"
    "--config, --verbose and --now may also follow the command: mailagent sync -c FILE -v.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # plain help: flags as flags, not `<bool>` in boxes
)
policy_app = typer.Typer(
    help="Timing policies: validate a policy file, list the shipped ones.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(policy_app, name="policy")
connect_app = typer.Typer(
    help="Connect a mail account once (Google or Microsoft sign-in, or an IMAP password or "
    "IMAP sign-in for XOAUTH2); the token or password is stored safely, never in the config "
    "file.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(connect_app, name="connect")

out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


class _State:
    """What the options before the command said; the command's own options override it."""

    config_path: Path = Path("mailagent.toml")
    verbose: bool = False
    now: str | None = None


state = _State()

CONFIG_HELP = "The TOML config file."
VERBOSE_HELP = "Log details and show tracebacks."
NOW_HELP = (
    "Pretend it is this moment (ISO 8601, e.g. 2026-11-17T09:00-05:00); "
    "a time without offset is read in UTC."
)
NowOption = Annotated[str | None, typer.Option("--now", metavar="ISO", help=NOW_HELP)]
AccountsOption = Annotated[
    list[str] | None,
    typer.Option("--account", "-a", metavar="NAME", help="Only this account (repeatable)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ConfigAfter = Annotated[
    Path | None, typer.Option("--config", "-c", metavar="FILE", help=CONFIG_HELP)
]
VerboseAfter = Annotated[bool, typer.Option("--verbose", "-v", help=VERBOSE_HELP)]


@app.callback()
def main_options(
    config: Annotated[
        Path,
        typer.Option("--config", "-c", metavar="FILE", help=CONFIG_HELP, envvar="MAILAGENT_CONFIG"),
    ] = Path("mailagent.toml"),
    verbose: VerboseAfter = False,
    now: NowOption = None,
) -> None:
    """Options for every command; each may also follow the command's name."""
    state.config_path = config
    state.verbose = verbose
    state.now = now


def _settle(config: Path | None, verbose: bool) -> None:
    """Merge a command's own --config and --verbose into those given before it; set up logs."""
    if config is not None:
        state.config_path = config
    state.verbose = state.verbose or verbose
    logging.basicConfig(
        level=logging.INFO if state.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )


P = ParamSpec("P")
R = TypeVar("R")


def command(
    group: typer.Typer, name: str | None = None, *, reads_config: bool = True
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """`group.command(name)` whose command also takes -v/--verbose and, if it reads the
    config, -c/--config after its name (`mailagent sync -c FILE -v`), as well as before it."""

    def register(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _settle(kwargs.pop("config", None), kwargs.pop("verbose", False))
            return function(*args, **kwargs)

        keyword = inspect.Parameter.KEYWORD_ONLY
        extra = [inspect.Parameter("verbose", keyword, default=False, annotation=VerboseAfter)]
        if reads_config:
            extra.insert(
                0, inspect.Parameter("config", keyword, default=None, annotation=ConfigAfter)
            )
        signature = inspect.signature(function, eval_str=True)  # typer reads the annotations
        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*signature.parameters.values(), *extra]
        )
        group.command(name)(wrapper)
        return function

    return register


NOW_RANGE = (datetime(1970, 1, 1, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC))
"""Moments `--now` accepts: policies reach ten years either way of it (the look-back, the
longest duration), which datetime arithmetic near year 1 or 9999 cannot (OverflowError)."""


def parse_now(value: str | None) -> datetime:
    """The moment of `--now` (the command's own, else the one before the command), or the
    real clock."""
    value = value if value is not None else state.now
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(
            f"--now {value!r} is not an ISO 8601 moment",
            advice="write it like 2026-11-17T09:00-05:00",
        ) from exc
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if not NOW_RANGE[0] <= moment < NOW_RANGE[1]:
        raise ConfigError(
            f"--now {value!r} is outside the years {NOW_RANGE[0].year} to {NOW_RANGE[1].year - 1}",
            advice="give a moment near your interviews, like 2026-11-17T09:00-05:00",
        )
    return moment


def shown(value: object, limit: int = 1000) -> str:
    """Untrusted text (titles, names, reasons quoting them) as one printable line: the
    composer's `clean_text` drops the control characters a terminal would act on (ESC starting
    a screen clear or a colour, CSI, BEL). JSON output needs none of this: json.dumps escapes."""
    return clean_text(str(value), limit=limit)


def _fail(exc: MailAgentError) -> NoReturn:
    err.print(f"error: {exc}")
    if exc.advice:
        err.print(f"fix: {exc.advice}")
    if state.verbose:
        err.print_exception()
    raise typer.Exit(exc.exit_code)


def _policy_language(ref: str, base_dir: Path) -> str:
    """The `language` of the account's policy; "auto" when the policy does not load (`sync`
    reports that error; `explain` still explains what is stored)."""
    try:
        return load_policy(ref, base_dir=base_dir).language
    except MailAgentError:
        return "auto"


def _config() -> Config:
    return load_config(state.config_path)


@command(app)
def sync(
    now: NowOption = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Say what a sync would do; write no file (no draft, no state)."
        ),
    ] = False,
    as_json: JsonOption = False,
    account: AccountsOption = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for a running sync instead of failing fast.")
    ] = False,
) -> None:
    """Read calendar and mail, then create the drafts that are due and schedule the rest."""
    try:
        moment = parse_now(now)
        config = _config()
        chosen = choose_accounts(config, account)
        composer = TemplateComposer(config.templates)
        results: list[SyncResult] = []
        # A dry run writes no file: no lock, and a copy of the state in memory.
        with nullcontext() if dry_run else state_lock(config.lock_path, wait=wait):
            store = Store(config.state, copy=dry_run)
            try:
                for account_config in chosen:
                    try:
                        built = build_account(account_config, config, moment)
                    except MailAgentError as exc:
                        failed = SyncResult(
                            account_config.name, ok=False, error=str(exc), advice=exc.advice
                        )
                        if not dry_run:
                            record_outcome(store, failed, moment)
                        results.append(failed)
                        continue
                    try:
                        results.append(
                            sync_account(store, built, composer, moment, dry_run=dry_run)
                        )
                    finally:
                        close_provider(built.provider)
            finally:
                store.close()
    except MailAgentError as exc:
        _fail(exc)
    if as_json:
        out.print_json(json.dumps([serialize.to_plain(r) for r in results]))
    else:
        for result in results:
            _print_result(result)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


def _print_result(result: SyncResult) -> None:
    head = f"{result.account}" + (" (dry run)" if result.dry_run else "")
    if not result.ok:
        say(err, f"{head}: failed: {shown(result.error)}")
        if result.advice:
            say(err, f"fix: {shown(result.advice)}", 2)
        return
    if result.dry_run:  # nothing was written: say what a sync would do
        count, verb = f"would create {len(result.drafted)} draft(s)", "would draft"
    else:
        count, verb = f"{len(result.drafted)} draft(s) created", "drafted"
    say(
        out,
        f"{head}: {result.interviews} interview(s), {count}, "
        f"{len(result.scheduled)} scheduled, {len(result.skipped)} item(s) skipped",
    )
    for drafted in result.drafted:
        say(out, f"{verb} {drafted.kind.replace('_', '-')} to {drafted.to}: {drafted.subject!r}", 2)
        say(out, f"why: {shown(drafted.reason)}; send by {drafted.due_by:%a %Y-%m-%d %H:%M %Z}", 4)
    for note in result.notes:
        say(out, f"note: {shown(note.about or note.interview_id)}: {shown(note.text)}", 2)


@command(app)
def status(
    now: NowOption = None,
    as_json: JsonOption = False,
    account_names: AccountsOption = None,
) -> None:
    """Show each interview (company, role, when; past, rejected...), the drafts made for it,
    what is overdue, the name the drafts are signed with, and how the last sync went; times in
    each account's time zone."""
    try:
        moment = parse_now(now)
        config = _config()
        chosen = choose_accounts(config, account_names)
        store = Store(config.state)
    except MailAgentError as exc:
        _fail(exc)
    try:
        views = [report.gather(store, account) for account in chosen]
    except sqlite3.Error as exc:  # damage that opening the state could not see
        _fail(statefile.sqlite_error(exc, config.state))
    finally:
        store.close()
    if as_json:
        out.print_json(json.dumps([report.to_json(view, moment) for view in views]))
        return
    width = max(40, min(out.width, WIDTH))
    for number, view in enumerate(views):
        if number:
            out.print("")
        for line in report.render(view, moment, width):
            out.print(line)


@command(app)
def explain(
    interview: Annotated[
        str | None,
        typer.Argument(
            metavar="WORDS",
            help="Which interview or event: words of its title, the company, or the start of "
            "an id from `status` (any case).",
            show_default=False,
        ),
    ] = None,
    rejected: Annotated[
        bool,
        typer.Option(
            "--rejected",
            help="List the events that are not interviews, and why (with a "
            "query: only those it names).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Say why an event is (or is not) an interview, what each interviewer's thank-you is
    based on, why each draft is due when, and which name signs it (from the config, your
    calendar entries or your sent mail)."""
    try:
        if interview is None and not rejected:
            raise ConfigError(
                "say which interview to explain",
                advice="give a title word, the company or an id from `mailagent status`; "
                "or list the events that are not interviews with `mailagent explain --rejected`",
            )
        config = _config()
        store = Store(config.state)
    except MailAgentError as exc:
        _fail(exc)
    try:
        width = max(40, min(out.width, WIDTH))
        blocks: list[list[str]] = []
        plain: list[dict[str, Any]] = []
        for account in config.accounts:
            zone = ZoneInfo(account.timezone)
            found = explanation.series(account.name, store.detections(account.name))
            if interview is not None:
                found = [
                    s for s in found if any(explanation.matches(d, interview) for d in s.detections)
                ]
            if rejected:
                chosen = explanation.rejected(found)
                plain.extend(explanation.rejected_json(s) for s in chosen)
                if chosen:
                    blocks.append(explanation.render_rejected(chosen, zone, width))
                continue
            for item in found:
                ids = set(item.interview_ids)
                explained = explanation.Explained(
                    item,
                    [d for d in store.drafts(account.name) if d.interview_id in ids],
                    [s for s in store.schedules(account.name) if s.interview_id in ids],
                    [c for i in item.interview_ids for c in store.decisions(account.name, i)],
                    as_kept(account.user_name, store.signed_as(account.name)),
                    _policy_language(account.policy, config.base_dir),
                )
                plain.append(explanation.to_json(explained))
                blocks.append(explanation.render(explained, zone, width))
        if not blocks and not rejected:
            raise ConfigError(
                f"no interview or event matching {interview!r} in the state",
                advice="run `mailagent status` for the interviews, or `mailagent explain "
                "--rejected` for the events that are not; a title word, the company or the "
                "start of an id will do",
            )
    except MailAgentError as exc:
        _fail(exc)
    except sqlite3.Error as exc:  # damage that opening the state could not see
        _fail(statefile.sqlite_error(exc, config.state))
    finally:
        store.close()
    if as_json:
        # one match: the object `explain --json` always printed; several: a list of them
        shape = plain if rejected or len(plain) != 1 else plain[0]
        out.print_json(json.dumps(shape))
        return
    if rejected and not blocks:
        out.print("no event was set aside: every event read is an interview")
    for number, lines in enumerate(blocks):
        if number:
            out.print("")
        for line in lines:
            out.print(line)


@command(policy_app, "check", reads_config=False)
def policy_check(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Policy YAML files.")],
) -> None:
    """Validate policy files; errors name the file, the field and the fix."""
    failed = False
    for path in files:
        try:
            policy = check_policy_file(path)
        except MailAgentError as exc:
            failed = True
            err.print(f"invalid {exc}")
            if exc.advice:
                err.print(f"fix: {exc.advice}")
            continue
        out.print(f"ok {path}: policy {policy.name!r}")
    if failed:
        raise typer.Exit(2)


@command(policy_app, "list", reads_config=False)
def policy_list() -> None:
    """List the shipped policies."""
    for name in shipped_policies():
        out.print(name)


@command(app, reads_config=False)
def demo(
    keep: Annotated[
        Path | None,
        typer.Option("--keep", metavar="DIR", help="Build the demo mailbox here and keep it."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Simulate two weeks on the bundled demo mailbox (no account needed) and say what was drafted and why."""
    from mailagent.demo import run_demo

    try:
        code = run_demo(out, keep=keep, as_json=as_json)
    except MailAgentError as exc:
        _fail(exc)
    raise typer.Exit(code)


@command(connect_app, "gmail")
def connect_gmail(
    account: Annotated[
        str,
        typer.Option(
            "--account", "-a", metavar="NAME", help="The account name, as in the config file."
        ),
    ],
    client_secrets: Annotated[
        Path,
        typer.Option(
            "--client-secrets",
            metavar="FILE",
            help="The OAuth client JSON (type Desktop app) from the Google Cloud console.",
        ),
    ],
    no_browser: Annotated[
        bool,
        typer.Option("--no-browser", help="Print the URL to open instead of opening a browser."),
    ] = False,
    port: Annotated[
        int,
        typer.Option(
            "--port",
            metavar="PORT",
            min=0,
            max=65535,
            help="Loopback port for Google's redirect (0: any free).",
        ),
    ] = 0,
) -> None:
    """Sign in to Google and store the account's token (OS keyring, or a 0600 file)."""
    from mailagent.tokens import default_token_store
    from providers.google_auth import GOOGLE_SCOPES

    try:
        store = default_token_store(_state_path())
        record = _google_sign_in(account, client_secrets, no_browser, port, GOOGLE_SCOPES)
        store.save(account, record)
        where = store.describe()
    except MailAgentError as exc:
        _fail(exc)
    out.print(f"Connected {account}; token stored in {where}")


def _google_sign_in(
    account: str, client_secrets: Path, no_browser: bool, port: int, scopes: Sequence[str]
) -> dict[str, Any]:
    from providers.google_auth import run_installed_app_flow

    def announce(url: str) -> None:
        if no_browser:
            out.print(f"To connect {account}, open this URL in a browser and allow access:")
        else:
            out.print(f"Opening a browser to connect {account}; if none opens, visit this URL:")
        out.print(url)
        out.file.flush()  # the user (or a script) needs the URL now, not when we exit

    return run_installed_app_flow(
        client_secrets, open_browser=not no_browser, port=port, announce=announce, scopes=scopes
    )


def _state_path() -> Path:
    """The state file of the config, or, with no config yet, where it will be by default."""
    if state.config_path.exists():
        return _config().state
    default_state = Path(Config.model_fields["state"].default)
    return state.config_path.resolve().parent / default_state


@command(connect_app, "outlook")
def connect_outlook(
    account: Annotated[
        str,
        typer.Option(
            "--account", "-a", metavar="NAME", help="The account name, as in the config file."
        ),
    ],
    client_id: Annotated[
        str,
        typer.Option(
            "--client-id",
            metavar="ID",
            help="The Application (client) ID of your app registration in Microsoft Entra.",
        ),
    ],
    tenant: Annotated[
        str,
        typer.Option(
            "--tenant",
            metavar="TENANT",
            help="common (work, school and personal accounts), organizations, consumers, "
            "or your tenant id or domain.",
        ),
    ] = "common",
    browser: Annotated[
        bool,
        typer.Option(
            "--browser",
            help="Sign in in a browser on this machine instead of with a code "
            "(the code works over SSH too).",
        ),
    ] = False,
) -> None:
    """Sign in to Microsoft (Outlook.com, Microsoft 365) and keep the account's token cache."""
    from mailagent.tokens import default_token_store
    from providers.outlook_auth import GRAPH_SCOPES, describe_token_cache

    try:
        state_path = _state_path()
        store = default_token_store(state_path)
        record = _microsoft_sign_in(account, client_id, tenant, browser, state_path, GRAPH_SCOPES)
        store.save(account, record)
    except MailAgentError as exc:
        _fail(exc)
    out.print(
        f"Connected {account} as {record['username']}; "
        f"token cache in {describe_token_cache(record)}"
    )


def _microsoft_sign_in(
    account: str,
    client_id: str,
    tenant: str,
    browser: bool,
    state_path: Path,
    scopes: Sequence[str],
    *,
    reuse: bool = False,
) -> dict[str, Any]:
    """A device-code (or, with `browser`, a browser) sign-in; with `reuse`, first the
    account's cached sign-in, when Microsoft grants `scopes` from it without asking."""
    from providers.outlook_auth import (
        authority_for,
        cache_path_for,
        connect_device_flow,
        connect_from_cache,
        connect_interactive,
    )

    def announce(message: str) -> None:
        out.print(message)
        out.file.flush()  # the user (or a script) needs the code now, not when we exit

    def announce_url(url: str) -> None:
        out.print("No browser opened; open this URL in a browser on this machine:")
        announce(url)

    authority = authority_for(tenant)
    cache = cache_path_for(account, state_path)
    if reuse:
        record = connect_from_cache(client_id, authority=authority, cache=cache, scopes=scopes)
        if record is not None:
            announce(f"Reusing the Microsoft sign-in of {record['username']} for {account}")
            return record
    if browser:
        announce(f"Opening a browser to connect {account} to Microsoft...")
        return connect_interactive(
            client_id, authority=authority, cache=cache, announce=announce_url, scopes=scopes
        )
    return connect_device_flow(
        client_id, authority=authority, cache=cache, announce=announce, scopes=scopes
    )


@command(connect_app, "imap")
def connect_imap(
    account: Annotated[
        str,
        typer.Option(
            "--account", "-a", metavar="NAME", help="The account name, as in the config file."
        ),
    ],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from standard input instead of asking."
        ),
    ] = False,
    caldav_password: Annotated[
        bool,
        typer.Option(
            "--caldav-password",
            help="Also ask for a separate CalDAV password (the default is the IMAP one; "
            "needed for a CalDAV calendar when the IMAP login is a sign-in).",
        ),
    ] = False,
    client_secrets: Annotated[
        Path | None,
        typer.Option(
            "--client-secrets",
            metavar="FILE",
            help='imap_auth = "google": the OAuth client JSON (type Desktop app).',
        ),
    ] = None,
    no_browser: Annotated[
        bool,
        typer.Option(
            "--no-browser", help='imap_auth = "google": print the URL instead of opening it.'
        ),
    ] = False,
    port: Annotated[
        int,
        typer.Option(
            "--port",
            metavar="PORT",
            min=0,
            max=65535,
            help='imap_auth = "google": loopback port (0: any free).',
        ),
    ] = 0,
    client_id: Annotated[
        str | None,
        typer.Option(
            "--client-id",
            metavar="ID",
            help='imap_auth = "microsoft": the Application (client) ID of your app registration.',
        ),
    ] = None,
    tenant: Annotated[
        str,
        typer.Option(
            "--tenant", metavar="TENANT", help='imap_auth = "microsoft": the Entra tenant.'
        ),
    ] = "common",
    browser: Annotated[
        bool,
        typer.Option(
            "--browser", help='imap_auth = "microsoft": sign in in a browser, not with a code.'
        ),
    ] = False,
) -> None:
    """Store the IMAP password (or app password) in the OS keyring or a 0600 file; or, for
    imap_auth = "google" or "microsoft" in the config, sign in for XOAUTH2 and store that."""
    import getpass

    from mailagent.tokens import default_token_store

    def ask(prompt: str) -> str:
        secret = sys.stdin.readline().rstrip("\r\n") if password_stdin else getpass.getpass(prompt)
        if not secret:
            raise ConfigError(
                "no password given", advice="type it, or pipe it with --password-stdin"
            )
        return secret

    try:
        state_path = _state_path()
        store = default_token_store(state_path)
        auth = _imap_auth(account, client_secrets, client_id)
        extra = (
            {"caldav_password": ask(f"CalDAV password for {account}: ")}
            if (caldav_password and auth != "password")
            else {}
        )  # asked first: a sign-in is not thrown away for a missing password
        record: dict[str, Any]
        if auth == "google" and client_secrets is not None:
            from providers.google_auth import GOOGLE_IMAP_SCOPES, GOOGLE_KIND

            record = _google_sign_in(account, client_secrets, no_browser, port, GOOGLE_IMAP_SCOPES)
            record["kind"] = GOOGLE_KIND
            done = f"Connected {account} to Google for IMAP"
        elif auth == "microsoft" and client_id is not None:
            from providers.outlook_auth import IMAP_SCOPES

            record = _microsoft_sign_in(
                account, client_id, tenant, browser, state_path, IMAP_SCOPES, reuse=True
            )
            done = f"Connected {account} to Microsoft for IMAP as {record['username']}"
        else:
            record = {"kind": "password", "password": ask(f"IMAP password for {account}: ")}
            done = f"Stored the password of {account}"
            if caldav_password:
                extra = {"caldav_password": ask(f"CalDAV password for {account}: ")}
        store.save(account, record | extra)
        where = store.describe()
    except MailAgentError as exc:
        _fail(exc)
    out.print(f"{done} in {where}")


def _imap_auth(account: str, client_secrets: Path | None, client_id: str | None) -> str:
    """How `account` logs in to IMAP: as its config says, else as the options suggest."""
    configured = None
    if state.config_path.exists():
        match = [a for a in _config().accounts if a.name == account]
        if match and match[0].provider != "imap":
            kind = match[0].provider
            raise ConfigError(
                f"account {account} is a {kind} account, not an imap one",
                advice=f"run: mailagent connect {kind} --account {account}"
                if kind in ("gmail", "outlook")
                else "a maildir account needs no connecting",
            )
        configured = match[0].imap_auth if match else None
    auth = configured or ("google" if client_secrets else "microsoft" if client_id else "password")
    needs = {
        "google": ("--client-secrets FILE", client_secrets),
        "microsoft": ("--client-id ID", client_id),
    }
    if auth in needs and not needs[auth][1]:
        raise ConfigError(
            f'account {account} signs in to IMAP with {auth.title()} (imap_auth = "{auth}")',
            advice=f"run: mailagent connect imap --account {account} {needs[auth][0]}",
        )
    for other, (option, given) in needs.items():
        if other != auth and given:
            raise ConfigError(
                f'{option.split()[0]} is for imap_auth = "{other}"; account {account} '
                f'uses imap_auth = "{auth}"',
                advice="leave the option out"
                + (", or change imap_auth in the config" if configured else ""),
            )
    return auth


def main() -> None:
    app()
