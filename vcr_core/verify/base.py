"""What every verifier shares: the verdict it returns and the context it is given."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..formalism import Explanation, Node
from ..formalism.catalogue import entity_args
from ..formalism.typed import entity_values
from ..kernel.statuses import VerdictValue
from ..records.model import Record
from .evidence import Evidence, stored

SUPPORTED, CONTRADICTED, UNVERIFIABLE = VerdictValue.SUPPORTED, VerdictValue.CONTRADICTED, VerdictValue.UNVERIFIABLE
VERDICTS = tuple(VerdictValue)

# Arguments that name entities (not free text such as mechanism or evidence_type), derived from the
# argument types in primitives.json: the catalogue is the one source of truth.
ENTITY_ARGS = entity_args()


@dataclass
class ClaimVerdict:
    """A verifier's answer for one claim: verdict, score in [0, 1], evidence a curator can check.

    Evidence may be given as models of ``verify/evidence.py``; it is kept as their stored dicts."""

    verdict: str
    score: float
    evidence: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")
        self.score = min(1.0, max(0.0, float(self.score)))
        if any(isinstance(e, Evidence) for e in self.evidence):
            self.evidence = stored(self.evidence)


@dataclass
class ClaimContext:
    """Everything a verifier may look at for one claim."""

    node: Node
    explanation: Explanation
    record: Record
    batch_id: int | None = None
    trace_id: int | None = None


class Verifier(Protocol):
    """A verifier: ``name``, ``version``, ``applies(node)`` and ``verify(ctx)``."""

    name: str
    version: str

    def applies(self, node: Node) -> bool: ...

    def verify(self, ctx: ClaimContext) -> ClaimVerdict: ...


def entity_names(node: Node, args: tuple[str, ...] = ENTITY_ARGS) -> list[tuple[str, str]]:
    """(argument, name) pairs for the entity-valued arguments of a claim (lists expanded), read through
    the claim's typed model (``formalism/typed.py``); ``args`` narrows the arguments considered."""
    return [(e.arg, e.name) for e in entity_values(node) if e.arg in args]


def unverifiable(message: str, evidence: list[Any] | None = None) -> ClaimVerdict:
    return ClaimVerdict(UNVERIFIABLE, 0.0, evidence or [], message)


def json_object_in(text: str | None) -> dict[str, Any] | None:
    """The first {...} JSON object in a model's answer (models wrap JSON in prose or fences), or None."""
    m = re.search(r"\{.*\}", text or "", re.DOTALL)
    if not m:
        return None
    try:
        obj = json.loads(m.group(0))
    except json.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def verifier_class(name: str) -> Any:
    """The claim verifier class registered as ``name`` (entry-point group ``vcr.verifiers``)."""
    from ..kernel.registry import VERIFIERS, load

    return load(VERIFIERS, name)


def counts_as_support(name: str | None) -> bool:
    """Whether a verifier's "supported" counts as evidence that a claim is true. The structural checks
    and verifiers declaring ``counts_as_support = False`` (the entity verifier: a name that grounds does
    not make a claim true) can contradict a claim but never support it."""
    if not name or name == "structural":
        return name != "structural"
    try:
        return bool(getattr(verifier_class(name), "counts_as_support", True))
    except KeyError:  # a verdict of a verifier no longer installed: count it as it was stored
        return True
