"""Ray as the executor: a 50-record generation as Ray tasks on a local cluster (2 CPUs, 127.0.0.1),
after a driver failure and with a Ray worker process killed mid-run, against the scripted model (a local
stub) and with the no-key default explainer (the knowledge assembler, on a small graph and GO file the
Ray workers load themselves), on SQLite and on PostgreSQL: every record is stored exactly once, the run
is done and verified; `vcr verify --executor ray`."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from vcr_core.llm.testing import ScriptedServer, make_records, smart_responder

DEMO_RECORDS = Path(__file__).resolve().parents[2] / "data" / "demo_records.json"

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[ray]'")


@pytest.fixture
def ray_cluster():
    from vcr_core.jobs.executor import ensure_ray, shutdown_ray

    shutdown_ray()
    ensure_ray(num_cpus=2, object_store_bytes=200 * 1024 * 1024)
    try:
        yield
    finally:
        shutdown_ray()


def _ray_task_pids(name: bytes = b"ray::record_task") -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if fh.read().startswith(name):
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


@pytest.fixture
def knowledge_files(isolated_settings, tmp_path, monkeypatch):
    """The default explainer's sources where every process finds them: a small graph saved as the
    starter graph's cache under VCR_HOME and a small org.Hs.eg.db at ORGDB_PATH. Requested before
    ``ray_cluster``, so the Ray workers (started by ``ray.init``) inherit the environment."""
    from vcr_core.agents.assembler import set_knowledge
    from vcr_core.kernel.settings import get_settings
    from vcr_core.knowledge.orgdb import reset_orgdb
    from vcr_core.knowledge.testing import make_test_orgdb
    from vcr_core.tools.kg.starter import starter_path

    # KDR and ABL1 promote proliferation, TP53 restrains it: the assembler infers the phenotypes.
    path = make_test_orgdb(tmp_path / "org.Hs.eg.sqlite", extra_annotations=[
        ("3791", "BP", "GO:0008284", "IDA"), ("25", "BP", "GO:0008284", "IDA"), ("7157", "BP", "GO:0008285", "IDA")])
    monkeypatch.setenv("ORGDB_PATH", str(path))
    get_settings.cache_clear()
    reset_orgdb()
    _demo_graph().save(starter_path())  # VCR_HOME is this test's: every process loads this graph
    set_knowledge(None)  # this process assembles too (the first driver's records): load afresh
    yield path
    set_knowledge(None)
    reset_orgdb()


def _demo_graph():
    """The demo records' drugs with their ChEBI roles, their targets and the diseases, as a starter-shaped graph."""
    import numpy as np

    from vcr_core.tools.kg.graph import CompactGraph
    from vcr_core.tools.kg.starter import RELATIONS, TYPES

    def drug(chebi: str, *roles: str) -> dict:
        return {"chebi": chebi, "roles": list(roles), "synonyms": []}

    nodes = [("nintedanib", "drug", "DB09079", drug("CHEBI:85164", "antineoplastic agent", "angiogenesis inhibitor",
                                                     "tyrosine kinase inhibitor")),
             ("imatinib", "drug", "DB00619", drug("CHEBI:45783", "antineoplastic agent", "tyrosine kinase inhibitor")),
             ("vemurafenib", "drug", "DB08881", drug("CHEBI:63637", "antineoplastic agent", "B-Raf inhibitor")),
             ("dexamethasone", "drug", "DB01234", drug("CHEBI:41879", "anti-inflammatory drug", "immunosuppressive agent")),
             *[(g, "gene/protein", f"HGNC:{i}", {"alias": []}) for i, g in enumerate(
                 ["KDR", "FLT1", "FGFR1", "PDGFRB", "ABL1", "KIT", "PDGFRA", "BRAF", "NR3C1", "TP53"], start=1)],
             ("breast cancer", "disease", "MONDO:0007254", {"synonyms": []})]
    t, r = {n: i for i, n in enumerate(TYPES)}, {n: i for i, n in enumerate(RELATIONS)}
    return CompactGraph.from_edges([n[0] for n in nodes], np.array([t[n[1]] for n in nodes]), TYPES, np.array([0]),
                                   np.array([4]), np.array([r["associated with"]]), RELATIONS,
                                   sources=["test"] * len(nodes), ids=[n[2] for n in nodes],
                                   details=[n[3] for n in nodes], origin="test graph (demo drugs)", symmetric=True)


