"""Run verifiers over traces and store their verdicts, cached by claim hash and verifier version.

Nothing is verified twice: a claim that already has a verdict from a verifier version is skipped,
and a claim whose hash was verified before (in another trace) gets a copy of that verdict without
recomputing it. Every trace verified gets a fresh filter-policy verdict.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from ..formalism import Explanation, Node
from ..kernel.grounding import stored_grounding
from ..kernel.statuses import VerdictValue
from ..store import Claim, Record, Trace, Verdict, locked_transaction
from ..store.models import CACHED_VERDICTS, utcnow
from ..store.traces import record_model, trace_in_batch
from .base import ClaimContext, ClaimVerdict, verifier_class
from .evidence import ByConstruction, FalsificationOverall, SourcesConsulted, StoredGroundingUsed
from .policy import evaluate_trace_on

# Trace-level verifiers run by this module itself; every claim verifier is a plug-in registered in the
# entry-point group ``vcr.verifiers`` (pyproject.toml), so adding one touches no code here.
TRACE_VERIFIERS = ("structural", "falsification")


def claim_verifier_names() -> list[str]:
    """The registered claim verifiers (``vcr.verifiers`` entry points)."""
    from ..kernel.registry import VERIFIERS, names

    return names(VERIFIERS)


def all_verifier_names() -> list[str]:
    """Every verifier: structural, the registered claim verifiers, falsification."""
    return ["structural", *claim_verifier_names(), "falsification"]


def _batch_scoped(name: str) -> bool:
    """Verdicts that depend on data attached to a batch (``batch_scoped``) are only reused within that batch."""
    return bool(getattr(verifier_class(name), "batch_scoped", False)) if name in claim_verifier_names() else False


def default_verifier_names(model_choice: Any = None) -> list[str]:
    """Every offline verifier, the network ones that answer, and the falsification agent when a real
    (not the tiny local) model is set up or given. A verifier with ``default = False`` runs only when named."""
    names = ["structural"]
    for name in claim_verifier_names():
        cls = verifier_class(name)
        if not getattr(cls, "default", True):
            continue
        if getattr(cls, "network_url_setting", None) and not _reachable(cls):
            continue
        names.append(name)
    if model_choice is not None and not getattr(model_choice, "is_local", False):
        return names + ["falsification"]
    try:
        from ..llm import model_available
        choice = model_available()
        if choice is not None and not choice.is_local:
            names.append("falsification")
    except ImportError:
        pass
    return names


def _reachable(cls: Any) -> bool:
    """A network verifier joins the default set only when its service answers (never with OFFLINE=true)."""
    from ..kernel.settings import get_settings
    from ..net.http import probe
    s = get_settings()
    return not s.offline and probe(getattr(s, cls.network_url_setting)) is None


def build_verifiers(engine: Engine, names: list[str]) -> dict[str, Any]:
    """Instantiate the claim verifiers named (structural and falsification are trace-level)."""
    known = all_verifier_names()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown verifier(s): {', '.join(unknown)}; known: {', '.join(known)}")
    out: dict[str, Any] = {}
    for name in names:
        if name in TRACE_VERIFIERS:
            continue
        cls = verifier_class(name)
        out[name] = cls(engine) if getattr(cls, "needs_engine", False) else cls()
    return out


def _node(claim: Claim) -> Node:
    return Node(id=claim.node_id, action=claim.action, args=claim.args or {}, via=claim.via, confidence=claim.confidence)


def _add(pending: list[dict], trace_id: int, claim: Claim | None, verifier: str, version: str, cv: ClaimVerdict) -> None:
    """Queue a verdict row; rows are written in one short transaction after the verifiers ran.

    Rows are queued as plain column values and inserted in one statement (:func:`_write_verdicts`):
    building a SQLModel ``Verdict`` object costs about 1 ms, half the warm time of a trace."""
    pending.append({"trace_id": trace_id, "claim_id": claim.id if claim else None, "claim_hash": claim.hash if claim else None,
                    "verifier": verifier, "version": version, "verdict": cv.verdict, "score": cv.score,
                    "evidence": cv.evidence, "message": cv.message, "created_at": utcnow()})


def _write_verdicts(conn: Connection | Session, pending: list[dict]) -> None:
    """Insert queued verdict rows (from :func:`_add`) in the transaction of ``conn`` (a connection or a
    session), in queue order."""
    if pending:
        (conn.connection() if isinstance(conn, Session) else conn).execute(Verdict.__table__.insert(), pending)


_SET_META = Trace.__table__.update().where(Trace.__table__.c.id == bindparam("tid")).values(meta=bindparam("meta"))


def _cached(session: Session, claim: Claim, name: str, version: str, batch_id: int | None) -> tuple[bool, Verdict | None]:
    """(already verified for this claim, a verdict of an equal claim to copy), for one claim.

    ``verify_trace`` reads the same answer for all of a trace's claims at once (:func:`_cache_index`)."""
    rows = session.exec(select(Verdict).where(Verdict.claim_hash == claim.hash, Verdict.verifier == name,
                                              Verdict.version == version, sql_text(CACHED_VERDICTS))).all()
    if any(r.claim_id == claim.id for r in rows):
        return True, None
    if _graph_scoped(name):
        return False, None
    if _batch_scoped(name) and rows:
        same_batch = []
        for r in rows:
            t = session.get(Trace, r.trace_id)
            rec = session.get(Record, t.record_id) if t else None
            if rec is not None and rec.batch_id == batch_id:
                same_batch.append(r)
        rows = same_batch
    return False, (rows[0] if rows else None)


