"""Bounded retries with exponential backoff and full jitter, shared by the API providers.

A wait is drawn uniformly between 0 and `base_delay * 2**attempt` (at most `max_delay`), but
never shorter than a Retry-After the server gave. After `attempts` tries the failure is raised:
`RateLimited` when the server was throttling, else `Transient`; either way the sync stops with
its state unsaved, and the next one starts where it did.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from mailagent.errors import RateLimited, Transient

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 64.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        backoff = rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))
        return max(backoff, retry_after or 0.0)

    def wait(
        self,
        attempt: int,
        what: str,
        failure: str,
        retry_after: float | None,
        *,
        sleep: Callable[[float], None],
        rng: random.Random,
    ) -> int:
        """Sleeps before try `attempt + 1` and returns its number, or raises when none is left.
        `failure` says what went wrong ("HTTP 429 rateLimitExceeded", "connection error ...")."""
        if attempt + 1 >= self.attempts:
            error = RateLimited if "429" in failure or "Limit" in failure else Transient
            raise error(
                f"{what}: {failure}, still failing after {self.attempts} attempts",
                advice="the next sync resumes where this one stopped",
            )
        delay = self.delay(attempt, retry_after, rng)
        log.info("%s: %s; retrying in %.1f s", what, failure, delay)
        sleep(delay)
        return attempt + 1
