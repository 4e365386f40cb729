"""Fault experiments for issue 12 (hardening); the last output line is one JSON object.

Runs on this machine, against a fresh SQLite database in bench/_work/ (gitignored, removed after):

* hostile files -> `vcr ingest` (in process, through the CLI entry point): tracebacks, partial writes,
  bad files accepted;
* SIGKILL of a `vcr worker` process, again and again, during a 100-record run against the scripted
  model server: records missing or generated twice;
* a frozen worker (SIGSTOP beyond the heartbeat time-out, then SIGCONT): does the run finish and get
  verified, and how many records were generated twice;
* injected model faults (500, 429 with Retry-After, time-outs, malformed bodies, empty output):
  failed records without a reason;
* `vcr db backup` while 4 curator processes write: judgments missing from the copy (a plain file
  copy at the same moment is measured for contrast);
* export -> import-traces round trip: curations lost, and what a second import adds;
* a 2 GB input file: peak memory of `vcr ingest` (refused from its size; and streamed through the
  whole validation with the limit raised);
* secrets: fragments of a fake key the stub provider echoes, searched in the database, logs and exports.

Options scale it down: --quick (fewer records and kills, 200 MB instead of 2 GB).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORK = ROOT / "bench" / "_work"
FAKE_KEY = "sk-proj-BENCHFAKE-7Qm2xZ9vL4tR8wK1pN6sD3fH0jG5"
PY = sys.executable


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def env_for(db_url: str, home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update({"DATABASE_URL": db_url, "VCR_HOME": str(home), "OFFLINE": "true", "PYTHONPATH": str(ROOT),
                "OPENAI_API_KEY": FAKE_KEY, **extra})
    return env


def use_db(db_url: str, home: Path) -> None:
    """Point this process's settings at ``db_url`` (the in-process parts of the bench)."""
    from vcr_core.kernel.settings import get_settings
    from vcr_core.store import dispose_engines

    os.environ.update({"DATABASE_URL": db_url, "VCR_HOME": str(home), "OFFLINE": "true", "OPENAI_API_KEY": FAKE_KEY})
    get_settings.cache_clear()
    dispose_engines()


# ------------------------------------------------------------------------------------------------
# hostile files
# ------------------------------------------------------------------------------------------------

def _rec(i, **pert) -> dict:
    return {"index": i, "context": {"cell_type": "A549"}, "perturbation": {"name": f"drug{i}", "target": "EGFR", **pert}}


def hostile_cases(quick: bool) -> list[tuple[str, bytes, bool]]:
    """(name, bytes, should be refused) for every hostile file."""
    ok = json.dumps([_rec(0), _rec(1)])
    cases: list[tuple[str, bytes, bool]] = []

    def add(name, data, bad=True):
        cases.append((name, data if isinstance(data, bytes) else data.encode("utf-8"), bad))

    one = lambda body: "[" + json.dumps(_rec(0)) + ", " + body + "]"  # noqa: E731 - a bad 2nd record
    for field in ("name", "target", "description", "smiles", "moa_type"):
        add(f"surrogate_in_{field}", one('{"index": 1, "context": {"cell_type": "A"}, "perturbation": {"%s": "a\\ud800b"}}' % field))
    add("surrogate_in_context", one('{"index": 1, "context": {"cell_type": "\\udfff"}, "perturbation": {"name": "x"}}'))
    add("surrogate_in_key", one('{"index": 1, "context": {"cell\\ud800": "A"}, "perturbation": {"name": "x"}}'))
    add("surrogate_in_index", one('{"index": "\\ud800", "perturbation": {"name": "x"}}'))
    add("surrogate_high_then_high", one('{"index": 1, "perturbation": {"name": "\\ud800\\ud800"}}'))
    add("surrogate_utf8_encoded", b'[{"index": 1, "perturbation": {"name": "a\xed\xa0\x80b"}}]')
    for num in ("1e999", "-1e999", "NaN", "Infinity", "-Infinity", "1E400"):
        add(f"nonfinite_{num}", one('{"index": 1, "perturbation": {"name": "x", "dose": %s}}' % num))
    add("nonfinite_index", '[{"index": 1e999, "perturbation": {"name": "x"}}]')
    add("nonfinite_nested", one('{"index": 1, "perturbation": {"name": "x", "extra": {"a": [1, 2, 1e999]}}}'))
    add("huge_integer", '[{"index": 1, "perturbation": {"name": "x", "dose": %s}}]' % ("9" * 5000))
    add("dupkey_top", '[{"index": 1, "index": 2, "perturbation": {"name": "x"}}]')
    add("dupkey_perturbation", '[{"index": 1, "perturbation": {"name": "x", "name": "y"}}]')
    add("dupkey_context", '[{"index": 1, "context": {"cell_type": "A", "cell_type": "B"}, "perturbation": {"name": "x"}}]')
    add("dupkey_deep", '[{"index": 1, "perturbation": {"name": "x", "extra": {"a": {"b": 1, "b": 2}}}}]')
    add("dupindex_1_1.0", json.dumps([_rec(1), _rec(1.0)]))
    add("dupindex_1_space1", json.dumps([_rec(1), _rec(" 1")]))
    add("dupindex_1_str1", json.dumps([_rec(1), _rec("1")]))
    add("dupindex_1e0", json.dumps([_rec(1), _rec("1e0")]))
    far = [_rec(i) for i in range(5001)]
    far[5000]["index"] = 17
    add("dupindex_at_5000", json.dumps(far))
    for cut in (10, 25, 40, len(ok) - 1, len(ok) - 3):
        add(f"truncated_at_{cut}", ok[:cut])
    add("truncated_mid_number", '[{"index": 12')
    add("trailing_comma_list", ok[:-1] + ",]")
    add("trailing_comma_object", '[{"index": 1, "perturbation": {"name": "x",}}]')
    add("single_quotes", "[{'index': 1, 'perturbation': {'name': 'x'}}]")
    add("comments", '[// a comment\n{"index": 1, "perturbation": {"name": "x"}}]')
    add("two_arrays", ok + ok)
    add("jsonl_named_json", "\n".join(json.dumps(r) for r in (_rec(0), _rec(1))))
    add("extra_data", ok + " garbage")
    for name, top in (("top_string", '"text"'), ("top_number", "42"), ("top_null", "null"), ("top_true", "true")):
        add(name, top)
    for name, item in (("record_string", '"x"'), ("record_number", "3"), ("record_list", "[1, 2]"), ("record_null", "null")):
        add(name, one(item))
    add("perturbation_string", one('{"index": 1, "perturbation": "imatinib"}'))
    add("perturbation_number", one('{"index": 1, "perturbation": 5}'))
    add("context_number", one('{"index": 1, "context": 5, "perturbation": {"name": "x"}}'))
    add("target_object", one('{"index": 1, "perturbation": {"name": "x", "target": {"a": 1}}}'))
    add("name_list", one('{"index": 1, "perturbation": {"name": ["a", "b"]}}'))
    add("index_object", '[{"index": {"a": 1}, "perturbation": {"name": "x"}}]')
    add("index_list", '[{"index": [1], "perturbation": {"name": "x"}}]')
    add("index_bool", '[{"index": true, "perturbation": {"name": "x"}}]')
    add("deep_nesting_top", "[" * 200_000 + "]" * 200_000)
    add("deep_nesting_field", '[{"index": 1, "perturbation": {"name": "x", "extra": %s}}]' % ("[" * 5000 + "]" * 5000))
    add("over_size_limit", b"[" + b'"' + b"a" * (51 * 1024 * 1024) + b'"]')
    add("empty_file", b"")
    add("whitespace_only", b"  \n\t ")
    add("empty_list", b"[]")
    add("empty_object", b"{}")
    add("utf16_le_bom", "\ufeff" .encode("utf-16-le") + ok.encode("utf-16-le"))
    add("utf16_be_bom", b"\xfe\xff" + ok.encode("utf-16-be"))
    add("utf16_no_bom", ok.encode("utf-16-le"))
    add("utf32", ok.encode("utf-32"))
    add("latin1", '[{"index": 1, "perturbation": {"name": "caf\u00e9"}}]'.encode("latin-1"))
    add("invalid_utf8_mid", ok.encode()[:30] + b"\xc3\x28" + ok.encode()[30:])
    add("overlong_utf8", b'[{"index": 1, "perturbation": {"name": "\xc0\xaf"}}]')
    add("nul_byte_outside", ok.encode()[:1] + b"\x00" + ok.encode()[1:])
    add("raw_control_char_in_string", b'[{"index": 1, "perturbation": {"name": "a\x01b"}}]')
    n_empty = 200_000 if quick else 1_000_000
    add(f"{n_empty}_empty_objects", b"[" + b",".join([b"{}"] * n_empty) + b"]")
    add("not_json_extension.txt", ok)
    # hostile but valid: must be accepted whole
    add("bom_utf8_ok", b"\xef\xbb\xbf" + ok.encode(), bad=False)
    add("surrogate_pair_ok", '[{"index": 1, "perturbation": {"name": "\\ud83d\\ude00"}}]', bad=False)
    add("index_null_twice_ok", json.dumps([{"index": None, "perturbation": {"name": "a"}},
                                           {"index": None, "perturbation": {"name": "b"}}]), bad=False)
    add("huge_string_ok", json.dumps([_rec(1, description="x" * (10 * 1024 * 1024))]), bad=False)
    add("targets_30000_ok", json.dumps([_rec(1, targets=[f"T{i}" for i in range(30000)])]), bad=False)
    add("top_object_ok", json.dumps(_rec(5)), bad=False)
    add("nan_as_text_ok", json.dumps([_rec(1, dose="NaN")]), bad=False)
    add("escaped_nul_ok", '[{"index": 1, "perturbation": {"name": "a\\u0000b"}}]', bad=False)
    return cases