def demo_records(n: int) -> list[dict]:
    """``n`` records varied from data/demo_records.json (each demo record again, on another plate)."""
    demo = json.loads(DEMO_RECORDS.read_text())
    out = []
    for i in range(n):
        rec = json.loads(json.dumps(demo[i % len(demo)]))
        rec["index"] = i + 1
        rec["context"]["description"] = f"{rec['context'].get('description', 'demo record')} (plate {i // len(demo) + 1})"
        out.append(rec)
    return out


def test_ray_generation_survives_driver_and_worker_failure_each_record_once(engine, tmp_path, ray_cluster):
    _ray_run_with_failures(engine, tmp_path, 50, "stub")


@pytest.mark.parametrize("explainer", ["stub", "knowledge"])
def test_ray_generation_on_postgresql(pg_url, tmp_path, knowledge_files, ray_cluster, explainer):
    """The same on the team's store, with the local stub model and with the no-key default explainer:
    tasks write to PostgreSQL, the driver claims with SKIP LOCKED."""
    from vcr_core.store import dispose_engines, get_engine

    _ray_run_with_failures(get_engine(pg_url), tmp_path, 50, explainer)
    dispose_engines()


def _ray_run_with_failures(engine, tmp_path, n_records: int, explainer: str):
    """Generate ``n_records`` with a first driver that dies after 5 records and a Ray driver that takes
    over, kill a Ray worker mid-run, then check each record once, the run done, and every trace verified."""
    from vcr_core.files.ingest import ingest_file
    from vcr_core.generation import create_run, run_progress
    from vcr_core.generation.generate import config_for_run, process_record
    from vcr_core.jobs import Worker
    from vcr_core.jobs.queue import claim, lease_of
    from vcr_core.store import (
        Job,
        Run,
        Trace,
        TraceVerdict,
        Verdict,
        session_scope,
        utcnow,
    )

    path = tmp_path / "r.json"
    path.write_text(json.dumps(make_records(n_records) if explainer == "stub" else demo_records(n_records)))
    batch = ingest_file(engine, path, name="fifty").batch_id
    stub = ScriptedServer(smart_responder, default_delay_s=0.15) if explainer == "stub" else nullcontext()
    with stub as srv:
        if explainer == "stub":
            run_id = create_run(engine, batch_id=batch, model="scripted", mode="explain-only",
                                options={"api_base": srv.base_url, "concurrency": 4})
        else:  # no model named and no key: the knowledge assembler
            run_id = create_run(engine, batch_id=batch, tools=[], model_type=None, mode="explain-only",
                                options={"concurrency": 4})
        # A first driver stores 5 records, then dies (its heartbeat stops).
        first = claim(engine, "gone-host:1:dead", kinds=("generate",))
        with session_scope(engine) as s:
            run = s.get(Run, run_id)
        for rid in run.record_ids[:5]:
            process_record(engine, run_id, rid, config_for_run(run), lease_of(first))
        # The Ray driver takes the job over once the heartbeat timeout has passed.
        driver = Worker(engine, kinds=("generate",), executor="ray", concurrency=4, stale_after_s=60,
                        clock=lambda: utcnow() + timedelta(seconds=120))
        thread = threading.Thread(target=driver.run_one)
        thread.start()
        killed = None
        end = time.monotonic() + 120
        while time.monotonic() < end and killed is None and thread.is_alive():
            with session_scope(engine) as s:
                n = s.exec(select(func.count()).select_from(Trace).where(Trace.run_id == run_id)).one()
            pids = _ray_task_pids()
            if n >= 8 and pids:  # the Ray tasks have stored some records and one is running
                os.kill(pids[0], signal.SIGKILL)  # a Ray worker dies mid-task: Ray retries the task elsewhere
                killed = pids[0]
            time.sleep(0.02)
        thread.join(240)
        assert not thread.is_alive()
    assert killed is not None, "no Ray worker was seen running a record"
    p = run_progress(engine, run_id)
    assert (p["status"], p["n_total"], p["n_done"]) == ("done", n_records, n_records)
    with session_scope(engine) as s:
        per = s.exec(select(Trace.record_id, func.count()).where(Trace.run_id == run_id).group_by(Trace.record_id)).all()
        job = s.exec(select(Job).where(Job.run_id == run_id, Job.kind == "generate")).one()
        traces = s.exec(select(Trace).where(Trace.run_id == run_id)).all()
    assert len(per) == n_records and all(n == 1 for _, n in per)
    assert job.status == "done" and job.worker_id == driver.worker_id and job.n_done == job.n_total == n_records - 5
    assert p["n_ok"] == n_records
    if explainer == "knowledge":
        _check_assembled(traces, p)
    assert p["verify_job"]["status"] == "queued"
    # The queued verification job runs (here, through a worker; the structural and record verifiers)
    # and every trace gets exactly one verdict of each, and one policy verdict.
    from sqlalchemy import update
    with session_scope(engine) as s:
        s.execute(update(Job).where(Job.kind == "verify", Job.run_id == run_id)
                  .values(payload={"run_id": run_id, "verifiers": ["structural", "record"]}))
    Worker(engine, exit_when_idle=True, kinds=("verify",)).run()
    with session_scope(engine) as s:
        judged = s.exec(select(TraceVerdict.trace_id, func.count()).group_by(TraceVerdict.trace_id)).all()
        structural = s.exec(select(Verdict.trace_id, func.count()).where(Verdict.verifier == "structural")
                            .group_by(Verdict.trace_id)).all()
        by_record = s.exec(select(Verdict.verdict, func.count()).where(Verdict.verifier == "record")
                           .group_by(Verdict.verdict)).all()
    ids = {t.id for t in traces}
    assert {t for t, _ in judged} == ids and all(n == 1 for _, n in judged)
    assert {t for t, _ in structural} == ids and all(n == 1 for _, n in structural)
    if explainer == "knowledge":  # the assembler's binds_to claims name the record's own targets: the record
        # verifier's support would be by construction (the claims came from the record), so it never counts
        assert dict(by_record).get("unverifiable", 0) >= n_records and not dict(by_record).get("supported")


