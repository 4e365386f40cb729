"""One line for every failure a user meets: what went wrong and what to do, never a traceback, the
SQL of a statement or the text of a record.

``user_message(exc)`` maps an exception to that line (full disk, missing directory, a directory given
as a file, a setting that cannot be used, text the database cannot store, a database it cannot open);
the ``vcr`` command prints it as ``error: ...`` and the pages show it. Exceptions it does not know get a
line naming their kind and ``VCR_DEBUG=1`` to see the traceback.
"""
from __future__ import annotations

import errno
import os
import re

NOTHING_LOST = "nothing was lost"
_FULL = ("database or disk is full", "disk is full", "no space left on device", "disk full", "file too large",
         "could not extend file", "could not write to file")
_SQL_TAIL = re.compile(r"\[SQL:.*", re.S)


def _where(path: object | None) -> str:
    if not path:
        return "the database"
    return os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(path)


def _database_path() -> str:
    try:
        from .settings import get_settings

        url = get_settings().resolved_database_url
    except Exception:  # noqa: BLE001 - the settings themselves may be what failed
        return "the database"
    if url.startswith("sqlite:///"):
        return f"the database ({url.removeprefix('sqlite:///')})"
    return "the database server's data directory"


def _database_disk_full(margin: int = 1 << 20) -> bool:
    """True when the file system of the SQLite database has less than ``margin`` bytes free: SQLite
    reports a full disk as 'disk I/O error' when it cannot create its WAL or shared-memory file."""
    import shutil

    try:
        from .settings import get_settings

        url = get_settings().resolved_database_url
        if not url.startswith("sqlite:///"):
            return False
        return shutil.disk_usage(os.path.dirname(os.path.abspath(url.removeprefix("sqlite:///")))).free < margin
    except Exception:  # noqa: BLE001 - no settings, no directory: not known to be full
        return False


def disk_full_line(what: str) -> str:
    return f"the disk holding {what} is full: free space and retry; {NOTHING_LOST}"


def _os_line(exc: OSError) -> str | None:
    name = _where(exc.filename) if exc.filename else "the output"
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return disk_full_line(name if exc.filename else "the output")
    if isinstance(exc, FileExistsError) or code == errno.EEXIST:
        return f"{name} already exists: add --force to replace it, or name another file"
    if isinstance(exc, IsADirectoryError) or code == errno.EISDIR:
        return f"{name} is a directory: name a file inside it (e.g. {os.path.join(name, 'export.jsonl')})"
    if isinstance(exc, NotADirectoryError) or code == errno.ENOTDIR:
        return f"a part of {name} is a file, not a directory: check the path"
    if isinstance(exc, FileNotFoundError) or code == errno.ENOENT:
        parent = os.path.dirname(os.fspath(exc.filename)) if exc.filename else ""
        if parent and not os.path.isdir(parent):
            return f"the directory {parent} does not exist: create it first or name another path"
        return f"{name} does not exist: check the path"
    if isinstance(exc, PermissionError) or code in (errno.EACCES, errno.EPERM):
        return f"no permission to use {name}: choose a path you may write, or change its permissions"
    if code == errno.EROFS:
        return f"{name} is on a read-only file system: write somewhere else"
    return None


def _database_line(exc: BaseException) -> str | None:
    """Errors of SQLAlchemy and the database drivers, without the statement or its parameters."""
    orig = getattr(exc, "orig", None) or exc
    text = _SQL_TAIL.sub("", str(orig)).strip().splitlines()
    first = text[0] if text else type(orig).__name__
    low = first.lower()
    if any(k in low for k in _FULL) or ("disk i/o error" in low and _database_disk_full()):
        return disk_full_line(_database_path())
    if "nul (0x00)" in low or "null character" in low or "invalid byte sequence" in low or "surrogates not allowed" in low:
        return ("the database cannot store this text (a NUL byte or an unpaired surrogate): remove the character "
                f"and retry; {NOTHING_LOST}")
    if "database is locked" in low or "could not obtain lock" in low or "deadlock" in low:
        return "the database is busy (another writer holds it): retry in a moment; nothing was stored"
    if "disk i/o error" in low:
        return f"the disk holding {_database_path()} failed a read or write: check the disk and retry"
    if "unable to open database file" in low:
        return f"cannot open {_database_path()}: check that its directory exists and is writable (VCR_HOME, DATABASE_URL)"
    if "readonly database" in low or "read-only" in low:
        return f"{_database_path()} is read-only: check its permissions"
    if "connection refused" in low or "could not connect" in low or "connection to server" in low:
        return "cannot reach the database server: check DATABASE_URL and that the server runs"
    if "no such table" in low or "does not exist" in low and "relation" in low:
        return "the database has no tables yet or an older schema: run `vcr db upgrade` (or check DATABASE_URL)"
    return f"the database refused the operation ({type(orig).__name__}: {first[:160]}); nothing was stored"


def user_message(exc: BaseException) -> str | None:
    """One line for ``exc`` when it is a failure users meet (see the module); None for others."""
    from .identity import IdentityError
    from .settings import SettingsError

    if isinstance(exc, (SettingsError, IdentityError)):
        return str(exc)
    mod = type(exc).__module__ or ""
    if mod.startswith(("sqlalchemy", "sqlite3", "psycopg", "psycopg2")):
        return _database_line(exc)
    if isinstance(exc, UnicodeEncodeError):
        return ("text holds an unpaired surrogate that cannot be written: remove the character and retry; "
                f"{NOTHING_LOST}")
    if isinstance(exc, OSError):
        return _os_line(exc)
    return None


def one_line(exc: BaseException) -> str:
    """``user_message(exc)``, or a line naming the exception's kind for failures nobody mapped yet."""
    line = user_message(exc)
    if line:
        return line
    first = (str(exc).strip().splitlines() or [""])[0][:160]
    return f"unexpected {type(exc).__name__}{': ' + first if first else ''} (set VCR_DEBUG=1 to see where)"
