"""The set-up step that takes org.Hs.eg.sqlite out of Debian's package, run with a stand-in `apt-get`
(a script that hands over a small .deb the test builds), so no download happens."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from vcr_core.knowledge.testing import make_test_orgdb

BOOTSTRAP = Path(__file__).resolve().parents[2] / ".ci" / "bootstrap"


def _fetch_function() -> str:
    text = BOOTSTRAP.read_text()
    start = text.index("fetch_orgdb() {")
    end = text.index("\n}\n", start) + 3
    return text[start:end]


def _run(tmp_path: Path, apt_script: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    apt = bindir / "apt-get"
    apt.write_text(apt_script)
    apt.chmod(0o755)
    (bindir / "apt-cache").write_text("#!/bin/sh\nexit 0\n")
    (bindir / "apt-cache").chmod(0o755)
    script = f"set -euo pipefail\nvenv={tmp_path / 'venv'}\n{_fetch_function()}\nfetch_orgdb\necho done\n"
    env = {k: v for k, v in os.environ.items() if k != "ORGDB_PATH"}  # the default place, under the test's venv
    env.update({"PATH": f"{bindir}:{os.environ['PATH']}", **(env_extra or {})})
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.skipif(not shutil.which("dpkg-deb"), reason="needs Debian's dpkg-deb")
def test_extracts_the_file_once(tmp_path):
    pkg = tmp_path / "pkg"
    data = pkg / "usr/lib/R/site-library/org.Hs.eg.db/extdata"
    data.mkdir(parents=True)
    make_test_orgdb(data / "org.Hs.eg.sqlite")
    (pkg / "DEBIAN").mkdir()
    (pkg / "DEBIAN" / "control").write_text("Package: r-bioc-org.hs.eg.db\nVersion: 3.16.0-1\nArchitecture: all\n"
                                             "Maintainer: test <t@example.org>\nDescription: test package\n")
    deb = tmp_path / "r-bioc-org.hs.eg.db_3.16.0-1_all.deb"
    subprocess.run(["dpkg-deb", "-b", str(pkg), str(deb)], check=True, capture_output=True)
    calls = tmp_path / "calls.txt"
    apt = f'#!/bin/sh\necho "$@" >> {calls}\ncase "$*" in *download*) cp {deb} . ;; esac\nexit 0\n'
    first = _run(tmp_path, apt)
    assert first.returncode == 0, first.stderr
    target = tmp_path / "venv/share/vcr/org.Hs.eg.sqlite"
    assert target.stat().st_size == (data / "org.Hs.eg.sqlite").stat().st_size
    assert "GO annotations:" in first.stdout
    n = len(calls.read_text().splitlines())
    again = _run(tmp_path, apt)
    assert again.returncode == 0 and len(calls.read_text().splitlines()) == n  # already there: nothing fetched


def test_failure_warns_and_carries_on(tmp_path):
    res = _run(tmp_path, "#!/bin/sh\necho 'E: no network' >&2\nexit 100\n")
    assert res.returncode == 0 and res.stdout.strip().endswith("done")
    assert "warning: GO annotations unavailable" in res.stderr and "ORGDB_PATH" in res.stderr
    assert not (tmp_path / "venv/share/vcr/org.Hs.eg.sqlite").exists()
