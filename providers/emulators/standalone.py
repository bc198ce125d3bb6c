"""The skeleton both emulators' standalone commands share: read the arguments, load a scenario,
build the emulator and materialize the scenario in it as of a moment, serve it on 127.0.0.1,
optionally write a config directory for it, print its settings, and wait for Ctrl-C.

Each emulator supplies what differs: how to build it, its scenario mailbox, the banner it
prints and the config it writes (see `google.main` and `graph_standalone.run`)."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from mailagent.scenario import Scenario, ScenarioMailbox

__all__ = ["serve_scenario"]

EmulatorT = TypeVar("EmulatorT", bound=AbstractContextManager[Any])


def _arguments(prog: str, description: str, argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--scenario", type=Path, required=True, help="scenario YAML file")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument(
        "--at",
        type=datetime.fromisoformat,
        default=None,
        help="materialize as of this ISO time (default: the scenario's last sync time)",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay per HTTP request")
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
    it serves, followed by how to stop it."""
    from mailagent.scenario import load_scenario

    args = _arguments(prog, description, argv)
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
