"""The structural verifier: the formalism's checks, as trace-level findings."""
from __future__ import annotations

from ..formalism import Explanation, check_explanation
from .base import CONTRADICTED, SUPPORTED, ClaimVerdict

NAME, VERSION = "structural", "1"


def verify_structure(explanation: Explanation | None, stored_findings: list[dict] | None = None) -> ClaimVerdict:
    """Trace-level verdict: contradicted when any error finding exists (evidence: every finding)."""
    if explanation is None:
        findings = stored_findings or [{"code": "missing_explain", "severity": "error", "line": None,
                                        "message": "the trace has no explanation"}]
    else:
        findings = [f.model_dump() for f in check_explanation(explanation)]
        # Parse-level findings (unparseable lines, missing sections) only exist in the stored list.
        seen = {(f["code"], f["line"]) for f in findings}
        findings += [f for f in (stored_findings or []) if (f.get("code"), f.get("line")) not in seen]
    errors = [f for f in findings if f.get("severity") == "error"]
    if errors:
        return ClaimVerdict(CONTRADICTED, 1.0, findings, f"{len(errors)} structural error(s)")
    return ClaimVerdict(SUPPORTED, 1.0, findings, "the explanation follows the formalism"
                        + (f" ({len(findings)} warning(s))" if findings else ""))
