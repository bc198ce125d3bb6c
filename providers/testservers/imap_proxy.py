"""A TCP proxy in front of a test IMAP server that injects connection faults on request.

The IMAP provider cannot be told "the APPEND reached the server but its answer did not reach
you" by any real server on demand; this proxy does it. It forwards bytes both ways unchanged
until a fault is armed:

- `drop_after_append(times)`: the next `times` APPEND commands are forwarded and served, then
  the connection is closed before the server's tagged answer reaches the client (the draft is
  in the mailbox; the client cannot know).
  With `then_refuse=n` the next n connections after that drop are refused.
- `refuse_connections(count)`: the next `count` connections are accepted and closed at once,
  before the server's greeting (a server that went away, a network that is down).
- `drop_before_append(times)`: the next `times` APPEND commands are not forwarded; the
  connection is closed instead (nothing is written; the client cannot know either).

`dialect`, when set, rewrites each line the server sends (outside the faults), so that
Dovecot can answer the way another server spells things (`quoted_field_names`: Courier's
`BODY[HEADER.FIELDS ("FROM" "SUBJECT")]`; `NoLoginCapabilities`: Courier's LOGIN answer, which
carries no CAPABILITY response code).

`refuse_append_to_examined`, when set, answers an APPEND to the folder this connection has
selected read-only (EXAMINE) the way Courier-IMAP does: `NO Current box is selected READ-ONLY`,
without passing it on. `refuse_commands` maps a command name ("CREATE") to the text of the
NO it gets instead of an answer from the server.

`faults_pending()` says how many armed faults are still waiting, so that a test or the chaos
campaign can arm faults before a sync and see which ones it met. A test double only: nothing
here is used by mailagent itself.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

_APPEND = re.compile(rb"(?:^|\r\n)([A-Za-z0-9.]+) APPEND ", re.IGNORECASE)
_MAILBOX_COMMAND = re.compile(
    rb'(?:^|\r\n)([A-Za-z0-9.]+) (EXAMINE|SELECT|CLOSE|UNSELECT|APPEND|CREATE)(?: ("(?:[^"\\]|\\.)*"|[^ \r\n]+))?',
    re.IGNORECASE,
)
_FIELDS = re.compile(rb"BODY\[HEADER\.FIELDS \(([^)]*)\)\]", re.IGNORECASE)


def quoted_field_names(line: bytes) -> bytes:
    """A FETCH answer as Courier-IMAP gives it: the header field names quoted (RFC 3501
    allows astrings there)."""
    return _FIELDS.sub(
        lambda m: (
            b"BODY[HEADER.FIELDS ("
            + b" ".join(b'"' + name + b'"' for name in m.group(1).split())
            + b")]"
        ),
        line,
    )


_CAPABILITY_CODE = re.compile(rb"^([A-Za-z0-9.]+ OK) \[CAPABILITY [^\]]*\] ?", re.IGNORECASE)


class NoLoginCapabilities:
    """A dialect for one connection: the LOGIN answer without capabilities, as Courier-IMAP
    gives it, so that a client must ask CAPABILITY itself. It drops the second untagged
    CAPABILITY (the first answers the CAPABILITY a client sends on connecting; the second is
    the one Dovecot sends with its LOGIN answer) and the CAPABILITY code of a tagged OK."""

    def __init__(self) -> None:
        self.untagged = 0

    def __call__(self, line: bytes) -> bytes | None:
        if line.upper().startswith(b"* CAPABILITY "):
            self.untagged += 1
            return None if self.untagged == 2 else line
        return _CAPABILITY_CODE.sub(lambda m: m.group(1) + b" ", line)


@dataclass
class _Faults:
    drop_after_append: int = 0
    drop_before_append: int = 0
    refuse: int = 0
    refuse_after_drop: int = 0
    met: list[str] = field(default_factory=list)


class ImapFaultProxy:
    """Listens on 127.0.0.1 (`port`) and forwards to `target_host:target_port`."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._lock = threading.Lock()
        self._faults = _Faults()
        self.dialect: Callable[[bytes], bytes | None] | None = None
        """Rewrites each line from the server; None drops the line."""
        self.refuse_append_to_examined = False
        self.refuse_commands: dict[str, str] = {}
        """Rewrites each line from the server (see the module notes)."""
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._closed = False
        self._sockets: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, name="imap-proxy", daemon=True)
        self._thread.start()

    # faults

    def drop_after_append(self, times: int = 1, *, then_refuse: int = 0) -> None:
        """`then_refuse`: after each such drop, refuse that many new connections."""
        with self._lock:
            self._faults.drop_after_append += times
            self._faults.refuse_after_drop = then_refuse

    def drop_before_append(self, times: int = 1) -> None:
        with self._lock:
            self._faults.drop_before_append += times

    def refuse_connections(self, count: int = 1) -> None:
        with self._lock:
            self._faults.refuse += count

    def faults_pending(self) -> int:
        with self._lock:
            f = self._faults
            return f.drop_after_append + f.drop_before_append + f.refuse

    def clear_faults(self) -> None:
        with self._lock:
            met = self._faults.met
            self._faults = _Faults(met=met)

    @property
    def faults_met(self) -> list[str]:
        """Every fault that acted, in order ("drop-after-append", "refuse", ...)."""
        with self._lock:
            return list(self._faults.met)

    # lifecycle

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _close(sock)

    def __enter__(self) -> ImapFaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # forwarding

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refuse = self._faults.refuse > 0
                if refuse:
                    self._faults.refuse -= 1
                    self._faults.met.append("refuse")
            if refuse:
                _close(client)
                continue
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets.update((client, server))
            session = _Session(self, client, server)
            threading.Thread(target=session.upstream, daemon=True).start()
            threading.Thread(target=session.downstream, daemon=True).start()

    def _take(self, kind: str) -> bool:
        with self._lock:
            count = getattr(self._faults, kind)
            if count <= 0:
                return False
            setattr(self._faults, kind, count - 1)
            self._faults.met.append(kind.replace("_", "-"))
            if kind == "drop_after_append":
                self._faults.refuse += self._faults.refuse_after_drop
            return True


