"""Throughput of generation runs: orchestration only (no tools), against the scripted local server.

200 records, mode report-explain (2 model calls per record), 1.0 s latency per call, concurrency 16.
ideal_s = calls x latency / concurrency. speedup_vs_sequential compares with a sequential run
(concurrency 1) measured on a few records in the same session and scaled to all records.
Last output line: one JSON object.

    .venv/bin/python bench/generate_bench.py [--records 200] [--concurrency 16] [--latency 1.0]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _run(engine, batch_id: int, base_url: str, n: int | None, concurrency: int) -> tuple[float, int, int]:
    from sqlalchemy import func
    from sqlmodel import select

    from vcr_core.generation import create_run, run_progress
    from vcr_core.jobs import Worker
    from vcr_core.store import LlmCall, session_scope

    run_id = create_run(engine, batch_id=batch_id, tools=[], model="scripted", mode="report-explain",
                        options={"api_base": base_url, "concurrency": concurrency, "max_items": n or 0})
    start = time.perf_counter()
    Worker(engine, exit_when_idle=True, kinds=("generate",)).run()
    wall = time.perf_counter() - start
    with session_scope(engine) as s:
        calls = s.exec(select(func.count()).select_from(LlmCall).where(LlmCall.run_id == run_id)).one()
    done = run_progress(engine, run_id)["n_done"]
    return wall, calls, done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--latency", type=float, default=1.0)
    ap.add_argument("--sequential-sample", type=int, default=5)
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="vcr-genbench-"))
    os.environ.update(VCR_HOME=str(home), DATABASE_URL=f"sqlite:///{home / 'bench.db'}", OFFLINE="true")
    from vcr_core.files.ingest import ingest_file
    from vcr_core.llm.testing import ScriptedServer, make_records, smart_responder
    from vcr_core.store import get_engine

    engine = get_engine()
    path = home / "records.json"
    path.write_text(json.dumps(make_records(args.records)))
    batch_id = ingest_file(engine, path, name="bench").batch_id
    with ScriptedServer(smart_responder, default_delay_s=args.latency) as srv:
        _run(engine, batch_id, srv.base_url, 1, 1)  # warm-up: litellm import, first connection
        seq_wall, seq_calls, seq_done = _run(engine, batch_id, srv.base_url, args.sequential_sample, 1)
        wall, calls, done = _run(engine, batch_id, srv.base_url, None, args.concurrency)
    assert done == args.records, f"only {done} of {args.records} records finished"
    ideal = calls * args.latency / args.concurrency
    sequential_est = seq_wall / seq_done * args.records
    print(f"sequential: {seq_done} records in {seq_wall:.2f} s ({seq_wall / seq_done:.2f} s/record)")
    print(f"concurrent: {done} records, {calls} calls in {wall:.2f} s (ideal {ideal:.2f} s)")
    print(json.dumps({"records": done, "concurrency": args.concurrency, "latency_s": args.latency, "calls": calls,
                      "wall_s": round(wall, 2), "ideal_s": round(ideal, 2), "ratio_to_ideal": round(wall / ideal, 3),
                      "sequential_est_s": round(sequential_est, 1),
                      "speedup_vs_sequential": round(sequential_est / wall, 2)}))


if __name__ == "__main__":
    main()
