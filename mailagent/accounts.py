"""Which of the config's accounts a command works on (`--account`, repeatable)."""

from __future__ import annotations

from collections.abc import Sequence

from mailagent.config import AccountConfig, Config
from mailagent.errors import ConfigError


def choose_accounts(config: Config, names: Sequence[str] | None) -> list[AccountConfig]:
    """The accounts named (all of them when none is), in the config's order; a name the
    config does not have is an error that lists the names it does have, so that a typo is
    never a silent run over fewer accounts than asked for."""
    if not names:
        return list(config.accounts)
    known = [a.name for a in config.accounts]
    unknown = [n for n in dict.fromkeys(names) if n not in known]
    if unknown:
        listed = ", ".join(repr(n) for n in unknown)
        raise ConfigError(
            f"no account named {listed} in the config",
            advice="the accounts are: " + (", ".join(known) or "none (add an [[accounts]] table)"),
        )
    return [a for a in config.accounts if a.name in names]