# SQLite allows at least 999 bound parameters per statement; hashes are looked up in chunks of this size.
_IN_CHUNK = 500

CacheIndex = dict[tuple[str, str], list[tuple[Verdict, bool, Any]]]


def _cache_index(session: Session, claims: list[Claim], versions: dict[str, str]) -> CacheIndex:
    """Every stored verdict, by any of ``versions``' verifiers at its version, on a claim hash among
    ``claims``, in one query per chunk of hashes (one for a trace) instead of one per claim and verifier.

    Returns ``(claim_hash, verifier) -> [(row, its record exists, its record's batch id)]`` in row id
    order, the order the per-claim query returned them in (it walked the (hash, verifier, version) index)."""
    hashes = sorted({c.hash for c in claims if c.hash is not None})
    out: CacheIndex = defaultdict(list)
    if not hashes or not versions:
        return out
    for i in range(0, len(hashes), _IN_CHUNK):
        q = (select(Verdict, Record.id, Record.batch_id)
             .outerjoin(Trace, Trace.id == Verdict.trace_id).outerjoin(Record, Record.id == Trace.record_id)
             .where(Verdict.claim_hash.in_(hashes[i:i + _IN_CHUNK]), Verdict.verifier.in_(sorted(versions)),
                    sql_text(CACHED_VERDICTS))  # the cache's (partial) index; curated verdicts are never copied
             .order_by(Verdict.id))
        for row, rec_id, batch in session.exec(q).all():
            if versions.get(row.verifier) == row.version:
                out[(row.claim_hash, row.verifier)].append((row, rec_id is not None, batch))
    return out


def _graph_scoped(name: str) -> bool:
    """Verdicts that depend on the claim's place in its graph (``graph_scoped``: who causes it, see
    ``verify/graph.py``) are never copied from an equal claim of another trace."""
    return bool(getattr(verifier_class(name), "graph_scoped", False)) if name in claim_verifier_names() else False


def _cached_in(index: CacheIndex, claim: Claim, name: str, batch_id: int | None) -> tuple[bool, Verdict | None]:
    """:func:`_cached`'s answer for one claim, read from a :func:`_cache_index` (no query). A verdict made
    on a curator's grounding is never copied to another claim, nor is a copy given to a claim a curator
    re-grounded: the same words stand for different entities there."""
    rows = index.get((claim.hash, name), []) if claim.hash is not None else []
    if any(r.claim_id == claim.id for r, _, _ in rows):
        return True, None
    if _graph_scoped(name) or curator_grounded(claim.grounding):
        return False, None
    rows = [x for x in rows if not _on_curator_grounding(x[0].evidence)]
    if _batch_scoped(name):
        rows = [x for x in rows if x[1] and x[2] == batch_id]
    return False, (rows[0][0] if rows else None)


