"""The Gene Ontology itself, offline, from Bioconductor's ``GO.db`` SQLite file (``GO.sqlite``, taken out of
Debian's ``r-bioc-go.db`` by the set-up command, no R needed): term names, synonyms and the relations between
terms (is_a, part_of, regulates, positively_regulates, negatively_regulates).

The API (names are fixed; other modules code against them):

* :func:`get_go_ontology` -> :class:`GoOntology` or ``None``; :func:`go_ontology_status` -> ``(ok, sentence)``.
* :meth:`GoOntology.term`, :meth:`GoOntology.match` (names models write -> GO terms),
  :meth:`GoOntology.parents`, :meth:`GoOntology.ancestors`, :meth:`GoOntology.descendants`,
  :meth:`GoOntology.regulators` (terms that positively/negatively regulate a term),
  :meth:`GoOntology.effect_on` (how a term a gene is annotated to acts on a process: +1, -1).
* Tests build a tiny file with :func:`vcr_core.knowledge.testing.make_test_go_sqlite` (``use_test_go_ontology``).

Name matching uses GO's own names and synonyms, folded (case, hyphens, slashes, Greek letters, British
spelling) and with the generic words of signalling names ("pathway", "signaling", "cascade", "signal
transduction") dropped, so "MAPK/ERK pathway" finds "MAPK cascade" and "ERK1 and ERK2 cascade" through its
parts. :data:`ALIASES` is a short hand-written table for common names GO's synonyms do not carry; each entry
says why.

The whole ontology is read once and kept as a pickle in ``settings.cache_dir`` (``kernel/filecache.py``),
keyed by the file's size and modification time.
"""
from __future__ import annotations

import re
import sqlite3
import threading
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

RELATIONS = ("is_a", "part_of", "regulates", "positively_regulates", "negatively_regulates")
_REL = {"isa": "is_a", "is_a": "is_a", "part of": "part_of", "part_of": "part_of", "regulates": "regulates",
        "positively regulates": "positively_regulates", "negatively regulates": "negatively_regulates"}
HIERARCHY = ("is_a", "part_of")
POSITIVE, NEGATIVE = "positive", "negative"
CACHE_VERSION = 1

SETUP_HINT = ("run `bash .ci/bootstrap setup` (it extracts GO.sqlite from Debian's r-bioc-go.db with apt-get download "
              "+ dpkg-deb -x), or set GO_ONTOLOGY_PATH to a GO.sqlite file")

