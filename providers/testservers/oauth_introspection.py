"""A token-introspection endpoint on loopback for Dovecot's oauth2 passdb: with it, a test
Dovecot accepts IMAP XOAUTH2 and OAUTHBEARER logins whose bearer tokens a test makes up, and the
IMAP provider's token login runs end to end without the internet.

`IntrospectionServer(lookup)` answers each token with the claims `lookup` gives it (Dovecot
checks them: the user, `active`, the scope), in any of Dovecot 2.3's `introspection_mode`s:
"auth" (GET, `Authorization: Bearer <token>`), "get" (GET, the token appended to the URL, see
`url_for`) and "post" (POST, form body `token=<token>`, RFC 7662). A token `lookup` does not
know gets RFC 7662's answer for it, 200 `{"active": false}`, which Dovecot 2.3.19 (with
`active_attribute = active`) refuses like a wrong password, "[AUTHENTICATIONFAILED]";
a 400 or 401 with `{"error": ...}` would be its "[UNAVAILABLE] Temporary authentication failure".
A request without a token gets 400 `{"error": "invalid_request"}`. `served` lists what was
asked, for tests to check; nothing is logged.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qs, urlsplit

__all__ = ["INACTIVE", "IntrospectionMode", "IntrospectionServer", "Lookup", "Served"]

IntrospectionMode = Literal["auth", "get", "post"]
Lookup = Callable[[str], Mapping[str, Any] | None]
"""A bearer token's claims, or None for a token the server does not know."""

INACTIVE: Mapping[str, Any] = {"active": False}
"""RFC 7662 section 2.2: what an unknown, expired or revoked token introspects as."""

PATH = "/introspect"
READ_TIMEOUT = 5.0  # seconds a connection may take to send its request


@dataclass(frozen=True)
class Served:
    """One introspection request: how the token came, and which one (kept out of repr)."""

    mode: IntrospectionMode
    token: str = field(repr=False)
    known: bool


class IntrospectionServer:
    """`with IntrospectionServer(lookup) as endpoint:` an introspection endpoint at
    `endpoint.url` on 127.0.0.1."""

    host = "127.0.0.1"

    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup
        self._served: list[Served] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        if self._server is not None:
            return
        self._server = _Server((self.host, 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"introspection-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving; waits for the requests under way (each closes its connection)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the introspection server is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The endpoint, as Dovecot's `introspection_url` for the modes "auth" and "post"."""
        return f"http://{self.host}:{self.port}{PATH}"

    def url_for(self, mode: IntrospectionMode) -> str:
        """Dovecot's `introspection_url` for `mode`: "get" appends the token to it as is."""
        return f"{self.url}?token=" if mode == "get" else self.url

    @property
    def served(self) -> list[Served]:
        """The requests answered so far, oldest first."""
        with self._lock:
            return list(self._served)

    def _answer(self, mode: IntrospectionMode, token: str) -> Mapping[str, Any]:
        claims = self.lookup(token)
        with self._lock:
            self._served.append(Served(mode, token, known=claims is not None))
        return INACTIVE if claims is None else claims


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # joined by server_close: no request outlives `close`
    block_on_close = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        endpoint: IntrospectionServer,
    ) -> None:
        self.endpoint = endpoint
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.0: one request a connection, so nothing waits on an idle keep-alive socket."""

    server: _Server
    timeout = READ_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: request lines of the "get" mode hold the token."""

    def do_GET(self) -> None:
        authorization = self.headers.get("Authorization", "")
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            self._reply("auth", credentials.strip())
        else:
            self._reply("get", _first(parse_qs(urlsplit(self.path).query), "token"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("ascii", errors="replace") if length else ""
        self._reply("post", _first(parse_qs(body), "token"))

    def _reply(self, mode: IntrospectionMode, token: str) -> None:
        if urlsplit(self.path).path != PATH:
            self._send(404, {"error": "not_found"})
        elif not token:
            self._send(400, {"error": "invalid_request", "error_description": "no token"})
        else:
            self._send(200, self.server.endpoint._answer(mode, token))

    def _send(self, status: int, payload: Mapping[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


def _first(query: dict[str, list[str]], name: str) -> str:
    values = query.get(name)
    return values[0] if values else ""