def verify_trace(session: Session, trace: Trace, verifiers: dict[str, Any], names: list[str], stats: Counter,
                 by_verifier: dict[str, Counter], falsifier_factory: Callable | None = None,
                 pending: list[dict] | None = None, model_choice: Any = None) -> dict | None:
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
    index = _cache_index(session, list(claims), {name: v.version for name, v in verifiers.items()})
    built = assembled_sources(trace.tool_context)
    for claim in claims:
        node = _node(claim)
        ctx = ClaimContext(node=node, explanation=expl, record=record, batch_id=rec_row.batch_id, trace_id=trace.id)
        for name, verifier in verifiers.items():
            if not verifier.applies(node):
                continue
            done, reuse = _cached_in(index, claim, name, rec_row.batch_id)
            if done:
                stats["cached"] += 1
                continue
            if reuse is not None and _is_by_construction(reuse.evidence) and name not in built.get(claim.node_id, ()):
                reuse = None  # that copy was circular for its own trace, not for this one: verify afresh
            if reuse is not None:
                cv = ClaimVerdict(reuse.verdict, reuse.score, reuse.evidence or [], (reuse.message or "") + f" (same claim verified in trace {reuse.trace_id})")
                stats["cached"] += 1
            else:
                cv = note_sources(run_verifier(verifier, ctx, claim.grounding), verifier)
                stats["computed"] += 1
            cv = by_construction(cv, name, built.get(claim.node_id, ()))
            _add(pending, trace.id, claim, name, verifier.version, cv)
            by_verifier[name][cv.verdict] += 1
    if "falsification" in names and claims:
        return _falsify(session, trace, expl, claims, record, rec_row.batch_id, stats, by_verifier, falsifier_factory, pending,
                        model_choice)
    return None


def curator_grounded(grounding: dict | None) -> bool:
    """Whether a curator re-grounded one of the claim's entities (its stored grounding says so)."""
    return any(isinstance(e, dict) and e.get("curator") for es in ((grounding or {}).get("args") or {}).values()
               for e in es or [])


def _on_curator_grounding(evidence: list | None) -> bool:
    return any(isinstance(e, dict) and e.get("kind") == "stored_grounding"
               and any(x.get("curator") for x in e.get("entities") or [] if isinstance(x, dict)) for e in evidence or [])


def run_verifier(verifier: Any, ctx: ClaimContext, grounding: dict | None) -> ClaimVerdict:
    """``verifier.verify(ctx)`` with the claim's stored grounding in force: the shared resolvers (gene
    names, the NER vocabularies) answer from it first (:mod:`vcr_core.kernel.grounding`), and the
    entities they read are named in the verdict's evidence."""
    with stored_grounding((grounding or {}).get("args")) as use:
        cv = verifier.verify(ctx)
    if use.used:
        keep = ("argument", "name", "namespace", "identifier", "canonical", "method", "curator", "curation_id")
        cv.evidence.append(StoredGroundingUsed(entities=[{k: e.get(k) for k in keep if e.get(k) is not None}
                                                         for e in use.used]).store())
    return cv


