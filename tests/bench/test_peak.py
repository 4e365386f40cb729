"""bench/peak.py: a child's peak memory is its own, not the parent's high-water mark (which Linux carries
across fork and exec into the child's ru_maxrss, so benchmarks that read it reported the parent's size)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="VmHWM is Linux's /proc")
def test_a_child_run_through_peak_reports_its_own_peak(tmp_path):
    ballast = bytearray(400 * 1024 * 1024)
    for i in range(0, len(ballast), 4096):  # touch every page: resident, not just reserved
        ballast[i] = 1
    report = tmp_path / "peak.txt"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "peak.py"), str(report), "-m", "json.tool", "--help"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "usage" in proc.stdout
    own = float(report.read_text())
    assert 1 < own < 200  # an interpreter running json.tool, not the 400 MB parent
    del ballast


def test_peak_refuses_a_command_it_cannot_run(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "peak.py"), str(tmp_path / "r.txt"), "json.tool"],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "usage: python bench/peak.py" in proc.stderr
