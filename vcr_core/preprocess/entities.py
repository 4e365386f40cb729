"""The entity a NER backend returns: mention, type, span and grounding."""
from __future__ import annotations

from dataclasses import asdict, dataclass

TYPES = ("Chemical", "Gene", "Disease", "Species", "CellLine")


@dataclass
class Entity:
    """A mention with its type (Chemical, Gene, Disease, Species, CellLine), character span and grounding."""

    text: str
    type: str
    start: int
    end: int
    namespace: str | None = None
    identifier: str | None = None
    canonical: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)
