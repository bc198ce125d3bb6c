"""The skeleton both emulators' standalone commands share: read the arguments, load a scenario,
build the emulator and materialize the scenario in it as of a moment, serve it on 127.0.0.1,
optionally write a config directory for it, print its settings, and wait for Ctrl-C.

Each emulator supplies what differs: how to build it, its scenario mailbox, the banner it
prints and the config it writes (see `google.main` and `graph_standalone.run`).

Bad input (arguments, a scenario file that is missing or invalid, a port in use, a config
folder that cannot be written) ends the command with one line, ``PROG: error: ...``, and a
non-zero exit code: 2 for arguments and scenarios, 1 for the system refusing."""

from __future__ import annotations

import argparse
import errno
import sys
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

if TYPE_CHECKING:
    from mailagent.scenario import Scenario, ScenarioMailbox

__all__ = ["serve_scenario"]

EmulatorT = TypeVar("EmulatorT", bound=AbstractContextManager[Any])


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port; give 0 to 65535 (0: any free)")
    return port


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 moment like 2026-11-17T09:00-05:00"
        ) from None


def _latency(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 3_600_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a delay; give milliseconds, 0 or more")
    return value


def _arguments(prog: str, description: str, argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(prog=prog, description=description)
    parser.add_argument("--scenario", type=Path, required=True, help="scenario YAML file")
    parser.add_argument("--port", type=_port, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument(
        "--at",
        type=_moment,
        default=None,
        help="materialize as of this ISO time (default: the scenario's last sync time)",
    )
    parser.add_argument("--latency-ms", type=_latency, default=0.0, help="delay per HTTP request")
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=None,
        help="also write DIR/mailagent.toml for this emulator and the account's token "
        "(DIR/tokens, 0600), ready for `mailagent --config DIR/mailagent.toml sync`",
    )
    return parser.parse_args(argv)


def serve_scenario(
    argv: list[str] | None,
    *,
    prog: str,
    description: str,
    build: Callable[[Scenario, float, int], EmulatorT],
    mailbox: Callable[[EmulatorT], ScenarioMailbox],
    banner: Callable[[EmulatorT, Scenario, datetime], str],
    write_config: Callable[[Path, Scenario, EmulatorT], Path],
) -> int:
    """Serve a scenario until Ctrl-C. `build(scenario, latency in seconds, port)` makes the
    emulator and `mailbox(emulator)` materializes the scenario in it; `banner` is printed once
    it serves, followed by how to stop it. Returns the exit code."""
    from mailagent.errors import MailAgentError

    args = _arguments(prog, description, argv)
    try:
        return _serve(args, build, mailbox, banner, write_config)
    except MailAgentError as exc:
        problems = str(exc).splitlines() or [""]
        sys.stderr.write(
            f"{prog}: error: {problems[0]}" + "".join(f"\n  {line}" for line in problems[1:]) + "\n"
        )
        return exc.exit_code
    except OSError as exc:
        sys.stderr.write(f"{prog}: error: {_os_problem(exc, args)}\n")
        return 1
    except KeyboardInterrupt:
        return 130


def _os_problem(exc: OSError, args: argparse.Namespace) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {args.port} on 127.0.0.1 is in use; pick another with --port (0: any free)"
    if exc.errno in (errno.EACCES, errno.EPERM) and exc.filename is None:
        return f"may not listen on port {args.port}; use a port above 1023, or --port 0"
    where = f" {exc.filename}" if exc.filename else ""
    return f"cannot use{where}: {exc.strerror or exc}"


def _serve(
    args: argparse.Namespace,
    build: Callable[[Scenario, float, int], EmulatorT],
    mailbox: Callable[[EmulatorT], ScenarioMailbox],
    banner: Callable[[EmulatorT, Scenario, datetime], str],
    write_config: Callable[[Path, Scenario, EmulatorT], Path],
) -> int:
    from mailagent.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    moment = scenario.local(args.at) if args.at else scenario.sync_times()[-1]
    emulator = build(scenario, args.latency_ms / 1000, args.port)
    mailbox(emulator).materialize(scenario, moment)
    with emulator:
        out = sys.stdout
        if args.config_dir is not None:
            config = write_config(args.config_dir, scenario, emulator)
            out.write(
                f"wrote {config} and its token; try:\n"
                f"  MAILAGENT_TOKEN_STORE=file mailagent --config {config} sync "
                f"--now {moment.isoformat()}\n\n"
            )
        out.write(banner(emulator, scenario, moment) + "Ctrl-C stops it.\n")
        out.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            out.write("stopped\n")
    return 0
