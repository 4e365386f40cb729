"""Entity -> node matching, as the original did, recording how each match was made.

Routes, in order: exact case-folded name; an ontology id ("GO:0000118", "HP:0001250", "MONDO:...")
against the node's own id (PrimeKG's bare digits included); disease labels and synonyms from MONDO
(``DATA_DIR/mondo.json`` when given, else the synonyms stored on disease nodes); chemicals by
DrugBank id (from an optional DrugBank XML, streamed once and cached, or ``DB...`` synonyms) and by
synonyms; genes by aliases; then approximate string similarity (rapidfuzz) for what is left.

Lookups are memoised per matcher (a bounded LRU keyed by the folded name, the type filter and ``k``):
the approximate route scans every node name (~15 ms on PrimeKG) and the verifiers ask for the same
names again and again. A matcher belongs to one loaded graph, so a reload (a new matcher) starts an
empty memo; :meth:`Matcher.clear_cache` empties it explicitly.
"""
from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from rapidfuzz import fuzz, process

from ...kernel.filecache import gc_paused, load_or_build
from ...kernel.settings import get_settings
from .graph import CompactGraph


@dataclass
class NodeMatch:
    """A graph node matched to a name: index, name, type, source, how it matched, score in [0, 1]."""

    index: int
    name: str
    type: str
    source: str
    method: str
    score: float


def _fold(s: str) -> str:
    return " ".join(str(s).casefold().split())


MEMO_SIZE = 50_000  # lookups remembered per matcher (a few MB); the least recently used go first


