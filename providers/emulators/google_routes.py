"""The API surface of the Google emulator, as data. Each `Route` names its discovery method id,
HTTP method, path template and query parameters, and a test checks every route against the
discovery documents shipped with google-api-python-client, so the emulator cannot serve what
Google does not; `match_route` finds a request's route, and `check_params` answers 400 to a
query parameter the method lacks, so clients cannot lean on parameters Google does not have.
`QUOTA_UNITS` gives what each Gmail method costs."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from providers.emulators.google_errors import bad_request


@dataclass(frozen=True, slots=True)
class Route:
    method_id: str
    http_method: str
    path_template: str
    """The discovery `path` (Gmail) or `servicePath + path` (Calendar), without a leading /."""
    params: frozenset[str]
    """Query parameters of the method this route accepts (path parameters are in the template)."""

    @property
    def api(self) -> str:
        return self.method_id.split(".", 1)[0]


_G = "gmail/v1/users/{userId}"
ROUTES: tuple[Route, ...] = (
    Route("gmail.users.getProfile", "GET", f"{_G}/profile", frozenset()),
    Route(
        "gmail.users.messages.list",
        "GET",
        f"{_G}/messages",
        frozenset({"q", "labelIds", "maxResults", "pageToken", "includeSpamTrash"}),
    ),
    Route(
        "gmail.users.messages.get",
        "GET",
        f"{_G}/messages/{{id}}",
        frozenset({"format", "metadataHeaders"}),
    ),
    Route(
        "gmail.users.messages.attachments.get",
        "GET",
        f"{_G}/messages/{{messageId}}/attachments/{{id}}",
        frozenset(),
    ),
    Route(
        "gmail.users.threads.get",
        "GET",
        f"{_G}/threads/{{id}}",
        frozenset({"format", "metadataHeaders"}),
    ),
    Route(
        "gmail.users.history.list",
        "GET",
        f"{_G}/history",
        frozenset({"startHistoryId", "historyTypes", "labelId", "maxResults", "pageToken"}),
    ),
    Route("gmail.users.drafts.create", "POST", f"{_G}/drafts", frozenset()),
    Route("gmail.users.drafts.get", "GET", f"{_G}/drafts/{{id}}", frozenset({"format"})),
    Route(
        "gmail.users.drafts.list",
        "GET",
        f"{_G}/drafts",
        frozenset({"q", "maxResults", "pageToken", "includeSpamTrash"}),
    ),
    Route("gmail.users.drafts.update", "PUT", f"{_G}/drafts/{{id}}", frozenset()),
    Route("gmail.users.drafts.delete", "DELETE", f"{_G}/drafts/{{id}}", frozenset()),
    Route(
        "calendar.events.list",
        "GET",
        "calendar/v3/calendars/{calendarId}/events",
        frozenset(
            {
                "alwaysIncludeEmail",
                "eventTypes",
                "iCalUID",
                "maxAttendees",
                "maxResults",
                "orderBy",
                "pageToken",
                "privateExtendedProperty",
                "q",
                "sharedExtendedProperty",
                "showDeleted",
                "showHiddenInvitations",
                "singleEvents",
                "syncToken",
                "timeMax",
                "timeMin",
                "timeZone",
                "updatedMin",
            }
        ),
    ),
)

STANDARD_PARAMS: dict[str, frozenset[str]] = {
    "gmail": frozenset(
        {
            "$.xgafv",
            "access_token",
            "alt",
            "callback",
            "fields",
            "key",
            "oauth_token",
            "prettyPrint",
            "quotaUser",
            "uploadType",
            "upload_protocol",
        }
    ),
    "calendar": frozenset(
        {"alt", "fields", "key", "oauth_token", "prettyPrint", "quotaUser", "userIp"}
    ),
}
"""The top-level `parameters` of gmail.v1.json and calendar.v3.json."""

QUOTA_UNITS: dict[str, int] = {
    "gmail.users.getProfile": 1,
    "gmail.users.history.list": 2,
    "gmail.users.messages.list": 5,
    "gmail.users.messages.get": 5,
    "gmail.users.messages.attachments.get": 5,
    "gmail.users.drafts.get": 5,
    "gmail.users.drafts.list": 5,
    "gmail.users.drafts.create": 10,
    "gmail.users.drafts.delete": 10,
    "gmail.users.drafts.update": 15,
    "gmail.users.threads.get": 10,
}
"""https://developers.google.com/gmail/api/reference/quota; threads.get is not on the page we
read and is commonly cited as 10. Calendar methods count 1 each."""


def match_route(http_method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    segments = path.strip("/").split("/")
    for route in ROUTES:
        if route.http_method != http_method:
            continue
        template = route.path_template.split("/")
        if len(template) != len(segments):
            continue
        found: dict[str, str] = {}
        for want, have in zip(template, segments, strict=True):
            if want.startswith("{"):
                if not have:
                    break
                found[want[1:-1]] = urllib.parse.unquote(have)
            elif want != have:
                break
        else:
            return route, found
    return None


def check_params(route: Route, query: dict[str, list[str]]) -> None:
    """400 for a query parameter that the method does not take, or an `alt` other than json."""
    unknown = set(query) - route.params - STANDARD_PARAMS[route.api]
    if unknown:
        name = sorted(unknown)[0]
        raise bad_request(
            f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
            f"parameter. Field '{name}' could not be found in request message."
        )
    alt = query.get("alt", ["json"])[-1]
    if alt != "json":
        raise bad_request(f"Invalid value '{alt}' for parameter alt")
