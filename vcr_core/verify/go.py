"""The Gene Ontology verifier, offline: Entrez gene2go annotations (org.Hs.eg.db) with evidence codes.

* ``participates_in(entity, ontology_id)`` (process or function): **supported** when the gene is
  annotated to the GO id, or to a descendant of it (the file's propagated tables), or - when the
  argument is a name - to a term whose name or exact synonym is that name (also "regulation of
  <name>", "positive/negative regulation of <name>", scored lower). A family ("ERK1/2") is
  supported through a member, scored lower. Absence never contradicts: GO is incomplete.
* ``localises_to(entity, from_loc, to_loc)`` (cellular component; the original paper's localisation
  check): **supported** when the gene is annotated to the ``to_loc`` component or a part of it and the claim
  names no other ``from_loc``. A move (``from_loc`` -> ``to_loc``, two different components) is
  **unverifiable**: an annotation has no direction (BAX is annotated to both cytosol and mitochondrion, so
  "BAX moves mitochondria -> cytosol", the reverse of its apoptotic translocation, must not be supported).
  Not annotated there: **unverifiable**, and when the gene has at least
  :data:`RICH_CC` experimental component annotations, the evidence says "annotated elsewhere: ...".
  This is never a contradiction: proteins move on signals that gene2go does not describe (NF-kB
  is annotated to the cytoplasm and the nucleus; a protein only seen in one place in the papers
  curated may still go elsewhere under the claim's perturbation).

Scores follow the best evidence code: experimental 0.9, curated/phylogenetic/author 0.8,
electronic (IEA) 0.7; ``ND`` (no biological data) never counts. Every piece of evidence shows the GO
id, term, aspect and evidence code, and the file's version.
"""
from __future__ import annotations

import re
from typing import Any

from ..formalism import Node
from ..knowledge import genes
from ..knowledge.orgdb import GoAnnotation, OrgDb, evidence_kind, fold, get_orgdb, normalise_go_id, orgdb_status
from .base import SUPPORTED, ClaimContext, ClaimVerdict, unverifiable
from .evidence import GoAnnotation as GoAnnotationEvidence, GoLookup

NAME, VERSION = "go", "1"
APPLIES_TO = ("participates_in", "localises_to")
RICH_CC = 5
SCORES = {"experimental": 0.9, "curated": 0.8, "other": 0.75, "electronic": 0.7}
FAMILY_FACTOR = 0.85  # a family supported through one member is weaker than the gene itself
REGULATION_FACTOR = 0.75  # "regulation of X" is weaker than X

# Words models use for compartments -> the GO component's name.
LOCATION_WORDS = {
    "nuclear": "nucleus", "nuclei": "nucleus", "cytoplasmic": "cytoplasm", "cytosolic": "cytosol",
    "mitochondria": "mitochondrion", "mitochondrial": "mitochondrion", "membrane": "membrane",
    "cell membrane": "plasma membrane", "plasma-membrane": "plasma membrane", "cell surface": "cell surface",
    "extracellular": "extracellular region", "secreted": "extracellular region", "extracellular matrix": "extracellular matrix",
    "er": "endoplasmic reticulum", "endoplasmic reticulum": "endoplasmic reticulum", "golgi": "Golgi apparatus",
    "lysosomal": "lysosome", "lysosomes": "lysosome", "endosomal": "endosome", "endosomes": "endosome",
    "nucleolar": "nucleolus", "chromatin": "chromatin", "centrosomal": "centrosome", "peroxisomal": "peroxisome",
    "perinuclear region": "perinuclear region of cytoplasm", "cytoskeleton": "cytoskeleton",
}


def _score(annotations: list[GoAnnotation]) -> float:
    return max((SCORES.get(evidence_kind(a.evidence), 0.7) for a in annotations if a.evidence != "ND"), default=0.0)


def _ev(gene: str, a: GoAnnotation, db: OrgDb, how: str, **extra: Any) -> dict[str, Any]:
    return GoAnnotationEvidence(gene=gene, go_id=a.go_id, term=a.term or "(name unknown)", aspect=a.ontology,
                        evidence_code=a.evidence, evidence_kind=evidence_kind(a.evidence), how=how, source=db.source, **extra).store()


