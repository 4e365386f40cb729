"""Every status and verdict, defined once.

The database stores these as plain strings (each enum is a ``StrEnum``: its members compare equal to,
and serialise as, their values), so the store, the CLI, the app and the exports share one vocabulary
without a column type change. Migration ``0004`` normalised values that drifted in older databases.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class JobStatus(StrEnum):
    """A background job's state (``job.status``); runs use the same values (``run.status``)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


RunStatus = JobStatus
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


class TraceStatus(StrEnum):
    """A generated or imported trace (``trace.status``)."""

    OK = "ok"
    INVALID = "invalid"  # an explanation with error findings, stored with them
    FAILED = "failed"  # no explanation: the reason is in ``trace.errors``
    REPORT_ONLY = "report_only"  # imported: a report without a structured explanation


class VerdictValue(StrEnum):
    """A machine verdict on a claim (``verdict.verdict``) and a curator's override. (Not ``Verdict``: that
    name is the table of verdict rows, ``store.Verdict``.)"""

    SUPPORTED = "supported"
    CONTRADICTED = "contradicted"
    UNVERIFIABLE = "unverifiable"


class PolicyOutcome(StrEnum):
    """The filter policy's verdict on a trace (``traceverdict.verdict``)."""

    PASS = "pass"
    FAIL = "fail"
    INSUFFICIENT = "insufficient"  # too few claims could be decided


class ClaimJudgment(StrEnum):
    """A curator's judgment of one claim (``curation.judgment`` with target 'claim')."""

    ACCEPT = "accept"
    OVERRIDE = "override"


class GroundingJudgment(StrEnum):
    """A curator's judgment of what a claim's entity argument names (``curation.judgment`` with target
    'grounding'): logged like any judgment, it changes the claim's stored grounding and core."""

    REGROUND = "reground"


class CurationState(StrEnum):
    """Where curation of a claim or trace stands under the consensus rule (``claim_state.status``;
    ``trace_state.status`` holds these or the deciding TraceJudgment)."""

    UNCURATED = "uncurated"
    DECIDED = "decided"  # a claim's curators decided under the rule (its verdict is ``claim_state.verdict``)
    NEEDS_SECOND = "needs_second"  # two_agree: one curator judged, a second is needed
    CONFLICT = "conflict"  # two_agree: the two latest curators disagree


class TraceJudgment(StrEnum):
    """A curator's judgment of a trace (``curation.judgment`` with target 'trace')."""

    APPROVE = "approve"
    REJECT = "reject"
    NEEDS_WORK = "needs_work"
    NEEDS_REVIEW = "needs_review"  # set by the app when an approved trace's claim is judged again


# Values older code or imports wrote, and what they mean now (migration 0004 rewrote stored ones; imports apply it).
LEGACY_JUDGMENTS = {"back_to_review": TraceJudgment.NEEDS_REVIEW.value, "approved": TraceJudgment.APPROVE.value,
                    "rejected": TraceJudgment.REJECT.value}


@dataclass
class ToolStatus:
    """Whether a tool can run here, and if not, why (a sentence a user understands)."""

    available: bool
    reason: str | None = None
    detail: str | None = None  # e.g. which graph or backend is in use