def hostile_experiment(work: Path, quick: bool) -> dict:
    from sqlmodel import Session, func, select

    from vcr_core.cli.main import main
    from vcr_core.store import Batch, Record, get_engine

    home = work / "hostile_home"
    db_url = f"sqlite:///{work / 'hostile.db'}"
    use_db(db_url, home)
    engine = get_engine(db_url)
    folder = work / "hostile"
    folder.mkdir(parents=True, exist_ok=True)
    out = {"hostile_files": 0, "hostile_partial_writes": 0, "hostile_tracebacks": 0, "hostile_accepted_bad": 0,
           "hostile_refused_good": 0}
    details = []

    def counts():
        with Session(engine) as s:
            return (s.exec(select(func.count()).select_from(Batch)).one(), s.exec(select(func.count()).select_from(Record)).one())

    for name, data, bad in hostile_cases(quick):
        suffix = "" if name.endswith(".txt") else ".json"
        path = folder / f"{name}{suffix}"
        path.write_bytes(data)
        before = counts()
        err = io.StringIO()
        t0 = time.perf_counter()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = main(["ingest", str(path)])
        except BaseException as exc:  # noqa: BLE001 - a traceback is what we count
            code = None
            out["hostile_tracebacks"] += 1
            details.append(f"{name}: {type(exc).__name__}: {exc}"[:200])
        took = time.perf_counter() - t0
        if "Traceback" in err.getvalue():
            out["hostile_tracebacks"] += 1
        after = counts()
        out["hostile_files"] += 1
        if code == 0:
            added_batches, added_records = after[0] - before[0], after[1] - before[1]
            if bad:
                out["hostile_accepted_bad"] += 1
                details.append(f"{name}: accepted although bad")
            elif added_batches != 1 or added_records < 1:
                out["hostile_partial_writes"] += 1
        else:
            if after != before:
                out["hostile_partial_writes"] += 1
                details.append(f"{name}: refused but wrote {after[0] - before[0]} batch(es), {after[1] - before[1]} record(s)")
            if not bad:
                out["hostile_refused_good"] += 1
                details.append(f"{name}: refused although valid: {err.getvalue()[:200]}")
            elif len(err.getvalue().splitlines()) > 110:
                details.append(f"{name}: {len(err.getvalue().splitlines())} error lines (cap is 100 + 2)")
        if name.startswith("targets_30000"):
            out["merge_30000_targets_s"] = round(took, 3)
        if "empty_objects" in name:
            out["empty_objects_error_lines"] = len(err.getvalue().splitlines())
        path.unlink()
    out["hostile_details"] = details[:20]
    return out


# ------------------------------------------------------------------------------------------------
# generation: SIGKILL, frozen worker, model faults, secrets
# ------------------------------------------------------------------------------------------------

class Faults:
    """The scripted provider's behaviour: a fault share, echoes of the fake key, request counts per drug."""

    def __init__(self, share: float, seed: int = 12, timeout_delay: float = 2.5):
        self.share = share
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.requests = 0
        self.faults: dict[str, int] = {}
        self.per_drug: dict[str, int] = {}
        self.timeout_delay = timeout_delay

    def __call__(self, body):
        import re

        from vcr_core.llm.testing import Reply, prompt_text, smart_responder

        text = prompt_text(body)
        drug = (re.findall(r'"name": "(drug\d+)"', text) or ["?"])[0]
        with self.lock:
            self.requests += 1
            self.per_drug[drug] = self.per_drug.get(drug, 0) + 1
            roll = self.rng.random()
            kind = self.rng.choice(["500", "429", "timeout", "malformed", "empty", "echo401"]) if roll < self.share else None
            if kind:
                self.faults[kind] = self.faults.get(kind, 0) + 1
        if kind == "500":
            return Reply(status=500, error_message=f"internal error for key {FAKE_KEY[8:]}")
        if kind == "429":
            return Reply(status=429, headers={"Retry-After": "0.2"}, error_message="rate limited")
        if kind == "timeout":
            return Reply(text="late", delay_s=self.timeout_delay)
        if kind == "malformed":
            return Reply(malformed=True)
        if kind == "empty":
            return Reply(text="")
        if kind == "echo401":
            return Reply(status=401, error_message=f"Incorrect API key provided: {FAKE_KEY[3:30]}. You can find your key at ...")
        return smart_responder(body)


def _traces(db_path: Path, run_id: int) -> list[tuple[int, str, str | None]]:
    con = sqlite3.connect(str(db_path), timeout=30)
    try:
        return con.execute("SELECT record_id, status, errors FROM trace WHERE run_id=?", (run_id,)).fetchall()
    finally:
        con.close()


def _scalar(db_path: Path, sql: str, *args):
    con = sqlite3.connect(str(db_path), timeout=30)
    try:
        row = con.execute(sql, args).fetchone()
        return row[0] if row else None
    finally:
        con.close()


def _new_run(engine, batch_id: int, base_url: str, **options) -> int:
    from vcr_core.generation import create_run

    return create_run(engine, batch_id=batch_id, record_ids=None, tools=[], model_type=None, model="scripted",
                      mode="explain-only", options={"api_base": base_url, **options}, created_by="bench")


