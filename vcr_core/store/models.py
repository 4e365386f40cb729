"""SQLModel tables. The database is the state: every page, worker and command reads and writes here.

Machine verdicts (``Verdict``) and human judgments (``Curation``) are separate, append-only rows;
the current state of a claim or trace is derived from them (see ``vcr_core.curation.log``). Status and
verdict values are the enums of ``vcr_core.kernel.statuses``.
Columns marked JSON hold lists or objects; ``meta`` columns leave room for additions without a
migration.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlmodel import Field, SQLModel

CACHED_VERDICTS = "verifier != 'curated'"
"""The verdicts the verification cache's index holds (all but the ``curated`` verifier's, see ``Verdict``). A
query that should use that index states this condition as written here (``sql_text``), so SQLite and
PostgreSQL can prove it implies the index's."""


def utcnow() -> datetime:
    """Current time in UTC, timezone-aware (SQLModel stores datetimes as UTC and requires tz info)."""
    return datetime.now(timezone.utc)


def _json(**kw: Any) -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=True), **kw)


def _text(**kw: Any) -> Any:
    return Field(default=None, sa_column=Column(Text, nullable=True), **kw)


class ModelUsage(SQLModel):
    """What a model cost: shared by a trace (summed over its calls) and each model call."""

    provider: Optional[str] = None
    model: Optional[str] = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0


class Batch(SQLModel, table=True):
    """An upload (or an import): a named set of records with the hash of the file's bytes."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    content_hash: str = Field(index=True, unique=True)
    kind: str = Field(default="upload", description="'upload' or 'import'")
    source_filename: Optional[str] = None
    created_by: Optional[str] = None
    created_at: datetime = Field(default_factory=utcnow)
    n_records: int = 0
    meta: Optional[dict] = _json()


class Record(SQLModel, table=True):
    """One perturbation record: the raw object, its normalised form and preprocessing output."""

    __table_args__ = (UniqueConstraint("batch_id", "index", name="uq_record_batch_index"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    index: str
    position: int = 0
    label: str = ""
    perturbation_name: Optional[str] = Field(default=None, index=True)
    context_label: Optional[str] = None
    identity_key: Optional[str] = Field(default=None, index=True,
                                        description="perturbation + context hash (compare.identity_key); None without a perturbation")
    raw: Optional[dict] = _json()
    normalized: Optional[dict] = _json()
    preprocessed: Optional[dict] = _json(description="perturbation_entity, context_entity, pubchem_info, entities")
    preprocessed_at: Optional[datetime] = None
    preprocess_error: Optional[str] = _text()
    created_at: datetime = Field(default_factory=utcnow)


class Run(SQLModel, table=True):
    """A generation run: records x configuration, with status, counts, timings, tokens and cost."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = ""
    batch_id: Optional[int] = Field(default=None, foreign_key="batch.id", index=True)
    record_ids: Optional[list] = _json(description="Explicit selection; None means the whole batch.")
    tools: Optional[list] = _json()
    provider: Optional[str] = None
    model: Optional[str] = None
    mode: str = "report-explain"
    options: Optional[dict] = _json()
    status: str = Field(default="queued", index=True, description="statuses.JobStatus: queued, running, done, failed, cancelled")
    n_total: int = 0
    n_done: int = 0
    n_failed: int = 0
    n_invalid: int = 0
    created_by: Optional[str] = None
    created_at: datetime = Field(default_factory=utcnow)
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    error: Optional[str] = _text()
    meta: Optional[dict] = _json()


