"""What the browser tests share: Debian's Chromium, free ports, and the app served by ``python app.py``."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT, port_answers
from tests.conftest import pick_port as free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def require_browser() -> None:
    """Skip (a failure under CI=true) when the README's test command did not install the browser parts."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (the README's test command installs it)")
    pytest.importorskip("playwright.sync_api")


@contextmanager
def streamlit_app(tmp_path: Path, env: dict[str, str], ready_s: float) -> Iterator[str]:
    """``python app.py`` (the README's app command: the worker starts before the server) with ``env`` on a free
    port, its output in ``tmp_path/streamlit.log``;
    yields the app's URL once the port answers (or after ``ready_s``), and stops the server afterwards."""
    port = free_port()
    with open(tmp_path / "streamlit.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "app.py", "--server.port", str(port),  # as `bash .ci/bootstrap app`
                                 "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + ready_s
            while time.time() < deadline and not port_answers(port):
                time.sleep(0.5)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
