"""A stored batch with one generated-like trace, for verifier tests."""
from __future__ import annotations

import json

import pytest

from vcr_core.files.ingest import ingest_file
from vcr_core.verify.testing import EXPLANATION, add_trace


@pytest.fixture
def batch_id(engine, tmp_path):
    records = [{"index": 1, "context": {"cell_type": "K562", "disease_model": "chronic myeloid leukaemia"},
                "perturbation": {"type": "small molecule", "name": "imatinib", "target": ["ABL1"]}},
               {"index": 2, "context": {"cell_type": "A549"}, "perturbation": {"name": "dexamethasone", "target": "NR3C1"}}]
    path = tmp_path / "records.json"
    path.write_text(json.dumps(records))
    res = ingest_file(engine, path)
    assert res.ok
    return res.batch_id


@pytest.fixture
def trace_id(engine, batch_id):
    return add_trace(engine, batch_id, EXPLANATION)


@pytest.fixture(autouse=True)
def _evidence_validates(monkeypatch):
    """Every evidence item a verifier emits in these tests validates into its kind's model."""
    from vcr_core.verify.testing import check_evidence_as_emitted

    check_evidence_as_emitted(monkeypatch)
