"""Run verifiers over traces and store their verdicts, cached by claim hash and verifier version.

Nothing is verified twice: a claim that already has a verdict from a verifier version is skipped,
and a claim whose hash was verified before (in another trace) gets a copy of that verdict without
recomputing it. Every trace verified gets a fresh filter-policy verdict.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..formalism import Explanation, Node
from ..store import Claim, Record, Trace, Verdict, session_scope, write_lock
from ..store.traces import record_model
from .base import ClaimContext, ClaimVerdict
from .policy import evaluate_trace

CLAIM_VERIFIERS = ("entity", "kg", "literature", "expression", "phenotype")
ALL_VERIFIERS = ("structural",) + CLAIM_VERIFIERS + ("falsification",)
# Verdicts that depend on data attached to a batch are only reused within that batch.
BATCH_SCOPED = frozenset({"expression"})


def default_verifier_names() -> list[str]:
    """Every verifier; the falsification agent only when a real (not the tiny local) model is set up."""
    names = list(ALL_VERIFIERS[:-1])
    try:
        from ..llm import model_available
        choice = model_available()
        if choice is not None and not choice.is_local:
            names.append("falsification")
    except ImportError:
        pass
    return names


def build_verifiers(engine: Engine, names: list[str]) -> dict[str, Any]:
    """Instantiate the claim verifiers named (structural and falsification are trace-level)."""
    unknown = [n for n in names if n not in ALL_VERIFIERS]
    if unknown:
        raise ValueError(f"unknown verifier(s): {', '.join(unknown)}; known: {', '.join(ALL_VERIFIERS)}")
    out: dict[str, Any] = {}
    for name in names:
        if name == "entity":
            from .entity import EntityVerifier
            out[name] = EntityVerifier()
        elif name == "kg":
            from .kg import KgVerifier
            out[name] = KgVerifier()
        elif name == "literature":
            from .literature import LiteratureVerifier
            out[name] = LiteratureVerifier()
        elif name == "expression":
            from .expression import ExpressionVerifier
            out[name] = ExpressionVerifier(engine)
        elif name == "phenotype":
            from .phenotype import PhenotypeVerifier
            out[name] = PhenotypeVerifier()
    return out


def _node(claim: Claim) -> Node:
    return Node(id=claim.node_id, action=claim.action, args=claim.args or {}, via=claim.via, confidence=claim.confidence)


def _add(pending: list[Verdict], trace_id: int, claim: Claim | None, verifier: str, version: str, cv: ClaimVerdict) -> None:
    """Queue a verdict row; rows are written in one short transaction after the verifiers ran."""
    pending.append(Verdict(trace_id=trace_id, claim_id=claim.id if claim else None, claim_hash=claim.hash if claim else None,
                           verifier=verifier, version=version, verdict=cv.verdict, score=cv.score, evidence=cv.evidence,
                           message=cv.message))


def _cached(session: Session, claim: Claim, name: str, version: str, batch_id: int | None) -> tuple[bool, Verdict | None]:
    """(already verified for this claim, a verdict of an equal claim to copy)."""
    rows = session.exec(select(Verdict).where(Verdict.claim_hash == claim.hash, Verdict.verifier == name,
                                              Verdict.version == version)).all()
    if any(r.claim_id == claim.id for r in rows):
        return True, None
    if name in BATCH_SCOPED and rows:
        same_batch = []
        for r in rows:
            t = session.get(Trace, r.trace_id)
            rec = session.get(Record, t.record_id) if t else None
            if rec is not None and rec.batch_id == batch_id:
                same_batch.append(r)
        rows = same_batch
    return False, (rows[0] if rows else None)


def verify_trace(session: Session, trace: Trace, verifiers: dict[str, Any], names: list[str], stats: Counter,
                 by_verifier: dict[str, Counter], falsifier_factory: Callable | None = None,
                 pending: list[Verdict] | None = None) -> dict | None:
    """Verify one trace's claims, reading through ``session`` and queueing new rows in ``pending``
    (see the module docstring for the caching rules). Returns a new ``meta`` for the trace, if any.

    Nothing is written here: verifiers may call the network or a model, and a write transaction held
    open meanwhile would block every curator's judgment (SQLite has one writer)."""
    pending = pending if pending is not None else []
    rec_row = session.get(Record, trace.record_id)
    record = record_model(rec_row)
    expl = Explanation.model_validate(trace.explanation) if trace.explanation else None
    claims = session.exec(select(Claim).where(Claim.trace_id == trace.id).order_by(Claim.position)).all()
    if "structural" in names:
        from .structural import NAME, VERSION, verify_structure
        done = session.exec(select(Verdict).where(Verdict.trace_id == trace.id, Verdict.claim_id.is_(None),
                                                  Verdict.verifier == NAME, Verdict.version == VERSION)).first()
        if done is None:
            cv = verify_structure(expl, trace.findings)
            _add(pending, trace.id, None, NAME, VERSION, cv)
            by_verifier[NAME][cv.verdict] += 1
            stats["computed"] += 1
        else:
            stats["cached"] += 1
    if expl is None:
        return None
    for claim in claims:
        node = _node(claim)
        ctx = ClaimContext(node=node, explanation=expl, record=record, batch_id=rec_row.batch_id, trace_id=trace.id)
        for name, verifier in verifiers.items():
            if not verifier.applies(node):
                continue
            done, reuse = _cached(session, claim, name, verifier.version, rec_row.batch_id)
            if done:
                stats["cached"] += 1
                continue
            if reuse is not None:
                cv = ClaimVerdict(reuse.verdict, reuse.score, reuse.evidence or [], (reuse.message or "") + f" (same claim verified in trace {reuse.trace_id})")
                stats["cached"] += 1
            else:
                cv = verifier.verify(ctx)
                stats["computed"] += 1
            _add(pending, trace.id, claim, name, verifier.version, cv)
            by_verifier[name][cv.verdict] += 1
    if "falsification" in names and claims:
        return _falsify(session, trace, expl, claims, record, rec_row.batch_id, stats, by_verifier, falsifier_factory, pending)
    return None