# Names models write that GO's names and synonyms (GO release 2022-07-01, go.db 3.16) do not carry. Each maps
# to GO names (matched like any other name); why each is needed is beside it.
ALIASES: dict[str, tuple[str, ...]] = {
    # "AKT" is a synonym of no GO term; AKT is protein kinase B (HGNC AKT1 "AKT serine/threonine kinase 1",
    # a.k.a. PKB), and GO names the pathway "protein kinase B signaling" (GO:0043491).
    "akt": ("protein kinase B signaling",),
    "pkb": ("protein kinase B signaling",),
    # GO names mTORC1/2 signalling "TORC1 signaling" / "TORC2 signaling" without the "m" (GO:0038202, GO:0038203).
    "mtorc1": ("TORC1 signaling",),
    "mtorc2": ("TORC2 signaling",),
    "mtor": ("TOR signaling",),
    # "ERK" alone: GO's synonym is "ERK1 and ERK2 cascade" (GO:0070371); "ERK cascade" is a synonym of the
    # broader "MAPK cascade" in some releases and of nothing in others.
    "erk": ("ERK1 and ERK2 cascade",),
    "erk1/2": ("ERK1 and ERK2 cascade",),
    # NF-kB is written a dozen ways; GO's canonical pathway is "I-kappaB kinase/NF-kappaB signaling" (GO:0007249).
    "nf-kappab": ("I-kappaB kinase/NF-kappaB signaling",),
    "nfkappab": ("I-kappaB kinase/NF-kappaB signaling",),
    # JAK/STAT: GO's term is "receptor signaling pathway via JAK-STAT" (GO:0007259); its synonym "JAK-STAT
    # cascade" folds to "jak-stat", not to the slash form models write.
    "jak/stat": ("receptor signaling pathway via JAK-STAT",),
    "jak-stat": ("receptor signaling pathway via JAK-STAT",),
    # "proliferation" alone is how models write "cell proliferation" (GO:0008283's synonym).
    "proliferation": ("cell population proliferation",),
    "cell growth and proliferation": ("cell population proliferation",),
    # "cell survival" has no GO term; biologists read it as the negation of cell death, which GO models as
    # "negative regulation of cell death" (GO:0060548). Not aliased: its direction is inverted, so it is
    # left to the phenotype verifier.
    # "cell cycle arrest" has a GO term of its own (GO:0007050) and needs no alias.
    # GO made "cell cycle arrest" (GO:0007050) obsolete in 2021 and kept the name as a synonym of the
    # direction-less "regulation of cell cycle"; an arrest is a negative regulation of the cell cycle.
    "cell cycle arrest": ("negative regulation of cell cycle",),
    # "senescence" alone: GO's term is "cellular senescence" (GO:0090398).
    "senescence": ("cellular senescence",),
    "apoptotic cell death": ("apoptotic process",),
    "programmed cell death": ("programmed cell death",),
    "tgf-beta": ("transforming growth factor beta receptor signaling pathway",),
    "tgfbeta": ("transforming growth factor beta receptor signaling pathway",),
    "vegf": ("vascular endothelial growth factor receptor signaling pathway",),
    "vegfr": ("vascular endothelial growth factor receptor signaling pathway",),
    "egfr": ("epidermal growth factor receptor signaling pathway",),
    "ras/mapk": ("MAPK cascade",),
    "ras-raf-mek-erk": ("ERK1 and ERK2 cascade",),
    "raf/mek/erk": ("ERK1 and ERK2 cascade",),
    "mek/erk": ("ERK1 and ERK2 cascade",),
}

_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "κ": "kappa", "ε": "epsilon"}
# Generic words of signalling names: "X signaling pathway", "X pathway", "X cascade", "X signal transduction",
# "X signalling" all name the same GO term "X signaling" / "X cascade".
_GENERIC = re.compile(r"\b(signal(?:l)?ing pathways?|signal(?:l)?ing|signal transduction|pathways?|cascades?|"
                      r"axis|network|activity|activation|signal(?:s)?)\b")
_NFKB = re.compile(r"\bnf[- ]?k(?:appa)?[- ]?b\b")


def fold(text: str) -> str:
    """Case, Greek letters, British spelling, hyphen/underscore spacing folded: 'NF-κB Signalling' -> 'nf-kappab signaling'."""
    s = unicodedata.normalize("NFKC", str(text or "")).casefold()
    for g, latin in _GREEK.items():
        s = s.replace(g, latin)
    s = s.replace("signalling", "signaling").replace("_", " ").replace("–", "-").replace("—", "-")
    s = _NFKB.sub("nf-kappab", s)
    s = re.sub(r"\s*([/-])\s*", r"\1", s)
    return " ".join(s.split())


def core(text: str) -> str:
    """:func:`fold` without the generic words of signalling names: 'MAPK/ERK signaling pathway' -> 'mapk/erk'."""
    s = _GENERIC.sub(" ", fold(text))
    return " ".join(s.split()).strip(" -/")


@dataclass(frozen=True)
class GoTerm:
    """A GO term: id, name, aspect ('BP', 'MF', 'CC'), synonyms (GO's own, as written)."""

    go_id: str
    name: str
    ontology: str
    synonyms: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.name} ({self.go_id})"


@dataclass
class _Data:
    """What is pickled: terms, relations both ways, the name indexes."""

    terms: dict[str, GoTerm] = field(default_factory=dict)
    parents: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)  # child -> ((parent, relation), ...)
    children: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)  # parent -> ((child, relation), ...)
    by_name: dict[str, tuple[str, ...]] = field(default_factory=dict)  # fold(name) -> ids
    by_synonym: dict[str, tuple[str, ...]] = field(default_factory=dict)  # fold(synonym) -> ids
    by_core: dict[str, tuple[str, ...]] = field(default_factory=dict)  # core(name or synonym) -> ids
    metadata: dict[str, str] = field(default_factory=dict)


