"""Verifiers: a verdict with evidence for every claim, and the filter policy that keeps traces."""
from .base import CONTRADICTED, SUPPORTED, UNVERIFIABLE, ClaimContext, ClaimVerdict
from .policy import aggregate_claim_verdict, current_policy, evaluate_trace, latest_trace_verdicts
from .runner import ALL_VERIFIERS, select_trace_ids, verify_traces

__all__ = ["ALL_VERIFIERS", "CONTRADICTED", "SUPPORTED", "UNVERIFIABLE", "ClaimContext", "ClaimVerdict",
           "aggregate_claim_verdict", "current_policy", "evaluate_trace", "latest_trace_verdicts", "select_trace_ids",
           "verify_traces"]
