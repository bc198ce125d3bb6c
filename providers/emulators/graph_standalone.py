"""The Graph emulator as a command: `python -m providers.emulators.graph --scenario PATH` builds
a scenario's mailbox and calendar as of a moment, serves them on 127.0.0.1, prints the base URL
and the static token, and with --config-dir writes a mailagent.toml for an Outlook account on
this emulator plus the account's token (a static bearer token in a FileTokenStore)."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailagent.scenario import Scenario
    from providers.emulators.graph import GraphEmulator


def run(argv: list[str] | None = None) -> int:
    """Serve a scenario's mailbox and calendar until Ctrl-C."""
    from mailagent.scenario import load_scenario
    from providers.emulators.graph import GraphEmulator
    from providers.emulators.graph_scenario import GraphScenarioMailbox

    parser = argparse.ArgumentParser(
        prog="python -m providers.emulators.graph",
        description="Serve a scenario as a local Microsoft Graph v1.0 mail + calendar API.",
    )
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
    args = parser.parse_args(argv)
    scenario = load_scenario(args.scenario)
    moment = scenario.local(args.at) if args.at else scenario.sync_times()[-1]
    user = scenario.spec.user
    emulator = GraphEmulator(
        user_address=user.address,
        user_name=user.name,
        latency=args.latency_ms / 1000,
        port=args.port,
    )
    GraphScenarioMailbox(emulator).materialize(scenario, moment)
    with emulator:
        out = sys.stdout
        if args.config_dir is not None:
            config = write_config(args.config_dir, scenario, emulator)
            out.write(
                f"wrote {config} and its token; try:\n"
                f"  MAILAGENT_TOKEN_STORE=file mailagent --config {config} sync "
                f"--now {moment.isoformat()}\n\n"
            )
        out.write(
            f"Graph mail + calendar emulator for {emulator.user_address} as of "
            f"{moment.isoformat()}\n"
            f"  base URL      {emulator.base_url}\n"
            f"  static token  {emulator.static_token}\n\n"
            "mailagent.toml:\n\n"
            f"{_account(scenario, emulator)}\n"
            "Ctrl-C stops it.\n"
        )
        out.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            out.write("stopped\n")
    return 0


def _account(scenario: Scenario, emulator: GraphEmulator) -> str:
    user = scenario.spec.user
    return (
        "[[accounts]]\n"
        f"name = {json.dumps(scenario.spec.name)}\n"
        'provider = "outlook"\n'
        f"address = {json.dumps(user.address)}\n"
        f"user_name = {json.dumps(user.name)}\n"
        f"policy = {json.dumps(scenario.spec.policy)}\n"
        f"timezone = {json.dumps(user.timezone)}\n"
        f"graph_endpoint = {json.dumps(emulator.base_url)}\n"
    )


def write_config(directory: Path, scenario: Scenario, emulator: GraphEmulator) -> Path:
    """DIR/mailagent.toml with one Outlook account on `emulator`, and its static bearer token
    in DIR/tokens."""
    from mailagent.tokens import FileTokenStore

    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "mailagent.toml"
    config.write_text('state = "state.db"\n\n' + _account(scenario, emulator), encoding="utf-8")
    FileTokenStore(directory / "tokens").save(
        scenario.spec.name, {"kind": "static-bearer", "access_token": emulator.static_token}
    )
    return config
