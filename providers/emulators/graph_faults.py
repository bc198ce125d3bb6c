"""Faults the Graph emulator injects on request: a `Fault` names its kind (429, 503, 500, 401,
or a dropped connection before or after serving), what it aims at (a substring of the request
path and query, and/or an operation key such as "messages.delta") and how many calls it fails;
`fault_error` builds the answer Graph gives for each kind."""

from __future__ import annotations

from dataclasses import dataclass

from providers.emulators.graph_errors import GraphError, throttled, unauthorized

FAULT_KINDS: tuple[str, ...] = ("429", "503", "500", "401", "drop", "drop-after")
""""drop" closes the connection before the request is served; "drop-after" serves it (a draft
is created, say) and then closes the connection without answering. Both act on a whole HTTP
request, so a drop aimed at one part of a $batch drops the whole batch."""

DEFAULT_RETRY_AFTER = 1.0
"""Seconds in Retry-After when a 429 or 503 fault names none: mail and calendar always send
the header (https://learn.microsoft.com/graph/throttling#best-practices-to-handle-throttling)."""


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    path_contains: str | None
    """A substring of the request's path and query (without /v1.0); None: any."""
    operation: str | None
    """An operation key ("messages.delta", "messages.createReply", ...); None: any."""
    times: int
    retry_after: float | None = None

    def aims_at(self, operation: str, target: str) -> bool:
        if self.operation is not None and self.operation != operation:
            return False
        return self.path_contains is None or self.path_contains in target


def fault_error(fault: Fault) -> GraphError:
    wait = DEFAULT_RETRY_AFTER if fault.retry_after is None else fault.retry_after
    if fault.kind == "429":
        return throttled(wait)
    if fault.kind == "503":
        return GraphError(
            503,
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please retry later.",
            headers={"Retry-After": f"{wait:g}"},
        )
    if fault.kind == "401":
        return unauthorized("Access token has expired or is not yet valid.")
    return GraphError(500, "InternalServerError", "An internal server error occurred.")