def _batch(engine, work: Path, n: int, name: str) -> int:
    from vcr_core.files.ingest import ingest_file
    from vcr_core.llm.testing import make_records

    path = work / f"{name}.json"
    recs = make_records(n)
    for r in recs:
        r["perturbation"]["description"] = name  # another file per experiment
    path.write_text(json.dumps(recs))
    res = ingest_file(engine, path, name=name)
    assert res.ok, res.problems
    return res.batch_id


def _worker(env: dict, logf, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([PY, "-m", "vcr_core.cli.main", "worker", "--exit-when-idle", "--poll", "0.5", *extra],
                            env=env, stdout=logf, stderr=subprocess.STDOUT, cwd=str(ROOT))


def sigkill_experiment(work: Path, n_records: int, n_kills: int) -> dict:
    from vcr_core.llm.testing import ScriptedServer
    from vcr_core.store import get_engine

    home = work / "gen_home"
    db_path = work / "gen.db"
    db_url = f"sqlite:///{db_path}"
    use_db(db_url, home)
    engine = get_engine(db_url)
    batch = _batch(engine, work, n_records, "sigkill")
    faults = Faults(0.0)
    kills = 0
    logf = open(work / "worker-sigkill.log", "ab")
    rng = random.Random(7)
    with ScriptedServer(faults, default_delay_s=0.25) as srv:
        run_id = _new_run(engine, batch, srv.base_url, concurrency=2, verifiers=["structural"])
        env = env_for(db_url, home)
        while kills < n_kills:
            done_before = len(_traces(db_path, run_id))
            if done_before >= n_records:
                break
            proc = _worker(env, logf, "--concurrency", "2", "--kinds", "generate")
            deadline = time.monotonic() + 120
            if kills % 2 == 0:  # mid-work: after this worker stored a record, while others are in flight
                while time.monotonic() < deadline and len(_traces(db_path, run_id)) <= done_before and proc.poll() is None:
                    time.sleep(0.05)
                time.sleep(rng.uniform(0.0, 0.4))
            else:  # early: once it owns the job (claimed, starting up or sending its first calls)
                tag = f":{proc.pid}:"
                while time.monotonic() < deadline and tag not in (_scalar(
                        db_path, "SELECT worker_id FROM job WHERE run_id=? AND kind='generate'", run_id) or "") \
                        and proc.poll() is None:
                    time.sleep(0.05)
                time.sleep(rng.uniform(0.0, 2.0))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(30)
        log(f"sigkill: {kills} kills, {len(_traces(db_path, run_id))} of {n_records} records before the last worker")
        proc = _worker(env, logf, "--concurrency", "4", "--kinds", "generate")
        proc.wait(900)
    logf.close()
    rows = _traces(db_path, run_id)
    per_record: dict[int, int] = {}
    for rid, _st, _e in rows:
        per_record[rid] = per_record.get(rid, 0) + 1
    return {"sigkills": kills, "records_missing": n_records - len(per_record),
            "records_duplicated": sum(1 for v in per_record.values() if v > 1),
            "sigkill_run_status": _scalar(db_path, "SELECT status FROM run WHERE id=?", run_id),
            "sigkill_records_failed": sum(1 for _r, st, _e in rows if st == "failed"),
            "sigkill_llm_calls_in_flight_when_killed": _scalar(
                db_path, "SELECT count(*) FROM llmcall WHERE run_id=? AND error LIKE 'in flight%'", run_id)}


def frozen_experiment(work: Path, n_records: int, stale_after: float) -> dict:
    from vcr_core.llm.testing import ScriptedServer
    from vcr_core.store import get_engine

    home = work / "gen_home"
    db_path = work / "gen.db"
    db_url = f"sqlite:///{db_path}"
    use_db(db_url, home)
    engine = get_engine(db_url)
    batch = _batch(engine, work, n_records, "frozen")
    faults = Faults(0.0)
    logf = open(work / "worker-frozen.log", "ab")
    out = {}
    with ScriptedServer(faults, default_delay_s=0.3) as srv:
        run_id = _new_run(engine, batch, srv.base_url, concurrency=2, verifiers=["structural"])
        env = env_for(db_url, home)
        a = _worker(env, logf, "--concurrency", "2", "--stale-after", str(stale_after))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_traces(db_path, run_id)) < 3:
            time.sleep(0.05)
        a.send_signal(signal.SIGSTOP)
        frozen_at = time.monotonic()
        # B starts once A's heartbeat is older than the time-out (else B, finding nothing to take, exits idle)
        time.sleep(stale_after + 2)
        b = _worker(env, logf, "--concurrency", "2", "--stale-after", str(stale_after))
        # B takes the job over once A's heartbeat is older than the time-out; then A wakes up.
        tag = f":{b.pid}:"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and tag not in (_scalar(
                db_path, "SELECT worker_id FROM job WHERE run_id=? AND kind='generate'", run_id) or ""):
            if b.poll() is not None:
                break
            time.sleep(0.2)
        out["frozen_taken_over"] = tag in (_scalar(db_path, "SELECT worker_id FROM job WHERE run_id=? AND kind='generate'",
                                                   run_id) or "")
        time.sleep(3)
        a.send_signal(signal.SIGCONT)
        out["frozen_s"] = round(time.monotonic() - frozen_at, 1)
        for p in (b, a):
            try:
                p.wait(240)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
        # whatever is still queued (e.g. the verification job) gets a last worker
        c = _worker(env, logf, "--concurrency", "2", "--stale-after", str(stale_after))
        try:
            c.wait(240)
        except subprocess.TimeoutExpired:
            c.kill()
    logf.close()
    status = _scalar(db_path, "SELECT status FROM run WHERE id=?", run_id)
    verified = _scalar(db_path, "SELECT count(*) FROM job WHERE run_id=? AND kind='verify' AND status='done'", run_id)
    drugs_twice = sum(1 for d, n in faults.per_drug.items() if n > 1)
    out.update({"frozen_worker_stuck_runs": 0 if (status == "done" and verified) else 1,
                "frozen_run_status": status, "frozen_run_verified": bool(verified),
                "frozen_records_generated_twice": drugs_twice,
                "frozen_records_missing": n_records - len({r for r, _s, _e in _traces(db_path, run_id)})})
    return out


def model_fault_experiment(work: Path, n_records: int, share: float) -> dict:
    from vcr_core.llm.testing import ScriptedServer
    from vcr_core.store import get_engine

    home = work / "gen_home"
    db_path = work / "gen.db"
    db_url = f"sqlite:///{db_path}"
    use_db(db_url, home)
    engine = get_engine(db_url)
    batch = _batch(engine, work, n_records, "faults")
    faults = Faults(share, timeout_delay=2.5)
    logf = open(work / "worker-faults.log", "ab")
    with ScriptedServer(faults, default_delay_s=0.05) as srv:
        run_id = _new_run(engine, batch, srv.base_url, concurrency=4, timeout=1.0, verifiers=["structural"])
        env = env_for(db_url, home, LLM_MAX_RETRIES="2")
        proc = _worker(env, logf, "--concurrency", "4", "--kinds", "generate")
        proc.wait(900)
    logf.close()
    rows = _traces(db_path, run_id)
    failed = [(r, e) for r, st, e in rows if st == "failed"]
    no_reason = sum(1 for _r, e in failed if not e or not json.loads(e))
    mislabelled = sum(1 for _r, e in failed if e and "HTTP 500" in e and not faults.faults.get("500"))
    run_status, run_error = (_scalar(db_path, "SELECT status FROM run WHERE id=?", run_id),
                             _scalar(db_path, "SELECT error FROM run WHERE id=?", run_id))
    ok_empty = _scalar(db_path, "SELECT count(*) FROM trace WHERE run_id=? AND status='ok' AND "
                                "(raw_output IS NULL OR trim(raw_output)='')", run_id)
    return {"model_fault_share": round(sum(faults.faults.values()) / max(1, faults.requests), 3),
            "model_faults": faults.faults, "model_requests": faults.requests,
            "failed_without_reason": no_reason + (1 if run_status == "failed" and not run_error else 0),
            "failed_counted_as_ok": ok_empty, "fault_run_status": run_status,
            "fault_records_ok": sum(1 for _r, st, _e in rows if st == "ok"), "fault_records_failed": len(failed),
            "fault_records_invalid": sum(1 for _r, st, _e in rows if st == "invalid"),
            "fault_failed_mislabelled_http500": mislabelled}


