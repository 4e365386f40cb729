"""Helpers for tests and demos of the verifiers: a stored trace from the text form."""
from __future__ import annotations

from sqlmodel import select

from ..formalism import parse_text, validate_parsed
from ..store import Record, Run, session_scope
from ..store.traces import save_trace

EXPLANATION = '''<answer>Imatinib inhibits ABL1 in K562, lowering MYC and causing apoptosis.</answer>
<explain>
set_context(cell_type="K562", disease="chronic myeloid leukaemia")
binds_to(id="n1", actor="imatinib", target="ABL1")
regulates_expression(id="n2", regulator="BCR-ABL1", gene_list=["MYC", "CCND1", "BCL2L1"], direction="down", via="n1")
induces_phenotype(id="n3", source="imatinib", phenotype="apoptosis")
</explain>
<dag>
edge("n1", "n2", relation="causal")
edge("n1", "n3", relation="causal")
</dag>'''


def add_trace(engine, batch_id: int, text: str, record_index: str = "1", run_name: str = "r") -> int:
    """Store ``text`` as a trace of a new run for one record of the batch; returns the trace id."""
    result = parse_text(text)
    with session_scope(engine) as s:
        rec = s.exec(select(Record).where(Record.batch_id == batch_id, Record.index == record_index)).one()
        run = Run(name=run_name, batch_id=batch_id, mode="explain-only", status="done")
        s.add(run)
        s.flush()
        trace = save_trace(s, run_id=run.id, record=rec, explanation=result.explanation, findings=validate_parsed(result),
                           raw_output=text)
        return trace.id


def check_evidence_as_emitted(monkeypatch, seen: set[str] | None = None) -> set[str]:
    """For a test: every ClaimVerdict made from now on checks that each evidence item of a kind
    ``verify/evidence.py`` knows validates into that kind's model (strictly, no fallback). Returns
    the set the kinds seen are added to."""
    from .base import ClaimVerdict
    from .evidence import BY_KIND, evidence_kind, parse_evidence

    seen = set() if seen is None else seen
    original = ClaimVerdict.__post_init__

    def checked(self) -> None:
        original(self)
        for item in self.evidence:
            kind = evidence_kind(item)
            if kind in BY_KIND:
                model = parse_evidence(item, strict=True)
                assert type(model) is BY_KIND[kind], (kind, item)
                seen.add(kind)

    monkeypatch.setattr(ClaimVerdict, "__post_init__", checked)
    return seen


class GeneEcho:
    """A ``kg`` claim verifier for tests that says which gene the resolver reads a binds_to target as (every
    verifier asks the resolver, so a re-grounding shows in its verdict): supported for ABL1, else contradicted."""

    name, version = "kg", "1"

    def applies(self, node) -> bool:
        return node.action == "binds_to"

    def verify(self, ctx):
        from ..knowledge.genes import resolve
        from .base import ClaimVerdict

        r = resolve(ctx.node.args["target"])
        symbol = sorted(r.symbols)[0] if r else None
        return ClaimVerdict("supported" if symbol == "ABL1" else "contradicted", 0.9, [], f"target read as {symbol}")
