"""Fixtures for generation tests: a scripted OpenAI-compatible server and a stored batch."""
from __future__ import annotations

import json

import pytest

from vcr_core.llm.testing import ScriptedServer, make_records, smart_responder


@pytest.fixture
def server():
    with ScriptedServer(smart_responder) as srv:
        yield srv


@pytest.fixture
def batch(engine, tmp_path):
    """A batch of 6 records; returns (engine, batch_id)."""
    from vcr_core.files.ingest import ingest_file

    path = tmp_path / "records.json"
    path.write_text(json.dumps(make_records(6)))
    result = ingest_file(engine, path, name="test batch")
    assert result.ok, result.problems
    return result.batch_id


@pytest.fixture
def fast_backoff(monkeypatch):
    import vcr_core.llm.client as client

    monkeypatch.setattr(client, "BACKOFF_BASE_S", 0.01)
