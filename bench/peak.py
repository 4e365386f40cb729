"""A process's own peak resident memory, for benchmarks that report one.

``resource.getrusage(...).ru_maxrss`` cannot be used for a child process: Linux carries the parent's
high-water mark across fork (or vfork) and exec, so a child started by a 1.5 GB parent reports 1.5 GB
whatever it uses itself. ``VmHWM`` in ``/proc/self/status`` belongs to the process's own memory map,
which exec replaces.

    python bench/peak.py REPORT -m vcr_core.cli.main export ...

runs the module as ``python -m`` does and writes its peak (MB) to the file REPORT when it exits.
"""
from __future__ import annotations

import atexit
import resource
import runpy
import sys
from pathlib import Path


def own_peak_mb() -> float:
    """This process's peak resident memory in MB (VmHWM; ``ru_maxrss`` where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_module_reporting_peak(argv: list[str]) -> None:
    """``argv`` = [REPORT, "-m", module, args...]: run the module as __main__, write the peak at exit."""
    if len(argv) < 3 or argv[1] != "-m":
        raise SystemExit("usage: python bench/peak.py REPORT -m MODULE [ARGS...]")
    report, module = Path(argv[0]), argv[2]
    atexit.register(lambda: report.write_text(f"{own_peak_mb():.1f}\n"))
    sys.argv = [module, *argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


def child_peak_mb(report: Path) -> float:
    """The peak a child run through this script wrote (NaN if it wrote none)."""
    try:
        return float(report.read_text())
    except (OSError, ValueError):
        return float("nan")


if __name__ == "__main__":
    run_module_reporting_peak(sys.argv[1:])