class Matcher:
    """Name indexes over one graph (built once per graph, in memory), with a memo of recent lookups."""

    def __init__(self, graph: CompactGraph, mondo_json: Path | None = None, drugbank_xml: Path | None = None,
                 memo_size: int = MEMO_SIZE) -> None:
        self.g = graph
        self.memo_size = memo_size
        self._memo: OrderedDict[tuple, tuple[NodeMatch, ...]] = OrderedDict()
        self._memo_lock = threading.Lock()  # the Streamlit app looks names up from several threads
        self.memo_hits = self.memo_misses = 0
        indexes = _cached_indexes(graph)
        self.exact: dict[str, list[int]] = indexes["exact"]
        self.synonym: dict[str, list[int]] = indexes["synonym"]
        self.alias: dict[str, list[int]] = indexes["alias"]
        self.drugbank: dict[str, list[int]] = indexes["drugbank"]
        self.curie: dict[str, list[int]] = indexes["curie"]  # "GO:0000118", "HP:0001250", "MONDO:0005148" -> nodes
        self._choices: dict[int, str] = indexes["choices"]
        self.mondo_names = self._mondo(mondo_json) if mondo_json else {}
        self.drugbank_names = load_drugbank_names(drugbank_xml) if drugbank_xml else {}

    def _mondo(self, path: Path) -> dict[str, str]:
        """MONDO synonym -> label, from an OBO-Graphs mondo.json (graphs[0].nodes[*].lbl / meta.synonyms[*].val)."""
        data = json.loads(Path(path).read_text())
        out = {}
        for node in data.get("graphs", [{}])[0].get("nodes", []):
            lbl = node.get("lbl")
            if not lbl:
                continue
            for syn in (node.get("meta") or {}).get("synonyms", []) or []:
                out[_fold(syn.get("val", ""))] = lbl
        return out

    def _mk(self, idx: Iterable[int], method: str, score: float, types: set[str] | None) -> list[NodeMatch]:
        out = []
        for i in idx:
            t = self.g.type_of(i)
            if types and t not in types:
                continue
            out.append(NodeMatch(i, self.g.names[i], t, self.g.sources[i], method, score))
        return out

    def clear_cache(self) -> None:
        """Forget every memoised lookup (call when the graph behind this matcher changes)."""
        with self._memo_lock:
            self._memo.clear()

    def lookup(self, name: str, types: Iterable[str] | None = None, k: int = 5) -> list[NodeMatch]:
        """Up to ``k`` matches for ``name``, best route first (memoised; see the module docstring)."""
        key = _fold(name)
        if not key:
            return []
        types = set(types) if types else None
        memo_key = (key, frozenset(types) if types else None, k)
        with self._memo_lock:
            hit = self._memo.get(memo_key)
            if hit is not None:
                self._memo.move_to_end(memo_key)
                self.memo_hits += 1
        if hit is None:
            hit = tuple(self._lookup(key, types, k))  # computed outside the lock: lookups may run in parallel
            with self._memo_lock:
                self.memo_misses += 1
                if self.memo_size > 0:
                    self._memo[memo_key] = hit
                    self._memo.move_to_end(memo_key)
                    while len(self._memo) > self.memo_size:
                        self._memo.popitem(last=False)
        # fresh objects each time: a caller that edits a match must not change what others get
        return [replace(m) for m in hit]

    def _lookup(self, key: str, types: set[str] | None, k: int) -> list[NodeMatch]:
        """The uncached lookup of a folded name (the routes of the module docstring)."""
        found = self._mk(self.exact.get(key, []), "exact", 1.0, types)
        if not found and (cid := _curie_key(key)):
            found = self._mk(self.curie.get(cid, []), "ontology_id", 1.0, types)
        if not found and key in self.mondo_names:
            found = self._mk(self.exact.get(_fold(self.mondo_names[key]), []), "mondo_synonym", 0.98, types)
        if not found and re.fullmatch(r"db\d{5}", key):
            found = self._mk(self.drugbank.get(key.upper(), []), "drugbank_id", 1.0, types)
        if not found and key in self.drugbank_names:
            found = self._mk(self.drugbank.get(self.drugbank_names[key], []), "drugbank_synonym", 0.97, types)
        if not found:
            found = self._mk(self.synonym.get(key, []), "synonym", 0.97, types)
        if not found:
            found = self._mk(self.alias.get(key, []), "alias", 0.95, types)
        if not found and len(key) >= 4:
            hits = process.extract(key, self._choices, scorer=fuzz.ratio, limit=k * 3, score_cutoff=85)
            found = [m for h in hits for m in self._mk([h[2]], "approximate", round(h[1] / 100 * 0.9, 3), types)]
        return found[:k]


INDEX_VERSION = "1"  # the name indexes' layout (a change rebuilds every saved one)


def _cached_indexes(graph: CompactGraph) -> dict[str, dict]:
    """The graph's name indexes, saved beside the graph's own files (``starter-v2.matcher.pkl``) and keyed by
    those files' names, sizes and modification times, so a rebuilt graph rebuilds them. A graph built in
    memory (tests, benchmarks) has no files: its indexes are built and never saved."""
    stamp = getattr(graph, "stamp", ())
    if not stamp:
        return build_indexes(graph)
    path = Path(stamp[0][0]).with_suffix(".matcher.pkl")
    # Keyed by the graph files' names, sizes and mtimes, not their folder: a cache folder copied whole (with its
    # mtimes, as the browser tests copy the machine's) keeps its indexes; a rebuilt graph file changes the key.
    key = tuple((Path(p).name, size, mtime) for p, size, mtime in stamp)
    return load_or_build(path, lambda: build_indexes(graph), (INDEX_VERSION, key))


