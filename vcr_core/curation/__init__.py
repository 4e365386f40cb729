"""Curation: the append-only judgment log and consensus (log.py, consensus.py), queues and leases
(queues.py), read models for the pages (views.py), agreement statistics (agreement.py), a claim's core
identity and the reuse of judgments (core.py, reuse.py, knowledge.py), comparison groups (compare.py).

The names most callers use are re-exported here: ``from vcr_core import curation as cur``."""
from ..verify.base import VERDICTS  # noqa: F401,E402 - the verdict values an override may name
from .agreement import (  # noqa: F401
    cohen_kappa,
    curator_vs_machine,
    inter_curator_agreement,
)
from .grounding import (  # noqa: F401
    candidates,
    candidates_from_evidence,
    grounding_lines,
    reground_claim,
)
from .restore import bring_back_judgments  # noqa: F401
from .log import (  # noqa: F401
    CLAIM_JUDGMENTS,
    CONSENSUS_RULES,
    QUEUES,
    REASON_TAGS,
    TRACE_JUDGMENTS,
    TRACE_STATUSES,
    CurationError,
    StaleJudgment,
    compute_state,
    consensus_rule,
    disagreement,
    judge_claim,
    judge_trace,
    log_order,
    rebuild_state,
    rebuild_state_on_connection,
    state_snapshot,
    trace_state,
    trace_status,
)
from .queues import (  # noqa: F401
    acquire_lease,
    lease_holder,
    next_trace,
    queue_counts,
    release_lease,
)
from .views import (  # noqa: F401
    ClaimState,
    QueueFilters,
    approval_doubts,
    claim_states,
    conflict_view,
    graph_verdicts,
    history,
    overview_counts,
    progress_by_curator,
    review_queue,
    run_record_rows,
    trace_bundle,
)