class Trace(ModelUsage, table=True):
    """The output for one record in one run: report, explanation, raw model output, tool context."""

    __table_args__ = (UniqueConstraint("run_id", "record_id", name="uq_trace_run_record"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    record_id: int = Field(foreign_key="record.id", index=True)
    status: str = Field(default="ok", index=True, description="statuses.TraceStatus: ok, invalid, failed, report_only")
    source: str = Field(default="generated", description="'generated' or 'imported'")
    report: Optional[str] = _text()
    explanation: Optional[dict] = _json(description="Canonical JSON form")
    text_form: Optional[str] = _text()
    raw_output: Optional[str] = _text()
    tool_context: Optional[dict] = _json(description="Per tool: prompt text, structured evidence, status")
    findings: Optional[list] = _json()
    errors: Optional[list] = _json()
    prompt_version: Optional[str] = None
    n_claims: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    meta: Optional[dict] = _json()


class Claim(SQLModel, table=True):
    """A node of a trace other than set_context, with its deterministic hash."""

    __table_args__ = (UniqueConstraint("trace_id", "position", name="uq_claim_trace_position"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    trace_id: int = Field(foreign_key="trace.id", index=True)
    position: int = 0
    node_id: str
    action: str = Field(index=True)
    args: Optional[dict] = _json()
    via: Optional[str] = _text()
    confidence: Optional[str] = None
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    hash: str = Field(index=True)
    core: Optional[str] = Field(default=None, index=True,
                                description="core identity: primitive + grounded entities + direction, free text left out "
                                            "(vcr_core.curation.core); None until computed")
    grounding: Optional[dict] = _json(description="how the core was grounded: {args: {arg: [{name, namespace, identifier, "
                                                  "canonical, method}]}, direction, scope, context}; a curator's "
                                                  "re-grounding adds curator, curation_id and at to its entity")
    pert_key: Optional[str] = Field(default=None, description="the trace's grounded perturbation (scope 'perturbation')")
    cell_key: Optional[str] = Field(default=None, description="the trace's grounded cell line or type (scope 'context')")


class Verdict(SQLModel, table=True):
    """A machine verdict on a claim (or a trace-level finding when claim_id is None). Never overwritten."""

    # The verification cache's index (claim hash, verifier, version) leaves out the ``curated`` verifier's rows:
    # they are never looked up by hash (a reused judgment is read from claim_reuse), and a judgment writes one
    # per claim it decides, ~50 random hashes, whose index pages were most of the judgment's write (issue 21).
    __table_args__ = (Index("ix_verdict_cache", "claim_hash", "verifier", "version",
                            sqlite_where=sql_text(CACHED_VERDICTS), postgresql_where=sql_text(CACHED_VERDICTS)),)
    id: Optional[int] = Field(default=None, primary_key=True)
    trace_id: int = Field(foreign_key="trace.id", index=True)
    claim_id: Optional[int] = Field(default=None, foreign_key="claim.id", index=True)
    claim_hash: Optional[str] = None
    verifier: str
    version: str = "1"
    verdict: str = Field(description="statuses.VerdictValue: supported, contradicted, unverifiable")
    score: float = 0.0
    evidence: Optional[list] = _json()
    message: Optional[str] = _text()
    created_at: datetime = Field(default_factory=utcnow)


class TraceVerdict(SQLModel, table=True):
    """The filter policy's verdict on a trace, with the policy that produced it."""

    id: Optional[int] = Field(default=None, primary_key=True)
    trace_id: int = Field(foreign_key="trace.id", index=True)
    verdict: str = Field(description="statuses.PolicyOutcome: pass, fail or insufficient (evidence)")
    policy: Optional[dict] = _json()
    summary: Optional[dict] = _json()
    created_at: datetime = Field(default_factory=utcnow)


class Curation(SQLModel, table=True):
    """A curator's judgment, append-only. Claim level: accept / override; trace level: approve /
    reject / needs_work / needs_review (``statuses.ClaimJudgment``, ``statuses.TraceJudgment``)."""

    __table_args__ = (Index("ix_curation_trace_id_id", "trace_id", "id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    target: str = Field(default="claim", description="'claim' or 'trace'")
    trace_id: int = Field(foreign_key="trace.id", index=True)
    claim_id: Optional[int] = Field(default=None, foreign_key="claim.id", index=True)
    claim_hash: Optional[str] = Field(default=None, index=True)
    curator: str = Field(index=True, description="the curator's key (kernel.identity.curator_key): stored and compared")
    curator_display: Optional[str] = Field(default=None, description="the name as the curator typed it, for display")
    judgment: str
    verdict: Optional[str] = None
    tag: Optional[str] = None
    note: Optional[str] = _text()
    claim_snapshot: Optional[dict] = _json()
    app_version: Optional[str] = None
    created_at: datetime = Field(default_factory=utcnow)


class ClaimStateRow(SQLModel, table=True):
    """A claim's current curation state, kept in step with the ``Curation`` log in the same transaction
    (``vcr db rebuild-state`` recomputes it from the log, which stays the truth)."""

    __tablename__ = "claim_state"
    claim_id: int = Field(primary_key=True, foreign_key="claim.id")
    trace_id: int = Field(foreign_key="trace.id", index=True)
    version: int = Field(default=0, description="id of the newest Curation row on this claim")
    verdict: Optional[str] = Field(default=None, description="the curators' verdict under the consensus rule; None: the machine's")
    status: str = Field(default="uncurated", description="uncurated, decided, needs_second, conflict")
    opinions: Optional[dict] = _json(description="curator -> {judgment, verdict, tag, note, id}: each curator's latest")
    last_curator: Optional[str] = None
    last_judgment: Optional[str] = None


class TraceStateRow(SQLModel, table=True):
    """A trace's current curation state (status under the consensus rule, each curator's latest
    trace judgment), kept in step with the ``Curation`` log."""

    __tablename__ = "trace_state"
    trace_id: int = Field(primary_key=True, foreign_key="trace.id")
    version: int = Field(default=0, description="id of the newest Curation row on the trace or one of its claims")
    status: str = Field(default="uncurated", index=True,
                        description="uncurated, approve, reject, needs_work, needs_review, needs_second, conflict")
    opinions: Optional[dict] = _json(description="curator -> latest trace judgment since the last needs_review")
    curators: Optional[list] = _json(description="every curator who judged the trace or one of its claims")
    n_judgments: int = 0
    last_curator: Optional[str] = None


class ClaimReuseRow(SQLModel, table=True):
    """A claim decided by a judgment made on another claim with the same core in scope (the ``curated``
    verifier's verdict in force), kept in step with the ``Curation`` log in the judgment's transaction."""

    __tablename__ = "claim_reuse"
    claim_id: int = Field(primary_key=True, foreign_key="claim.id")
    trace_id: int = Field(foreign_key="trace.id", index=True)
    core: str = Field(index=True)
    status: str = Field(default="decided", description="decided, needs_second, conflict")
    verdict: Optional[str] = None
    source: Optional[dict] = _json(description="the deciding judgment(s): curator, trace_id, claim_id, curation id, at, scope, reason")
    version: int = Field(default=0, description="id of the newest Curation row it follows")


class TraceLease(SQLModel, table=True):
    """Who is working on a trace until when (epoch seconds): queues hand a leased trace to nobody else."""

    __tablename__ = "trace_lease"
    trace_id: int = Field(primary_key=True, foreign_key="trace.id")
    curator: str
    expires_at: float = Field(index=True)


class Job(SQLModel, table=True):
    """Background work (generate, verify, preprocess): status, progress, heartbeat, error."""

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    run_id: Optional[int] = Field(default=None, foreign_key="run.id", index=True)
    payload: Optional[dict] = _json()
    status: str = Field(default="queued", index=True, description="statuses.JobStatus: queued, running, done, failed, cancelled")
    progress: float = 0.0
    n_done: int = 0
    n_total: int = 0
    message: Optional[str] = _text()
    error: Optional[str] = _text()
    cancel_requested: bool = False
    worker_id: Optional[str] = None
    heartbeat_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    lease: int = Field(default=0, description="Raised on every claim; the owner's writes carry it (fencing)")


class LlmCall(ModelUsage, table=True):
    """One model call: purpose, model, tokens, cost, latency, error. Never holds keys."""

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: Optional[int] = Field(default=None, foreign_key="run.id", index=True)
    trace_id: Optional[int] = Field(default=None, foreign_key="trace.id", index=True)
    record_id: Optional[int] = Field(default=None, foreign_key="record.id")
    purpose: str = Field(description="report, explain, repair, judge, falsify")
    attempts: int = 1
    error: Optional[str] = _text()
    created_at: datetime = Field(default_factory=utcnow)


class ExpressionRow(SQLModel, table=True):
    """Differential-expression results attached to a batch (for the expression verifier)."""

    __table_args__ = (Index("ix_expression_lookup", "batch_id", "perturbation", "gene"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    perturbation: str
    context: Optional[str] = None
    gene: str
    log2fc: float
    padj: Optional[float] = None
    source: Optional[str] = None


class RateBucket(SQLModel, table=True):
    """The request schedule of one rate-limited key (web host or model provider), shared by all
    processes: ``next_at`` is the earliest start (epoch seconds) of the next request."""

    key: str = Field(primary_key=True)
    next_at: float = 0.0
    paused_until: float = 0.0


class RateSlot(SQLModel, table=True):
    """A call in flight under a key's cluster-wide concurrency cap; expires if its holder dies."""

    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(index=True)
    holder: str
    acquired_at: float
    expires_at: float


TABLE_NAMES = {
    "batches": Batch, "records": Record, "runs": Run, "traces": Trace, "claims": Claim,
    "verdicts": Verdict, "curations": Curation, "jobs": Job,
}
