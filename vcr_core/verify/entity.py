"""The entity verifier: every typed argument of a claim is grounded and checked against its kind.

Each argument's kinds come from ``primitives.json`` through the claim's typed model (``entity_values``: gene, chemical,
cell_line, disease, phenotype, process, location, go_id; ``text`` is not checked). Readings of a
name, in this order:

1. gene/protein/family: HGNC, FamPlex, protein names (:mod:`.genes`), always tried first, so that
   "VEGFR-2", "beta-catenin" or "MMPs" are proteins and never the MeSH chemicals of the same name;
2. the record itself: a chemical perturbation's own name is a chemical (PubChem CID when known),
   a genetic perturbation's gene a gene, the context's cell type or line a cell line;
3. preprocessing's dictionary vocabularies (``vcr_core.preprocess.ground``) when the whole name
   matches, and the knowledge graph's exact, alias or synonym matches.

Verdicts (precise rather than aggressive; absence of a name never contradicts):

* **contradicted, wrong type** - the name grounds confidently to a disease, cell line, drug or
  phenotype that the argument does not take, and has no gene, protein or family reading (nor is it
  worded like a protein: "... receptor", "... kinase") and no reading of a kind the argument takes.
  MeSH supplementary concepts (many are proteins) and names without an identifier do not count as
  a confident drug.
* **contradicted, made-up symbol** - in an argument that takes only genes, a token written like
  a gene symbol that is in none of HGNC (symbols, aliases, previous symbols), Entrez aliases
  (``vcr_core.knowledge.orgdb`` when present) or FamPlex, nor any protein name, vocabulary, graph
  node or the record's own text; the nearest real symbols are the evidence.
* **supported** - every entity grounds to an identifier (a grounding without one is not support);
  this verifier's support never counts for the filter policy (``policy.NON_SUPPORTING``).
* **unverifiable** otherwise, naming the sources consulted and what was missing.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Callable

from ..formalism.typed import entity_values
from .base import CONTRADICTED, SUPPORTED, UNVERIFIABLE, ClaimContext, ClaimVerdict
from .evidence import EntityGrounding, SourcesConsulted

log = logging.getLogger(__name__)

NAME, VERSION = "entity", "2"
CONFIDENT = {"exact", "alias", "synonym", "drugbank", "mondo", "name", "dictionary", "record"}
# Kinds a confident grounding may contradict an argument with (genes never do: see the module docstring).
CONTRADICTING_KINDS = {"disease", "cell_line", "chemical", "phenotype"}
# Vocabulary and graph types -> argument kinds.
TYPE_KIND = {"gene": "gene", "gene/protein": "gene", "protein": "gene", "family": "gene", "complex": "gene",
             "chemical": "chemical", "drug": "chemical", "disease": "disease", "cellline": "cell_line", "cell_line": "cell_line",
             "cell line": "cell_line", "effect/phenotype": "phenotype", "phenotype": "phenotype",
             "biological_process": "process", "molecular_function": "process", "pathway": "process",
             "cellular_component": "location", "anatomy": "location"}
# Sources whose "Chemical" is a drug or small molecule for sure (MeSH descriptors D... also count).
DRUG_NAMESPACES = {"DrugBank", "LINCS", "CHEBI", "MedlinePlus", "PubChem"}
GO_ID = re.compile(r"^GO:\d{7}$")


def _default_grounder() -> Callable[[str, str | None], Any] | None:
    try:
        from ..preprocess import ground
    except ImportError:
        return None
    return ground


def _default_lookup() -> Callable[..., list] | None:
    try:
        from ..tools.kg import api
    except ImportError:
        return None
    return api.lookup


def _default_genes():
    try:
        from ..knowledge.genes import get_gene_index
        return get_gene_index()
    except Exception:  # noqa: BLE001 - missing vocabularies: the other readings still work
        log.warning("entity verifier: the gene index is unavailable; gene names are read without it", exc_info=True)
        return None


def _default_aliases():
    """Entrez gene aliases from the org.Hs.eg.db module, when that module and its data exist."""
    try:
        from ..knowledge.orgdb import get_orgdb  # another part of the project; optional here
    except ImportError:
        return None
    try:
        db = get_orgdb()
        return db.all_aliases() if db is not None else None
    except Exception:  # noqa: BLE001 - the other readings still work
        log.warning("entity verifier: Entrez gene aliases (org.Hs.eg.db) could not be read", exc_info=True)
        return None


def _attr(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def _kind(type_name: Any) -> str | None:
    return TYPE_KIND.get(str(type_name or "").strip().lower())


def _words(text: str) -> set[str]:
    return {w.upper() for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9-]*", text or "")}


class EntityVerifier:
    """Grounds each typed argument, checks it against its kinds, flags made-up gene symbols."""

    name, version = NAME, VERSION
    counts_as_support = False  # a name that grounds does not make a claim true
    source = "HGNC, FamPlex, the record, dictionary vocabularies and the knowledge graph"
    _MISSING = object()

    def __init__(self, grounder: Callable | None = None, kg_lookup: Callable | None = None, genes: Any = _MISSING,
                 aliases: Any = _MISSING) -> None:
        self.grounder = grounder if grounder is not None else _default_grounder()
        self._own_graph = kg_lookup is None  # the configured graph: node identifiers can be read from it
        self.kg_lookup = kg_lookup if kg_lookup is not None else _default_lookup()
        self._genes, self._aliases = genes, aliases

    @property
    def genes(self):
        if self._genes is self._MISSING:
            self._genes = _default_genes()
        return self._genes

    @property
    def aliases(self) -> frozenset[str] | None:
        """Entrez aliases, upper-cased (symbols are compared case-insensitively), or None without org.Hs.eg.db."""
        if self._aliases is self._MISSING:
            self._aliases = _default_aliases()
        if self._aliases is not None and not getattr(self, "_upper", False):
            self._aliases = frozenset(a.upper() for a in self._aliases)
            self._upper = True
        return self._aliases

    def sources(self) -> list[str]:
        """The sources this verifier consults, as a curator reads them."""
        out = []
        if self.genes is not None:
            from ..knowledge.genes import SOURCE
            out.append(SOURCE)
        if self.aliases is not None:
            out.append("Entrez gene aliases (org.Hs.eg.db)")
        out.append("the record's own fields")
        if self.grounder is not None:
            out.append("dictionary vocabularies (HGNC, MONDO, MeSH, ChEBI, DrugBank, LINCS, EFO)")
        if self.kg_lookup is not None:
            out.append("knowledge graph node names")
        return out

    def applies(self, node) -> bool:
        return any(k != ("text",) for k in self._typed(node))

    def _typed(self, node) -> dict[tuple[str, str], tuple[str, ...]]:
        """(argument, name) -> kinds, for every entity name of the claim (its typed model's fields)."""
        return {(e.arg, e.name): e.kinds for e in entity_values(node)}

    # ----------------------------------------------------------------- readings
    def _record_readings(self, name: str, ctx: ClaimContext) -> list[dict]:
        key = name.casefold()
        out = []
        rec = ctx.record
        for p in rec.perturbations:
            if p.name and p.name.strip().casefold() == key and (p.smiles or (p.type or "").lower() in (
                    "chemical", "small molecule", "drug", "compound")):
                cid = (p.pubchem_info or rec.pubchem_info or {}).get("cid")
                out.append({"source": "record", "name": p.name, "type": "Chemical", "namespace": "PubChem" if cid else None,
                            "identifier": f"CID:{cid}" if cid else None, "method": "record", "score": 1.0,
                            "note": "the record's chemical perturbation"})
        cells = {c for ctx_ in rec.contexts for c in (ctx_.cell_line, ctx_.cell_type) if c}
        cells |= {str(ctx.explanation.context.get("cell_type"))} if ctx.explanation.context.get("cell_type") else set()
        if any(c.strip().casefold() == key for c in cells):
            out.append({"source": "record", "name": name, "type": "CellLine", "namespace": None, "identifier": None,
                        "method": "record", "score": 1.0, "note": "the record's cell context"})
        return out

    def _vocab_readings(self, name: str) -> list[dict]:
        """Dictionary and graph readings; the graph is skipped when the dictionary's whole-name hit suffices."""
        hits: list[dict] = []
        if self.grounder is not None:
            try:
                g = self.grounder(name, None)
            except Exception:  # noqa: BLE001 - a vocabulary problem makes the name unverifiable, not the run
                log.warning("entity verifier: the vocabulary lookup of %r failed", name, exc_info=True)
                g = None
            if g is not None:
                text = _attr(g, "text")
                whole = text is None or str(text).strip().casefold() == name.casefold() or len(str(text)) >= len(name) - 1
                hits.append({"source": "vocabulary", "name": _attr(g, "canonical") or name, "type": _attr(g, "type"),
                             "namespace": _attr(g, "namespace"), "identifier": _attr(g, "identifier"),
                             "method": "dictionary" if whole else "partial", "score": 1.0 if whole else 0.6})
        if self.kg_lookup is not None:
            try:
                for m in self.kg_lookup(name, None, 3) or []:
                    hits.append({"source": "knowledge graph", "name": _attr(m, "name"), "type": _attr(m, "type"),
                                 "namespace": _attr(m, "source"), "identifier": self._kg_identifier(m),
                                 "method": _attr(m, "method"), "score": float(_attr(m, "score") or 0)})
            except Exception:  # noqa: BLE001 - the dictionary's readings still count
                log.warning("entity verifier: the knowledge-graph lookup of %r failed", name, exc_info=True)
        return hits

    def _kg_identifier(self, m: Any) -> str | None:
        """``SOURCE:id`` of a graph node (``HPO:HP:0012174``, ``MONDO:0005070``), or None when unknown."""
        ident = _attr(m, "identifier")
        if ident:
            return str(ident)
        if not self._own_graph or _attr(m, "index") is None:
            return None
        try:
            from ..tools.kg.api import get_graph
            g = get_graph()
            i = int(_attr(m, "index"))
            raw = str(g.ids[i] or "")
            return (raw if ":" in raw else f"{g.sources[i]}:{raw}") if raw else None
        except Exception:  # noqa: BLE001 - the reading stays, without an identifier
            log.warning("entity verifier: no identifier for graph node %r", _attr(m, "name"), exc_info=True)
            return None

    @staticmethod
    def _confident(h: dict) -> bool:
        return h["method"] in CONFIDENT or h["score"] >= 0.97

    @staticmethod
    def _confident_kind(h: dict) -> str | None:
        """The kind a confident reading asserts, for the wrong-type rule (None: not confident enough)."""
        kind = _kind(h.get("type"))
        if kind == "chemical" and h["source"] == "vocabulary":
            ns, ident = h.get("namespace") or "", str(h.get("identifier") or "")
            if not ident or not (ns in DRUG_NAMESPACES or (ns == "MESH" and ident.startswith("D"))):
                return None  # MeSH supplementary concepts (often proteins), names without an identifier
        return kind

    # ----------------------------------------------------------------- one name
    def _check(self, arg: str, name: str, kinds: tuple[str, ...], ctx: ClaimContext) -> dict:
        row: dict[str, Any] = {"argument": arg, "name": name, "kinds": list(kinds), "grounding": None, "candidates": []}
        if "go_id" in kinds and GO_ID.match(name):
            row["grounding"] = {"source": "shape", "name": name, "type": "GO term", "namespace": "GO", "identifier": name,
                                "method": "GO id", "score": 1.0}
            row["status"] = "ok"
            return row
        gene = self.genes.resolve(name) if self.genes is not None else None  # the one gene resolver
        readings = ([gene.to_dict()] if gene else []) + self._record_readings(name, ctx)
        # The vocabularies and the graph (whose fuzzy search costs ~50 ms) only when nothing accepted
        # with an identifier is known yet.
        if not any(_kind(h.get("type")) in kinds and h.get("identifier") for h in readings):
            readings += self._vocab_readings(name)
        confident = [h for h in readings if self._confident(h)]
        row["candidates"] = [h for h in readings if h not in confident][:3]
        accepted = [h for h in confident if _kind(h.get("type")) in kinds]
        from ..knowledge.genes import protein_like
        has_gene = gene is not None or protein_like(name) or any(_kind(h.get("type")) == "gene" for h in confident)
        if accepted:
            with_id = [h for h in accepted if h.get("identifier")]
            row["grounding"] = (with_id or accepted)[0]
            row["status"] = "ok" if with_id else "no identifier"
            return row
        if confident:
            row["grounding"] = confident[0]
        wrong = [h for h in confident if self._confident_kind(h) in CONTRADICTING_KINDS]
        if wrong and not has_gene:
            row["status"] = "wrong type"
            row["grounding"] = wrong[0]
            return row
        if confident:
            row["status"] = "other kind"  # e.g. a gene named where a chemical is expected: not decided here
            return row
        if kinds == ("gene",) and self._made_up(name, ctx):
            row["status"] = "made up"
            row["nearest"] = self.genes.nearest(name)
            return row
        row["status"] = "not grounded"
        return row

    def _made_up(self, name: str, ctx: ClaimContext) -> bool:
        """A gene-symbol-shaped token that no source knows confidently (see the module docstring); only
        called when no reading was confident (fuzzy graph candidates do not make a symbol real)."""
        from ..knowledge.genes import symbol_shaped
        if self.genes is None or not symbol_shaped(name) or self.genes.known_token(name):
            return False
        if self.aliases is not None:
            if name.upper() in self.aliases:
                return False
        elif name.upper() in self.genes.extra_names:  # without Entrez aliases: also spare any protein name
            return False
        record_words = _words(ctx.record.perturbation_text()) | _words(ctx.record.context_text())
        return name.upper() not in record_words

    # ----------------------------------------------------------------- verdict
    def verify(self, ctx: ClaimContext) -> ClaimVerdict:
        sources = self.sources()
        consulted = SourcesConsulted(sources=sources).store()
        if self.genes is None and self.grounder is None and self.kg_lookup is None:
            return ClaimVerdict(UNVERIFIABLE, 0.0, [consulted], "no vocabulary or knowledge graph is available to ground names "
                                "(run the README's set-up command)")
        rows = [EntityGrounding.model_validate(self._check(arg, name, kinds, ctx)).store()
                for (arg, name), kinds in self._typed(ctx.node).items()]
        evidence: list[dict] = rows + [consulted]
        wrong = [r for r in rows if r["status"] == "wrong type"]
        made_up = [r for r in rows if r["status"] == "made up"]
        if made_up or wrong:
            parts = [f"{r['name']} is not a known gene symbol in HGNC, FamPlex"
                     + (", Entrez" if self.aliases is not None else "") + " or any protein name"
                     + (f" (nearest: {', '.join(r['nearest'])})" if r.get("nearest") else "") for r in made_up]
            parts += [f"{r['argument']}={r['name']!r} takes {' or '.join(r['kinds'])} but grounds to a "
                      f"{r['grounding'].get('type')} ({r['grounding'].get('namespace') or r['grounding']['source']} "
                      f"{r['grounding'].get('identifier') or ''}".rstrip() + ") with no gene, protein or family reading" for r in wrong]
            return ClaimVerdict(CONTRADICTED, 0.8 if made_up else 0.7, evidence, "; ".join(parts))
        missing = [r for r in rows if r["status"] != "ok"]
        if not missing:
            return ClaimVerdict(SUPPORTED, 1.0, evidence, "every entity grounds to an identifier of the kind its argument takes")
        why = {"not grounded": "not found", "no identifier": "grounded without an identifier",
               "other kind": "grounds to another kind than the argument takes"}
        detail = "; ".join(f"{r['name']} ({why.get(r['status'], r['status'])})" for r in missing)
        return ClaimVerdict(UNVERIFIABLE, 0.0, evidence, f"{detail}; consulted: {', '.join(sources)}")
