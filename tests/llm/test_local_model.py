"""End to end on the embedded local model (SmolLM2-135M served by llama-cpp-python on 127.0.0.1)."""
from __future__ import annotations

import json
import random
import socket

import pytest
from sqlmodel import select

from vcr_core.llm.local import gguf_path

pytestmark = pytest.mark.slow


def free_port() -> int:
    """A free port BELOW the kernel's ephemeral range. A port the kernel handed out (bind to 0) can be
    taken again as the source port of any outgoing connection before the model server binds it; the
    server then exits at start-up ("address already in use") and the run fails (seen once in CI)."""
    try:
        low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for port in random.Random().sample(range(20000, max(20001, low - 1)), 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


@pytest.fixture
def local_port(monkeypatch):
    from vcr_core.kernel.settings import get_settings
    from vcr_core.llm import local_status, stop_local_model
    if gguf_path() is None or not local_status().installed:
        # The runtime is the optional extra 'local' (it compiles for minutes); the test command installs it.
        pytest.skip("the local model runtime is not installed (optional extra 'local': `vcr local-model install`, "
                    "or `bash .ci/bootstrap test`, which installs it)")
    monkeypatch.setenv("LOCAL_MODEL_PORT", str(free_port()))
    get_settings.cache_clear()
    yield
    assert stop_local_model()  # this test started it, so it stops it


def _log_tail() -> str:
    from vcr_core.llm.local import log_path

    try:
        return "\n".join(log_path().read_text(errors="replace").splitlines()[-20:])
    except OSError:
        return "(no server log)"


def test_local_model_run_end_to_end(engine, tmp_path, local_port):
    from vcr_core.files.ingest import ingest_file
    from vcr_core.generation import create_run, run_progress
    from vcr_core.jobs import Worker
    from vcr_core.llm import local_status, model_available
    from vcr_core.llm.testing import make_records
    from vcr_core.store import LlmCall, Trace, session_scope

    path = tmp_path / "records.json"
    path.write_text(json.dumps(make_records(2)))
    batch = ingest_file(engine, path, name="local").batch_id
    assert not local_status().running and model_available() is None
    run_id = create_run(engine, batch_id=batch, tools=[], model_type="local", mode="explain-only", options={})
    Worker(engine, exit_when_idle=True, kinds=("generate",)).run()  # starts the server on demand
    p = run_progress(engine, run_id)
    assert p["status"] == "done", f"{p['status']}: {p.get('error')}\nserver log:\n{_log_tail()}"
    assert p["n_done"] == 2 and p["is_local"] and "tiny" in p["model_note"]
    assert local_status().running and model_available().is_local, _log_tail()
    with session_scope(engine) as s:
        traces = s.exec(select(Trace).where(Trace.run_id == run_id)).all()
        calls = s.exec(select(LlmCall).where(LlmCall.run_id == run_id)).all()
    assert all(t.raw_output and t.status in ("ok", "invalid") for t in traces)
    assert all(t.meta["output_format"] == "json" for t in traces)
    # The schema-constrained path gives the demo a graph: a known-primitive chain ending on an output.
    good = [t for t in traces if t.status == "ok"]
    assert good, [t.findings for t in traces]
    assert good[0].n_claims >= 2 and good[0].explanation["edges"]
    assert all(c.provider == "local" and c.cost_usd == 0.0 and c.completion_tokens > 0 for c in calls if not c.error)
