"""The API surface of the Graph emulator, as data. Each `Route` names its operation key (what
the stats count and faults aim at), HTTP method, path template under /v1.0 and the query
options it takes; `match_route` finds a request's route (path segments compare
case-insensitively and `mailFolders('id')` equals `mailFolders/id`, as in Graph's own links),
and `check_options` answers 400 to an option the operation does not support, so that a client
cannot lean on what Graph does not do (https://learn.microsoft.com/graph/api/message-delta,
https://learn.microsoft.com/graph/api/event-delta)."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from providers.emulators.graph_errors import GraphError, unknown_segment, unrecognized_option

_DELTA_TOKENS = frozenset({"$skiptoken", "$deltatoken"})
_LIST = frozenset({"$select", "$filter", "$expand", "$top", "$skip", "$orderby"})
_KEYED = re.compile(r"^([^()]+)\('?([^']*)'?\)$")


@dataclass(frozen=True, slots=True)
class Route:
    operation: str
    http_method: str
    template: str
    """The path under /v1.0, without a leading slash; {name} is a path parameter."""
    options: frozenset[str]


ROUTES: tuple[Route, ...] = (
    Route(
        "messages.delta",
        "GET",
        "me/mailFolders/{folder}/messages/delta",
        frozenset({"$select", "$filter", "$expand", "$top", "$orderby", "changeType"})
        | _DELTA_TOKENS,
    ),
    Route(
        "calendarView.delta",
        "GET",
        "me/calendarView/delta",
        frozenset({"startDateTime", "endDateTime"}) | _DELTA_TOKENS,
    ),
    Route("messages.list", "GET", "me/mailFolders/{folder}/messages", _LIST),
    Route("messages.list", "GET", "me/messages", _LIST),
    Route("messages.create", "POST", "me/mailFolders/{folder}/messages", frozenset()),
    Route("messages.create", "POST", "me/messages", frozenset()),
    Route(
        "messages.get",
        "GET",
        "me/mailFolders/{folder}/messages/{id}",
        frozenset({"$select", "$expand"}),
    ),
    Route("messages.get", "GET", "me/messages/{id}", frozenset({"$select", "$expand"})),
    Route("messages.value", "GET", "me/messages/{id}/$value", frozenset()),
    Route("messages.patch", "PATCH", "me/messages/{id}", frozenset()),
    Route("messages.delete", "DELETE", "me/messages/{id}", frozenset()),
    Route("messages.createReply", "POST", "me/messages/{id}/createReply", frozenset()),
    Route("mailFolders.get", "GET", "me/mailFolders/{folder}", frozenset({"$select"})),
)

CALENDAR_VIEW_UNSUPPORTED = ("$select", "$expand", "$filter", "$orderby", "$search", "$top")
"""event-delta.md: calendarView delta supports none of these."""


def path_segments(path: str) -> list[str]:
    """/v1.0-less path -> decoded segments, `name('key')` split into `name`, `key`."""
    segments: list[str] = []
    for raw in path.strip("/").split("/"):
        segment = urllib.parse.unquote(raw)
        keyed = _KEYED.match(segment)
        if keyed:
            segments.extend(keyed.groups())
        else:
            segments.append(segment)
    return segments


def _match(template: str, segments: list[str]) -> dict[str, str] | None:
    parts = template.split("/")
    if len(parts) != len(segments):
        return None
    found: dict[str, str] = {}
    for want, have in zip(parts, segments, strict=True):
        if want.startswith("{"):
            if not have:
                return None
            found[want[1:-1]] = have
        elif want.lower() != have.lower():
            return None
    return found


def match_route(http_method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route and path parameters of a request; 404 for an unknown path, 405 for a known
    path under another method."""
    segments = path_segments(path)
    other_method = False
    for route in ROUTES:
        found = _match(route.template, segments)
        if found is None:
            continue
        if route.http_method == http_method:
            return route, found
        other_method = True
    if other_method:
        raise GraphError(
            405, "BadRequest", "Specified HTTP method is not allowed for the request target."
        )
    known = {p.lower() for r in ROUTES for p in r.template.split("/") if not p.startswith("{")}
    unknown = next((s for s in segments if s.lower() not in known), segments[-1])
    raise unknown_segment(unknown)


def check_options(route: Route, query: dict[str, str]) -> None:
    if route.operation == "calendarView.delta":
        refused = [name for name in CALENDAR_VIEW_UNSUPPORTED if name in query]
        if refused:
            raise GraphError(
                400,
                "ErrorInvalidUrlQuery",
                "The following parameters are not supported with change tracking over the "
                f"'CalendarView' resource: '{', '.join(refused)}'.",
            )
    for name in query:
        if name not in route.options:
            raise unrecognized_option(name)