def _check_assembled(traces, progress: dict) -> None:
    """Each trace is the assembler's: claims with their sources and the report, no model call."""
    assert progress["provider"] == "knowledge"
    for t in traces:
        evidence = t.tool_context["knowledge-assembly"]["evidence"]
        assert t.n_claims >= 3 and len(evidence["claims"]) == t.n_claims, t.record_id
        assert t.report.startswith("## How this explanation was made") and t.prompt_tokens == 0


def test_vcr_verify_with_ray_executor(engine, db_url, tmp_path, ray_cluster, capsys):
    from vcr_core.cli.main import main
    from vcr_core.files.ingest import ingest_file
    from vcr_core.generation import create_run
    from vcr_core.jobs import Worker
    from vcr_core.store import Trace, TraceVerdict, session_scope

    path = tmp_path / "r.json"
    path.write_text(json.dumps(make_records(12)))
    batch = ingest_file(engine, path, name="twelve").batch_id
    with ScriptedServer(smart_responder) as srv:
        run_id = create_run(engine, batch_id=batch, model="scripted", mode="explain-only",
                            options={"api_base": srv.base_url})
        Worker(engine, exit_when_idle=True, kinds=("generate",)).run()
    capsys.readouterr()
    assert main(["verify", "--run", str(run_id), "--executor", "ray", "--verifiers", "structural", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["traces"] == 12
    with session_scope(engine) as s:
        per = s.exec(select(TraceVerdict.trace_id, func.count()).group_by(TraceVerdict.trace_id)).all()
        traces = s.exec(select(Trace.id).where(Trace.run_id == run_id)).all()
    assert {t for t, _ in per} == set(traces) and all(n == 1 for _, n in per)