def secrets_experiment(work: Path) -> dict:
    """Fragments (8+ characters) of the fake key in the database, worker logs and every export."""
    from vcr_core.files import export_traces, select_traces
    from vcr_core.generation.outputs import write_original_files
    from vcr_core.store import get_engine

    db_path = work / "gen.db"
    db_url = f"sqlite:///{db_path}"
    use_db(db_url, work / "gen_home")
    engine = get_engine(db_url)
    ids = select_traces(engine, status="any")
    blobs = {f"export.{fmt}": export_traces(engine, ids, fmt) for fmt in ("jsonl", "original", "graphml")}
    for run_id in [r[0] for r in sqlite3.connect(str(db_path)).execute("SELECT id FROM run")]:
        rep, exp = work / f"out/report_{run_id}.json", work / f"out/explain_{run_id}.json"
        write_original_files(engine, run_id, rep, exp)
        for p in (rep, exp):
            if p.exists():
                blobs[p.name] = p.read_bytes()
    con = sqlite3.connect(str(db_path))
    blobs["database dump"] = "\n".join(con.iterdump()).encode()
    con.close()
    for p in work.glob("*.log"):
        blobs[p.name] = p.read_bytes()
    frags = {FAKE_KEY[i:i + 8] for i in range(len(FAKE_KEY) - 7)}
    hits = {}
    for name, data in blobs.items():
        text = data.decode("utf-8", "replace")
        n = sum(text.count(f) for f in frags)
        if n:
            hits[name] = n
    return {"secret_hits": sum(hits.values()), "secret_hits_where": hits, "secret_places_searched": len(blobs)}


# ------------------------------------------------------------------------------------------------
# backup while curators write, and the export/import round trip
# ------------------------------------------------------------------------------------------------

CURATOR = r"""
import os, sys, time
sys.path.insert(0, {root!r})
from vcr_core import curation as cur
from vcr_core.store import get_engine
engine = get_engine({url!r}, upgrade=False)
claims = {claims!r}
traces = {traces!r}
end = time.monotonic() + {seconds}
log = open({log!r}, "a", buffering=1)
i = 0
while time.monotonic() < end:
    if i % 5 == 4:
        row = cur.judge_trace(engine, traces[i % len(traces)], {name!r}, ["approve", "reject", "needs_work"][i % 3], note=f"n{{i}}")
    elif i % 3 == 0:
        row = cur.judge_claim(engine, claims[i % len(claims)], {name!r}, "override", verdict="contradicted", tag="other", note=f"why {{i}}")
    else:
        row = cur.judge_claim(engine, claims[i % len(claims)], {name!r}, "accept")
    log.write(f"{{row.id}}\n")  # only after the commit returned
    i += 1
"""


def backup_experiment(work: Path, seconds: float, n_backups: int) -> dict:
    from sqlmodel import Session, select

    from vcr_core.files.ingest import ingest_file
    from vcr_core.store import Claim, get_engine
    from vcr_core.store.backup import backup_database
    from vcr_core.verify import verify_traces
    from vcr_core.verify.testing import EXPLANATION, add_trace

    home = work / "cur_home"
    db_path = work / "cur.db"
    db_url = f"sqlite:///{db_path}"
    use_db(db_url, home)
    engine = get_engine(db_url)
    path = work / "cur.json"
    path.write_text(json.dumps([{"index": i, "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib"}}
                                for i in range(10)]))
    batch = ingest_file(engine, path).batch_id
    traces = [add_trace(engine, batch, EXPLANATION, record_index=str(i), run_name=f"r{i % 2}") for i in range(10)]
    verify_traces(engine, traces, ["structural"])
    with Session(engine) as s:
        claims = [c.id for c in s.exec(select(Claim)).all()]
    logs = [work / f"curator{k}.log" for k in range(4)]
    procs = []
    for k in range(4):
        code = CURATOR.format(root=str(ROOT), url=db_url, claims=claims, traces=traces, seconds=seconds,
                              log=str(logs[k]), name=f"curator{k}")
        procs.append(subprocess.Popen([PY, "-c", code], env=env_for(db_url, home), cwd=str(ROOT)))

    def committed() -> set[int]:
        ids: set[int] = set()
        for p in logs:
            if p.exists():
                ids |= {int(x) for x in p.read_text().split()}
        return ids

    t_end = time.monotonic() + 180  # the curators start slowly on a loaded machine
    while len(committed()) < 20 and time.monotonic() < t_end:
        time.sleep(0.1)
    lost = naive_lost = 0
    results = []
    for b in range(n_backups):
        time.sleep(max(0.5, seconds / (n_backups + 2)))
        before = committed()
        dest = work / f"backup{b}.db"
        res = backup_database(engine, dest, overwrite=True)
        naive = work / f"naive{b}.db"
        shutil.copyfile(db_path, naive)  # what copying the file does (the -wal is left behind)
        in_copy = {r[0] for r in sqlite3.connect(str(dest)).execute("SELECT id FROM curation")}
        try:
            in_naive = {r[0] for r in sqlite3.connect(str(naive)).execute("SELECT id FROM curation")}
        except sqlite3.DatabaseError:
            in_naive = set()
        lost += len(before - in_copy)
        naive_lost += len(before - in_naive)
        results.append((len(before), res.curations))
    for p in procs:
        p.wait(seconds + 60)
    total = len(committed())
    return {"backup_lost_judgments": lost, "backups_taken": n_backups, "curator_processes": 4,
            "judgments_written": total, "judgments_at_backups": [r[0] for r in results],
            "naive_file_copy_lost_judgments": naive_lost, "_db": str(db_path)}


def roundtrip_experiment(work: Path) -> dict:
    from sqlmodel import Session, select

    from vcr_core.files import export_traces, select_traces
    from vcr_core.files.importers import import_traces
    from vcr_core.store import Curation, Trace, Verdict, get_engine

    src = get_engine(f"sqlite:///{work / 'cur.db'}")
    archive = work / "archive.jsonl"
    archive.write_bytes(export_traces(src, select_traces(src, status="any"), "jsonl"))
    dst = get_engine(f"sqlite:///{work / 'roundtrip.db'}")
    first = import_traces(dst, archive)
    second = import_traces(dst, archive)

    def keys(engine):
        with Session(engine) as s:
            tr = {t.id: t.record_id for t in s.exec(select(Trace)).all()}
            from vcr_core.store import Record
            idx = {r.id: r.index for r in s.exec(select(Record)).all()}
            curs = {(idx[tr[c.trace_id]], c.target, c.claim_hash, c.curator, c.judgment, c.verdict, c.tag, c.note,
                     str(c.created_at)) for c in s.exec(select(Curation)).all()}
            n_verdicts = len(s.exec(select(Verdict)).all())
        return curs, n_verdicts

    a, va = keys(src)
    b, vb = keys(dst)
    return {"roundtrip_lost_curations": len(a - b), "roundtrip_curations": len(a),
            "roundtrip_lost_verdicts": va - vb, "roundtrip_second_import_added": sum(second["added"].values()),
            "roundtrip_first_import_added": first["added"]}