def _read(path: Path) -> _Data:
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        data = _Data(metadata=dict(conn.execute("SELECT name, value FROM metadata").fetchall()))
        by_rowid: dict[int, str] = {}
        rows = conn.execute("SELECT _id, go_id, term, ontology FROM go_term WHERE ontology IN ('BP', 'MF', 'CC')").fetchall()
        synonyms: dict[int, list[str]] = {}
        for _id, syn in conn.execute("SELECT _id, synonym FROM go_synonym WHERE like_go_id = 0 OR like_go_id IS NULL"):
            synonyms.setdefault(_id, []).append(syn)
        by_name: dict[str, list[str]] = {}
        by_syn: dict[str, list[str]] = {}
        by_core: dict[str, list[str]] = {}
        for _id, go_id, name, aspect in rows:
            by_rowid[_id] = go_id
            syns = tuple(synonyms.get(_id, ()))
            data.terms[go_id] = GoTerm(go_id, name, aspect, syns)
            by_name.setdefault(fold(name), []).append(go_id)
            for s in syns:
                by_syn.setdefault(fold(s), []).append(go_id)
            for s in (name, *syns):
                key = core(s)
                if key:
                    by_core.setdefault(key, []).append(go_id)
        parents: dict[str, list[tuple[str, str]]] = {}
        children: dict[str, list[tuple[str, str]]] = {}
        for table in ("go_bp_parents", "go_mf_parents", "go_cc_parents"):
            for child, parent, rel in conn.execute(f"SELECT _id, _parent_id, relationship_type FROM {table}"):
                c, p, r = by_rowid.get(child), by_rowid.get(parent), _REL.get(rel)
                if c and p and r:
                    parents.setdefault(c, []).append((p, r))
                    children.setdefault(p, []).append((c, r))
    finally:
        conn.close()
    data.parents = {k: tuple(v) for k, v in parents.items()}
    data.children = {k: tuple(v) for k, v in children.items()}
    data.by_name = {k: tuple(dict.fromkeys(v)) for k, v in by_name.items()}
    data.by_synonym = {k: tuple(dict.fromkeys(v)) for k, v in by_syn.items()}
    data.by_core = {k: tuple(dict.fromkeys(v)) for k, v in by_core.items()}
    return data


