"""Fault bookkeeping both emulators share: checking a fault request, and consuming the oldest
pending fault that fits a call. What a fault aims at, and what its error looks like, is each
emulator's own (`google_faults`, `graph_faults`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

__all__ = ["DROP_KINDS", "check_fault", "take_fault"]

DROP_KINDS = frozenset({"drop", "drop-after"})
"""Kinds that act on a whole HTTP request (the connection closes) rather than one call."""


class PendingFault(Protocol):
    """A frozen dataclass with a kind and how many more calls it fails."""

    @property
    def kind(self) -> str: ...

    @property
    def times(self) -> int: ...


FaultT = TypeVar("FaultT", bound=PendingFault)


def check_fault(kind: str, times: int, kinds: Sequence[str]) -> None:
    """Refuse an unknown `kind` or a `times` below 1 with ValueError."""
    if kind not in kinds:
        raise ValueError(f"unknown fault {kind!r}; one of {', '.join(kinds)}")
    if times < 1:
        raise ValueError("times must be at least 1")


def take_fault(
    faults: list[FaultT], aimed: Callable[[FaultT], bool], *, drops: bool, others: bool
) -> FaultT | None:
    """Consume the oldest of `faults` that is `aimed` at the call, of the wanted kinds: drops
    (a whole HTTP request) and/or the others (one call). The caller holds the lock."""
    for index, fault in enumerate(faults):
        if not (drops if fault.kind in DROP_KINDS else others):
            continue
        if not aimed(fault):
            continue
        if fault.times <= 1:
            del faults[index]
        else:
            faults[index] = dataclasses.replace(fault, times=fault.times - 1)  # type: ignore[type-var]
        return fault
    return None