class _Session:
    def __init__(self, proxy: ImapFaultProxy, client: socket.socket, server: socket.socket):
        self.proxy = proxy
        self.client = client
        self.server = server
        self.doomed_tag: bytes | None = None
        """The tag of an APPEND whose answer must not reach the client."""
        self.examined: bytes | None = None
        """The folder this connection has selected read-only (EXAMINE), as the client named it."""

    def shut(self) -> None:
        _close(self.client)
        _close(self.server)

    def upstream(self) -> None:
        for data in _chunks(self.client):
            refusal = self._refusal(data)
            if refusal is not None:
                try:
                    self.client.sendall(refusal)
                except OSError:
                    break
                continue
            match = _APPEND.search(data)
            if match and self.proxy._take("drop_before_append"):
                self.shut()
                return
            if match and self.proxy._take("drop_after_append"):
                self.doomed_tag = match.group(1)
            try:
                self.server.sendall(data)
            except OSError:
                break
        self.shut()

    def _refusal(self, data: bytes) -> bytes | None:
        """Follow what the client selects; the NO for a command in `refuse_commands`, or
        Courier's for an APPEND into the folder it examines (`refuse_append_to_examined`);
        else None."""
        for match in _MAILBOX_COMMAND.finditer(data):
            tag, command, mailbox = match.group(1), match.group(2).upper(), match.group(3)
            name = (mailbox or b"").strip(b'"')
            refused = self.proxy.refuse_commands.get(command.decode())
            if refused is not None:
                return tag + b" NO " + refused.encode() + b"\r\n"
            if command == b"EXAMINE":
                self.examined = name
            elif command in (b"SELECT", b"CLOSE", b"UNSELECT"):
                self.examined = None
            elif (
                command == b"APPEND"
                and self.proxy.refuse_append_to_examined
                and name == self.examined
            ):
                return tag + b" NO Current box is selected READ-ONLY.\r\n"
        return None

    def downstream(self) -> None:
        pending = b""
        for data in _chunks(self.server):
            if self.doomed_tag is None and not pending and self.proxy.dialect is None:
                try:
                    self.client.sendall(data)
                except OSError:
                    break
                continue
            pending += data
            lines = pending.split(b"\r\n")
            pending = lines.pop()
            out: list[bytes] = []
            for line in lines:
                if self.doomed_tag is not None and line.startswith(self.doomed_tag + b" "):
                    with contextlib.suppress(OSError):
                        self.client.sendall(b"".join(out))
                    self.shut()
                    return
                dialect = self.proxy.dialect
                rewritten = dialect(line) if dialect else line
                if rewritten is not None:
                    out.append(rewritten + b"\r\n")
            try:
                self.client.sendall(b"".join(out))
            except OSError:
                break
        self.shut()


def _chunks(sock: socket.socket) -> Iterator[bytes]:
    while True:
        try:
            data = sock.recv(65536)
        except OSError:
            return
        if not data:
            return
        yield data


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
