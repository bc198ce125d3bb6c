"""Batch requests to the Google emulator (https://developers.google.com/gmail/api/guides/batch):
`parse_batch` splits a multipart/mixed body into its application/http requests, and
`serve_batch` runs each of them through `Backend.call`, limited to the batch endpoint's API, and
writes the multipart answer, in request order or reversed as the backend says."""

from __future__ import annotations

import json
import secrets
import urllib.parse
from dataclasses import dataclass
from email.message import Message as MimePart
from email.parser import BytesParser, HeaderParser
from email.policy import compat32

from providers.emulators.google_backend import Backend
from providers.emulators.google_call import DROP, REASONS, Reply, error_reply
from providers.emulators.google_errors import ApiError, bad_request
from providers.emulators.google_routes import match_route

BATCH_PATHS = {"/batch/gmail/v1": "gmail", "/batch/calendar/v3": "calendar"}
"""The API-specific batch endpoints of the batch guides. Not the discovery `batchPath` "batch":
Google discontinued the global batch endpoints, so a client must not depend on it."""
BATCH_LIMITS = {"gmail": 100, "calendar": 1000}
"""https://developers.google.com/gmail/api/guides/batch (100 calls);
https://developers.google.com/calendar/api/guides/batch (1000 calls)."""


@dataclass(frozen=True, slots=True)
class BatchPart:
    content_id: str
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


def parse_batch(content_type: str, body: bytes) -> list[BatchPart]:
    """Split a multipart/mixed batch into its application/http requests
    (https://developers.google.com/gmail/api/guides/batch)."""
    envelope = BytesParser(policy=compat32).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not envelope.is_multipart():
        raise bad_request("Batch request is not multipart/mixed")
    parts: list[BatchPart] = []
    children = envelope.get_payload()
    for part in children if isinstance(children, list) else []:
        if not isinstance(part, MimePart):
            continue
        payload = part.get_payload()
        text = payload if isinstance(payload, str) else ""
        head, _, rest = text.replace("\r\n", "\n").partition("\n\n")
        request_line, _, header_text = head.partition("\n")
        pieces = request_line.split()
        if len(pieces) < 2:
            raise bad_request("Invalid batch part: no request line")
        headers = {k.lower(): v for k, v in HeaderParser().parsestr(header_text).items()}
        inner_body = rest.encode("utf-8", "surrogateescape")
        length = headers.get("content-length")
        if length and length.isdigit():
            inner_body = inner_body[: int(length)]
        parts.append(
            BatchPart(part.get("Content-ID", ""), pieces[0], pieces[1], headers, inner_body)
        )
    return parts


def serve_batch(backend: Backend, api: str, headers: dict[str, str], body: bytes) -> Reply | bytes:
    """Returns DROP, an error Reply, or the multipart body (its boundary is its first line)."""
    try:
        parts = parse_batch(headers.get("content-type", ""), body)
    except ApiError as error:
        return error_reply(error)
    if not parts:
        return error_reply(bad_request("Batch request contains no parts"))
    if len(parts) > BATCH_LIMITS[api]:
        return error_reply(
            bad_request(f"Too many requests in a batch: at most {BATCH_LIMITS[api]} are allowed")
        )
    methods = {
        m[0].method_id
        for p in parts
        if (m := match_route(p.method, urllib.parse.urlsplit(p.target).path)) is not None
    }
    if backend.take_fault(methods, drops=True, others=False) is not None:
        return DROP
    outer = {k: v for k, v in headers.items() if not k.startswith("content-")}
    answers = [
        (
            part,
            backend.call(part.method, part.target, {**outer, **part.headers}, part.body, api=api),
        )
        for part in parts
    ]
    if backend.batch_order == "reversed":
        answers.reverse()
    boundary = "batch_" + secrets.token_hex(12)
    chunks: list[bytes] = []
    for part, reply in answers:
        content_id = part.content_id.strip()
        inner = content_id[1:-1] if content_id.startswith("<") else content_id
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        lines = [
            f"--{boundary}",
            "Content-Type: application/http",
            f"Content-ID: <response-{inner}>",
            "",
            f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Error')}",
            "Content-Type: application/json; charset=UTF-8",
            *(f"{k}: {v}" for k, v in reply.headers),
            f"Content-Length: {len(payload)}",
            "",
        ]
        chunks.append("\r\n".join(lines).encode() + b"\r\n" + payload + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return f"{boundary}\n".encode() + b"".join(chunks)
