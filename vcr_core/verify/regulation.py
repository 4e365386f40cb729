"""The regulation verifier: ``regulates_expression`` and ``degrades_or_stabilises`` judged by composing two
facts, each from an installed source (issue 20):

1. **Which way the regulator moves** (directions along the graph, :mod:`.graph`): the nearest claims above it
   in the DAG that state its own change (``modulates_molecule_activity`` of it, ``loss_of_function`` -> down,
   ``gain_of_function`` -> up, ``degrades_or_stabilises`` of it, the perturbation binding it with the MoA's
   direction, a pathway named after it, and for a transcription factor its move into or out of the nucleus);
   without one, the record itself when the perturbation causes the claim (its knockout of the regulator, or
   the regulator among the drug's listed targets with the MoA's direction). A regulator that *is* the drug
   stands for its listed targets, each with the MoA's direction.
2. **What the regulator does** (GO, org.Hs.eg.db, experimental evidence codes):

   * for expression, its molecular function as a transcription regulator: "DNA-binding transcription
     activator activity" or "transcription coactivator activity" (an activator) against the repressor and
     corepressor terms. Most transcription factors are annotated both ways (TP53, NR3C1, RELA, JUN): they
     decide nothing. Kinases and other proteins annotated only to "positive regulation of transcription"
     through a biological process are not transcription regulators of the listed genes (ERK lowers BIM
     while "positively regulating transcription"), so only the molecular function counts.
   * for degradation, its role in protein catabolism: a term that is (or positively regulates) protein
     catabolism or "protein destabilization" (MDM2, the proteasome's subunits; curator statements TAS/IC
     count here, as GO records the proteasome's function that way) against "protein stabilization" or the
     negative regulation of catabolism (USP7). Both ways decides nothing. A drug whose MoA calls it a
     degrader of a listed target degrades it (the record's own word).

The listed genes are predicted to move with an activator's (or a stabiliser's) change and against a
repressor's (or a degrader's). Agreement **supports** (0.6); the opposite is **contradicted** at 0.55: an
inference from the claim's own premise (that this regulator controls these genes) and GO's statement of
what the regulator does, below a direct fact. Nothing is decided from absence: no direction for the
regulator, no annotation, or annotations both ways -> unverifiable, saying what was looked up.

``post_translational_modification`` (phosphorylation) of a protein downstream of a kinase: the nearest
gene-level claims above it (as the process verifier reads them: activity, binding by the perturbation with
its MoA, loss or gain of function; else the record's targets with the MoA) that GO calls a protein kinase
(molecular function, experimental) move its phosphorylation with them, a protein phosphatase against them.
Agreement **supports** at 0.55; the other way is never contradicted (other kinases and feedback can
phosphorylate it). A claimed protein that is itself a protein kinase follows only a receptor tyrosine kinase
above it (GO "transmembrane receptor protein tyrosine kinase activity"): kinases in a cascade are wired with
feedback (S6K relieves IRS1 so rapamycin raises AKT S473; RAF inhibitors raise ERK phosphorylation in
RAS-mutant cells), while the receptor stands at the cascade's apex, where relieved feedback acts on the
receptor the drug still blocks (VEGFR2 under VEGF -> ERK1/2 and AKT); the kinase must take part in a
signalling process the receptor drives (GO, experimental), not be any kinase the graph reaches (CDK1). Its
autophosphorylation under its own inhibitor is the record verifier's rule.
"""
from __future__ import annotations

import re
from typing import Any

from ..formalism import Node
from ..knowledge.orgdb import EXPERIMENTAL
from .base import CONTRADICTED, SUPPORTED, ClaimContext, ClaimVerdict, unverifiable
from .evidence import GenericEvidence, GoAnnotation, RecordField
from .graph import attribute, causes

NAME, VERSION = "regulation", "1"
APPLIES_TO = ("regulates_expression", "degrades_or_stabilises", "post_translational_modification")
SCORE_SUPPORT, SCORE_CONTRA = 0.6, 0.55
DIRECTIONAL_CODES = EXPERIMENTAL - {"IEP", "HEP"}  # an expression pattern says nothing about what a protein does
# GO's curators state the proteasome's own function as TAS/IC (PSMB5: "proteasome-mediated ubiquitin-dependent
# protein catabolic process", IC); phylogenetic (IBA) and electronic (IEA) inferences are never used.
CATABOLISM_CODES = DIRECTIONAL_CODES | {"TAS", "IC"}
MAX_EVIDENCE = 8
MAX_SYMBOLS = 12