# ------------------------------------------------------------------------------------------------
# a 2 GB input file
# ------------------------------------------------------------------------------------------------

def _peak_mb(cmd: list[str], env: dict) -> tuple[float, int, float, str]:
    """Run ``cmd`` ([PY, "-m", module, args...]); (its own peak RSS in MB, exit code, seconds, stderr's tail).
    The peak comes from the child (bench/peak.py): ru_maxrss from wait4 would include this process's."""
    import tempfile as _tempfile

    from peak import child_peak_mb
    fd, name = _tempfile.mkstemp(prefix="peak-", suffix=".txt")
    os.close(fd)
    report = Path(name)
    assert cmd[0] == PY and cmd[1] == "-m", cmd
    cmd = [PY, str(ROOT / "bench" / "peak.py"), str(report), *cmd[1:]]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(ROOT))
    out_thread_data = {}

    def drain(name, stream):
        out_thread_data[name] = stream.read()
    ts = [threading.Thread(target=drain, args=(n, s)) for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in ts:
        t.start()
    proc.wait()
    for t in ts:
        t.join()
    peak = child_peak_mb(report)
    report.unlink(missing_ok=True)
    return peak, proc.returncode, time.perf_counter() - t0, (out_thread_data.get("err") or b"").decode()[-300:]


def big_file_experiment(work: Path, size_gb: float) -> dict:
    path = work / "big.json"
    record_chars = 1024 * 1024
    n = max(2, int(size_gb * 1024 ** 3 / (record_chars + 120)))
    filler = "a" * record_chars
    t0 = time.perf_counter()
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("[")
        for i in range(n):
            idx = 0 if i == n - 1 else i  # the last record repeats index 0: refused after reading everything
            fh.write(("," if i else "") + json.dumps({"index": idx, "context": {"cell_type": "A549"},
                                                      "perturbation": {"name": f"d{i}", "description": filler}}))
        fh.write("]")
    size = path.stat().st_size
    log(f"big file: {size / 1024 ** 3:.2f} GB written in {time.perf_counter() - t0:.0f} s")
    home = work / "big_home"
    db_url = f"sqlite:///{work / 'big.db'}"
    cmd = [PY, "-m", "vcr_core.cli.main", "ingest", str(path)]
    try:
        peak_refused, code1, s1, err1 = _peak_mb(cmd, env_for(db_url, home))
        peak_stream, code2, s2, err2 = _peak_mb(cmd, env_for(db_url, home, MAX_UPLOAD_MB=str(int(size / 1024 ** 2) + 10)))
    finally:
        path.unlink(missing_ok=True)
    return {"ingest_peak_mb_2gb_file": round(max(peak_refused, peak_stream), 1), "big_file_gb": round(size / 1024 ** 3, 2),
            "big_file_refused_by_size_peak_mb": round(peak_refused, 1), "big_file_refused_by_size_s": round(s1, 2),
            "big_file_refused_by_size_exit": code1, "big_file_refused_by_size_said": err1.strip().splitlines()[-1:] ,
            "big_file_streamed_peak_mb": round(peak_stream, 1), "big_file_streamed_s": round(s2, 1),
            "big_file_streamed_exit": code2, "big_file_streamed_said": err2.strip().splitlines()[-1:]}



# ------------------------------------------------------------------------------------------------
# issue 22, slice 22a: restore under load, the archive as a checked exchange, import-traces memory
# ------------------------------------------------------------------------------------------------

def _kinase_batch(engine, work: Path, n: int, name: str) -> list[int]:
    """``n`` records, each with a trace saved as generation saves it (claim hashes grounded)."""
    from sqlmodel import select

    from vcr_core.files.ingest import ingest_file
    from vcr_core.formalism import parse_text, validate_parsed
    from vcr_core.knowledge.genes import claim_grounder
    from vcr_core.store import Record, Run, session_scope
    from vcr_core.store.traces import save_trace
    from vcr_core.verify.testing import EXPLANATION

    path = work / f"{name}.json"
    path.write_text(json.dumps([{"index": i, "context": {"cell_type": "K562"}, "perturbation": {"name": f"drug{i}"}}
                                for i in range(n)]))
    batch_id = ingest_file(engine, path).batch_id
    text = EXPLANATION.replace('target="ABL1"', 'target="VEGFR2"')  # a name the grounder maps (= KDR)
    result = parse_text(text)
    grounder = claim_grounder()
    ids = []
    with session_scope(engine) as s:
        run = Run(name=name, batch_id=batch_id, mode="explain-only", status="done")
        s.add(run)
        s.flush()
        for rec in s.exec(select(Record).where(Record.batch_id == batch_id).order_by(Record.position)).all():
            ids.append(save_trace(s, run_id=run.id, record=rec, explanation=result.explanation,
                                  findings=validate_parsed(result), grounder=grounder, raw_output=text).id)
    return ids


def _claims_of(engine, trace_ids: list[int]) -> list[int]:
    from sqlmodel import Session, select

    from vcr_core.store import Claim
    with Session(engine) as s:
        return [c.id for c in s.exec(select(Claim).where(Claim.trace_id.in_(trace_ids))).all()]


def restore_experiment(work: Path, seconds: float) -> dict:
    """Two curator threads judge continuously; a backup is taken, more judgments follow, then
    `vcr db restore --yes --bring-back` runs in another process while they go on writing."""
    from vcr_core import curation as cur
    from vcr_core.store import get_engine
    from vcr_core.store.backup import backup_database
    from vcr_core.verify.testing import EXPLANATION, add_trace

    db = work / "restore22.db"
    url = f"sqlite:///{db}"
    engine = get_engine(url)
    traces = _kinase_batch(engine, work, 10, "restore22")
    claims = _claims_of(engine, traces)
    acknowledged: dict[int, tuple] = {}
    refused: list[str] = []
    tracebacks: list[str] = []
    stop = threading.Event()

    def curator(name: str) -> None:
        rnd = random.Random(name)
        k = 0
        while not stop.is_set():
            k += 1
            try:
                if k % 5:
                    row = cur.judge_claim(engine, rnd.choice(claims), name, "accept", note=f"{name}{k}")
                else:
                    row = cur.judge_trace(engine, rnd.choice(traces), name, rnd.choice(["approve", "reject"]),
                                          note=f"{name}{k}")
            except cur.CurationError as exc:
                refused.append(str(exc))
                continue
            except Exception as exc:  # noqa: BLE001 - counted: a user would see a traceback
                tracebacks.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            acknowledged[row.id] = (name, f"{name}{k}")

    threads = [threading.Thread(target=curator, args=(n,)) for n in ("ana", "bo")]
    for t in threads:
        t.start()
    time.sleep(seconds / 3)
    backup = backup_database(engine, work / "restore22-backup.db").path
    time.sleep(seconds / 3)
    proc = subprocess.run([PY, "-m", "vcr_core.cli.main", "db", "restore", str(backup), "--yes", "--bring-back"],
                          env=env_for(url, work / "home22"), capture_output=True, text=True, cwd=str(ROOT), timeout=600)
    time.sleep(seconds / 3)
    stop.set()
    for t in threads:
        t.join()
    new_trace = add_trace(engine, _batch_id(db), EXPLANATION, record_index="0", run_name="after-restore")
    side = sorted(work.glob("restore22.db.before-restore-*"))
    rows = lambda path, table, cols: {r[0]: r[1:] for r in sqlite3.connect(str(path)).execute(  # noqa: E731
        f"SELECT id, {cols} FROM {table}")}
    live_c = rows(db, "curation", "curator, note, created_at")
    side_c = rows(side[0], "curation", "curator, note, created_at") if side else {}
    live_t, side_t = rows(db, "trace", "run_id, record_id"), (rows(side[0], "trace", "run_id, record_id") if side else {})
    lost = [i for i in acknowledged if i not in live_c and i not in side_c]
    reused = [i for i in live_c if i in side_c and live_c[i] != side_c[i]] + \
             [i for i in live_t if i in side_t and live_t[i] != side_t[i]]
    return {"restore_lost_acknowledged": len(lost), "restore_reused_ids": len(reused),
            "restore_acknowledged": len(acknowledged), "restore_refused_with_message": len(refused),
            "restore_refusals_seen": sorted(set(m[:60] for m in refused))[:2],
            "restore_tracebacks": len(tracebacks) + proc.stderr.count("Traceback"),
            "restore_exit": proc.returncode, "restore_said": proc.stdout.strip().splitlines()[1:3],
            "restore_new_trace_id_past_side": new_trace > max(side_t or {0: 0}), "_db": str(db)}


def _batch_id(db: Path) -> int:
    return sqlite3.connect(str(db)).execute("SELECT min(id) FROM batch").fetchone()[0]


def archive_experiment(work: Path) -> dict:
    """Round trips A -> B -> A, an older archive into a database with newer judgments, and tampered archives."""
    from sqlmodel import Session, select

    from vcr_core import curation as cur
    from vcr_core.files import export_traces, select_traces
    from vcr_core.files.importers import import_traces
    from vcr_core.store import Claim, Record, Trace, get_engine

    def archive(engine, name):
        path = work / name
        path.write_bytes(export_traces(engine, select_traces(engine, status="any"), "jsonl"))
        return path

    def hashes(engine):
        with Session(engine) as s:
            rec = {t.id: s.get(Record, t.record_id).index for t in s.exec(select(Trace)).all()}
            return {(rec[c.trace_id], c.node_id): c.hash for c in s.exec(select(Claim)).all()}

    a = get_engine(f"sqlite:///{work / 'a22.db'}")
    traces = _kinase_batch(a, work, 8, "a22")
    claims = _claims_of(a, traces)
    for i, cid in enumerate(claims[:12]):
        cur.judge_claim(a, cid, "ana" if i % 2 else "bo", "override" if i % 3 == 0 else "accept",
                        verdict="contradicted" if i % 3 == 0 else None, tag="polarity" if i % 3 == 0 else None)
    for tid in traces[:4]:
        cur.judge_trace(a, tid, "ana", "approve")
    b = get_engine(f"sqlite:///{work / 'b22.db'}")
    import_traces(b, archive(a, "a22.jsonl"))
    ha, hb = hashes(a), hashes(b)
    hash_changes = sum(ha[k] != hb.get(k) for k in ha)
    state_before = cur.state_snapshot(a)
    back = import_traces(a, archive(b, "b22.jsonl"))
    back_added = sum(back["added"].values())
    state_changed = cur.state_snapshot(a) != state_before

    # C judges (approve), D judges later (reject); C's archive imported into D must not override D
    c = get_engine(f"sqlite:///{work / 'c22.db'}")
    c_traces = _kinase_batch(c, work, 5, "c22")
    d = get_engine(f"sqlite:///{work / 'd22.db'}")
    import_traces(d, archive(c, "c22-0.jsonl"))
    for tid in c_traces:
        cur.judge_trace(c, tid, "ana", "approve")
    with Session(d) as s:
        d_traces = [t.id for t in s.exec(select(Trace)).all()]
    for tid in d_traces:
        cur.judge_trace(d, tid, "ana", "reject")
    import_traces(d, archive(c, "c22-1.jsonl"))
    overridden = sum(cur.trace_status(d, tid) != "reject" for tid in d_traces)

    # tampered archives: each must be refused with one line, nothing stored
    good = [json.loads(x) for x in archive(a, "a22-again.jsonl").read_text().splitlines() if x.strip()]
    forged_verdict = {"node_id": "n1", "claim_hash": "0" * 64, "verifier": "go", "version": "1", "verdict": "supported",
                      "score": 1.0, "created_at": "2026-01-01T00:00:00"}
    tampers = {
        "forged_supported_verdict": lambda x: x["verdicts"].append(forged_verdict),
        "claim_hash_changed": lambda x: x["claim_hashes"].update(n1="f" * 64),
        "judgment_value_sql": lambda x: x["curations"].append({**x["curations"][0], "judgment": "'; DROP TABLE curation;--"}),
        "judgment_on_missing_node": lambda x: x["curations"].append({**x["curations"][0], "target": "claim",
                                                                      "judgment": "accept", "node_id": "n99"}),
        "verdict_not_in_enum": lambda x: x["verdicts"].append({**forged_verdict, "verdict": "proven"}),
        "no_record": lambda x: x.pop("record"),
        "null_record": lambda x: x.update(record=None),
        "null_batch": lambda x: x.update(batch=None),
        "null_run": lambda x: x.update(run=None),
    }
    accepted, tracebacks, messages = [], [], []
    for name, tamper in tampers.items():
        lines = json.loads(json.dumps(good))
        withcur = next(i for i, x in enumerate(lines) if x["archive"]["curations"])
        tamper(lines[withcur]["archive"])
        path = work / f"forged-{name}.jsonl"
        path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
        target = get_engine(f"sqlite:///{work / f'forged-{name}.db'}")
        try:
            import_traces(target, path)
            accepted.append(name)
        except ValueError as exc:
            messages.append(str(exc))
        except Exception as exc:  # noqa: BLE001
            tracebacks.append(f"{name}: {type(exc).__name__}")
    return {"roundtrip_hash_changes": hash_changes, "roundtrip_claims": len(ha), "roundtrip_back_added": back_added,
            "roundtrip_back_state_changed": state_changed, "roundtrip_newer_overridden": overridden,
            "archive_forged_accepted": len(accepted), "archive_forged_cases": len(tampers),
            "archive_forged_accepted_names": accepted, "archive_tracebacks": len(tracebacks),
            "archive_messages_one_line": all("\n" not in m and m.startswith("line ") for m in messages),
            "archive_message_example": messages[0][:160] if messages else None}


def import_csv_experiment(work: Path, size_mb: float) -> dict:
    """Peak memory of `vcr import-traces` on a CSV of the original pipeline of ``size_mb``: refused from
    its size by default (MAX_UPLOAD_MB), and imported row by row with the limit raised."""
    import csv

    from vcr_core.verify.testing import EXPLANATION

    explain = EXPLANATION.split("<explain>")[1].split("</explain>")[0]
    dag = EXPLANATION.split("<dag>")[1].split("</dag>")[0]
    filler = "The perturbation lowers BCR-ABL1 signalling and MYC; " * 60
    path = work / "big22.csv"
    rows = 0
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["index", "question", "thinking", "answer", "explain", "dag", "raw_response", "success", "error",
                    "input_perturbation", "input_report_text"])
        while fh.tell() < size_mb * 1024 * 1024:
            w.writerow([rows, f"What does drug{rows} do in K562?", filler * 2, "It inhibits ABL1.", explain, dag,
                        filler * 2, True, "", repr({"index": rows, "context": {"cell_type": "K562"},
                                                   "perturbation": {"name": f"drug{rows}"}}), filler])
            rows += 1
    size = path.stat().st_size
    url = f"sqlite:///{work / 'csv22.db'}"
    cmd = [PY, "-m", "vcr_core.cli.main", "import-traces", str(path)]
    try:
        peak_refused, code1, s1, err1 = _peak_mb(cmd, env_for(url, work / "home22c"))
        peak_stream, code2, s2, err2 = _peak_mb(cmd, env_for(url, work / "home22c",
                                                              MAX_UPLOAD_MB=str(int(size / 1024 ** 2) + 10)))
    finally:
        path.unlink(missing_ok=True)
    tag = f"{round(size_mb):d}mb"
    return {f"import_peak_mb_{tag}_csv": round(max(peak_refused, peak_stream), 1), "csv_rows": rows,
            "csv_mb": round(size / 1024 ** 2, 1), "csv_refused_by_size_peak_mb": round(peak_refused, 1),
            "csv_refused_by_size_exit": code1, "csv_refused_said": err1.strip().splitlines()[-1:],
            "csv_streamed_peak_mb": round(peak_stream, 1), "csv_streamed_s": round(s2, 1),
            "csv_streamed_exit": code2, "csv_streamed_tracebacks": err2.count("Traceback")}