def build_indexes(graph: CompactGraph) -> dict[str, dict]:
    """Folded name, synonym and alias, DrugBank id, ontology id -> node indexes, and node -> folded name
    (the choices of the approximate route). Built with the garbage collector paused (hundreds of thousands of
    small lists: collections during the build took most of its time)."""
    exact: dict[str, list[int]] = {}
    synonym: dict[str, list[int]] = {}
    alias: dict[str, list[int]] = {}
    drugbank: dict[str, list[int]] = {}
    curie: dict[str, list[int]] = {}
    with gc_paused():
        for i, name in enumerate(graph.names):
            exact.setdefault(_fold(name), []).append(i)
            cid = node_curie(graph.sources[i], graph.ids[i])
            if cid:
                curie.setdefault(cid, []).append(i)
            det = graph.details[i] or {}
            if not isinstance(det, dict):
                continue
            for a in det.get("alias", []) or []:
                alias.setdefault(_fold(a), []).append(i)
            for s in det.get("synonyms", []) or []:
                synonym.setdefault(_fold(s), []).append(i)
            db = det.get("drugbank_id") or (graph.ids[i] if str(graph.ids[i]).startswith("DB") else None)
            if db:
                drugbank.setdefault(db.upper(), []).append(i)
        if not drugbank:
            for i, ident in enumerate(graph.ids):
                if str(ident).startswith("DB"):
                    drugbank.setdefault(str(ident).upper(), []).append(i)
        choices = {i: _fold(n) for i, n in enumerate(graph.names)}
    return {"exact": exact, "synonym": synonym, "alias": alias, "drugbank": drugbank, "curie": curie, "choices": choices}


# Ontology sources whose ids the graphs store as "PREFIX:digits" (starter) or bare digits (PrimeKG).
_ONTOLOGY_PREFIX = {"GO": "GO", "HPO": "HP", "HP": "HP", "MONDO": "MONDO", "UBERON": "UBERON"}
_CURIE = re.compile(r"^([A-Za-z]+)[:_](\d+)$")


def node_curie(source: str, ident: str) -> str | None:
    """'GO:0000118' for a GO node stored as 'GO:0000118' or as PrimeKG's bare '118'; None for other nodes."""
    prefix = _ONTOLOGY_PREFIX.get(str(source or "").upper())
    if not prefix:
        return None
    ident = str(ident or "").strip()
    m = _CURIE.match(ident)
    digits = m.group(2) if m else (ident if ident.isdigit() else None)
    if digits is None:
        return None
    width = 8 if prefix == "UBERON" else 7
    return f"{prefix}:{digits.zfill(width)}"


def _curie_key(name: str) -> str | None:
    """The normalised ontology id in a query ('go:0000118', 'GO_0000118' -> 'GO:0000118'), or None."""
    m = _CURIE.match(name.strip())
    if not m:
        return None
    prefix = _ONTOLOGY_PREFIX.get(m.group(1).upper())
    return f"{prefix}:{m.group(2).zfill(8 if prefix == 'UBERON' else 7)}" if prefix else None


def load_drugbank_names(xml_path: Path) -> dict[str, str]:
    """DrugBank name/synonym -> DrugBank id from the full XML, streamed once and cached."""
    xml_path = Path(xml_path)
    st = xml_path.stat()
    cache = get_settings().cache_dir / "kg" / f"drugbank-{st.st_size}-{int(st.st_mtime)}.pkl"
    return load_or_build(cache, lambda: _read_drugbank_names(xml_path))


def _read_drugbank_names(xml_path: Path) -> dict[str, str]:
    import xml.etree.ElementTree as ET

    out: dict[str, str] = {}
    for _, elem in ET.iterparse(xml_path, events=("end",)):
        if elem.tag.rsplit("}", 1)[-1] != "drug":
            continue
        ns = elem.tag[: -len("drug")]
        ids = [e.text for e in elem.findall(f"{ns}drugbank-id") if e.text]
        primary = next((e.text for e in elem.findall(f"{ns}drugbank-id") if e.get("primary") == "true"), ids[0] if ids else None)
        if primary:
            name = elem.find(f"{ns}name")
            names = [name.text] if name is not None and name.text else []
            names += [s.text for s in elem.iter(f"{ns}synonym") if s.text]
            for n in names:
                out.setdefault(_fold(n), primary)
        elem.clear()
    return out