# Molecular functions of a transcription regulator (with their descendants): activator or repressor.
ACTIVATOR_MF = {"GO:0001216": "DNA-binding transcription activator activity", "GO:0003713": "transcription coactivator activity"}
REPRESSOR_MF = {"GO:0001217": "DNA-binding transcription repressor activity", "GO:0003714": "transcription corepressor activity"}
PROTEIN_CATABOLISM = "GO:0030163"  # protein catabolic process
STABILIZATION, DESTABILIZATION = "GO:0050821", "GO:0031648"  # protein stabilization / destabilization
PROTEIN_KINASE, PROTEIN_PHOSPHATASE = "GO:0004672", "GO:0004721"  # protein kinase / phosphoprotein phosphatase activity
RTK = "GO:0004714"  # transmembrane receptor protein tyrosine kinase activity
SCORE_PHOSPHO_SUPPORT = 0.55

_DEGRADE_WORDS = re.compile(r"^(?:down|degrad\w*|destabili[sz]\w*|decrease[sd]?)$", re.I)
_STABILISE_WORDS = re.compile(r"^(?:up|stabili[sz]\w*|increase[sd]?|accumulat\w*)$", re.I)
_DEGRADER_MOA = re.compile(r"degrader|degradation|protac|\bserd\b", re.I)
_NUCLEUS = re.compile(r"nucle(?:us|ar)", re.I)
_GENERIC = re.compile(r"\b(?:signal(?:l)?ing|pathways?|cascades?|axis|activity|activation|network|signal|transcription(?:al)?)\b", re.I)


def _flip(d: str) -> str:
    return "down" if d == "up" else "up"


def claim_direction(node: Node) -> str | None:
    """'up'/'down' of the claim: expression up/down; a protein stabilised (up) or degraded (down)."""
    d = str(node.args.get("direction") or "").strip()
    if node.action == "degrades_or_stabilises":
        return "down" if _DEGRADE_WORDS.match(d) else "up" if _STABILISE_WORDS.match(d) else None
    d = d.lower()
    return d if d in ("up", "down") else None


def _symbols(name: Any) -> frozenset[str]:
    from ..knowledge.drug_targets import ground_target

    from .process import cell_line_name

    if not isinstance(name, str) or not name.strip() or cell_line_name(name):
        return frozenset()
    r, _ = ground_target(name)
    if r is None:
        core = " ".join(_GENERIC.sub(" ", name).split())
        r, _ = ground_target(core) if core and core != name else (None, "")
    return frozenset(sorted(r.symbols)[:MAX_SYMBOLS]) if r is not None else frozenset()


def _genetic_gene(p) -> str | None:
    """The gene a genetic perturbation acts on (its gene symbol, or its one listed target)."""
    from .record import _is_genetic

    if not _is_genetic(p):
        return None
    return p.gene_symbol or (p.targets[0] if len(p.targets) == 1 else None)


