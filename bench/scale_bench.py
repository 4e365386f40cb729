"""Scale-out benchmark: generation with the Ray executor (issue 15).

A scripted OpenAI-compatible model on 127.0.0.1 answers every call after 1.0 s. One local Ray
cluster (127.0.0.1, 16 logical CPUs, 200 MB object store); a run of RECORDS records (mode
explain-only: one model call per record) is generated with 1, 2 and 4 Ray workers, each one record at
a time (the run's tasks in flight = workers). Then 16 workers against a cluster-wide cap of 8 model
calls in flight (the database's shared limit): the stub counts the calls it is serving at once.

Prints one JSON line: records, executor, seconds_per_record per worker count, speedup_4_vs_1
(target >= 3.0), max_concurrent_calls with 16 workers and cap 8 (target <= 8).
Run: .venv/bin/python bench/scale_bench.py [--records 50]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LATENCY_S = 1.0


class CountingStub:
    """smart_responder after LATENCY_S, counting the calls in flight."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.calls = 0

    def reset(self) -> None:
        with self.lock:
            self.now = self.peak = self.calls = 0

    def __call__(self, body):
        from vcr_core.llm.testing import smart_responder

        with self.lock:
            self.now += 1
            self.calls += 1
            self.peak = max(self.peak, self.now)
        try:
            time.sleep(LATENCY_S)
            return smart_responder(body)
        finally:
            with self.lock:
                self.now -= 1


def one_run(engine, batch_id: int, base_url: str, workers: int, cap: int | None) -> float:
    from vcr_core.generation import create_run, run_progress
    from vcr_core.jobs import Worker

    run_id = create_run(engine, batch_id=batch_id, model="scripted", mode="explain-only",
                        options={"api_base": base_url, "concurrency": workers})
    start = time.perf_counter()
    Worker(engine, kinds=("generate",), executor="ray", concurrency=workers, max_concurrent_calls=cap,
           exit_when_idle=True).run()
    seconds = time.perf_counter() - start
    p = run_progress(engine, run_id)
    assert p["status"] == "done" and p["n_ok"] == p["n_total"], p
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=50)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="vcr-scale-"))
    os.environ.update(VCR_HOME=str(home), OFFLINE="true", DATABASE_URL=f"sqlite:///{home / 'bench.db'}")
    from vcr_core.files.ingest import ingest_file
    from vcr_core.jobs.executor import ensure_ray, shutdown_ray
    from vcr_core.llm.testing import ScriptedServer, make_records
    from vcr_core.store import get_engine

    engine = get_engine()
    path = home / "records.json"
    path.write_text(json.dumps(make_records(args.records)))
    batch_id = ingest_file(engine, path, name="scale").batch_id
    stub = CountingStub()
    out: dict = {"records": args.records, "executor": "ray", "latency_s": LATENCY_S, "seconds_per_record": {}}
    ensure_ray(num_cpus=16, object_store_bytes=200 * 1024 * 1024)
    try:
        with ScriptedServer(stub) as srv:
            one_run(engine, batch_id, srv.base_url, 16, None)  # warm-up: 16 Ray worker processes import the code
            for workers in (1, 2, 4):
                stub.reset()
                seconds = one_run(engine, batch_id, srv.base_url, workers, None)
                out["seconds_per_record"][str(workers)] = round(seconds / args.records, 3)
                out.setdefault("peak_calls", {})[str(workers)] = stub.peak
            stub.reset()
            seconds = one_run(engine, batch_id, srv.base_url, 16, 8)
            out["seconds_per_record"]["16_cap8"] = round(seconds / args.records, 3)
            out["max_concurrent_calls"] = stub.peak
            out["calls_16_cap8"] = stub.calls
    finally:
        shutdown_ray()
    spr = out["seconds_per_record"]
    out["speedup_4_vs_1"] = round(spr["1"] / spr["4"], 2)
    out["ok"] = out["speedup_4_vs_1"] >= 3.0 and out["max_concurrent_calls"] <= 8
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
