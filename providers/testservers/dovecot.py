"""A real Dovecot 2.3 IMAP server for tests: `DovecotServer` runs one on loopback in a temporary
folder, logs any user in with the password "secret", and does to it what happens behind a
client's back (a restart, kicked connections, a new UIDVALIDITY, 100,000 messages arriving).

Started by root, Dovecot drops to the Debian package's "dovecot" (mail) and "dovenull" (login)
users: every folder on the way to the mail homes must be traversable by them, and the homes owned
by "dovecot". Started by another user, the config names that user and Dovecot keeps it.

`DovecotServer(tls=True)` also speaks TLS, with a throwaway self-signed certificate for
127.0.0.1 and localhost: STARTTLS on `port` (which still allows plain-text logins) and implicit
TLS (imaps) on `tls_port`; `ssl_context()` trusts that certificate and nothing else.

`DovecotServer(oauth2=OAuth2Settings(endpoint.url))` also takes XOAUTH2 and OAUTHBEARER logins,
and Dovecot's oauth2 passdb asks the introspection endpoint (`oauth_introspection`) about each
token: it must be `active`, name the login user in its `email` claim and, with `scope`, list
that scope. The password passdb then serves PLAIN and LOGIN only (passdb `mechanisms`, which
2.3.19 honours): otherwise XOAUTH2 with the token "secret" would log in, since Dovecot hands the
token to every passdb as the password.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Self

import imapclient

from providers.testservers.certificates import self_signed
from providers.testservers.oauth_introspection import IntrospectionMode
from providers.testservers.ports import free_port

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["DovecotServer", "OAuth2Settings"]

# From ../shared/reference/dovecot-test.conf (the team's tested unprivileged configuration),
# embedded so that this module does not depend on where the checkout sits. Changed: the users
# and the password are placeholders too, the auth penalty is off (see `service anvil`); the
# SSL settings and the imaps port are placeholders (`ssl = no` and 0 unless `tls=True`), and so
# are the SASL mechanisms, those the password passdb serves (empty: all) and an oauth2 passdb
# (none unless `oauth2` is given).
CONFIG_TEMPLATE = """\
protocols = imap
listen = 127.0.0.1
base_dir = @ROOT@/run
state_dir = @ROOT@/state
log_path = @ROOT@/dovecot.log
@SSL@
disable_plaintext_auth = no
auth_mechanisms = @AUTH_MECHANISMS@
default_internal_user = @USER@
default_login_user = @LOGIN_USER@
default_internal_group = @GROUP@
passdb {
  driver = static
  args = password=@PASSWORD@
  mechanisms = @PLAIN_MECHANISMS@
}
@OAUTH2_PASSDB@
userdb {
  driver = static
  args = uid=@USER@ gid=@GROUP@ home=@ROOT@/home/%u mail=maildir:@ROOT@/home/%u/Maildir
}
service imap-login {
  chroot =
  inet_listener imap {
    port = @PORT@
  }
  inet_listener imaps {
    port = @TLS_PORT@
  }
}
service anvil {
  chroot =
  # Added here: no auth penalty socket, no penalty. Otherwise one test's wrong-password login
  # delays every later login from 127.0.0.1 by 2 to 15 s (Dovecot's auth-penalty.c).
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = create
  }
  mailbox Drafts {
    special_use = \\Drafts
    auto = create
  }
}
protocol imap {
  mail_max_userip_connections = 100
}
mail_plugins =
first_valid_uid = 1
"""

PLAIN_MECHANISMS = "plain login"
BEARER_MECHANISMS = "xoauth2 oauthbearer"
# `auth_failure_delay`: Dovecot answers a refused login after 2 s by default, and token tests
# are mostly refusals. Only with `oauth2`, so that the password-only server stays as it was.
OAUTH2_PASSDB = """\
auth_failure_delay = 0
passdb {
  driver = oauth2
  mechanisms = %(mechanisms)s
  args = %(settings)s
}"""


@dataclass(frozen=True)
class OAuth2Settings:
    """Where and how Dovecot's oauth2 passdb checks a bearer token, and which claims it needs;
    see `oauth_introspection.IntrospectionServer`, which answers it."""

    introspection_url: str
    """For `mode` "get", the token is appended to it as is (`IntrospectionServer.url_for`)."""
    mode: IntrospectionMode = "post"
    scope: str | None = None
    """A scope the token's `scope` claim (space-separated) must list, e.g.
    "https://mail.google.com/"; None: any scope."""
    username_attribute: str = "email"
    """The claim that must equal the login user (both lowercased)."""
    active_attribute: str | None = "active"
    """With `active_value`, a token whose claim has another value is refused (RFC 7662's
    `{"active": false}`); 2.3.19 lets a token without the claim through. None: no such check,
    and `{"active": false}` is then a temporary failure ("No username returned")."""
    active_value: str | None = "true"
    timeout: float = 10.0
    """Seconds Dovecot waits for the endpoint's answer."""

    def passdb_config(self) -> str:
        """The oauth2 passdb's settings file (the passdb block's `args` names it)."""
        lines = {
            "introspection_url": self.introspection_url,
            "introspection_mode": self.mode,
            "username_attribute": self.username_attribute,
            "active_attribute": self.active_attribute or "",
            "active_value": (self.active_value or "") if self.active_attribute else "",
            "scope": self.scope or "",
            "timeout_msecs": str(round(self.timeout * 1000)),
        }
        return "".join(f"{key} = {value}\n" for key, value in lines.items())