class GoVerifier:
    """Checks process, function and location claims against GO annotations."""

    name, version = NAME, VERSION

    def __init__(self, orgdb: OrgDb | None = None) -> None:
        self.db = orgdb if orgdb is not None else get_orgdb()
        self.problem = None if self.db is not None else orgdb_status()[1]

    def applies(self, node: Node) -> bool:
        return node.action in APPLIES_TO

    # -- helpers
    def _genes(self, name: str) -> tuple[list[str], str, str | None]:
        """(symbols, how the name resolved, family id or None)."""
        r = genes.resolve(name)  # the one gene resolver: "ERK" is the ERK family, "FOS" the gene, "PC-9" no gene
        if r is not None:
            return sorted(r.symbols), r.via, r.family
        return [], "", None

    def _term_ids(self, text: str, aspects: tuple[str, ...]) -> tuple[list[str], str]:
        """GO ids for an argument: an id itself, else terms named so (exact name or synonym)."""
        m = re.search(r"\bGO[:_]?\d{7}\b", text, re.IGNORECASE)  # also "GO:0006915 (apoptotic process)"
        if m:
            return [normalise_go_id(m.group(0))], "GO id"
        key = re.sub(r"^(the|a|an) ", "", fold(text).replace("signalling", "signaling"))
        key = LOCATION_WORDS.get(key, key)
        ids = self.db.terms.find(key, aspects)
        return ids, ("term name or synonym" if ids else "")

    def _name_match(self, symbol: str, text: str, aspects: tuple[str, ...]) -> list[tuple[GoAnnotation, str, float]]:
        """The gene's own annotations whose term is 'X' or '(positive|negative) regulation of X'."""
        key = re.escape(fold(text).replace("signalling", "signaling"))
        pat = re.compile(rf"^(?:(positive |negative )?regulation of )?{key}$")
        out = []
        for a in self.db.go_annotations(symbol):
            if a.ontology not in aspects or a.evidence == "ND" or not a.term:
                continue
            m = pat.match(fold(a.term))
            if m:
                exact = fold(a.term) == fold(text)
                out.append((a, "term name" if exact else "regulation of the named process", 1.0 if exact else REGULATION_FACTOR))
        return out

    def _support(self, symbols: list[str], ids: list[str], text: str, aspects: tuple[str, ...]):
        """Best (score, evidence) over the genes for the given term ids or name."""
        evidence, best = [], 0.0
        for sym in symbols:
            for gid in ids:
                found = [a for a in self.db.annotations_under(sym, gid) if a.ontology in aspects]
                if found:
                    term = self.db.terms.terms.get(gid)
                    direct = {a.evidence for a in self.db.go_annotations(sym) if a.go_id == gid}
                    how = "annotated to the term" if direct else "annotated to a descendant term"
                    for a in found:
                        a2 = GoAnnotation(a.go_id, term.name if term else a.term, a.ontology, a.evidence)
                        evidence.append(_ev(sym, a2, self.db, how))
                    best = max(best, _score(found))
            if not normalise_go_id(text):
                for a, how, factor in self._name_match(sym, text, aspects):
                    evidence.append(_ev(sym, a, self.db, how))
                    best = max(best, _score([a]) * factor)
        return best, evidence

    def verify(self, ctx: ClaimContext) -> ClaimVerdict:
        if self.db is None:
            return unverifiable(self.problem or "GO annotations unavailable")
        node = ctx.node
        entity = node.args.get("entity")
        if not isinstance(entity, str) or not entity.strip():
            return unverifiable("no entity to look up in GO")
        symbols, via, family = self._genes(entity)
        if not symbols:
            return unverifiable(f"{entity!r} is not a human gene or family the offline sources know (GO annotates genes)")
        if node.action == "participates_in":
            return self._participates(node, entity, symbols, via, family)
        return self._localises(node, entity, symbols, via, family)

    def _finish(self, entity, symbols, family, best, evidence, what) -> ClaimVerdict:
        genes_hit = sorted({e["gene"] for e in evidence})
        if family and len(symbols) > 1:
            best *= FAMILY_FACTOR
        evidence.sort(key=lambda e: (-SCORES.get(e["evidence_kind"], 0.7), e["gene"], e["go_id"]))
        top = evidence[0]
        who = entity if not family else f"{entity} (through {', '.join(genes_hit[:3])})"
        return ClaimVerdict(SUPPORTED, best, evidence[:20],
                            f"{who} is annotated {what} {top['go_id']} {top['term']} [{top['aspect']}, {top['evidence_code']}] "
                            f"({self.db.source})")

    def _participates(self, node, entity, symbols, via, family) -> ClaimVerdict:
        text = node.args.get("ontology_id")
        if not isinstance(text, str) or not text.strip():
            return unverifiable("no ontology_id to look up")
        text = text.strip()
        if re.match(r"^[A-Za-z]+[:_]\S+$", text) and not normalise_go_id(text):
            return unverifiable(f"{text!r} is not a GO id; the go verifier knows Gene Ontology only")
        ids, how = self._term_ids(text, ("BP", "MF"))
        if not ids and normalise_go_id(text) is None:
            ids, how = self._term_ids(text, ("CC",))
        aspects = ("BP", "MF", "CC")
        best, evidence = self._support(symbols, ids, text, aspects)
        if evidence:
            return self._finish(entity, symbols, family, best, evidence, "to")
        known = ", ".join(f"{i} {self.db.terms.terms[i].name}" if i in self.db.terms.terms else i for i in ids[:3])
        what = f"GO term(s) {known}" if ids else f"no GO term named {text!r} (names must match a term or an exact synonym)"
        n = len([a for s in symbols for a in self.db.go_annotations(s) if a.ontology in ("BP", "MF")])
        return unverifiable(f"{entity} ({', '.join(symbols[:5])}) has {n} process/function annotation(s), none under {what}; "
                            "absence in GO never contradicts",
                            [GoLookup(genes=symbols[:10], resolved_via=via, terms=ids[:5], source=self.db.source)])

    def _localises(self, node, entity, symbols, via, family) -> ClaimVerdict:
        to_loc, from_loc = node.args.get("to_loc"), node.args.get("from_loc")
        if not isinstance(to_loc, str) or not to_loc.strip():
            return unverifiable("no to_loc to look up")
        ids, _ = self._term_ids(to_loc.strip(), ("CC",))
        if not ids:
            return unverifiable(f"{to_loc!r} is not a GO cellular component name or id (exact name or synonym)")
        best, evidence = self._support(symbols, ids, to_loc.strip(), ("CC",))
        fids = self._term_ids(from_loc.strip(), ("CC",))[0] if isinstance(from_loc, str) and from_loc.strip() else []
        if best > 0 and isinstance(from_loc, str) and from_loc.strip() and fold(from_loc) != fold(to_loc) \
                and not set(fids) & set(ids):
            # A move (from_loc -> to_loc): a GO component annotation says where a protein is found, never which
            # way it moves, so "BAX moves mitochondria -> cytosol" (the reverse of its apoptotic translocation)
            # would be "supported" by BAX's cytosol annotation. No source here states a direction: unverifiable.
            places = [f"{to_loc.strip()} (annotated)"]
            if fids:
                at_from = any(self.db.annotations_under(sym, gid) for sym in symbols for gid in fids)
                places.append(f"{from_loc.strip()} ({'annotated' if at_from else 'not annotated'})")
            return unverifiable(f"a move from {from_loc.strip()!r} to {to_loc.strip()!r}: GO component annotations of "
                                f"{entity} ({'; '.join(places)}) say where it is found, not which way it moves, and no "
                                "offline source states the direction", evidence[:3])
        if best > 0:
            # Where the claim says it starts, shown for context (not needed for support).
            extra = [_ev(sym, a, self.db, "from_loc: also annotated where the claim says it starts", role="from_loc")
                     for sym in symbols for gid in fids for a in self.db.annotations_under(sym, gid)[:1]]
            verdict = self._finish(entity, symbols, family, best, evidence, "to the component")
            verdict.evidence += extra[:3]
            return verdict
        cc = [a for s in symbols for a in self.db.go_annotations(s) if a.ontology == "CC" and evidence_kind(a.evidence) == "experimental"]
        target = ", ".join(f"{i} {self.db.terms.terms[i].name}" if i in self.db.terms.terms else i for i in ids[:2])
        if len(cc) >= RICH_CC:
            places = sorted({a.term or a.go_id for a in cc})
            return unverifiable(f"annotated elsewhere: {', '.join(places[:8])}{' ...' if len(places) > 8 else ''} "
                                f"({len(cc)} experimental component annotations, none under {target}); not a contradiction: "
                                "GO does not record where a protein goes under every signal",
                                [GoLookup(genes=symbols[:10], terms=ids[:3], annotated_elsewhere=places[:20], source=self.db.source)])
        return unverifiable(f"{entity} has no component annotation under {target} in {self.db.source}; absence never contradicts",
                            [GoLookup(genes=symbols[:10], terms=ids[:3], source=self.db.source)])