# ------------------------------------------------------------------------------------------------

# ------------------------------------------------------------------------------------------------
# issue 22b: identities, one-line failures, outputs
# ------------------------------------------------------------------------------------------------

SPOOF_PAIRS = [("dora", "Dora"), ("eve", "eve\u200b"), ("ana", "ＡＮＡ"), ("bo", "bo\x00"), ("cy", "c\u200dy"),
               ("di", "DI\ufeff"), ("ed", "ed\u00ad"), ("fa", " fa\t"), ("gil", "gil\u202e"), ("hu", "HU\x1b")]


def _probe_db(work: Path, name: str):
    """A fresh database with one approved-able trace; (engine, trace id, db url, home)."""
    from vcr_core.files.ingest import ingest_file
    from vcr_core.store import get_engine
    from vcr_core.verify.testing import EXPLANATION, add_trace

    home = work / name
    home.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{home / 'vcr.db'}"
    use_db(url, home)
    engine = get_engine()
    path = home / "r.json"
    path.write_text(json.dumps([{"index": "1", "context": {"cell_type": "K562"},
                                 "perturbation": {"name": "imatinib", "target": "ABL1"}}]))
    batch = ingest_file(engine, path).batch_id
    return engine, add_trace(engine, batch, EXPLANATION), url, home