def recompute_claim(session: Session, claim: Claim, names: list[str] | None = None, *,
                    grounding: dict | None = None, engine: Engine | None = None) -> list[dict]:
    """Verdict rows (as :func:`_add` queues them, nothing written) of one claim computed afresh by its
    verifiers, none copied: after a curator re-grounds it, with ``grounding`` the stored grounding it is
    about to get. ``names``: the claim verifiers to run (default: those that verified it before, else the
    default set); trace-level verifiers (structural, falsification) are left alone."""
    engine = engine or session.get_bind()
    known = set(claim_verifier_names())
    if names is None:
        names = sorted({v for v in session.exec(select(Verdict.verifier).where(Verdict.claim_id == claim.id)).all()} & known)
        names = [n for n in names if getattr(verifier_class(n), "default", True)] or \
            [n for n in sorted(known) if getattr(verifier_class(n), "default", True)
             and not getattr(verifier_class(n), "network_url_setting", None)]
    trace = session.get(Trace, claim.trace_id)
    rec_row = session.get(Record, trace.record_id)
    if not trace.explanation:
        return []
    expl = Explanation.model_validate(trace.explanation)
    node = _node(claim)
    ctx = ClaimContext(node=node, explanation=expl, record=record_model(rec_row), batch_id=rec_row.batch_id, trace_id=trace.id)
    built = assembled_sources(trace.tool_context).get(claim.node_id, ())
    pending: list[dict] = []
    for name, verifier in build_verifiers(engine, [n for n in names if n in known]).items():
        if verifier.applies(node):
            cv = by_construction(note_sources(run_verifier(verifier, ctx, grounding or claim.grounding), verifier), name, built)
            _add(pending, trace.id, claim, name, verifier.version, cv)
    return pending


# The sources a verifier reads, as a claim's assembly names them (``agents.assembler.assembled_from``).
SOURCE_LABELS = {"record": "the record", "go": "Gene Ontology annotations", "kg": "the knowledge graph (incl. ChEBI roles)"}


def assembled_sources(tool_context: dict | None) -> dict[str, list[str]]:
    """claim (node) id -> the verifiers whose source the knowledge assembler built that claim from."""
    from ..agents.assembler import ASSEMBLER_NAME
    entry = (tool_context or {}).get(ASSEMBLER_NAME) or {}
    found = ((entry.get("evidence") or {}).get("sources") or {}).get("assembled_from") or {}
    return {str(k): list(v or []) for k, v in found.items()} if isinstance(found, dict) else {}


def _is_by_construction(evidence: list | None) -> bool:
    return any(isinstance(e, dict) and e.get("kind") == "by_construction" for e in evidence or [])


def by_construction(cv: ClaimVerdict, verifier: str, sources: list[str] | tuple[str, ...]) -> ClaimVerdict:
    """A "supported" from the very source the claim was assembled from is circular: kept as "unverifiable"
    with the reason "by construction from X", so only an independent source counts toward the filter.
    (A contradiction stays: a source disagreeing with what was built from it is worth a look.)"""
    if verifier not in sources or cv.verdict != VerdictValue.SUPPORTED:
        return cv
    label = SOURCE_LABELS.get(verifier, verifier)
    note = ByConstruction(source=label, verifier=verifier, found=cv.verdict, message=cv.message).store()
    return ClaimVerdict("unverifiable", 0.0, [*cv.evidence, note],
                        f"by construction from {label}: the claim was assembled from it, so this is not independent "
                        f"support (it found: {cv.message})")


def note_sources(cv: ClaimVerdict, verifier: Any) -> ClaimVerdict:
    """An unverifiable verdict always says which source was consulted (the verifier's own
    ``sources_consulted`` evidence when it gives one, else its name, version and data source)."""
    if cv.verdict == VerdictValue.UNVERIFIABLE and not any(isinstance(e, dict) and e.get("kind") == "sources_consulted" for e in cv.evidence):
        source = getattr(verifier, "source", None) or getattr(verifier, "graph_label", None) or getattr(verifier, "name", "?")
        cv.evidence.append(SourcesConsulted(verifier=getattr(verifier, "name", None), version=getattr(verifier, "version", None),
                                            sources=[str(source)]).store())
    return cv


