"""A real Xandikos CalDAV server for tests, the second one beside Radicale: `XandikosServer` runs
one on loopback in a temporary folder; `publish` (from `caldav_server`) fills its calendars.

Xandikos (https://www.xandikos.org/) keeps each collection as a Git repository and reads
calendars through its own CalDAV code, not Radicale's: where the two differ (the sync-token
format, the ETags, what a REPORT answers), the CalDAV source meets both. It runs as
`xandikos serve --defaults`, which makes the principal /user/ with /user/calendars/calendar/;
more calendars are made beside it with MKCALENDAR. It has no authentication of its own on plain
HTTP (its `--htpasswd` needs TLS), so it ignores the Basic credentials the source sends.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from providers.testservers.caldav_server import CalDavTestServer

__all__ = ["XandikosServer"]


class XandikosServer(CalDavTestServer):
    """`with XandikosServer() as server:` a Xandikos on 127.0.0.1; `server.url` is its root."""

    name = "Xandikos"
    username = "user"

    def __init__(self, *, port: int | None = None) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="xandikos-"))
        super().__init__(self._folder, port)

    @property
    def calendar_home(self) -> str:
        return f"{self.url}user/calendars/"

    def command(self) -> list[str]:
        return [
            *_xandikos_command(),
            "serve",
            *("--directory", str(self.root / "data")),
            *("--state-dir", str(self.root / "state")),
            "--defaults",
            "--no-detect-systemd",
            *("--listen-address", "127.0.0.1"),
            *("--port", str(self.port)),
        ]

    def close(self) -> None:
        """Stop the server and remove its folder."""
        self.stop()
        shutil.rmtree(self._folder, ignore_errors=True)


def _xandikos_command() -> list[str]:
    """The `xandikos` script beside this interpreter (the test venv's), else on PATH."""
    beside = Path(sys.executable).with_name("xandikos")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("xandikos")
    if found is None:
        raise RuntimeError("xandikos is not installed (pip install -e '.[test]' installs it)")
    return [found]
