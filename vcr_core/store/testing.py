"""A throw-away PostgreSQL server on 127.0.0.1 for tests and benchmarks (Debian's binaries).

``postgres_server()`` yields a ``postgresql+psycopg://`` URL, or raises :class:`PostgresUnavailable`
with the reason (no binaries, root without a ``postgres`` user) so a test can skip with a message.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be started on this machine (the message says why)."""


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a fresh cluster (trust auth, user ``vcr``) and stop it afterwards."""
    bindir = _pg_bin()
    if not bindir:
        raise PostgresUnavailable("PostgreSQL server binaries not installed (Debian package 'postgresql')")
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise PostgresUnavailable("the psycopg driver is not installed (pip install 'psycopg[binary]')") from exc
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            pwd.getpwnam("postgres")
        except KeyError as exc:
            raise PostgresUnavailable("running as root without a 'postgres' user") from exc
        as_user = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="vcr-pg-"))
    os.chmod(root, 0o755)
    data = root / "pg"
    data.mkdir()
    if as_user:
        shutil.chown(data, "postgres")
    port = _free_port()
    subprocess.run(as_user + [f"{bindir}/initdb", "-D", str(data), "-U", "vcr", "--auth=trust"], check=True,
                   capture_output=True)
    subprocess.run(as_user + [f"{bindir}/pg_ctl", "-D", str(data), "-w", "-l", str(data / "log"), "-o",
                              f"-p {port} -h 127.0.0.1 -k {data} -c max_connections=200", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://vcr@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_user + [f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
