"""A compact knowledge graph: node arrays plus CSR adjacency in numpy (no Python object per edge).

``indptr[i]:indptr[i+1]`` slices ``nbr`` (neighbour index, int32) and ``rel`` (relation id, int16)
for node ``i``. Edges are stored in both directions, as STaRK's ``edge_index`` is. Node names, types,
sources, ids and details are per-node lists. The whole graph saves to one ``.npz`` (arrays) plus one
pickle (per-node info) and loads back in seconds.
"""
from __future__ import annotations

import pickle
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ...kernel.filecache import atomic_file, file_stamp, gc_paused


@dataclass
class CompactGraph:
    """Nodes and CSR adjacency. ``origin`` says where the graph came from (shown to users)."""

    names: list[str]
    node_type: np.ndarray            # int16, index into type_names
    type_names: list[str]
    sources: list[str]
    ids: list[str]
    details: list[dict[str, Any] | None]
    indptr: np.ndarray               # int64, n + 1
    nbr: np.ndarray                  # int32, E
    rel: np.ndarray                  # int16, E
    relation_names: list[str]
    origin: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # The files the graph was read from or saved to (path, size, mtime): the key of caches derived from it
    # (the matcher's name indexes); empty for a graph built in memory, whose derived indexes are never cached.
    stamp: tuple = field(default=(), compare=False, repr=False)

    @property
    def n_nodes(self) -> int:
        return len(self.names)

    @property
    def n_edges(self) -> int:
        return int(self.nbr.shape[0])

    @classmethod
    def from_edges(cls, names: list[str], node_type: np.ndarray, type_names: list[str], src: np.ndarray, dst: np.ndarray,
                   rel: np.ndarray, relation_names: list[str], *, sources=None, ids=None, details=None, origin: str = "",
                   symmetric: bool = False) -> "CompactGraph":
        """Build the CSR arrays from edge lists (``symmetric``: also add each edge reversed)."""
        n = len(names)
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        rel = np.asarray(rel, dtype=np.int16)
        if symmetric:
            src, dst, rel = np.concatenate([src, dst]), np.concatenate([dst, src]), np.concatenate([rel, rel])
        order = np.argsort(src, kind="stable")
        counts = np.bincount(src, minlength=n)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return cls(list(names), np.asarray(node_type, dtype=np.int16), list(type_names), list(sources or [""] * n),
                   list(ids or [""] * n), list(details or [None] * n), indptr, dst[order].astype(np.int32),
                   rel[order], list(relation_names), origin)

    def neighbors(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(neighbour indices, relation ids) of node ``i``."""
        a, b = self.indptr[i], self.indptr[i + 1]
        return self.nbr[a:b], self.rel[a:b]

    def degree(self, i: int) -> int:
        return int(self.indptr[i + 1] - self.indptr[i])

    def type_of(self, i: int) -> str:
        return self.type_names[int(self.node_type[i])]

    def edges_between(self, i: int, j: int) -> list[int]:
        """Relation ids of the edges from ``i`` to ``j``."""
        nb, rl = self.neighbors(i)
        return [int(r) for r in rl[nb == j]]

    def shortest_path(self, s: int, t: int, max_depth: int = 4, max_visits: int = 200_000) -> list[int] | None:
        """A shortest path by BFS on the CSR arrays (bounded, so hubs cannot make it explode)."""
        if s == t:
            return [s]
        parent = {s: -1}
        frontier = deque([(s, 0)])
        visits = 0
        while frontier:
            u, d = frontier.popleft()
            if d >= max_depth:
                continue
            nb, _ = self.neighbors(u)
            for v in nb.tolist():
                if v in parent:
                    continue
                parent[v] = u
                if v == t:
                    path = [t]
                    while parent[path[-1]] != -1:
                        path.append(parent[path[-1]])
                    return path[::-1]
                visits += 1
                if visits > max_visits:
                    return None
                frontier.append((v, d + 1))
        return None

    def steiner_subgraph(self, terminals: list[int], max_depth: int = 4) -> tuple[set[int], list[tuple[int, int, int]]]:
        """An approximate Steiner tree: the union of shortest paths from the first terminal to each
        other one (then between the rest when a path is missing). Returns (nodes, edges with relation)."""
        nodes: set[int] = set(terminals)
        edges: list[tuple[int, int, int]] = []
        terms = list(dict.fromkeys(terminals))
        for k, t in enumerate(terms[1:], start=1):
            path = None
            for s in terms[:k]:
                path = self.shortest_path(s, t, max_depth)
                if path:
                    break
            for a, b in zip(path or [], (path or [])[1:]):
                nodes.update((a, b))
                rels = self.edges_between(a, b)
                edges.append((a, b, rels[0] if rels else -1))
        return nodes, edges

    # -- persistence
    def save(self, path: Path) -> None:
        """Write ``path.npz`` (arrays) and ``path.pkl`` (per-node info), each atomically: the app, its
        workers and the CLI share the cache folder, and a reader must never see half a file."""
        path = Path(path)
        with atomic_file(path.with_suffix(".npz")) as fh:
            np.savez(fh, node_type=self.node_type, indptr=self.indptr, nbr=self.nbr, rel=self.rel)
        with atomic_file(path.with_suffix(".pkl")) as fh:
            pickle.dump({"names": self.names, "type_names": self.type_names, "sources": self.sources, "ids": self.ids,
                         "details": self.details, "relation_names": self.relation_names, "origin": self.origin,
                         "extra": self.extra}, fh, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def cached(cls, path: Path, build: "Callable[[], CompactGraph]") -> "CompactGraph":
        """The graph saved at ``path``, or ``build()`` saved there first; a file that cannot be read
        (an older format, a crash while another process wrote it) is built again."""
        path = Path(path)
        if path.with_suffix(".npz").exists() and path.with_suffix(".pkl").exists():
            try:
                return cls.load(path)
            except Exception:  # noqa: BLE001 - rebuilt below
                pass
        graph = build()
        graph.save(path)
        graph.stamp = file_stamp(path.with_suffix(".npz"), path.with_suffix(".pkl"))
        return graph

    @classmethod
    def load(cls, path: Path) -> "CompactGraph":
        path = Path(path)
        arrays = np.load(path.with_suffix(".npz"))
        with open(path.with_suffix(".pkl"), "rb") as fh, gc_paused():
            info = pickle.load(fh)
        graph = cls(info["names"], arrays["node_type"], info["type_names"], info["sources"], info["ids"], info["details"],
                    arrays["indptr"], arrays["nbr"], arrays["rel"], info["relation_names"], info["origin"], info.get("extra", {}))
        graph.stamp = file_stamp(path.with_suffix(".npz"), path.with_suffix(".pkl"))
        return graph
