"""Verifiers: a verdict with evidence for every claim, and the filter policy that keeps traces."""
from .base import CONTRADICTED, SUPPORTED, UNVERIFIABLE, ClaimContext, ClaimVerdict
from .policy import aggregate_claim_verdict, current_policy, evaluate_trace, latest_trace_verdicts
from .runner import all_verifier_names, select_trace_ids, verify_traces

__all__ = ["all_verifier_names", "CONTRADICTED", "SUPPORTED", "UNVERIFIABLE", "ClaimContext", "ClaimVerdict",
           "aggregate_claim_verdict", "current_policy", "evaluate_trace", "latest_trace_verdicts", "select_trace_ids",
           "verify_traces"]