def _falsify(session, trace, expl, claims, record, batch_id, stats, by_verifier, factory, pending) -> dict | None:
    from .falsification import NAME, VERSION
    todo = [c for c in claims if not _cached(session, c, NAME, VERSION, batch_id)[0]]
    if not todo:
        stats["cached"] += len(claims)
        return None
    agent = (factory or default_falsifier)(session.get_bind(), record, batch_id)
    if agent is None:
        return None
    verdicts, overall, transcript = agent.run(expl)
    by_node = {c.node_id: c for c in todo}
    for node_id, cv in verdicts.items():
        if node_id in by_node:
            cv.evidence.append({"kind": "falsification_overall", "overall": overall})
            _add(pending, trace.id, by_node[node_id], NAME, VERSION, cv)
            by_verifier[NAME][cv.verdict] += 1
            stats["computed"] += 1
    meta = dict(trace.meta or {})
    meta["falsification"] = {"overall": overall, "transcript": transcript}
    return meta


def default_falsifier(engine, record, batch_id):
    """A falsification agent on the configured model with the KG, literature and expression tools."""
    from ..llm import complete, model_available
    from .falsification import FalsificationAgent
    from .kg import KgVerifier
    choice = model_available()
    if choice is None:
        return None
    kg = KgVerifier()

    def kg_edges(entity_a: str, entity_b: str) -> Any:
        if kg.problem:
            return {"error": kg.problem}
        out = []
        for a in kg._match(entity_a)[:2]:
            for b in kg._match(entity_b)[:2]:
                out += kg._edges(getattr(a, "index", None), getattr(b, "index", None)) or []
        return out[:20]

    def search_literature(query: str) -> Any:
        from ..tools.pubmed import search_papers
        return [{"pmid": p.pmid, "title": p.title, "abstract": (p.abstract or "")[:600]} for p in search_papers(query, 5)]

    def expression(gene: str) -> Any:
        from sqlmodel import Session as S
        from ..store import ExpressionRow
        names = [p.label for p in record.perturbations]
        with S(engine) as s:
            rows = s.exec(select(ExpressionRow).where(ExpressionRow.batch_id == batch_id, ExpressionRow.gene == gene,
                                                      ExpressionRow.perturbation.in_(names))).all()
        return [{"perturbation": r.perturbation, "context": r.context, "log2fc": r.log2fc, "padj": r.padj} for r in rows]

    def chat(messages, tools):
        return complete(messages, model_choice=choice, purpose="falsify", tools=tools, max_tokens=800)

    return FalsificationAgent(chat, {"kg_edges": kg_edges, "search_literature": search_literature, "expression": expression})


def verify_traces(engine: Engine, trace_ids: list[int], verifiers: list[str] | None = None, *,
                  progress: Callable[[int, int], bool | None] | None = None, instances: dict[str, Any] | None = None,
                  falsifier_factory: Callable | None = None) -> dict[str, Any]:
    """Verify traces; ``progress(done, total)`` may return True to stop early. Returns a summary."""
    names = list(verifiers) if verifiers else default_verifier_names()
    claim_verifiers = instances if instances is not None else build_verifiers(engine, [n for n in names if n in CLAIM_VERIFIERS])
    stats: Counter = Counter()
    by_verifier: dict[str, Counter] = defaultdict(Counter)
    verdicts: Counter = Counter()
    for i, trace_id in enumerate(trace_ids):
        pending: list[Verdict] = []
        with Session(engine) as reader:  # read and compute; no write lock is held meanwhile
            trace = reader.get(Trace, trace_id)
            if trace is None:
                continue
            meta = verify_trace(reader, trace, claim_verifiers, names, stats, by_verifier, falsifier_factory, pending)
        # one short write; in the writers' queue (write_lock) so curators' judgments never wait out
        # SQLite's busy-handler sleeps behind it
        with write_lock(engine), session_scope(engine) as session:
            session.add_all(pending)
            trace = session.get(Trace, trace_id)
            if meta is not None:
                trace.meta = meta
                session.add(trace)
            session.flush()
            verdicts[evaluate_trace(session, trace).verdict] += 1
            stats["traces"] += 1
        if progress and progress(i + 1, len(trace_ids)):
            break
    return {"traces": stats["traces"], "computed": stats["computed"], "cached": stats["cached"],
            "by_verifier": {k: dict(v) for k, v in by_verifier.items()}, "trace_verdicts": dict(verdicts), "verifiers": names}


def select_trace_ids(engine: Engine, *, run_id: int | None = None, trace_ids: list[int] | None = None,
                     batch_id: int | None = None, all_traces: bool = False) -> list[int]:
    """Trace ids for a run, a batch, explicit ids, or all."""
    with Session(engine) as s:
        q = select(Trace.id)
        if trace_ids:
            q = q.where(Trace.id.in_(trace_ids))
        elif run_id is not None:
            q = q.where(Trace.run_id == run_id)
        elif batch_id is not None:
            q = q.join(Record, Record.id == Trace.record_id).where(Record.batch_id == batch_id)
        elif not all_traces:
            return []
        return list(s.exec(q.order_by(Trace.id)).all())
