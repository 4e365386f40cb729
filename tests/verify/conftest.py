"""Every evidence item a verifier emits in these tests validates into its kind's model."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _evidence_validates(monkeypatch):
    """Every evidence item a verifier emits in these tests validates into its kind's model."""
    from vcr_core.verify.testing import check_evidence_as_emitted

    check_evidence_as_emitted(monkeypatch)
