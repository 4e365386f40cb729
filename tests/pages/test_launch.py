"""``python app.py`` (the README's app command): the database is migrated and the supervised worker runs
before any page is asked for, so it has warmed up by the time a visitor clicks (issue 24's first graph)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, pick_port, port_answers


def _children(pid: int) -> dict[int, str]:
    """The child processes of ``pid`` and their command lines (Linux /proc)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue  # a process that ended while being read
    return found


def _wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout_s:.0f} s")


def test_python_app_py_starts_the_worker_before_any_page(tmp_path):
    from vcr_core.store import get_engine, schema_revision

    port = pick_port()
    db = tmp_path / "app.db"
    # A model as the default: the worker then has no knowledge to warm (that takes a core for seconds).
    env = dict(os.environ, VCR_HOME=str(tmp_path / "home"), DATABASE_URL=f"sqlite:///{db}", APP_WORKER="true",
               OFFLINE="true", DEFAULT_MODEL="openai/gpt-4o-mini", PYTHONUNBUFFERED="1")
    with open(tmp_path / "app.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "app.py", "--server.port", str(port), "--server.headless", "true",
                                 "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        workers = _wait_for(lambda: {p: c for p, c in _children(proc.pid).items() if "vcr_core.cli.main worker" in c},
                            120, "no worker process was started by `python app.py`")
        assert len(workers) == 1, workers
        _wait_for(lambda: port_answers(port), 120, "the server did not answer")
        _wait_for(lambda: "You can now view your Streamlit app" in (tmp_path / "app.log").read_text(), 60,
                  "Streamlit did not say it serves")
        assert schema_revision(get_engine(f"sqlite:///{db}", upgrade=False)) is not None  # migrated, no page asked
        worker = next(iter(workers))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    # the worker stops with the app (the supervisor's exit hook, or the parent-death signal)
    _wait_for(lambda: not Path(f"/proc/{worker}").exists() or "Z" in _state(worker), 30, "the worker outlived the app")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