class GoOntology:
    """The GO ontology in memory. Create through :func:`get_go_ontology` (or ``GoOntology.load(path)``)."""

    def __init__(self, data: _Data, path: Path | None = None) -> None:
        self._d = data
        self.path = path

    @classmethod
    def load(cls, path: Path, cache_dir: Path | None = None) -> "GoOntology":
        """Read ``path`` (a GO.sqlite file); with ``cache_dir``, through a pickle keyed by the file's size and mtime."""
        path = Path(path)
        if cache_dir is None:
            return cls(_read(path), path)
        from ..kernel.filecache import load_or_build

        st = path.stat()
        stamp = (CACHE_VERSION, str(path.resolve()), st.st_size, st.st_mtime_ns)
        return cls(load_or_build(Path(cache_dir) / "go_ontology.pickle", lambda: _read(path), stamp), path)

    # -- facts about the file
    @property
    def version(self) -> str:
        return self._d.metadata.get("GOSOURCEDATE", "?")

    @property
    def source(self) -> str:
        """'Gene Ontology 2022-07-01 (GO.db)'."""
        return f"Gene Ontology {self.version} (GO.db)"

    def __len__(self) -> int:
        return len(self._d.terms)

    # -- terms
    def term(self, go_id: str) -> GoTerm | None:
        return self._d.terms.get(_norm_id(go_id) or "")

    def name(self, go_id: str) -> str:
        t = self.term(go_id)
        return t.name if t else str(go_id)

    def match(self, name: str, aspects: tuple[str, ...] = ("BP",)) -> list[GoTerm]:
        """GO terms a name written by a model stands for, best first; [] when none.

        In order, the first step that finds anything wins: a GO id; GO's exact name; GO's exact synonym; the
        hand-written :data:`ALIASES`; the name without the generic words of signalling names ('pathway',
        'signaling', 'cascade'); then, for 'A/B X' names ('PI3K/AKT signaling', 'MAPK/ERK pathway'), each part
        'A X' and 'B X' matched the same way (both kept: the name covers both); then 'A-B X' the same way, only
        when every part matches ('PI3K-Akt pathway'). Among several matches of one
        step, a term that is a descendant (is_a/part_of) of another match is dropped: 'apoptosis' is a synonym
        of both 'apoptotic process' and its part 'execution phase of apoptosis'; the name means the whole."""
        text = str(name or "").strip()
        if not text:
            return []
        gid = _norm_id(text)
        if gid:
            t = self._d.terms.get(gid)
            return [t] if t and t.ontology in aspects else []
        ids = self._match_ids(text, aspects)
        if not ids and "/" in core(text):
            ids = self._parts(core(text).split("/"), aspects, every=False)
        if not ids and "-" in core(text):  # "PI3K-Akt pathway": only when every part is a GO name ("NF-kappaB" is not)
            ids = self._parts(core(text).split("-"), aspects, every=True)
        return [self._d.terms[i] for i in self._most_general(ids)]

    def _parts(self, parts: list[str], aspects: tuple[str, ...], every: bool) -> list[str]:
        seen: list[str] = []
        for p in (x for x in parts if x):
            found = self._match_ids(p, aspects)
            if every and not found:
                return []
            seen.extend(i for i in found if i not in seen)
        return seen

    def _match_ids(self, text: str, aspects: tuple[str, ...]) -> list[str]:
        f, c = fold(text), core(text)
        steps = [self._d.by_name.get(f, ()), self._d.by_synonym.get(f, ())]
        for key in dict.fromkeys((f, c)):
            for target in ALIASES.get(key, ()):
                steps.append(self._d.by_name.get(fold(target), ()))
        steps.append(self._d.by_core.get(c, ()) if c else ())
        for ids in steps:
            ids = [i for i in ids if self._d.terms[i].ontology in aspects]
            if ids:
                return ids
        return []

    def _most_general(self, ids: list[str]) -> list[str]:
        if len(ids) < 2:
            return list(ids)
        keep = []
        for i in ids:
            anc = self.ancestors(i)
            if not any(j != i and j in anc for j in ids):
                keep.append(i)
        return keep

    # -- relations
    def parents(self, go_id: str) -> list[tuple[str, str]]:
        """Direct parents as ``(parent id, relation)``; relation in :data:`RELATIONS`."""
        return list(self._d.parents.get(_norm_id(go_id) or "", ()))

    def children(self, go_id: str) -> list[tuple[str, str]]:
        """Direct children as ``(child id, relation)``."""
        return list(self._d.children.get(_norm_id(go_id) or "", ()))

    def ancestors(self, go_id: str, relations: tuple[str, ...] = HIERARCHY) -> frozenset[str]:
        """Every term above ``go_id`` through ``relations`` (default is_a and part_of), the term excluded."""
        return self._closure(_norm_id(go_id) or "", tuple(relations), up=True)

    def descendants(self, go_id: str, relations: tuple[str, ...] = HIERARCHY) -> frozenset[str]:
        """Every term below ``go_id`` through ``relations`` (default is_a and part_of), the term excluded."""
        return self._closure(_norm_id(go_id) or "", tuple(relations), up=False)

    @lru_cache(maxsize=65536)
    def _closure(self, go_id: str, relations: tuple[str, ...], up: bool) -> frozenset[str]:
        edges = self._d.parents if up else self._d.children
        seen: set[str] = set()
        todo = deque([go_id])
        while todo:
            for other, rel in edges.get(todo.popleft(), ()):
                if rel in relations and other not in seen:
                    seen.add(other)
                    todo.append(other)
        seen.discard(go_id)
        return frozenset(seen)

    def effect_on(self, annotated: str, process: str) -> set[int]:
        """How a gene annotated to term ``annotated`` acts on ``process``, by GO's relations: {+1} when
        ``annotated`` is the process, a part or kind of it, or (through is_a/part_of) positively regulates the
        process or a part/kind of it; {-1} when it negatively regulates it; both when GO says both; empty
        when GO relates them otherwise or not at all (plain 'regulates' has no direction)."""
        a, p = _norm_id(annotated), _norm_id(process)
        if not a or not p:
            return set()
        return set(self._effect(a, p))

    @lru_cache(maxsize=262144)
    def _effect(self, a: str, p: str) -> frozenset[int]:
        up = self.ancestors(a) | {a}
        if p in up:
            return frozenset({1})
        out: set[int] = set()
        for t in up:
            for target, rel in self._d.parents.get(t, ()):
                if rel not in ("positively_regulates", "negatively_regulates"):
                    continue
                if target == p or p in self.ancestors(target):
                    out.add(1 if rel == "positively_regulates" else -1)
        return frozenset(out)

    def regulators(self, go_id: str, direction: str = POSITIVE) -> frozenset[str]:
        """Terms that ``direction`` ('positive' or 'negative') regulate ``go_id`` or a part/kind of it,
        with their own descendants: GO's 'positive regulation of apoptotic process' and everything below it
        for ('GO:0006915', 'positive')."""
        p = _norm_id(go_id)
        if not p or direction not in (POSITIVE, NEGATIVE):
            return frozenset()
        rel = "positively_regulates" if direction == POSITIVE else "negatively_regulates"
        out: set[str] = set()
        for target in {p} | self.descendants(p):
            for child, r in self._d.children.get(target, ()):
                if r == rel:
                    out.add(child)
                    out |= self.descendants(child)
        return frozenset(out)

    def __hash__(self) -> int:  # lru_cache on methods
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


