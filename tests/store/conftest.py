"""Fixtures shared by the store tests."""
from __future__ import annotations

import pytest


@pytest.fixture
def judged(engine, tmp_path):
    """A stored trace of one ingested record (imatinib in K562), for backup and restore tests to judge."""
    import json

    from sqlmodel import Session, select

    from vcr_core.files.ingest import ingest_file
    from vcr_core.store import Claim
    from vcr_core.verify.testing import EXPLANATION, add_trace

    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"index": 1, "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib"}}]))
    batch_id = ingest_file(engine, path).batch_id
    trace_id = add_trace(engine, batch_id, EXPLANATION)
    with Session(engine) as s:
        claim_ids = [c.id for c in s.exec(select(Claim).where(Claim.trace_id == trace_id)).all()]
    return {"trace_id": trace_id, "claim_ids": claim_ids, "batch_id": batch_id}
