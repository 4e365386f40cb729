"""The structural verifier: the formalism's checks, as trace-level findings."""
from __future__ import annotations

from ..formalism import Explanation, check_explanation
from .base import CONTRADICTED, SUPPORTED, ClaimVerdict

NAME, VERSION = "structural", "2"
# Findings only the parser can make (the stored list is their one source).
PARSE_CODES = frozenset({"missing_explain", "missing_dag", "unparseable_line", "stray_text", "missing_id",
                         "duplicate_set_context", "set_context_not_first"})


def verify_structure(explanation: Explanation | None, stored_findings: list[dict] | None = None) -> ClaimVerdict:
    """Trace-level verdict: contradicted when any error finding exists (evidence: every finding, once).

    The checks are run again on the stored explanation (so a newer rule applies to old traces), but a
    stored explanation has lost its line numbers: a recomputed finding is matched to the stored one by
    code (and message where it is the same), never by line, which would count it twice, and takes the
    stored line."""
    stored = list(stored_findings or [])
    if explanation is None:
        findings = stored or [{"code": "missing_explain", "severity": "error", "line": None,
                               "message": "the trace has no explanation"}]
    else:
        # The checks' own findings are recomputed (authoritative); the stored ones only lend their lines.
        pool: dict[str, list[dict]] = {}
        for f in stored:
            if f.get("code") not in PARSE_CODES:
                pool.setdefault(f.get("code"), []).append(f)
        findings = []
        for f in check_explanation(explanation):
            row = f.model_dump()
            same = pool.get(row["code"], [])
            old = next((o for o in same if o.get("message") == row["message"]), same[0] if same else None)
            if old is not None:
                same.remove(old)
                if row.get("line") is None:
                    row["line"] = old.get("line")
            findings.append(row)
        # Parse-level findings (unparseable lines, missing sections) only exist in the stored list.
        findings += [f for f in stored if f.get("code") in PARSE_CODES]
        findings.sort(key=lambda f: (f.get("line") or 0, f.get("severity") != "error"))
    errors = [f for f in findings if f.get("severity") == "error"]
    if errors:
        return ClaimVerdict(CONTRADICTED, 1.0, findings, f"{len(errors)} structural error(s)")
    return ClaimVerdict(SUPPORTED, 1.0, findings, "the explanation follows the formalism"
                        + (f" ({len(findings)} warning(s))" if findings else ""))
