"""The HTTP side of the Graph emulator: `GraphHTTPServer` listens on 127.0.0.1, and its handler
reads each request (chunked or not), counts it in and out of the mailbox's in-flight gauge
(refusing past the concurrency limit), waits the configured latency, hands it to the $batch
endpoint or `Backend.call`, and writes the JSON answer with Graph's headers, or closes the
connection for a dropped one. HTTP/1.1 keep-alive with TCP_NODELAY; the server tracks its open
connections so that closing it leaves no thread parked on an idle keep-alive socket."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from providers.emulators.google_call import Reply
from providers.emulators.graph_backend import Backend
from providers.emulators.graph_batch import serve_batch

JSON_TYPE = (
    "application/json; odata.metadata=minimal; odata.streaming=true; "
    "IEEE754Compatible=false; charset=utf-8"
)
BATCH_PATH = "/v1.0/$batch"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GraphHTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK hold the second one back ~40 ms on every keep-alive response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and the standalone server print what matters themselves."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _headers(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            found[key] = f"{found[key]}, {value}" if key == "prefer" and key in found else value
        return found

    def _serve(self) -> None:
        backend = self.server.backend
        body = self._read_body()
        headers = self._headers()
        origin = "http://" + headers.get("host", f"127.0.0.1:{self.server.server_address[1]}")
        admitted = backend.enter()
        try:
            if not admitted:
                reply = backend.concurrency_reply(headers)
            else:
                if backend.latency > 0:
                    time.sleep(backend.latency)
                path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
                if path == BATCH_PATH and self.command == "POST":
                    reply = serve_batch(backend, headers, body, origin)
                else:
                    reply = backend.call(self.command, self.path, headers, body, origin=origin)
        finally:
            # Out of the gauge before the answer leaves: a client that sends its next request
            # the moment it reads this answer must not find this one still counted.
            backend.leave()
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        if reply.dropped:
            self.close_connection = True
            return
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status, HTTPStatus(reply.status).phrase)
        if reply.body is not None:
            self.send_header("Content-Type", JSON_TYPE)
            self.send_header("OData-Version", "4.0")
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class GraphHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, backend: Backend) -> None:
        self.backend = backend
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def track(self, connection: socket.socket, *, add: bool) -> None:
        with self._open_lock:
            if add:
                self._open.add(connection)
            else:
                self._open.discard(connection)

    def close_connections(self) -> None:
        """Wake handler threads parked on idle keep-alive connections so they end."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)
