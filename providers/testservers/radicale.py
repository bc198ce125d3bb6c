"""A real Radicale CalDAV server for tests: `RadicaleServer` runs one on loopback in a temporary
folder; `publish` (from `caldav_server`) makes one of its calendars hold exactly a given list of
events.

Radicale (https://radicale.org/v3.html) runs as `python -m radicale` with its own config file:
filesystem storage in the temporary folder, a plain-text htpasswd file (user "alex", password
"secret") or no authentication at all, and rights `owner_only`, so that a client must log in as
"alex" to reach /alex/. `[auth] delay = 0` keeps tests fast: Radicale otherwise sleeps about a
second before every 401/403 it sends, the 403 that refuses an expired sync token included.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Literal

from providers.testservers.caldav_server import CalDavTestServer, publish, resource_name

__all__ = ["PASSWORD", "USERNAME", "RadicaleServer", "publish", "resource_name"]

USERNAME = "alex"
PASSWORD = "secret"  # noqa: S105 - a throwaway password for a loopback test server

CONFIG_TEMPLATE = """\
[server]
hosts = 127.0.0.1:{port}

[auth]
type = {auth}
htpasswd_filename = {root}/users
htpasswd_encryption = plain
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = {root}/collections

[web]
type = none

[logging]
level = warning
mask_passwords = True
"""


class RadicaleServer(CalDavTestServer):
    """`with RadicaleServer() as server:` a Radicale on 127.0.0.1; `server.url` is its root."""

    name = "Radicale"
    username = USERNAME
    password = PASSWORD

    def __init__(
        self,
        *,
        auth: Literal["htpasswd", "none"] = "htpasswd",
        root: Path | None = None,
        port: int | None = None,
    ) -> None:
        """`auth="none"` accepts any user name and password; `root` keeps the storage (and the
        config and log) in a folder of yours; `port` is a free one by default."""
        self.auth = auth
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if root is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="radicale-")
            root = Path(self._tmp.name)
        super().__init__(root, port)

    @property
    def calendar_home(self) -> str:
        return f"{self.url}{self.username}/"

    def prepare(self) -> None:
        (self.root / "collections").mkdir(parents=True, exist_ok=True)
        (self.root / "users").write_text(f"{USERNAME}:{PASSWORD}\n", encoding="utf-8")
        (self.root / "radicale.conf").write_text(
            CONFIG_TEMPLATE.format(port=self.port, auth=self.auth, root=self.root),
            encoding="utf-8",
        )

    def command(self) -> list[str]:
        return [sys.executable, "-m", "radicale", "--config", str(self.root / "radicale.conf")]

    def close(self) -> None:
        """Stop the server and remove its temporary folder (a `root` of yours stays)."""
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
