"""Microsoft Graph's error answer, as the Graph emulator gives it: `GraphError` carries the HTTP
status, the error code and message, any headers (Retry-After, Location, WWW-Authenticate) and
whether the body has an `innerError` (Graph adds one with the date and request ids; Outlook's
throttling answers come without it). The helpers build the errors handlers raise most often,
with the codes and messages Graph and Exchange Online send
(https://learn.microsoft.com/graph/errors, and answers recorded in public bug reports)."""

from __future__ import annotations

from typing import Any


class GraphError(Exception):
    """{"error": {"code", "message", "innerError": {"date", "request-id", ...}}}."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        inner: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.inner = inner

    def body(self, *, date: str, request_id: str, client_request_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.inner:
            error["innerError"] = {
                "date": date,
                "request-id": request_id,
                "client-request-id": client_request_id,
            }
        return {"error": error}


def bad_request(message: str, code: str = "BadRequest") -> GraphError:
    return GraphError(400, code, message)


def item_not_found() -> GraphError:
    """Exchange's answer to an id that names no item of this mailbox (any more)."""
    return GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")


def malformed_id() -> GraphError:
    return GraphError(400, "ErrorInvalidIdMalformed", "Id is malformed.")


def unknown_segment(segment: str) -> GraphError:
    """Real Graph answers 400 BadRequest for an unknown path segment; the emulator answers 404,
    which every client treats as "no such resource" as well (see the module notes in graph.py)."""
    return GraphError(404, "ResourceNotFound", f"Resource not found for the segment '{segment}'.")


def unrecognized_option(name: str) -> GraphError:
    return bad_request(f"Unrecognized query argument specified: '{name}'.")


def unknown_property(name: str, entity: str) -> GraphError:
    return GraphError(
        400,
        "RequestBroker--ParseUri",
        f"Could not find a property named '{name}' on type 'Microsoft.OutlookServices.{entity}'.",
    )


def invalid_filter() -> GraphError:
    return GraphError(
        400, "ErrorInvalidUrlQueryFilter", "The query filter contains one or more invalid nodes."
    )


WWW_AUTHENTICATE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
    'authorize", client_id="00000003-0000-0000-c000-000000000000"'
)


def unauthorized(message: str) -> GraphError:
    """401 InvalidAuthenticationToken; messages as Graph words them: "Access token is empty.",
    "Access token has expired or is not yet valid.", "CompactToken parsing failed ..."."""
    return GraphError(
        401,
        "InvalidAuthenticationToken",
        message,
        headers={"WWW-Authenticate": WWW_AUTHENTICATE},
    )


def throttled(retry_after: float) -> GraphError:
    """What Graph documents for a throttled request
    (https://learn.microsoft.com/graph/throttling#sample-response)."""
    return GraphError(
        429,
        "TooManyRequests",
        "Please retry again later.",
        headers={"Retry-After": f"{retry_after:g}"},
    )


def mailbox_concurrency(retry_after: float) -> GraphError:
    """Outlook's answer past 4 concurrent requests to one mailbox: code ApplicationThrottled and
    no innerError (https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits;
    body as recorded in magodo/terraform-provider-outlook#21)."""
    return GraphError(
        429,
        "ApplicationThrottled",
        "Application is over its MailboxConcurrency limit.",
        headers={"Retry-After": f"{retry_after:g}"},
        inner=False,
    )
