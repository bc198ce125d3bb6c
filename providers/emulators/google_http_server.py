"""The HTTP side of the Google emulator: `EmulatorHTTPServer` listens on 127.0.0.1, and its
handler reads each request (chunked or not), counts it, waits the configured latency, hands it
to the /token endpoint, a batch endpoint or `Backend.call`, and writes the JSON or multipart
answer, or closes the connection for a dropped one. The server tracks its open connections so
that closing it leaves no thread parked on an idle keep-alive socket."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from providers.emulators.google_backend import Backend
from providers.emulators.google_batch import BATCH_PATHS, serve_batch
from providers.emulators.google_call import REASONS, Reply


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EmulatorHTTPServer

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

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
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

    def _serve(self) -> None:
        backend = self.server.backend
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = urllib.parse.urlsplit(self.path).path
        if path != "/token":
            with backend.lock:
                backend.stats.http_requests += 1
        if backend.latency > 0:
            time.sleep(backend.latency)
        if path == "/token" and self.command == "POST":
            # Closing after each token answer lets clients that refresh through a throwaway
            # httplib2.Http (googleapiclient's batch does) leave no socket open behind them.
            self.close_connection = True
            self._send(backend.token_endpoint(body), (("Connection", "close"),))
        elif path in BATCH_PATHS and self.command == "POST":
            result = serve_batch(backend, BATCH_PATHS[path], headers, body)
            if isinstance(result, bytes):
                boundary, _, payload = result.partition(b"\n")
                self._write(200, payload, f"multipart/mixed; boundary={boundary.decode()}", ())
            else:
                self._send(result)
        else:
            self._send(backend.call(self.command, self.path, headers, body))

    def _send(self, reply: Reply, extra: tuple[tuple[str, str], ...] = ()) -> None:
        if reply.dropped:
            self.close_connection = True
            return
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        headers = reply.headers + extra
        self._write(reply.status, payload, "application/json; charset=UTF-8", headers)

    def _write(
        self,
        status: int,
        payload: bytes,
        content_type: str,
        headers: tuple[tuple[str, str], ...],
    ) -> None:
        self.send_response(status, REASONS.get(status))
        if status != 204:
            self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class EmulatorHTTPServer(ThreadingHTTPServer):
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