def _falsify(session, trace, expl, claims, record, batch_id, stats, by_verifier, factory, pending,
             model_choice=None) -> dict | None:
    from .falsification import NAME, VERSION, run_model_choice
    todo = [c for c in claims if not _cached(session, c, NAME, VERSION, batch_id)[0]]
    if not todo:
        stats["cached"] += len(claims)
        return None
    if factory is not None:
        agent = factory(session.get_bind(), record, batch_id)
    else:  # the model asked for, else the model (and api_base) the trace's run was generated with
        agent = default_falsifier(session.get_bind(), record, batch_id, model_choice or run_model_choice(session, trace))
    if agent is None:
        return None
    try:
        verdicts, overall, transcript = agent.run(expl)
    except Exception as exc:  # noqa: BLE001 - a failed model call leaves no verdict, so a later run tries again
        stats["falsification_failed"] += 1
        return dict(trace.meta or {}) | {"falsification": {"error": f"{type(exc).__name__}: {exc}"}}
    by_node = {c.node_id: c for c in todo}
    for node_id, cv in verdicts.items():
        if node_id in by_node:
            cv.evidence.append(FalsificationOverall(overall=overall).store())
            _add(pending, trace.id, by_node[node_id], NAME, VERSION, cv)
            by_verifier[NAME][cv.verdict] += 1
            stats["computed"] += 1
    meta = dict(trace.meta or {})
    meta["falsification"] = {"overall": overall, "transcript": transcript, "model": getattr(agent, "model_label", None)}
    return meta


def default_falsifier(engine, record, batch_id, model_choice=None):
    """A falsification agent on the run's model (see :func:`.falsification.default_falsifier`)."""
    from .falsification import default_falsifier as make
    return make(engine, record, batch_id, model_choice=model_choice)


def verify_traces(engine: Engine, trace_ids: list[int], verifiers: list[str] | None = None, *,
                  progress: Callable[[int, int], bool | None] | None = None, instances: dict[str, Any] | None = None,
                  falsifier_factory: Callable | None = None, model_choice: Any = None, lease: Any = None) -> dict[str, Any]:
    """Verify traces; ``progress(done, total)`` may return True to stop early. Returns a summary.

    ``model_choice`` (a :class:`~vcr_core.llm.ModelChoice`) is the falsification agent's model; without
    it each trace is falsified with the model and ``api_base`` its run was generated with.
    ``lease`` (a verify job's :class:`~vcr_core.jobs.queue.Lease`) fences each trace's write: once
    another worker owns the job, nothing more is written and :class:`~vcr_core.jobs.queue.LeaseLost` is raised."""
    # Imported here: the jobs package imports the verifiers.
    from ..jobs.queue import fence_or_raise, require_lease
    require_lease(engine, lease, "verification")
    names = list(verifiers) if verifiers else default_verifier_names(model_choice)
    claim_verifiers = instances if instances is not None else build_verifiers(engine, [n for n in names if n in claim_verifier_names()])
    stats: Counter = Counter()
    by_verifier: dict[str, Counter] = defaultdict(Counter)
    verdicts: Counter = Counter()
    for i, trace_id in enumerate(trace_ids):
        pending: list[dict] = []
        with Session(engine) as reader:  # read and compute; no write lock is held meanwhile
            trace = reader.get(Trace, trace_id)
            if trace is None:
                continue
            meta = verify_trace(reader, trace, claim_verifiers, names, stats, by_verifier, falsifier_factory, pending,
                                model_choice)
        # One short write in the writers' queue (locked_transaction), so curators' judgments never wait out
        # SQLite's busy-handler sleeps behind it; Core statements only, since every judgment waits meanwhile.
        # Fenced by the job's lease first: a replaced worker writes nothing.
        with locked_transaction(engine) as conn:
            fence_or_raise(conn, lease, f"the verdicts of trace {trace_id}")
            _write_verdicts(conn, pending)
            if meta is not None:
                conn.execute(_SET_META, {"tid": trace_id, "meta": meta})
            verdicts[evaluate_trace_on(conn, trace_id)] += 1
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
            q = q.join(Record, Record.id == Trace.record_id).where(trace_in_batch(batch_id))
        elif not all_traces:
            return []
        return list(s.exec(q.order_by(Trace.id)).all())