def identity_experiment(work: Path) -> dict:
    """One person under two spellings must not meet two_agree; NUL-only and 10,000-character names are refused."""
    from vcr_core import curation as cur
    from vcr_core.files.ingest import ingest_file
    from vcr_core.verify.testing import EXPLANATION, add_trace

    engine, _, _, home = _probe_db(work, "identity")
    path = home / "r2.json"
    path.write_text(json.dumps([{"index": "1", "context": {"cell_type": "A549"}, "perturbation": {"name": "x", "target": "EGFR"}}]))
    batch = ingest_file(engine, path).batch_id
    accepted, cases = 0, []
    for a, b in SPOOF_PAIRS:
        t = add_trace(engine, batch, EXPLANATION, run_name=f"spoof-{a}")
        cur.judge_trace(engine, t, a, "approve", rule="two_agree")
        cur.judge_trace(engine, t, b, "approve", rule="two_agree")
        ok = cur.trace_status(engine, t) == "approve"
        accepted += ok
        cases.append({"pair": [a, b], "two_agree_met": ok})
    for bad in ("\x00", "\u200b\u200b", "x" * 10_000):
        t = add_trace(engine, batch, EXPLANATION, run_name="bad-name")
        try:
            cur.judge_trace(engine, t, bad, "approve")
            accepted += 1
            cases.append({"name": repr(bad[:12]), "stored": True})
        except cur.CurationError:
            cases.append({"name": repr(bad[:12]), "stored": False})
    return {"identity_spoofs_accepted": accepted, "identity_cases": len(cases)}


def _vcr(env: dict, *args: str, timeout: float = 600) -> tuple[int, str, str]:
    p = subprocess.run([PY, "-m", "vcr_core.cli.main", *args], env=env, capture_output=True, text=True,
                       timeout=timeout, cwd=env.get("_CWD", str(ROOT)))
    return p.returncode, p.stdout, p.stderr


def _traceback_like(rc: int, err: str, secret: str = "SECRETTEXT") -> bool:
    """A failure a user would not want to read: a traceback, SQL, record text, or more than one error line."""
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    return ("Traceback" in err or "[SQL:" in err or "sqlalche.me" in err or secret in err
            or (rc != 0 and len(errors) != 1))


@contextlib.contextmanager
def _small_fs(work: Path, mb: int = 8):
    """An ``mb`` MB file system: a tmpfs mounted by root; else None (the caller simulates a full disk)."""
    mnt = work / "small"
    mnt.mkdir(parents=True, exist_ok=True)
    ok = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mb}m", "tmpfs", str(mnt)],
                                              capture_output=True).returncode == 0
    try:
        yield mnt if ok else None
    finally:
        if ok:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(mnt: Path, leave_kb: int) -> None:
    free = shutil.disk_usage(mnt).free
    with open(mnt / "filler", "ab") as fh:
        with contextlib.suppress(OSError):
            fh.write(b"\0" * max(0, free - leave_kb * 1024))


