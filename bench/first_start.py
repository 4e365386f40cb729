"""Fresh clone to the app serving: the README's first command, timed (issue 13; target < 4 minutes).

Clones this repository's HEAD into a temporary folder, runs ``bash .ci/bootstrap app`` there with a
new virtual environment, and polls Streamlit's health endpoint until it answers. ``--cold`` turns pip's
download cache off (``PIP_NO_CACHE_DIR=1``), as on a machine that never installed the project; by
default the cache is whatever this machine has. Prints the set-up log's milestones and, last, one JSON
line: ``seconds_to_serving``, ``pip_cache``, ``load_avg_start``, ``load_avg_end``, ``ok``.

    .venv/bin/python bench/first_start.py [--cold] [--port 8599] [--timeout 900]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cold", action="store_true", help="no pip download cache (PIP_NO_CACHE_DIR=1)")
    ap.add_argument("--port", type=int, default=8599)
    ap.add_argument("--timeout", type=float, default=900.0, help="give up after this many seconds")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="vcr-first-start-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
        env.update({"VCR_HOME": str(Path(tmp) / "home"), "BROWSER": "true"})
        if args.cold:
            env["PIP_NO_CACHE_DIR"] = "1"
        load_start = os.getloadavg()[0]
        start = time.monotonic()
        log = open(Path(tmp) / "bootstrap.log", "w")
        proc = subprocess.Popen(["bash", ".ci/bootstrap", "app", "--server.port", str(args.port),
                                 "--server.headless", "true"], cwd=clone, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        ok = False
        try:
            while time.monotonic() - start < args.timeout and proc.poll() is None:
                if _healthy(args.port):
                    ok = True
                    break
                time.sleep(1)
            elapsed = time.monotonic() - start
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
            log.close()
        print((Path(tmp) / "bootstrap.log").read_text()[-2000:], file=sys.stderr)
        print(json.dumps({"seconds_to_serving": round(elapsed, 1), "pip_cache": "off" if args.cold else "as is",
                          "load_avg_start": round(load_start, 2), "load_avg_end": round(os.getloadavg()[0], 2),
                          "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