_ID = re.compile(r"^GO[:_]?(\d{7})$", re.IGNORECASE)


def _norm_id(value: str) -> str | None:
    m = _ID.match(str(value or "").strip())
    return f"GO:{m.group(1)}" if m else None


# -- the process-wide instance ------------------------------------------------------------------

_LOCK = threading.Lock()
_INSTANCES: dict[str, GoOntology] = {}


def _check(path: Path) -> str | None:
    from .orgdb import check_sqlite_file

    return check_sqlite_file(path, {"go_term", "go_synonym", "go_bp_parents", "go_mf_parents", "go_cc_parents", "metadata"},
                             "GO ontology", "a GO.db", SETUP_HINT)


def go_ontology_status() -> tuple[bool, str]:
    """(available, a sentence): the file and its release, or 'GO ontology unavailable: ...' and what to run.
    Reads the file's metadata only (cheap: the Status page calls it), never the whole ontology."""
    from ..kernel.settings import get_settings

    path = get_settings().resolved_go_ontology_path
    problem = _check(path)
    if problem:
        return False, problem
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        meta = dict(conn.execute("SELECT name, value FROM metadata").fetchall())
        n = conn.execute("SELECT count(*) FROM go_term").fetchone()[0]
    finally:
        conn.close()
    return True, f"GO ontology: Gene Ontology {meta.get('GOSOURCEDATE', '?')} (GO.db), {n} terms, at {path}"


def get_go_ontology() -> GoOntology | None:
    """The ontology at ``GO_ONTOLOGY_PATH`` (default beside the virtual environment), loaded once per path
    (through a pickle in the cache directory); None when missing (:func:`go_ontology_status` says why)."""
    from ..kernel.settings import get_settings

    settings = get_settings()
    path = settings.resolved_go_ontology_path
    key = str(path)
    with _LOCK:
        if key in _INSTANCES:
            return _INSTANCES[key]
        if _check(path) is not None:
            return None
        try:
            _INSTANCES[key] = GoOntology.load(path, settings.cache_dir)
        except (sqlite3.Error, OSError):
            return None
        return _INSTANCES[key]


def reset_go_ontology() -> None:
    """Forget loaded ontologies (tests, settings changes)."""
    with _LOCK:
        _INSTANCES.clear()