def failures_experiment(work: Path) -> dict:
    """Every probe of 22b through the `vcr` command or the library's one-line mapping: bad settings, paths
    that name no file, a full disk (ingest, judging, generate, export), GraphML with NUL and controls.
    Also counts what was destroyed (outputs_destroyed)."""
    import hashlib
    import xml.etree.ElementTree as ET

    from vcr_core import curation as cur
    from vcr_core.kernel.failures import user_message
    from vcr_core.store import Curation, Trace, dispose_engines, session_scope

    engine, tid, url, home = _probe_db(work, "failures")
    cur.judge_trace(engine, tid, "ana", "approve")
    with session_scope(engine) as s:  # a model name and a judgment stored before entry checks, with NUL and ESC
        s.get(Trace, tid).model = "local/m\x00del\x1b"
        s.add(Curation(target="trace", trace_id=tid, curator="eve\x00", judgment="approve", note="n\x00te\x07"))
    cur.rebuild_state(engine)
    env = env_for(url, home, _CWD=str(home))
    probes: list[dict] = []
    destroyed = 0

    def probe(name, *args, env_extra=None, expect_fail=True):
        rc, out, err = _vcr({**env, **(env_extra or {})}, *args)
        bad = _traceback_like(rc, err) or (expect_fail and rc == 0)
        lines = [x for x in err.replace("\r", "\n").splitlines() if x.strip() and "record/s" not in x and "s/record" not in x]
        probes.append({"probe": name, "rc": rc, "traceback_like": bad, "error": lines[-1][:200] if lines else "",
                       "stderr_tail": "\n".join(lines[-6:] + out.splitlines()[-3:])[:800]})
        return rc, out, err

    probe("CONSENSUS=three rebuild-state", "db", "rebuild-state", env_extra={"CONSENSUS": "three"})
    probe("LEASE_S=abc db info", "db", "info", env_extra={"LEASE_S": "abc"})
    probe("LEASE_S=-5 db info", "db", "info", env_extra={"LEASE_S": "-5"})
    probe("export into a missing directory", "export", "-o", str(home / "missing" / "x.jsonl"))
    probe("export onto a directory", "export", "-o", str(home))
    if Path("/dev/full").exists():
        probe("export onto /dev/full", "export", "-o", "/dev/full")
    keep = home / "keep.jsonl"
    keep.write_text("an earlier export\n")
    probe("export onto an existing file without --force", "export", "-o", str(keep))
    destroyed += keep.read_text() != "an earlier export\n"
    graph = home / "g.graphml"
    rc, _, _ = probe("GraphML with NUL and controls", "export", "--format", "graphml", "--status", "any", "-o", str(graph),
                     expect_fail=False)
    try:
        ET.parse(graph)
        graphml_ok = graph.stat().st_size > 0
    except (OSError, ET.ParseError):
        graphml_ok = False
    probes[-1]["traceback_like"] |= not graphml_ok
    destroyed += graph.exists() and graph.stat().st_size == 0

    # run outputs: a second run with the same names must not overwrite the first's file
    # knowledge-assembled (the bench's environment carries a fake OpenAI key, which would fail every record)
    gen = ["generate", "--batch", "1", "--no-verify", "--max_items", "1", "--model_type", "knowledge",
           "--output_dir", str(home / "output")]
    probe("generate run 1", *gen, expect_fail=False)
    files = sorted((home / "output").rglob("*.json"))
    before = {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    probe("generate run 2 (same names)", *gen, expect_fail=False)
    destroyed += sum(hashlib.sha256(f.read_bytes()).hexdigest() != h for f, h in before.items())
    run_files = len(list((home / "output").rglob("*.json")))

    # a full disk
    full = {"full_disk": "none"}
    with _small_fs(work) as mnt:
        if mnt is not None:
            full["full_disk"] = "tmpfs 8 MB"
            small_home = mnt / "home"
            small_home.mkdir()
            surl = f"sqlite:///{small_home / 'vcr.db'}"
            senv = env_for(surl, small_home, _CWD=str(small_home))
            dispose_engines()
            rc, _, err = _vcr(senv, "ingest", str(home / "r.json"))
            use_db(surl, small_home)
            from vcr_core.store import get_engine
            from vcr_core.verify.testing import EXPLANATION, add_trace

            sengine = get_engine()
            st = add_trace(sengine, 1, EXPLANATION)
            cur.judge_trace(sengine, st, "ana", "approve")
            old = small_home / "old.jsonl"
            rc, _, err = _vcr(senv, "export", "-o", str(old))
            old_bytes = old.read_bytes()
            big = home / "big.json"
            big.write_text(json.dumps([{"index": str(i), "context": {"cell_type": "K562"},
                                        "perturbation": {"name": f"drug{i}", "target": "ABL1"}, "note": "SECRETTEXT" * 200}
                                       for i in range(3000)]))
            _fill(mnt, 300)
            env = senv
            probe("ingest onto a full disk", "ingest", str(big))
            probe("generate onto a full disk", "generate", "--batch", "1", "--no-verify", "--max_items", "3",
                  "--model_type", "knowledge",
                  "--output_dir", str(small_home / "output"))
            probe("export --force onto a full disk", "export", "-o", str(old), "--force")
            destroyed += old.read_bytes() != old_bytes
            # judging: the page shows user_message(exc); a None would be a traceback on the page
            errors = 0
            for i in range(400):
                try:
                    cur.judge_trace(sengine, st, f"c{i}", "needs_work", note="SECRETTEXT" * 300)
                except Exception as exc:  # noqa: BLE001 - measured
                    line = user_message(exc)
                    errors += 1
                    probes.append({"probe": "judging onto a full disk", "rc": 1, "error": line or repr(exc)[:200],
                                   "stderr_tail": "",
                                   "traceback_like": not line or "SECRETTEXT" in line or "INSERT" in line or "\n" in line})
                    break
            full["full_disk_judging_failed"] = errors
            dispose_engines()
    return {"user_tracebacks": sum(p["traceback_like"] for p in probes), "failure_probes": len(probes),
            "traceback_probes": {p["probe"]: p["stderr_tail"] for p in probes if p["traceback_like"]},
            "outputs_destroyed": int(destroyed), "run_output_files": run_files, **full,
            "probe_lines": {p["probe"]: p["error"] for p in probes}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="scaled down: 40 records, 8 kills, 0.2 GB file")
    ap.add_argument("--records", type=int, default=None, help="records of the SIGKILL run (default 100)")
    ap.add_argument("--kills", type=int, default=None, help="SIGKILLs (default 20)")
    ap.add_argument("--big-gb", type=float, default=None, help="size of the big input file (default 2)")
    ap.add_argument("--stale-after", type=float, default=8.0, help="heartbeat time-out of the frozen-worker part (s)")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: hostile,sigkill,frozen,faults,backup,big,identity,failures")
    ap.add_argument("--work", default=None, help="scratch directory (default bench/_work; removed at the end)")
    ap.add_argument("--only", default="", help="comma-separated parts to run, e.g. restore22,archive22,csv22")
    ap.add_argument("--csv-mb", type=float, default=60.0, help="size of the import-traces CSV of part csv22 (MB)")
    args = ap.parse_args()
    global WORK
    if args.work:
        WORK = Path(args.work).resolve()
    n_records = args.records or (40 if args.quick else 100)
    n_kills = args.kills or (8 if args.quick else 20)
    big_gb = args.big_gb or (0.2 if args.quick else 2.0)
    skip = set(filter(None, args.skip.split(",")))
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    result: dict = {"machine": f"{os.cpu_count()} cores, {os.uname().machine}, Python {sys.version.split()[0]}"}
    t_all = time.perf_counter()
    try:
        parts = [
            ("hostile", lambda: hostile_experiment(WORK, args.quick)),
            ("sigkill", lambda: sigkill_experiment(WORK, n_records, n_kills)),
            ("frozen", lambda: frozen_experiment(WORK, 30 if not args.quick else 16, args.stale_after)),
            ("faults", lambda: model_fault_experiment(WORK, 60 if not args.quick else 24, 0.35)),
            ("secrets", lambda: secrets_experiment(WORK)),
            ("backup", lambda: backup_experiment(WORK, 20.0 if not args.quick else 8.0, 4)),
            ("roundtrip", lambda: roundtrip_experiment(WORK)),
            ("big", lambda: big_file_experiment(WORK, big_gb)),
            # issue 22, slice 22a
            ("restore22", lambda: restore_experiment(WORK, 6.0 if args.quick else 12.0)),
            ("archive22", lambda: archive_experiment(WORK)),
            ("csv22", lambda: import_csv_experiment(WORK, args.csv_mb)),
            ("identity", lambda: identity_experiment(WORK)),      # issue 22b
            ("failures", lambda: failures_experiment(WORK)),      # issue 22b: user_tracebacks, outputs_destroyed
        ]
        only = set(filter(None, args.only.split(",")))
        for name, fn in parts:
            if name in skip or (name == "roundtrip" and "backup" in skip) or (only and name not in only):
                continue
            t0 = time.perf_counter()
            log(f"{name} ...")
            try:
                part = fn()
            except Exception as exc:  # noqa: BLE001 - one part failing is reported, the others still run
                import traceback

                traceback.print_exc()
                part = {f"{name}_error": f"{type(exc).__name__}: {exc}"[:300]}
            part.pop("_db", None)
            part[f"{name}_s"] = round(time.perf_counter() - t0, 1)
            log(f"{name}: {json.dumps(part)[:400]}")
            result.update(part)
    finally:
        from vcr_core.store import dispose_engines

        dispose_engines()
        shutil.rmtree(WORK, ignore_errors=True)
    result["total_s"] = round(time.perf_counter() - t_all, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
