"""A real Cyrus IMAP 3.6 server for tests: `CyrusServer` runs one on loopback in a temporary
folder, unprivileged, from Debian's packages unpacked (not installed) by `scripts/unpack-cyrus`.

Why Cyrus beside Dovecot: it spells things the way many hosted servers do, and the way
mailagent once got wrong. Its layout is Debian's (`altnamespace: no`, `unixhierarchysep: no`):
every folder sits under `INBOX.` with "." as the separator. Its SPECIAL-USE flags come out in
lower case when set by the `xlist-*` options (`\\sent`, `\\drafts`), and the folders here are
German (INBOX.Gesendet, INBOX.Entwürfe), so only the flags find them. Its LOGIN answer carries
the capabilities, and its SELECT answers carry a MAILBOXID and ANNOTATIONS.

Cyrus' `cyrus-imapd` package conflicts with `dovecot-imapd` (both provide imap-server), so the
packages are unpacked into a folder of the checkout (`.testservers/cyrus`, or the folder
`MAILAGENT_CYRUS_ROOT` names) and run from there with `LD_LIBRARY_PATH`. Its services refuse
to run as root ("must run as the Cyrus user"): started by root, the master runs as "nobody",
and the temporary folder is given to that user.

Users log in with the password "secret" once `add_user` made them (SASL's sasldb, written by
the unpacked `saslpasswd2`); `connect` adds the user first. Cyrus creates a user's INBOX and
the folders of `autocreate_inbox_folders` on the first login.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Self

import imapclient

from providers.testservers.ports import free_port

__all__ = ["CyrusServer", "cyrus_root"]

STARTUP_TIMEOUT = 15.0
UNPRIVILEGED_USER = "nobody"
"""Who the server runs as when root starts it (Cyrus' services refuse to run as root)."""

DEFAULT_FOLDERS: Mapping[str, str] = {"sent": "Gesendet", "drafts": "Entwürfe"}
"""Special use (as the `xlist-` option names it, lower case) → folder made at first login."""

IMAPD_CONF = """\
configdirectory: @ROOT@/conf
partition-default: @ROOT@/spool
defaultpartition: default
proc_path: @ROOT@/proc
mboxname_lockpath: @ROOT@/lock
lmtpsocket: @ROOT@/socket/lmtp
idlesocket: @ROOT@/socket/idle
notifysocket: @ROOT@/socket/notify
altnamespace: no
unixhierarchysep: no
virtdomains: userid
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: @ROOT@/sasldb2
sasl_mech_list: PLAIN LOGIN
cyrus_user: @USER@
admins: cyrusadmin
specialuse_protect: \\Junk
autocreate_quota: 0
autocreate_post: 1
"""

CYRUS_CONF = """\
START {
  recover cmd="@BIN@/ctl_cyrusdb -C @ROOT@/imapd.conf -r"
}
SERVICES {
  imap cmd="@BIN@/imapd -C @ROOT@/imapd.conf -U 30" listen="127.0.0.1:@PORT@" prefork=0 maxchild=50
}
EVENTS {
}
DAEMON {
}
"""


def cyrus_root() -> Path:
    """Where Cyrus' packages are unpacked: `MAILAGENT_CYRUS_ROOT`, else `.testservers/cyrus`
    in the checkout."""
    configured = os.environ.get("MAILAGENT_CYRUS_ROOT")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / ".testservers" / "cyrus"


class CyrusServer:
    """`with CyrusServer() as server:` a running Cyrus on `server.host`:`server.port`."""

    host = "127.0.0.1"
    password = "secret"  # noqa: S105 (a throwaway test server's sasldb)
    separator = "."

    def __init__(
        self,
        user: str = "alex@example.com",
        *,
        folders: Mapping[str, str] = DEFAULT_FOLDERS,
        unpacked: Path | None = None,
    ) -> None:
        """`folders`: special use (lower case, e.g. "drafts") → the name of the folder under
        INBOX that Cyrus makes, with that flag, at a user's first login."""
        self.user = user
        self.folders = dict(folders)
        self.unpacked = unpacked or cyrus_root()
        self._root: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._users: set[str] = set()
        self.port = 0

    # -- lifecycle --

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def root(self) -> Path:
        if self._root is None:
            raise RuntimeError("the Cyrus server is not started")
        return self._root

    @property
    def bin(self) -> Path:
        return self.unpacked / "usr" / "lib" / "cyrus" / "bin"

    def folder(self, special_use: str) -> str:
        """The full name of the folder made for `special_use` ("sent"), e.g. INBOX.Gesendet."""
        return f"INBOX{self.separator}{self.folders[special_use]}"

    def start(self) -> None:
        """Write the configuration (first time only) and start the master; RuntimeError with
        advice when the unpacked packages are missing or it does not greet."""
        if self._process is not None:
            return
        if not (self.bin / "imapd").exists():
            raise RuntimeError(
                f"Cyrus IMAP is not unpacked at {self.unpacked}: run scripts/unpack-cyrus "
                "(scripts/check --install does)"
            )
        try:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="mailagent-cyrus-"))
                self._prepare()
            self._launch()
            self._wait_for_greeting()
        except BaseException:
            self.close()
            raise

    def _launch(self) -> None:
        user = group = None
        extra_groups: list[int] | None = None
        if os.geteuid() == 0:
            entry = pwd.getpwnam(UNPRIVILEGED_USER)
            user, group, extra_groups = entry.pw_uid, entry.pw_gid, []
        with (self.root / "master.out").open("ab") as output:
            self._process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
                [
                    str(self.bin / "master"),
                    *("-C", str(self.root / "imapd.conf")),
                    *("-M", str(self.root / "cyrus.conf")),
                    *("-p", str(self.root / "master.pid")),
                    "-D",  # stay in the foreground, in our process group
                ],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=self._environment(),
                start_new_session=True,
                user=user,
                group=group,
                extra_groups=extra_groups,
            )

    def _environment(self) -> dict[str, str]:
        libraries = [*(self.unpacked / "usr" / "lib").glob("*-linux-gnu")]
        libraries += (self.unpacked / "lib").glob("*-linux-gnu")
        path = ":".join(str(p) for p in libraries)
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LD_LIBRARY_PATH": path}

    def stop(self) -> None:
        """Stop the master and the imapd processes it forked; keeps the mail."""
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop Cyrus and remove its folder."""
        self.stop()
        root, self._root = self._root, None
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)

    def _prepare(self) -> None:
        for parent in [*self.root.parents, *self.unpacked.parents]:
            if os.geteuid() == 0 and not os.stat(parent).st_mode & 0o001:
                raise RuntimeError(
                    f"{parent} is not traversable by other users; Cyrus runs as "
                    f"{UNPRIVILEGED_USER} (set TMPDIR to a folder like /tmp)"
                )
        for name in ("conf", "spool", "proc", "lock", "socket"):
            (self.root / name).mkdir()
        self.port = free_port()
        user = UNPRIVILEGED_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        values = {"@ROOT@": str(self.root), "@BIN@": str(self.bin), "@PORT@": str(self.port)}
        imapd_conf = _fill(IMAPD_CONF, values | {"@USER@": user})
        if self.folders:
            encoded = {use: _imap_utf7(name) for use, name in self.folders.items()}
            imapd_conf += "autocreate_inbox_folders: " + " | ".join(encoded.values()) + "\n"
            imapd_conf += "".join(f"xlist-{use}: {name}\n" for use, name in encoded.items())
        (self.root / "imapd.conf").write_text(imapd_conf, encoding="utf-8")
        (self.root / "cyrus.conf").write_text(_fill(CYRUS_CONF, values), encoding="utf-8")
        self.root.chmod(0o755)  # mkdtemp makes it 0700
        self._give_away(self.root)

    def _give_away(self, path: Path) -> None:
        """Give `path` and all in it to the user Cyrus runs as (when started by root)."""
        if os.geteuid() != 0:
            return
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)
        for folder, _, files in os.walk(path):
            os.chown(folder, entry.pw_uid, entry.pw_gid)
            for name in files:
                os.chown(Path(folder) / name, entry.pw_uid, entry.pw_gid)

    def _wait_for_greeting(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last = "no answer"
        while time.monotonic() < deadline:
            process = self._process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                raise RuntimeError(f"Cyrus' master exited with status {code}\n{self._log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=2) as sock:
                    greeting = sock.recv(512)
                if greeting.startswith(b"* OK"):
                    return
                last = repr(greeting[:80])
            except OSError as exc:
                last = str(exc)
            time.sleep(0.05)
        raise RuntimeError(
            f"Cyrus did not greet on port {self.port} within {STARTUP_TIMEOUT:.0f} s ({last})\n"
            + self._log_tail()
        )

    def _log_tail(self, lines: int = 20) -> str:
        """What the master wrote (Cyrus logs the rest to syslog, absent on test machines)."""
        path = self.root / "master.out"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # -- what tests do to the server --

    def add_user(self, user: str | None = None) -> None:
        """Let `user` log in with `password` (a sasldb entry; Cyrus makes the mailbox at the
        first login). Idempotent."""
        name = user or self.user
        if name in self._users:
            return
        local, _, domain = name.partition("@")
        command = [str(self.unpacked / "usr" / "sbin" / "saslpasswd2")]
        command += ["-f", str(self.root / "sasldb2"), "-p", "-c"]
        command += [*(["-u", domain] if domain else []), local]
        try:
            result = subprocess.run(  # noqa: S603 (fixed argv, no shell)
                command,
                input=self.password.encode(),
                capture_output=True,
                env=self._environment(),
                check=False,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"cannot run saslpasswd2: {exc}") from exc
        if result.returncode != 0:
            raise RuntimeError(f"saslpasswd2 failed: {result.stderr.decode(errors='replace')}")
        self._give_away(self.root / "sasldb2")
        self._users.add(name)

    def connect(self, user: str | None = None) -> imapclient.IMAPClient:
        """A plain-text IMAP connection, logged in; the caller logs out (`with` does)."""
        self.add_user(user)
        client = imapclient.IMAPClient(self.host, self.port, ssl=False, timeout=30)
        client.normalise_times = False
        try:
            client.login(user or self.user, self.password)
        except BaseException:
            client.shutdown()
            raise
        return client


def _fill(template: str, values: Mapping[str, str]) -> str:
    for placeholder, value in values.items():
        template = template.replace(placeholder, value)
    return template


def _imap_utf7(name: str) -> str:
    """A folder name as IMAP spells it (RFC 3501 section 5.1.3's modified UTF-7): Cyrus reads
    its configuration's folder names that way."""
    encoded: bytes = imapclient.imap_utf7.encode(name)
    return encoded.decode("ascii")