class RegulationVerifier:
    """Expression and protein-amount claims: the regulator's direction (graph, record) times its GO role."""

    name, version = NAME, VERSION
    graph_scoped = True  # the regulator's direction is read from the claim's own graph (verify/graph.py)

    def applies(self, node: Node) -> bool:
        return node.action in APPLIES_TO

    def verify(self, ctx: ClaimContext) -> ClaimVerdict:
        from ..knowledge.go_ontology import get_go_ontology, go_ontology_status
        from ..knowledge.orgdb import get_orgdb, orgdb_status

        node = ctx.node
        if node.action == "post_translational_modification":
            return self._phosphorylation(ctx)
        direction = claim_direction(node)
        regulator = node.args.get("regulator")
        if not isinstance(regulator, str) or not regulator.strip() or direction is None:
            return unverifiable("needs a text regulator and a direction (up/down, or stabilises/degrades)")
        expression = node.action == "regulates_expression"
        if expression:
            genes = node.args.get("gene_list")
            genes = [g for g in (genes if isinstance(genes, list) else [genes]) if isinstance(g, str) and g.strip()]
            if not genes or not all(_symbols(g) for g in genes):
                return unverifiable("every listed gene must be a gene or family name the offline sources know")
        elif not _symbols(node.args.get("target")):
            return unverifiable(f"{node.args.get('target')!r} is not a gene or family name the offline sources know")
        record = ctx.record
        is_pert = self._is_perturbation(ctx)
        if not expression:
            degrader = self._degrader(ctx, regulator, direction, is_pert)
            if degrader is not None:
                return degrader
        db, go = get_orgdb(), get_go_ontology()
        if db is None:
            return unverifiable(orgdb_status()[1])
        if go is None:
            return unverifiable(go_ontology_status()[1])
        att = attribute(ctx.explanation, record, node, is_pert)
        actors = self._actors(ctx, regulator, att, is_pert, transcription=expression)
        if not actors:
            return unverifiable(f"no direction for {regulator!r}: no claim above it in the graph states its change, and "
                                "the record does not (its knockout, or a listed target with the MoA's direction)")
        what = "transcription regulator" if expression else "regulator of protein degradation"
        predictions: dict[str, list[str]] = {"up": [], "down": []}
        evidence: list[Any] = []
        undecided: list[str] = []
        for name, symbols, adir, where in actors:
            sign, ev, why = (self._transcription_sign if expression else self._catabolism_sign)(db, go, symbols)
            if sign is None:
                undecided.append(f"{name}: {why}")
                continue
            # activator / stabiliser (+1): the genes move with it; repressor / degrader (-1): against it
            predicted = adir if sign == 1 else _flip(adir)
            predictions[predicted].append(f"{name} goes {adir} ({where}) and is {why}, so the "
                                          f"{'genes' if expression else 'protein'} go{'' if expression else 'es'} {predicted}")
            evidence.extend(ev)
        if predictions["up"] and predictions["down"]:
            return unverifiable("regulators point both ways: " + "; ".join(predictions["up"] + predictions["down"]),
                                evidence[:MAX_EVIDENCE])
        for pdir in ("up", "down"):
            if not predictions[pdir]:
                continue
            why = "; ".join(predictions[pdir])
            shown = (("stabilised" if pdir == "up" else "degraded") if not expression else pdir)
            if pdir == direction:
                return ClaimVerdict(SUPPORTED, SCORE_SUPPORT, evidence[:MAX_EVIDENCE],
                                    f"by GO annotations (experimental) of the {what}: {why}, as claimed")
            return ClaimVerdict(CONTRADICTED, SCORE_CONTRA, evidence[:MAX_EVIDENCE],
                                f"by GO annotations (experimental) of the {what}, inferred: {why}; the claim has it "
                                f"{'go ' + direction if expression else ('stabilised' if direction == 'up' else 'degraded')}, "
                                f"not {shown}")
        return unverifiable(f"GO does not say what kind of {what} {regulator!r} is: " + "; ".join(undecided[:3]),
                            evidence[:MAX_EVIDENCE])

    # -- who the regulator is and which way it goes
    def _is_perturbation(self, ctx: ClaimContext):
        from .record import _is_actor

        perts = ctx.record.perturbations if ctx.record is not None else []
        return lambda name: any(_is_actor(p, name) for p in perts)

    def _actors(self, ctx, regulator: str, att, is_pert, transcription: bool) -> list[tuple[str, frozenset[str], str, str]]:
        """(name, HGNC symbols, direction, where it comes from) of what acts as the regulator."""
        from .record import _is_actor, _is_chemical, _is_genetic, _moa, genetic_direction, moa_direction

        record = ctx.record
        if is_pert(regulator):
            # the drug itself: its listed targets with the MoA's direction (a knockout: its gene)
            if att.kind != "perturbation":
                return []
            out = []
            for p in record.perturbations:
                if not _is_actor(p, regulator):
                    continue
                gene = _genetic_gene(p)
                if gene:
                    d = genetic_direction(p.type, p.name)
                    if d:
                        out.append((gene, _symbols(gene), d, f"the record's {p.type or 'genetic'} perturbation of {gene}"))
                elif _is_chemical(p) or not p.gene_symbol:
                    d = moa_direction(_moa(p))
                    if d:
                        out.extend((t, _symbols(t), d, f"a listed target of {p.label}, MoA {_moa(p)!r}")
                                   for t in p.targets[:MAX_SYMBOLS] if _symbols(t))
            return out
        symbols = _symbols(regulator)
        if not symbols:
            return []
        found = self._from_graph(ctx, symbols, is_pert, transcription)
        if found:
            d, where = found
            return [(regulator, symbols, d, where)]
        if att.kind != "perturbation":
            return []
        for p in record.perturbations:
            gene = _genetic_gene(p)
            if gene and _symbols(gene) & symbols:
                d = genetic_direction(p.type, p.name)
                if d:
                    return [(regulator, symbols, d, f"the record's {p.type or 'genetic'} perturbation of {gene}")]
            d = moa_direction(_moa(p))
            if d and not _is_genetic(p) and any(_symbols(t) & symbols for t in p.targets):
                return [(regulator, symbols, d, f"a listed target of {p.label}, MoA {_moa(p)!r}")]
        return []

    def _from_graph(self, ctx, symbols: frozenset[str], is_pert, transcription: bool) -> tuple[str, str] | None:
        """The regulator's direction from the nearest claims above the claim that state its own change; None when
        none does or the nearest ones disagree."""
        expl = ctx.explanation
        if expl is None:
            return None
        level = list(causes(expl, ctx.node.id))
        seen: set[str] = {ctx.node.id}
        while level:
            stated: list[tuple[str, str]] = []
            nxt: list[str] = []
            for cur in level:
                if cur in seen:
                    continue
                seen.add(cur)
                hit = self._states(expl.node(cur), symbols, ctx.record, is_pert, transcription)
                if hit:
                    stated.append((hit[0], f"{cur}: {hit[1]}"))
                nxt.extend(causes(expl, cur))
            dirs = {d for d, _ in stated}
            if len(dirs) == 1:
                return dirs.pop(), "; ".join(w for _, w in stated)
            if len(dirs) > 1:
                return None
            level = nxt
        return None

    def _states(self, n: Node | None, symbols: frozenset[str], record, is_pert, transcription: bool) -> tuple[str, str] | None:
        """(direction, wording) when node ``n`` states the regulator's own change, else None."""
        from .record import _is_actor, _moa, moa_direction

        if n is None:
            return None
        a = n.args
        d = str(a.get("direction") or "").strip().lower()
        if n.action == "modulates_molecule_activity" and d in ("up", "down") and _symbols(a.get("target")) & symbols:
            return d, f"{a['target']} activity {d}"
        if n.action == "degrades_or_stabilises" and _symbols(a.get("target")) & symbols:
            cd = claim_direction(n)
            if cd:
                return cd, f"{a['target']} amount {cd}"
        if n.action in ("loss_of_function", "gain_of_function") and _symbols(a.get("protein")) & symbols:
            d = "down" if n.action == "loss_of_function" else "up"
            return d, f"{n.action.replace('_', ' ')} of {a['protein']}"
        if n.action == "binds_to" and isinstance(a.get("actor"), str) and is_pert(a["actor"]) and _symbols(a.get("target")) & symbols:
            for p in record.perturbations if record is not None else []:
                if not _is_actor(p, a["actor"]):
                    continue  # the MoA of the perturbation that binds, not of another one
                md = moa_direction(_moa(p))
                if md:
                    return md, f"{a['actor']} binds {a['target']} (MoA {_moa(p)!r})"
        if n.action == "modulates_pathway_activity" and d in ("up", "down"):
            words = " ".join(_GENERIC.sub(" ", str(a.get("pathway") or "")).split())
            if words and _symbols(words) & symbols:
                return d, f"{a['pathway']} {d} (a pathway named after it)"
        if transcription and n.action == "localises_to" and _symbols(a.get("entity")) & symbols:
            to, frm = str(a.get("to_loc") or ""), str(a.get("from_loc") or "")
            if _NUCLEUS.search(to) and not _NUCLEUS.search(frm):
                return "up", f"{a['entity']} moves into the nucleus"
            if _NUCLEUS.search(frm) and not _NUCLEUS.search(to):
                return "down", f"{a['entity']} leaves the nucleus"
        return None

    # -- what the regulator does, by GO
    def _transcription_sign(self, db, go, symbols) -> tuple[int | None, list[Any], str]:
        act, rep = [], []
        for sym in sorted(symbols):
            for ann in db.go_annotations(sym):
                if ann.ontology != "MF" or ann.evidence not in DIRECTIONAL_CODES:
                    continue
                lineage = go.ancestors(ann.go_id) | {ann.go_id}
                if lineage & ACTIVATOR_MF.keys():
                    act.append((sym, ann))
                if lineage & REPRESSOR_MF.keys():
                    rep.append((sym, ann))
        if act and rep:
            return None, [], (f"annotated both as an activator ({act[0][0]}: {act[0][1].term or act[0][1].go_id}) and as a "
                              f"repressor ({rep[0][0]}: {rep[0][1].term or rep[0][1].go_id}): which it is depends on the gene")
        if not act and not rep:
            return None, [], "no experimental molecular-function annotation as a transcription activator or repressor"
        sign, hits = (1, act) if act else (-1, rep)
        role = "a transcription activator" if sign == 1 else "a transcription repressor"
        return sign, self._evidence(db, go, hits, role), role

    def _catabolism_sign(self, db, go, symbols) -> tuple[int | None, list[Any], str]:
        drives, restrains = [], []
        for sym in sorted(symbols):
            for ann in db.go_annotations(sym):
                if ann.ontology != "BP" or ann.evidence not in CATABOLISM_CODES:
                    continue
                lineage = go.ancestors(ann.go_id) | {ann.go_id}
                eff = go.effect_on(ann.go_id, PROTEIN_CATABOLISM)
                if 1 in eff or DESTABILIZATION in lineage:
                    drives.append((sym, ann))
                if -1 in eff or STABILIZATION in lineage:
                    restrains.append((sym, ann))
        if drives and restrains:
            return None, [], (f"annotated both to protein degradation ({drives[0][0]}: {drives[0][1].term or drives[0][1].go_id}) "
                              f"and to protein stabilisation ({restrains[0][0]}: {restrains[0][1].term or restrains[0][1].go_id})")
        if not drives and not restrains:
            return None, [], "no annotation (experimental or a curator's statement) to protein degradation or stabilisation"
        sign, hits = (-1, drives) if drives else (1, restrains)
        role = "a driver of protein degradation" if sign == -1 else "a stabiliser of proteins"
        return sign, self._evidence(db, go, hits, role), role

    def _evidence(self, db, go, hits, role: str) -> list[Any]:
        out, seen = [], set()
        for sym, ann in hits:
            if (sym, ann.go_id, ann.evidence) in seen or len(out) >= 3:
                continue
            seen.add((sym, ann.go_id, ann.evidence))
            out.append(GoAnnotation(gene=sym, go_id=ann.go_id, term=ann.term or go.name(ann.go_id), aspect=ann.ontology,
                                    evidence_code=ann.evidence, evidence_kind="experimental" if ann.evidence in EXPERIMENTAL
                                    else "curator statement", how=role, source=f"{db.source}; GO relations {go.source}"))
        return out

    # -- the record's own word: a degrader
    def _degrader(self, ctx, regulator: str, direction: str, is_pert) -> ClaimVerdict | None:
        """A drug whose MoA calls it a degrader (PROTAC, SERD, "degrader") degrades its listed targets."""
        from .record import _is_actor, _moa

        if not is_pert(regulator):
            return None
        target = ctx.node.args.get("target")
        tsyms = _symbols(target)
        for p in ctx.record.perturbations:
            moa = _moa(p)
            if not moa or not _DEGRADER_MOA.search(moa) or not _is_actor(p, regulator):
                continue
            listed = next((t for t in p.targets if _symbols(t) & tsyms), None)
            if listed is None:
                return unverifiable(f"{p.label}'s MoA {moa!r} names degradation, but {target!r} is not among its listed targets")
            ev = [RecordField(record=ctx.record.index, perturbation=p.label, field="moa_type", value=moa, matched=listed,
                              expected_direction="down").store(),
                  GenericEvidence(kind="degrader_moa", drug=p.label, moa=moa, target=listed, source="the record's moa_type")]
            if direction == "down":
                return ClaimVerdict(SUPPORTED, 0.75, ev, f"{p.label}'s MoA {moa!r} says it degrades its listed target {listed}")
            return ClaimVerdict(CONTRADICTED, 0.6, ev, f"{p.label}'s MoA {moa!r} says it degrades its listed target {listed}; "
                                "the claim has it stabilised")
        return None

    # -- phosphorylation downstream of a kinase
    def _phosphorylation(self, ctx: ClaimContext) -> ClaimVerdict:
        from ..knowledge.go_ontology import get_go_ontology, go_ontology_status
        from ..knowledge.orgdb import get_orgdb, orgdb_status
        from .process import ProcessVerifier

        node = ctx.node
        protein, mod = node.args.get("protein"), str(node.args.get("mod_type") or "").lower()
        direction = str(node.args.get("direction") or "").strip().lower()
        if "phospho" not in mod or "autophospho" in mod or direction not in ("up", "down"):
            return unverifiable("only phosphorylation (not autophosphorylation) with a direction up or down is read here")
        psyms = _symbols(protein)
        if not psyms:
            return unverifiable(f"{protein!r} is not a gene or family name the offline sources know")
        db, go = get_orgdb(), get_go_ontology()
        if db is None:
            return unverifiable(orgdb_status()[1])
        if go is None:
            return unverifiable(go_ontology_status()[1])
        own = self._enzyme(db, go, psyms, PROTEIN_KINASE)
        is_pert = self._is_perturbation(ctx)
        att = attribute(ctx.explanation, ctx.record, node, is_pert)
        if att.kind == "unknown":
            return unverifiable(att.reason)
        genes = ProcessVerifier()._upstream_genes(ctx, att, is_pert)
        predictions: dict[str, list[str]] = {"up": [], "down": []}
        evidence: list[Any] = []
        skipped: list[str] = []
        for name, gdir, where in genes:
            gsyms = _symbols(name) - psyms
            if not gsyms:
                continue
            kin, pho = self._enzyme(db, go, gsyms, PROTEIN_KINASE), self._enzyme(db, go, gsyms, PROTEIN_PHOSPHATASE)
            if bool(kin) == bool(pho):
                continue  # neither (or both): says nothing about the protein's phosphorylation
            if own and not (kin and self._enzyme(db, go, gsyms, RTK) and self._in_cascade(db, go, psyms, gsyms)):
                skipped.append(name)
                continue  # a kinase in a cascade follows only the receptor at its apex (feedback below it)
            predicted = gdir if kin else _flip(gdir)
            role = "a protein kinase" if kin else "a protein phosphatase"
            predictions[predicted].append(f"{name} ({where}) is {role} above it, so its phosphorylation goes {predicted}")
            evidence.extend(self._evidence(db, go, kin or pho, role))
        if predictions["up"] and predictions["down"]:
            return unverifiable("kinases and phosphatases above it point both ways: " +
                                "; ".join(predictions["up"] + predictions["down"]), evidence[:MAX_EVIDENCE])
        for pdir in ("up", "down"):
            if not predictions[pdir]:
                continue
            why = "; ".join(predictions[pdir])
            if pdir == direction:
                return ClaimVerdict(SUPPORTED, SCORE_PHOSPHO_SUPPORT, evidence[:MAX_EVIDENCE],
                                    f"by GO annotations (experimental): {why}, as claimed")
            return unverifiable(f"{why}; the claim says {direction}, which is not contradicted: other kinases and "
                                "feedback can phosphorylate it", evidence[:MAX_EVIDENCE])
        if own:
            return unverifiable(f"{protein!r} is itself a protein kinase ({own[0][0]}: {own[0][1].term or own[0][1].go_id}) and no "
                                "receptor tyrosine kinase whose signalling it takes part in is above it with a direction" +
                                (f" ({', '.join(skipped)}: not such a receptor)" if skipped else "") + ": kinases in a cascade are wired with feedback, so its phosphorylation "
                                "follows only the receptor at the cascade's apex (rapamycin raises AKT S473)")
        return unverifiable("no protein kinase or phosphatase with a direction above it in the graph (or among the record's "
                            "targets when the perturbation causes it)")

    def _in_cascade(self, db, go, kinase_syms, receptor_syms) -> bool:
        """Whether the claimed kinase takes part in a signalling process the receptor drives (experimental BP
        annotations: the kinase's signalling term is the receptor's, or a kind/part of it, or the receptor
        positively regulates it), generic signal transduction aside: ERK2 in the ERK1 and ERK2 cascade KDR
        positively regulates; not CDK1, a cell-cycle kinase no receptor cascade names."""
        from .process import GENERIC_SIGNALLING, _SIGNALLING

        mine = {a.go_id for s in kinase_syms for a in db.go_annotations(s) if a.ontology == "BP" and a.evidence in DIRECTIONAL_CODES
                and a.go_id not in GENERIC_SIGNALLING and _SIGNALLING.search(go.name(a.go_id) or "")}
        theirs = {a.go_id for s in receptor_syms for a in db.go_annotations(s) if a.ontology == "BP" and a.evidence in DIRECTIONAL_CODES}
        return any(1 in go.effect_on(b, a) for a in mine for b in theirs)

    def _enzyme(self, db, go, symbols, function: str) -> list[tuple[str, Any]]:
        """(symbol, annotation) of experimental molecular-function annotations under ``function``."""
        out = []
        for sym in sorted(symbols):
            for ann in db.go_annotations(sym):
                if ann.ontology == "MF" and ann.evidence in DIRECTIONAL_CODES and function in (go.ancestors(ann.go_id) | {ann.go_id}):
                    out.append((sym, ann))
        return out
