"""What both local API emulators share on the socket side: a threaded HTTP/1.1 server on
127.0.0.1, a request handler base, and the emulator lifecycle.

`LoopbackHTTPServer` tracks its open connections so that closing it leaves no thread parked on
an idle keep-alive socket. `LoopbackHandler` sets TCP_NODELAY, stays quiet, reads each request's
body (chunked or not) and sends every method to `_serve`, which each emulator writes.
`LoopbackEmulator` starts the server on a daemon thread, stops it, and offers the properties
that only need the backend's clock, latency and lock."""

from __future__ import annotations

import contextlib
import socket
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

__all__ = ["LoopbackBackend", "LoopbackEmulator", "LoopbackHTTPServer", "LoopbackHandler"]


class LoopbackBackend(Protocol):
    """The part of an emulator's backend that the lifecycle and settings touch."""

    lock: threading.RLock
    now: datetime
    latency: float


BackendT = TypeVar("BackendT", bound=LoopbackBackend)


class LoopbackHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive; every method goes to `_serve`."""

    protocol_version = "HTTP/1.1"
    server: LoopbackHTTPServer[Any]

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

    def _serve(self) -> None:
        raise NotImplementedError

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


class LoopbackHTTPServer(ThreadingHTTPServer, Generic[BackendT]):
    """Serves `handler` on 127.0.0.1:`port` (0: any free port) for `backend`."""

    daemon_threads = True
    allow_reuse_address = True
    handler: ClassVar[type[LoopbackHandler]]

    def __init__(self, port: int, backend: BackendT) -> None:
        self.backend = backend
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), self.handler)

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


class LoopbackEmulator(Generic[BackendT]):
    """Starts and stops a `server_class` on a daemon thread; use it as a context manager."""

    server_class: ClassVar[type[LoopbackHTTPServer[Any]]]
    thread_prefix: ClassVar[str]
    """The serving thread is named "{thread_prefix}-{port}"."""

    def __init__(self, backend: BackendT, *, latency: float, port: int) -> None:
        self._backend = backend
        self._backend.latency = latency
        self._port = port
        self._server: LoopbackHTTPServer[Any] | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    def start(self) -> Self:
        if self._server is None:
            self._server = self.server_class(self._port, self._backend)
            self._port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"{self.thread_prefix}-{self._port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- port, clock, latency and lock --

    @property
    def port(self) -> int:
        return self._port

    @property
    def now(self) -> datetime:
        return self._backend.now

    @now.setter
    def now(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("emulator.now must be timezone-aware")
        with self._backend.lock:
            self._backend.now = moment

    @property
    def latency(self) -> float:
        """Seconds each HTTP request waits before it is served (a batch waits once)."""
        return self._backend.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._backend.latency = seconds

    @property
    def lock(self) -> threading.RLock:
        """Hold it while touching the emulator's low-level state."""
        return self._backend.lock
