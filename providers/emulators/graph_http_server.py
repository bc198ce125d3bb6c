"""The HTTP side of the Graph emulator: `GraphHTTPServer` listens on 127.0.0.1, and its handler
reads each request (chunked or not), counts it in and out of the mailbox's in-flight gauge
(refusing past the concurrency limit), waits the configured latency, hands it to the $batch
endpoint or `Backend.call`, and writes the JSON answer with Graph's headers, or closes the
connection for a dropped one. Keep-alive, connection tracking and body reading come from
`loopback`."""

from __future__ import annotations

import json
import time
import urllib.parse
from http import HTTPStatus

from providers.emulators.google_call import Reply
from providers.emulators.graph_backend import Backend
from providers.emulators.graph_batch import serve_batch
from providers.emulators.loopback import LoopbackHandler, LoopbackHTTPServer

JSON_TYPE = (
    "application/json; odata.metadata=minimal; odata.streaming=true; "
    "IEEE754Compatible=false; charset=utf-8"
)
BATCH_PATH = "/v1.0/$batch"


class _Handler(LoopbackHandler):
    server: GraphHTTPServer

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
        if reply.raw is not None:
            payload = reply.raw
            self.send_header("Content-Type", "text/plain")
        elif reply.body is not None:
            self.send_header("Content-Type", JSON_TYPE)
            self.send_header("OData-Version", "4.0")
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class GraphHTTPServer(LoopbackHTTPServer[Backend]):
    handler = _Handler
