"""Loopback ports for the test servers."""

from __future__ import annotations

import socket

__all__ = ["free_port", "port_is_free"]


def free_port(*, avoid: int = 0) -> int:
    """A port on 127.0.0.1 that nothing listens on now (other than `avoid`)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port != avoid:
            return port


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
