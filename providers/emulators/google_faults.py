"""Faults the Google emulator injects on request: a `Fault` names its kind (429, a 403 rate
limit, 500, 503, or a dropped connection before or after serving), the method it aims at and how many calls it fails,
and `fault_error` builds the error that Google answers with for each kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from providers.emulators.google_errors import ApiError

FaultKind = Literal["429", "403-rate", "403-user-rate", "500", "503", "drop", "drop-after"]
FAULT_KINDS: tuple[str, ...] = (
    "429",
    "403-rate",
    "403-user-rate",
    "500",
    "503",
    "drop",
    "drop-after",
)
""""drop" closes the connection before the call is served; "drop-after" serves it (a draft is
created, say) and then closes the connection without answering, so the client cannot know."""


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    method: str | None
    """A discovery method id; None: any method."""
    times: int
    retry_after: float | None = None
    direct_only: bool = False
    """Only calls made on their own, not the parts of a batch: a test aims a storm at the one
    call it means (a draft's settling look-up) past the batched look-ups before it."""


def fault_error(fault: Fault) -> ApiError:
    headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
    exhausted = "RESOURCE_EXHAUSTED"
    table = {
        "429": (429, "Too many requests", "rateLimitExceeded", "usageLimits", exhausted),
        "403-rate": (403, "Rate Limit Exceeded", "rateLimitExceeded", "usageLimits", None),
        "403-user-rate": (
            403,
            "User Rate Limit Exceeded",
            "userRateLimitExceeded",
            "usageLimits",
            None,
        ),
        "500": (500, "Backend Error", "backendError", "global", "INTERNAL"),
        "503": (503, "The service is currently unavailable.", "backendError", "global", None),
    }
    code, message, reason, domain, status = table[fault.kind]
    status = status or {403: "PERMISSION_DENIED", 503: "UNAVAILABLE"}[code]
    return ApiError(code, message, reason, domain=domain, status=status, headers=headers)