_EX_NOUSER = 68  # doveadm's exit status (sysexits.h) when `kick` finds no session of the user
STARTUP_TIMEOUT = 15.0  # seconds to wait for the greeting; it usually comes within 0.1 s


class DovecotServer:
    """`with DovecotServer() as server:` a running Dovecot on `server.host`:`server.port`;
    with `oauth2`, bearer tokens log in too (see the module's docstring)."""

    host = "127.0.0.1"
    password = "secret"  # noqa: S105 (the static passdb of a throwaway test server)

    def __init__(
        self,
        user: str = "alex@example.com",
        *,
        executable: str = "dovecot",
        tls: bool = False,
        oauth2: OAuth2Settings | None = None,
        imap_capability: str | None = None,
    ) -> None:
        self.user = user
        self.tls = tls
        self.oauth2 = oauth2
        self.imap_capability = imap_capability
        """Replaces the capabilities announced after login (to play a server without some)."""
        self._dovecot = shutil.which(executable) or executable
        self._doveadm = shutil.which("doveadm") or "doveadm"
        self._root: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.tls_port = 0
        """The imaps (implicit TLS) port with `tls=True`, else 0."""

    # -- lifecycle --

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def root(self) -> Path:
        if self._root is None:
            raise RuntimeError("the Dovecot server is not started")
        return self._root

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def ca_file(self) -> Path:
        """The server's certificate (PEM), the one a client must trust (`tls=True` only)."""
        if not self.tls:
            raise RuntimeError("the Dovecot server was made without tls=True")
        return self.root / "tls" / "server.pem"

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate and no other, with hostname
        checking on: it accepts 127.0.0.1 and localhost."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def start(self) -> None:
        """Write the config (first time only) and start Dovecot; RuntimeError if it cannot."""
        if self._process is not None:
            return
        try:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="mailagent-dovecot-"))
                self._prepare()
            log = self.root / "dovecot.log"
            offset = log.stat().st_size if log.exists() else 0
            with (self.root / "dovecot.out").open("ab") as output:
                self._process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
                    [self._dovecot, "-c", str(self.config), "-F"],
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, for `stop`
                )
            self._wait_for_greeting(log, offset)
        except BaseException as exc:
            self.close()
            if isinstance(exc, OSError):
                raise RuntimeError(f"cannot start {self._dovecot}: {exc}") from exc
            raise

    def stop(self) -> None:
        """Stop Dovecot and every process it started; keeps the data. The master leaves the IMAP
        sessions it forked running when it exits, so the whole process group gets SIGTERM; and as
        the master can linger 2 s over a session that ended at that moment, then SIGKILL."""
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return  # reaped already: its id, which names the group, may be someone else's now
        group = process.pid  # the master leads its own group (start_new_session)
        os.killpg(group, signal.SIGTERM)
        deadline = time.monotonic() + 0.5  # it ends within 0.05 s, but for that case
        while time.monotonic() < deadline and not _exited(process.pid):
            time.sleep(0.01)
        os.killpg(group, signal.SIGKILL)  # the unreaped master keeps the group's id ours
        process.wait()

    def restart(self) -> None:
        """Stop and start again on the same port with the same mail: clients see a dropped
        connection, then the server is back."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop Dovecot and remove its folder."""
        self.stop()
        root, self._root = self._root, None
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)

    def _prepare(self) -> None:
        for parent in self.root.parents:
            if not os.stat(parent).st_mode & 0o001:
                raise RuntimeError(
                    f"{parent} is not traversable by other users; the dovecot user cannot reach "
                    "the mail homes (set TMPDIR to a folder like /tmp)"
                )
        self.root.chmod(0o755)  # mkdtemp makes it 0700
        (self.root / "home").mkdir()
        (self.root / "home").chmod(0o755)
        self.chown_mail(self.root / "home")
        self.port = free_port()
        if os.geteuid() == 0:
            user, login_user = "dovecot", "dovenull"
        else:
            user = login_user = pwd.getpwuid(os.geteuid()).pw_name
        values = {"@ROOT@": str(self.root), "@PORT@": str(self.port), "@PASSWORD@": self.password}
        group = grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
        values |= {"@USER@": user, "@LOGIN_USER@": login_user, "@GROUP@": group}
        values |= self._prepare_tls()
        values |= self._prepare_oauth2()
        text = CONFIG_TEMPLATE
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        if self.imap_capability is not None:
            text += f"imap_capability = {self.imap_capability}\n"
        self.config.write_text(text, encoding="utf-8")

    def _prepare_tls(self) -> dict[str, str]:
        """The SSL placeholders' values; with `tls`, a new certificate and the imaps port."""
        if not self.tls:
            return {"@SSL@": "ssl = no", "@TLS_PORT@": "0"}
        folder = self.root / "tls"
        folder.mkdir(mode=0o755)
        files = self_signed(folder)
        self.tls_port = free_port(avoid=self.port)
        ssl_lines = f"ssl = yes\nssl_cert = <{files.cert}\nssl_key = <{files.key}"
        return {"@SSL@": ssl_lines, "@TLS_PORT@": str(self.tls_port)}

    def _prepare_oauth2(self) -> dict[str, str]:
        """The SASL placeholders' values; with `oauth2`, the oauth2 passdb and its settings file
        (read by the auth process, which runs as the "dovecot" user when started by root)."""
        if self.oauth2 is None:
            return {
                "@AUTH_MECHANISMS@": PLAIN_MECHANISMS,
                "@PLAIN_MECHANISMS@": "",  # all of them
                "@OAUTH2_PASSDB@": "",
            }
        settings = self.root / "dovecot-oauth2.conf.ext"
        settings.write_text(self.oauth2.passdb_config(), encoding="utf-8")
        settings.chmod(0o644)
        return {
            "@AUTH_MECHANISMS@": f"{PLAIN_MECHANISMS} {BEARER_MECHANISMS}",
            "@PLAIN_MECHANISMS@": PLAIN_MECHANISMS,
            "@OAUTH2_PASSDB@": OAUTH2_PASSDB
            % {"mechanisms": BEARER_MECHANISMS, "settings": settings},
        }

    def chown_mail(self, path: Path) -> None:
        """Give `path` to the user Dovecot reads mail as (when run as root)."""
        if os.geteuid() == 0:
            entry = pwd.getpwnam("dovecot")
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _wait_for_greeting(self, log: Path, offset: int) -> None:
        """Wait until this Dovecot has bound its port (it logs "starting up" only then: another
        server on the port would greet too) and greets; with `tls`, over TLS on `tls_port` too
        (a certificate it cannot load shows only then)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last = "no answer"
        while time.monotonic() < deadline:
            process = self._process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                raise RuntimeError(f"dovecot exited with status {code}\n{self._log_tail()}")
            if not (log.exists() and b"starting up" in log.read_bytes()[offset:]):
                time.sleep(0.02)
                continue
            try:
                greeting = self._greeting()
                if greeting.startswith(b"* OK"):
                    return
                last = repr(greeting[:80])
            except OSError as exc:
                last = str(exc)
            time.sleep(0.05)
        where = f"ports {self.port} and {self.tls_port} (TLS)" if self.tls else f"port {self.port}"
        raise RuntimeError(
            f"dovecot did not greet on {where} within {STARTUP_TIMEOUT:.0f} s ({last})\n"
            + self._log_tail()
        )

    def _greeting(self) -> bytes:
        """The greeting on `port`; with `tls`, the one on `tls_port` if that one is fine."""
        with socket.create_connection((self.host, self.port), timeout=2) as sock:
            greeting = sock.recv(512)
        if not self.tls or not greeting.startswith(b"* OK"):
            return greeting
        with (
            socket.create_connection((self.host, self.tls_port), timeout=2) as raw,
            self.ssl_context().wrap_socket(raw, server_hostname=self.host) as sock,
        ):
            return sock.recv(512)

    def _log_tail(self, lines: int = 20) -> str:
        """The end of what Dovecot wrote: its stderr (config errors) and its log."""
        paths = [self.root / name for name in ("dovecot.out", "dovecot.log")]
        return "\n".join(
            f"--- {p.name} ---\n" + "\n".join(p.read_text(errors="replace").splitlines()[-lines:])
            for p in paths
            if p.exists()
        )

    # -- what tests do to the server --

    def maildir(self, user: str | None = None) -> Path:
        """The user's Maildir (INBOX in it, other folders as Maildir++ `.Sent`, `.Drafts`)."""
        return self.root / "home" / (user or self.user) / "Maildir"

    def connect(self, user: str | None = None) -> imapclient.IMAPClient:
        """A plain-text IMAP connection, logged in; the caller logs out (`with` does)."""
        client = imapclient.IMAPClient(self.host, self.port, ssl=False, timeout=30)
        client.normalise_times = False  # INTERNALDATE as aware datetimes, not naive local time
        try:
            client.login(user or self.user, self.password)
        except BaseException:
            client.shutdown()
            raise
        return client

    def doveadm(self, *args: str, ok: tuple[int, ...] = (0,)) -> str:
        """Run `doveadm -c <config> args...`; its output, or RuntimeError with its errors when
        its exit status is not in `ok`."""
        command = [self._doveadm, "-c", str(self.config), *args]
        try:
            result = subprocess.run(  # noqa: S603 (fixed argv, no shell)
                command, capture_output=True, text=True, check=False, timeout=300
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"cannot run doveadm {' '.join(args)}: {exc}") from exc
        if result.returncode not in ok:
            raise RuntimeError(
                f"doveadm {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}"
            )
        return result.stdout

    def kill_connections(self, user: str | None = None) -> None:
        """Drop every IMAP session of `user` (`doveadm kick`): clients see the socket close."""
        self.doveadm("kick", user or self.user, ok=(0, _EX_NOUSER))

    def uidvalidity(self, user: str, folder: str) -> int:
        """The folder's UIDVALIDITY, as the server holds it now."""
        out = self.doveadm("-f", "flow", "mailbox", "status", "-u", user, "uidvalidity", folder)
        return int(out.strip().rpartition("=")[2])

    def change_uidvalidity(self, user: str, folder: str) -> int:
        """Give `folder` a new UIDVALIDITY (RFC 3501 section 2.3.1.1: clients must then forget
        every UID they hold for it); returns the new value."""
        value = self.uidvalidity(user, folder) + 1
        self.doveadm("mailbox", "update", "-u", user, "--uid-validity", str(value), folder)
        return value

    def fill(
        self,
        user: str,
        count: int,
        *,
        seed: int = 0,
        sent_share: float = 0.15,
        now: datetime | None = None,
        days: int = 90,
    ) -> None:
        """Add `count` unrelated messages to `user`'s INBOX and Sent as Maildir files (about
        5 s for 100,000); see `imap_scenario.fill_maildir`."""
        from providers.testservers.imap_scenario import fill_maildir

        fill_maildir(self, user, count, seed=seed, sent_share=sent_share, now=now, days=days)


def _exited(pid: int) -> bool:
    """Whether the child `pid` has ended, without reaping it (WNOWAIT)."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
