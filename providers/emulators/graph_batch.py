"""JSON batching on the Graph emulator (https://learn.microsoft.com/graph/json-batching):
`serve_batch` checks a `POST /v1.0/$batch` body as Graph does before running anything (at
most 20 requests, unique ids, a Content-Type with every body, known dependsOn ids, no cycle;
any breach fails the whole batch with 400), then runs each request through `Backend.call` in
dependency order, answers 424 for a request whose dependency failed, and returns every answer
in one 200 response, in request order or reversed as the backend says. Drop faults act on
the whole batch; every other fault hits the part it aims at."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from providers.emulators.google_call import DROP, Reply
from providers.emulators.graph_backend import VERSION_PREFIX, Backend
from providers.emulators.graph_errors import GraphError, bad_request
from providers.emulators.graph_routes import match_route

MAX_REQUESTS = 20
"""json-batching.md: "JSON batch requests are currently limited to 20 individual requests"."""
JSON_TYPE = "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8"


class _Part:
    def __init__(self, raw: Any) -> None:
        if not isinstance(raw, dict):
            raise bad_request("Invalid batch payload format.")
        self.id = raw.get("id")
        self.method = raw.get("method")
        self.url = raw.get("url")
        if not all(isinstance(v, str) and v for v in (self.id, self.method, self.url)):
            raise bad_request("Each batch request needs an id, a method and a url.")
        headers = raw.get("headers") or {}
        depends = raw.get("dependsOn") or []
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise bad_request(f"Invalid headers in request id : {self.id}.")
        if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
            raise bad_request(f"Invalid dependsOn in request id : {self.id}.")
        self.headers = {str(k).lower(): v for k, v in headers.items()}
        self.depends: list[str] = depends
        self.has_body = "body" in raw and raw["body"] is not None
        self.body = raw.get("body")
        if urllib.parse.urlsplit(str(self.url)).scheme:
            raise bad_request(f"Invalid request URL in request id : {self.id}; use a relative URL.")

    @property
    def target(self) -> str:
        return VERSION_PREFIX + str(self.url).lstrip("/")

    def payload(self) -> bytes:
        if not self.has_body:
            return b""
        if isinstance(self.body, str) and not self.headers["content-type"].startswith(
            "application/json"
        ):
            return self.body.encode()
        return json.dumps(self.body).encode()


def _parse(body: bytes) -> list[_Part]:
    try:
        document = json.loads(body)
    except ValueError:
        raise bad_request("Invalid batch payload format.") from None
    requests = document.get("requests") if isinstance(document, dict) else None
    if not isinstance(requests, list) or not requests:
        raise bad_request("Invalid batch payload format.")
    if len(requests) > MAX_REQUESTS:
        raise bad_request(f"Number of batch request steps exceeds the maximum of {MAX_REQUESTS}.")
    parts = [_Part(raw) for raw in requests]
    ids = [p.id for p in parts]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise bad_request(f"Batch request contains duplicate request id : {duplicate}.")
    for part in parts:
        if part.has_body and "content-type" not in part.headers:
            raise bad_request(
                f"Write request id : {part.id} does not contain Content-Type header or body."
            )
        unknown = [d for d in part.depends if d not in ids]
        if unknown:
            raise bad_request(f"Request id : {part.id} depends on an unknown id : {unknown[0]}.")
    return parts


def _order(parts: list[_Part]) -> list[_Part]:
    """Dependency order, keeping request order where dependencies allow; 400 on a cycle."""
    done: set[str] = set()
    ordered: list[_Part] = []
    pending = list(parts)
    while pending:
        ready = [p for p in pending if all(d in done for d in p.depends)]
        if not ready:
            raise bad_request("The batch request contains a circular dependency.")
        ordered.extend(ready)
        done.update(str(p.id) for p in ready)
        pending = [p for p in pending if p not in ready]
    return ordered


def _answer(part: _Part, reply: Reply) -> dict[str, Any]:
    headers = {"Cache-Control": "private"}
    if reply.body is not None:
        headers["Content-Type"] = JSON_TYPE
    headers.update(dict(reply.headers))
    answer: dict[str, Any] = {"id": part.id, "status": reply.status, "headers": headers}
    if reply.body is not None:
        answer["body"] = reply.body
    return answer


def serve_batch(backend: Backend, headers: dict[str, str], body: bytes, origin: str) -> Reply:
    """DROP, a 4xx for the whole batch, or the 200 answer with one response per request."""
    denied = backend.auth_error(headers)
    if denied is not None:
        return backend.error_reply(denied, headers)
    try:
        requested = _parse(body)
        parts = _order(requested)
    except GraphError as error:
        return backend.error_reply(error, headers)
    with backend.lock:
        backend.stats.batch_sizes.append(len(parts))
    targets: list[tuple[str, str]] = []
    for part in parts:
        split = urllib.parse.urlsplit(part.target)
        try:
            route, _ = match_route(str(part.method).upper(), split.path[len(VERSION_PREFIX) :])
        except GraphError:
            continue
        aim = split.path[len(VERSION_PREFIX) :] + (
            "?" + urllib.parse.unquote(split.query) if split.query else ""
        )
        targets.append((route.operation, aim))
    drop = backend.take_fault(targets, drops=True, others=False)
    if drop is not None and drop.kind == "drop":
        return DROP
    outer: dict[str, str] = {
        k: headers[k] for k in ("authorization", "host", "client-request-id") if k in headers
    }
    replies: dict[str, Reply] = {}
    for part in parts:
        if any(replies[d].status >= 400 for d in part.depends):
            failed = GraphError(424, "FailedDependency", "Failed dependency.")
            replies[str(part.id)] = backend.error_reply(failed, headers)
            continue
        replies[str(part.id)] = backend.call(
            str(part.method).upper(),
            part.target,
            {**outer, **part.headers},
            part.payload(),
            origin=origin,
            in_batch=True,
        )
    if drop is not None:  # "drop-after": every part was served, the answer is lost
        return DROP
    answers = [_answer(part, replies[str(part.id)]) for part in requested]
    if backend.batch_order == "reversed":
        answers.reverse()
    return Reply(200, {"responses": answers})
