"""The process-wide knowledge cache: the sources the assembler (and anything else that explains a record
from embedded knowledge) reads, loaded once per process and shared by every record (thread-safe reads).

The knowledge graph lives in ``tools.kg`` (a higher layer), so it is loaded through a ``graph_loader``
the caller passes; the GO annotations (``knowledge.orgdb``) are loaded here. A missing source is kept with
its reason, and whoever explains a record says it.
"""
from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol


class GoSource(Protocol):
    """What the assembler needs of ``vcr_core.knowledge.orgdb.OrgDb``."""

    def go_annotations(self, symbol: str) -> list[Any]: ...


@dataclass
class Knowledge:
    """The knowledge sources of one process."""

    graph: Any = None
    graph_reason: str | None = None
    orgdb: GoSource | None = None
    orgdb_reason: str | None = None
    load_s: float = 0.0
    matcher: Any = None  # name -> node matcher of ``graph`` (the caller builds it on first use when not given)
    memo: dict[tuple, Any] = field(default_factory=dict)  # answers derived from these sources (per process)

    @property
    def graph_origin(self) -> str:
        return getattr(self.graph, "origin", "") or "knowledge graph"

    def remember(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per ``key`` for this knowledge (derived answers: a ligand's receptors, ...)."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


log = logging.getLogger(__name__)

_KB: Knowledge | None = None
_KB_LOCK = threading.Lock()

GraphLoader = Callable[[], tuple[Any, Any]]  # -> (graph, matcher)


def load_knowledge(graph_loader: GraphLoader | None = None, *, refresh: bool = False,
                   warm: Callable[[Knowledge], None] | None = None) -> Knowledge:
    """The process's knowledge, loaded once: the graph from ``graph_loader`` (None: no graph) and the GO
    annotations. A missing source is recorded with its reason. ``warm(kb)`` runs inside the load (under its
    lock, so a second caller waits for it rather than doing it again) to read every other source the caller
    will need (the gene vocabularies, ChEBI roles): the first record then waits for nothing. The loaded
    objects are then moved out of the garbage collector's sight (``gc.freeze``): they live as long as the
    process, and each later collection would otherwise walk their millions of objects again."""
    global _KB
    with _KB_LOCK:
        if _KB is not None and not refresh:
            return _KB
        start = time.perf_counter()
        kb = Knowledge()
        if graph_loader is None:
            kb.graph_reason = "no knowledge graph loader was given"
        else:
            try:
                kb.graph, kb.matcher = graph_loader()
            except Exception as exc:  # noqa: BLE001 - the reason goes into every report
                kb.graph_reason = f"no knowledge graph could be loaded ({exc})"
        kb.orgdb, kb.orgdb_reason = _load_orgdb()
        if warm is not None:
            try:
                warm(kb)
            except Exception:  # noqa: BLE001 - warming is an optimisation: a failure shows on first real use
                log.warning("knowledge: warming the sources failed", exc_info=True)
        gc.freeze()
        kb.load_s = round(time.perf_counter() - start, 3)
        _KB = kb
        return kb


def set_knowledge(kb: Knowledge | None) -> None:
    """Use ``kb`` for every following use (tests and benchmarks); None loads afresh on next use."""
    global _KB
    with _KB_LOCK:
        _KB = kb


def current_knowledge() -> Knowledge | None:
    """The loaded knowledge, or None before the first load."""
    return _KB


def _load_orgdb() -> tuple[GoSource | None, str | None]:
    from .orgdb import get_orgdb, orgdb_status
    try:
        db = get_orgdb()
        if db is None:
            ok, reason = orgdb_status()
            return None, f"Gene Ontology annotations are not available: {reason}"
        db.go_annotations("TP53")  # builds its term indexes now, at load time, not on the first record
        return db, None
    except Exception as exc:  # noqa: BLE001
        return None, f"Gene Ontology annotations could not be read ({exc})"


__all__ = ["GoSource", "Knowledge", "current_knowledge", "load_knowledge", "set_knowledge"]
