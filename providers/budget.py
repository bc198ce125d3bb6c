"""A time budget per item read (one message, one calendar object), and a memory of the items
that went over it, so that later syncs skip them without paying again (issue 10, point 9).

How the bounds are kept, in order:

1. **Bounded input** (the real guarantee, in every thread): each parser is handed at most so many
   bytes, fields, parts and lines (`providers.mime.MAX_MESSAGE_BYTES` and the limits beside it),
   so its time and memory are bounded by construction. Memory is bounded only this way: a
   reader never holds more than the capped input and what the parser builds from it.
2. **A measured budget** (`ItemBudget.run`): the parse runs, its CPU time is measured, and
   an item over `Budget.seconds` is *skipped* (its result dropped, a `Skipped` with the reason
   returned) and *remembered* by its key. The caller stores `ItemBudget.remembered` with its
   cursor and passes it back next time, so the item is never parsed again while its key stays.
   The measure is the thread's CPU time, not the wall clock: an item is skipped for good, so
   it must be charged for its own cost only, never for a machine busy with other work (a
   legitimate message skipped on a loaded worker would be lost to the user).
3. **A hard stop in the main thread**: when running in the main thread with no other timer set,
   a SIGALRM timer interrupts a parse that passes `Budget.hard_seconds` (signals are delivered
   to the main thread only, so worker threads rely on 1 and 2). The interruption is a
   `BaseException`, so the parsers' own `except Exception` fallbacks cannot swallow it.

Usage (a provider's read loop)::

    guard = ItemBudget(budget, remembered=state.get("over_budget", {}))
    for key, path in items:
        if guard.is_remembered(key):
            continue                      # reported when it first went over
        result = guard.run(key, lambda: parse_message(read_capped(path), ...))
        if isinstance(result, OverBudget):
            skipped.append(Skipped(str(path), result.reason))
            continue
        messages.append(result)
    new_state["over_budget"] = guard.remembered

Keys are whatever identifies the item across syncs for that provider: a Maildir unique name,
an IMAP folder:UIDVALIDITY:UID, a Gmail or Graph message id. Every mail provider guards both
reads of a message: its headers (over budget: the message is skipped) and, for the API and
IMAP providers, its text under `<key>/text` (over budget: the message is classified from its
headers and preview, as when its text cannot be fetched). Calendar series have their own
budget (`providers.ical.Budget`), remembered by content digest.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import FrameType
from typing import TypeVar

from mailagent.errors import ParseError
from providers.base import Skipped

__all__ = ["Budget", "ItemBudget", "OverBudget"]

T = TypeVar("T")

REMEMBERED_LIMIT = 1_000
"""Keys kept in the memory of over-budget items (oldest dropped first): bounds the cursor."""


@dataclass(frozen=True, slots=True)
class Budget:
    """What one item may cost. `seconds` is measured; `hard_seconds` stops a parse outright
    (main thread only; 0 turns the hard stop off)."""

    seconds: float = 2.0
    hard_seconds: float = 10.0


DEFAULT_BUDGET = Budget()


@dataclass(frozen=True, slots=True)
class OverBudget:
    """An item skipped for its cost; `reason` goes to `providers.base.Skipped`."""

    key: str
    reason: str


class _Interrupted(BaseException):
    """Raised by the hard-stop timer inside the parse (BaseException: see the module notes)."""


class ItemBudget:
    """Runs items under one `Budget` and remembers the keys of those that went over it."""

    def __init__(
        self,
        budget: Budget = DEFAULT_BUDGET,
        remembered: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.thread_time,
    ) -> None:
        self.budget = budget
        self._clock = clock
        self._remembered: dict[str, str] = {}
        if isinstance(remembered, Mapping):  # a cursor from disk may hold anything
            self._remembered = {str(k): str(v) for k, v in remembered.items()}

    @property
    def remembered(self) -> dict[str, str]:
        """Key -> reason of every item over budget, for the caller's cursor (JSON-ready)."""
        return dict(self._remembered)

    def is_remembered(self, key: str) -> bool:
        return key in self._remembered

    def reason(self, key: str) -> str | None:
        return self._remembered.get(key)

    def forget(self, keep: set[str]) -> None:
        """Drop remembered keys that are not in `keep` (items gone from the mailbox)."""
        self._remembered = {k: v for k, v in self._remembered.items() if k in keep}

    def run(self, key: str, parse: Callable[[], T]) -> T | OverBudget:
        """`parse()`, or an `OverBudget` (remembered under `key`) when it cost too much.
        Exceptions of `parse` propagate unchanged."""
        started = self._clock()
        try:
            with _hard_stop(self.budget.hard_seconds):
                result = parse()
        except _Interrupted:
            return self._remember(key, f"stopped after {self.budget.hard_seconds:g} s")
        elapsed = self._clock() - started
        if elapsed > self.budget.seconds:
            return self._remember(key, f"took {elapsed:.1f} s")
        return result

    def read(
        self,
        key: str,
        item: str,
        parse: Callable[[], T],
        unreadable: tuple[type[Exception], ...] = (ParseError,),
    ) -> T | Skipped | None:
        """One item read the way every provider reads one: `None` when `key` is remembered
        (it was reported when it first went over), a `Skipped` naming `item` when the parse
        raised one of `unreadable` or went over budget, else what `parse` gave."""
        if self.is_remembered(key):
            return None
        try:
            result = self.run(key, parse)
        except unreadable as exc:
            return Skipped(item, str(exc))
        if isinstance(result, OverBudget):
            return Skipped(item, result.reason)
        return result

    def _remember(self, key: str, cost: str) -> OverBudget:
        reason = (
            f"over the {self.budget.seconds:g} s budget per item ({cost}); "
            "skipped, and not read again by later syncs"
        )
        self._remembered[key] = reason
        while len(self._remembered) > REMEMBERED_LIMIT:
            del self._remembered[next(iter(self._remembered))]
        return OverBudget(key, reason)


class _hard_stop:
    """A SIGALRM timer around a block, when that is safe: main thread, SIGALRM at its default
    handler and no other interval timer running. Otherwise it does nothing."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.armed = False
        self.previous: object = None

    def __enter__(self) -> None:
        if (
            self.seconds <= 0
            or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL
            or signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0)
        ):
            return
        self.previous = signal.signal(signal.SIGALRM, _interrupt)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        self.armed = True

    def __exit__(self, *exc: object) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            self.armed = False


def _interrupt(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    raise _Interrupted
