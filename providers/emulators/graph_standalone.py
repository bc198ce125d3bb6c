"""The Graph emulator as a command: `python -m providers.emulators.graph --scenario PATH` builds
a scenario's mailbox and calendar as of a moment, serves them on 127.0.0.1, prints the base URL
and the static token, and with --config-dir writes a mailagent.toml for an Outlook account on
this emulator plus the account's token (a static bearer token in a FileTokenStore)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from providers.emulators.standalone import serve_scenario

if TYPE_CHECKING:
    from datetime import datetime

    from mailagent.scenario import Scenario
    from providers.emulators.graph import GraphEmulator


def run(argv: list[str] | None = None) -> int:
    """Serve a scenario's mailbox and calendar until Ctrl-C."""
    from providers.emulators.graph import GraphEmulator
    from providers.emulators.graph_scenario import GraphScenarioMailbox

    def build(scenario: Scenario, latency: float, port: int) -> GraphEmulator:
        user = scenario.spec.user
        return GraphEmulator(
            user_address=user.address, user_name=user.name, latency=latency, port=port
        )

    return serve_scenario(
        argv,
        prog="python -m providers.emulators.graph",
        description="Serve a scenario as a local Microsoft Graph v1.0 mail + calendar API.",
        build=build,
        mailbox=GraphScenarioMailbox,
        banner=_banner,
        write_config=write_config,
    )


def _banner(emulator: GraphEmulator, scenario: Scenario, moment: datetime) -> str:
    return (
        f"Graph mail + calendar emulator for {emulator.user_address} as of "
        f"{moment.isoformat()}\n"
        f"  base URL      {emulator.base_url}\n"
        f"  static token  {emulator.static_token}\n\n"
        "mailagent.toml:\n\n"
        f"{_account(scenario, emulator)}\n"
    )


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
