"""The consensus rule shared by a claim's own judgments (log.py) and a core's (reuse.py)."""
from __future__ import annotations

CONSENSUS_RULES = ("one", "two_agree")


class CurationError(ValueError):
    """A judgment that cannot be stored as given; the message says what is missing."""


def consensus_rule(rule: str | None = None) -> str:
    """The consensus rule in force (``CONSENSUS``), checked."""
    if rule is None:
        from ..kernel.settings import get_settings
        rule = get_settings().consensus
    rule = (rule or "one").strip().lower()
    if rule not in CONSENSUS_RULES:
        raise CurationError(f"CONSENSUS is {rule!r}; use one of {', '.join(CONSENSUS_RULES)}")
    return rule


def _consensus(opinions: dict[str, dict], value_key: str, rule: str) -> tuple[str, str | None]:
    """(status, value) from each curator's latest opinion, ``opinions`` in the order they were given
    (oldest first: the log's order, by time then id, as ``log.compute_state`` builds them)."""
    if not opinions:
        return "uncurated", None
    ordered = list(opinions.values())
    if rule == "one":
        return "decided", ordered[-1][value_key]
    if len(ordered) == 1:
        return "needs_second", ordered[-1][value_key]
    a, b = ordered[-2][value_key], ordered[-1][value_key]
    return ("decided", a) if a == b else ("conflict", None)
