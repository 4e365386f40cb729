"""App tests: AppTest drives the real pages in-process against a fresh database."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(engine, monkeypatch):
    """An AppTest of app.py on the test database, run once, with a curator name entered."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("APP_WORKER", "false")  # runs are only queued here; the worker is tested elsewhere
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    at.sidebar.text_input(key="curator_name").input("ana").run()
    return at


@pytest.fixture
def seeded(engine, tmp_path):
    """A batch with one verified trace; the second claim names a hostile entity."""
    import json

    from vcr_core.files.ingest import ingest_file
    from vcr_core.verify import verify_traces
    from vcr_core.verify.base import ClaimVerdict
    from vcr_core.verify.testing import EXPLANATION, add_trace

    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"index": 1, "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib", "target": "ABL1"}}]))
    batch_id = ingest_file(engine, path).batch_id
    text = EXPLANATION.replace('source="imatinib"', 'source="<img src=x onerror=alert(1)>"')
    trace_id = add_trace(engine, batch_id, text)

    class Kg:
        name, version = "kg", "1"

        def applies(self, node):
            return node.action == "binds_to"

        def verify(self, ctx):
            return ClaimVerdict("supported", 0.9, [{"kind": "kg_edge", "source": "imatinib", "target": "ABL1", "relation": "target"}], "edge")

    verify_traces(engine, [trace_id], ["structural", "kg"], instances={"kg": Kg()})
    return {"batch_id": batch_id, "trace_id": trace_id}
