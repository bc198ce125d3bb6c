"""The HTTP side of the Google emulator: `EmulatorHTTPServer` listens on 127.0.0.1, and its
handler reads each request (chunked or not), counts it, waits the configured latency, hands it
to the /token endpoint, a batch endpoint or `Backend.call`, and writes the JSON or multipart
answer, or closes the connection for a dropped one. Keep-alive, connection tracking and body
reading come from `loopback`."""

from __future__ import annotations

import json
import time
import urllib.parse

from providers.emulators.google_backend import Backend
from providers.emulators.google_batch import BATCH_PATHS, serve_batch
from providers.emulators.google_call import REASONS, Reply
from providers.emulators.loopback import LoopbackHandler, LoopbackHTTPServer


class _Handler(LoopbackHandler):
    server: EmulatorHTTPServer

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


class EmulatorHTTPServer(LoopbackHTTPServer[Backend]):
    handler = _Handler
