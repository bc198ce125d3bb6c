"""Opening the state file: only mailagent's own database, never through a link, errors in words.

Design notes:

- The state is the memory of which drafts were written. A file that is not that memory (0
  bytes, another program's database, garbage) or a damaged one is refused, never taken as a
  new, empty state: an empty state would write again every draft the user already sent or
  deleted. So a new state file is made complete under a temporary name and linked into place
  (`link` fails if the name exists), and an existing one must prove what it is before
  anything writes to it: the SQLite header, then mailagent's `application_id` (or, for files
  made before it was set, mailagent's tables), then `PRAGMA quick_check`
  (https://sqlite.org/pragma.html#pragma_quick_check; about 0.1 s for 100 MB).
- The file is opened with O_NOFOLLOW and its mode set with `fchmod` on that descriptor, so a
  symbolic link planted at the state's name is refused and nothing is ever chmod-ed through
  one (SQLite itself opens by name, after these checks).
- A dry run reads a copy of the state in memory (`read_copy`) and writes no file at all: not
  the state, not its -wal and -shm (which SQLite makes even for a read-only connection), not
  the lock, and no mode change. A missing state is an empty one.
- Operating-system and SQLite failures (a read-only folder, a full disk, no permission) become
  `StateError`s that say which folder and what to do; the CLI presents them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
import stat
import tempfile
from pathlib import Path

from mailagent.errors import StateError

APPLICATION_ID = 0x4D41474E
"""`PRAGMA application_id` of a mailagent state file ("MAGN"; https://sqlite.org/fileformat.html#application_id)."""

SQLITE_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database (https://sqlite.org/fileformat.html)."""

OWN_TABLES = frozenset({"accounts", "cursors", "drafts", "schedules"})
"""Tables that mark a state file made before `APPLICATION_ID` was set."""

LOST_STATE_ADVICE = (
    "restore it from a backup; or move it aside and sync again, knowing that mailagent then "
    "starts from nothing and may write again drafts you already sent or deleted"
)
_WRONG_FILE_ADVICE = (
    "check that `state` in the config names mailagent's state file; if it does, "
    + LOST_STATE_ADVICE
)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def os_error(exc: OSError, path: Path) -> StateError:
    """An operating-system failure on the state (or its lock) at `path`, in words."""
    folder = path.parent
    code = exc.errno
    if code == errno.EROFS:
        return StateError(
            f"cannot write the state in {folder}: the folder is on a read-only file system",
            advice="mount it writable, or set `state` in the config to a file in a writable folder",
        )
    if code in (errno.EACCES, errno.EPERM):
        return StateError(
            f"cannot write the state in {folder}: permission denied (read-only for this user)",
            advice="make the folder and state.db writable by the user that runs mailagent, or "
            "set `state` in the config to a file in a writable folder",
        )
    if code in (errno.ENOSPC, errno.EDQUOT):
        return StateError(
            f"cannot write the state in {folder}: no space left on its disk",
            advice="free some space on that disk, then sync again (nothing was lost)",
        )
    if code == errno.ELOOP:
        return symlink_error(path)
    return StateError(
        f"cannot open the state {path}: {exc.strerror or exc}",
        advice="check that the folder exists and is writable by the user that runs mailagent",
    )


def symlink_error(path: Path) -> StateError:
    return StateError(
        f"the state {path} is a symbolic link; mailagent does not follow links for its state",
        advice="set `state` in the config to the real file (or a new one), not to a link",
    )


def sqlite_error(exc: sqlite3.Error, path: Path) -> StateError:
    """A SQLite failure on the state at `path`, in words (by its primary result code,
    https://sqlite.org/rescode.html)."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    text = str(exc)
    if code in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN) and _disk_full(
        path.parent
    ):  # SQLite reports a full disk as "disk I/O error" when it hits it creating -shm or -wal
        return os_error(OSError(errno.ENOSPC, text), path)
    if code == sqlite3.SQLITE_READONLY or "readonly" in text:
        return os_error(OSError(errno.EROFS, text), path)
    if code == sqlite3.SQLITE_CANTOPEN:
        if _read_only_mount(path.parent):
            return os_error(OSError(errno.EROFS, text), path)
        if not os.access(path.parent, os.W_OK):
            return os_error(OSError(errno.EACCES, text), path)
        return StateError(
            f"cannot open the state {path}: SQLite cannot open it or its -wal and -shm files "
            f"beside it ({text})",
            advice="check that the folder is writable by the user that runs mailagent",
        )
    if code == sqlite3.SQLITE_FULL:
        return os_error(OSError(errno.ENOSPC, text), path)
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return damaged(path, text)
    return StateError(
        f"the state {path} cannot be used: {text}",
        advice="check the disk and the folder's permissions; if the file is damaged, "
        + LOST_STATE_ADVICE,
    )


def _disk_full(folder: Path) -> bool:
    try:
        return os.statvfs(folder).f_bavail == 0
    except OSError:
        return False


def _read_only_mount(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def damaged(path: Path, why: str) -> StateError:
    why = " ".join(why.split())  # SQLite's integrity reports span lines
    return StateError(f"the state {path} is damaged ({why})", advice=LOST_STATE_ADVICE)


def open_state(path: Path) -> sqlite3.Connection:
    """A connection to mailagent's state at `path`, made if missing; raises `StateError`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not _exists(path):
            _create(path)
        _check_file(path)
    except OSError as exc:
        raise os_error(exc, path) from exc
    db: sqlite3.Connection | None = None
    try:
        db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        legacy = _check_identity(db, path)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        if legacy:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        for suffix in ("-wal", "-shm"):
            _private(Path(f"{path}{suffix}"), missing_ok=True)
    except sqlite3.Error as exc:
        if db is not None:
            db.close()
        raise sqlite_error(exc, path) from exc
    except (OSError, StateError) as exc:
        if db is not None:
            db.close()
        if isinstance(exc, OSError):
            raise os_error(exc, path) from exc
        raise
    return db


def _exists(path: Path) -> bool:
    """Whether something, a dangling link included, has the state's name."""
    try:
        path.lstat()
    except FileNotFoundError:
        return False
    return True


def _create(path: Path) -> None:
    """A new, empty mailagent database at `path`, appearing there whole or not at all."""
    temporary = path.with_name(f".{path.name}.new-{os.getpid()}")
    fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY | _NOFOLLOW | _CLOEXEC, 0o600)
    os.close(fd)
    try:
        db = sqlite3.connect(str(temporary), isolation_level=None)
        try:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # writes the first page
        finally:
            db.close()
        # Made meanwhile by another process: that one is checked like any other.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    except sqlite3.Error as exc:
        raise sqlite_error(exc, path) from exc
    finally:
        for leftover in (temporary, Path(f"{temporary}-journal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _private(path: Path, *, missing_ok: bool = False, chmod: bool = True) -> os.stat_result | None:
    """Make `path` 0600 through a descriptor opened without following links (with `chmod`
    false, only check that it is a regular file, not a link)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC)
    except FileNotFoundError:
        if missing_ok:
            return None
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise symlink_error(path) from exc
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise StateError(
                f"the state {path} is not a regular file",
                advice="set `state` in the config to a file name",
            )
        if chmod and stat.S_IMODE(info.st_mode) & 0o077:
            os.fchmod(fd, 0o600)
        return info
    finally:
        os.close(fd)


def _check_file(path: Path, *, chmod: bool = True) -> None:
    """The state file is a regular file, private (made so unless `chmod` is false), and starts
    like an SQLite database; its -wal and -shm files (which SQLite opens by name) are no links
    either."""
    for suffix in ("-wal", "-shm"):
        if Path(f"{path}{suffix}").is_symlink():
            raise symlink_error(Path(f"{path}{suffix}"))
    info = _private(path, chmod=chmod)
    size = info.st_size if info else 0
    with open(os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC), "rb") as file:
        header = file.read(100)
    if size == 0 and not header:
        raise StateError(
            f"the state {path} is empty (0 bytes): it is not a mailagent state file",
            advice=_WRONG_FILE_ADVICE,
        )
    if not header.startswith(SQLITE_HEADER):
        raise StateError(
            f"the state {path} is not a mailagent state file (not an SQLite database)",
            advice=_WRONG_FILE_ADVICE,
        )
    if len(header) < 100:
        raise damaged(path, f"{len(header)} bytes, shorter than an SQLite header")


def read_copy(path: Path) -> sqlite3.Connection:
    """An in-memory copy of mailagent's state at `path`, or an empty database if there is
    none, for a dry run: refused like `open_state` refuses, and nothing written beside it."""
    memory = sqlite3.connect(":memory:", isolation_level=None)
    if not _exists(path):
        return memory
    try:
        _check_file(path, chmod=False)
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            _copy_through_wal(path, wal, memory)
        else:
            with open(os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC), "rb") as file:
                data = bytearray(file.read())
            # Bytes 18 and 19 say "WAL mode", which an in-memory database cannot be in: read
            # it as a rollback-journal database, the same pages
            # (https://sqlite.org/fileformat.html#file_format_version_numbers).
            data[18:20] = b"\x01\x01"
            memory.deserialize(bytes(data))
        _check_identity(memory, path)
    except sqlite3.Error as exc:
        memory.close()
        raise sqlite_error(exc, path) from exc
    except (OSError, StateError) as exc:
        memory.close()
        if isinstance(exc, OSError):
            raise os_error(exc, path) from exc
        raise
    return memory


def _copy_through_wal(path: Path, wal: Path, memory: sqlite3.Connection) -> None:
    """Copy the state with the transactions still in its -wal file (left by a sync that was
    killed, or one running now) into `memory`. SQLite reads a WAL only through a -shm file it
    may write, so it reads copies of both files in a private temporary folder."""
    with tempfile.TemporaryDirectory(prefix="mailagent-dry-run-") as folder:
        copy = Path(folder) / "state.db"
        shutil.copyfile(path, copy, follow_symlinks=False)
        shutil.copyfile(wal, Path(f"{copy}-wal"), follow_symlinks=False)
        source = sqlite3.connect(str(copy), isolation_level=None)
        try:
            source.backup(memory)
        finally:
            source.close()


def _check_identity(db: sqlite3.Connection, path: Path) -> bool:
    """Raise unless `db` is a whole mailagent database; True for one made before
    `APPLICATION_ID` was set (the caller stamps it). Reads only."""
    application_id = int(db.execute("PRAGMA application_id").fetchone()[0])
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    tables = {
        str(row[0]) for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    legacy = application_id == 0 and version >= 1 and tables >= OWN_TABLES
    if application_id != APPLICATION_ID and not legacy:
        what = (
            f"another program's SQLite database (application id {application_id:#x})"
            if application_id
            else f"an SQLite database with other tables: {', '.join(sorted(tables)) or 'none'}"
        )
        raise StateError(
            f"the state {path} is not a mailagent state file ({what})", advice=_WRONG_FILE_ADVICE
        )
    problems = [str(row[0]) for row in db.execute("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        raise damaged(path, "; ".join(problems))
    return legacy
