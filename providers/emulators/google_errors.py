"""Google's error answer, as both emulated APIs give it: `ApiError` carries the code, message,
reason, domain, status and any headers (such as Retry-After) of a `{"error": {...}}` body, and
`not_found` and `bad_request` build the two errors that handlers raise most often."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Google-style error response: {"error": {"code", "message", "errors": [...], ...}}."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str,
        *,
        domain: str = "global",
        status: str | None = None,
        location: str | None = None,
        location_type: str | None = None,
        headers: dict[str, str] | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.status = status
        self.location = location
        self.location_type = location_type
        self.headers = headers or {}
        self.detail = detail
        """errors[0].message when it differs from the top-level message (as for 401)."""

    def body(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "message": self.detail or self.message,
            "domain": self.domain,
            "reason": self.reason,
        }
        if self.location_type is not None:
            detail["locationType"] = self.location_type
        if self.location is not None:
            detail["location"] = self.location
        error: dict[str, Any] = {"code": self.code, "message": self.message, "errors": [detail]}
        if self.status is not None:
            error["status"] = self.status
        return {"error": error}


def not_found() -> ApiError:
    return ApiError(404, "Requested entity was not found.", "notFound", status="NOT_FOUND")


def bad_request(message: str, reason: str = "badRequest") -> ApiError:
    return ApiError(400, message, reason, status="INVALID_ARGUMENT")
