"""The record verifier: the perturbation record itself is evidence.

A Tahoe record lists ``known targets`` and a ``moa_type``; a single-shape record has ``target`` and
``moa_type``. Rules (names compared case-insensitively through HGNC/Entrez aliases and FamPlex
families, see :mod:`vcr_core.knowledge.genes`: "VEGFR2" is KDR, "ERK1/2" is MAPK1 and MAPK3):

* ``binds_to(actor, target)``: the drug's targets come from :mod:`vcr_core.knowledge.drug_targets` (the
  record's own list, grounded first, so a listed name that is no gene supports nothing; PrimeKG's target
  edges when configured; ChEBI class roles, inferred). A known target -> **supported** (0.9 the same gene,
  0.75 a family relation); an inferred class -> supported at 0.5 at most, never contradicted. Outside a
  **closed** list (a Tahoe record's ``known targets`` of a chemical, PrimeKG) a real gene that is no FamPlex
  relative of a listed target -> **contradicted (0.6)**, 0.5 when it shares a broad class with a listed target
  (drugs have off-targets, hence below 1), with the list it was checked against; unverifiable when the list
  holds :data:`MULTI_TARGET_MIN` or more targets of that class (a promiscuous inhibitor's list is a sample).
  A single-shape ``target`` is not a complete list, listed names that are no genes could hide a match, a list claim partly listed, unknown drugs: unverifiable.
* ``post_translational_modification`` (phosphorylation) of a receptor tyrosine kinase the drug inhibits:
  down supported (0.6), up never contradicted (see :meth:`RecordVerifier._ptm`).
* ``modulates_molecule_activity(target, direction)`` of a listed target: the direction follows from
  the MoA (inhibitor / antagonist / blocker / degrader / inverse agonist -> down; agonist /
  activator / inducer / opener / potentiator -> up) -> supported (0.8) when it agrees, contradicted
  (0.6) when flipped. A genetic perturbation of the gene itself works the same way (knockout,
  knockdown, siRNA, CRISPRi -> down; overexpression, CRISPRa -> up). An MoA that says neither, or
  both, decides nothing. Known limit: paradoxical activation (a RAF inhibitor activating CRAF in
  wild-type cells) would be contradicted if the paradoxically activated protein were itself listed.
  Directions along the graph (:mod:`.graph`): the MoA applies only when the perturbation is upstream of
  the claim in the DAG and no other actor is among its causes; a claim caused by another actor ("VEGF
  binds VEGFR2" -> "VEGFR2 activity up" in a lenvatinib record under "Soluble factor addition of VEGF"),
  or a root claim while the context applies another actor, is unverifiable here (judged by its own cause).
"""
from __future__ import annotations

import re

from ..formalism import Node
from ..knowledge.drug_targets import (KNOWN, drug_targets, ground_target, in_known_family,  # noqa: F401
                                      moa_direction, split_target_list)  # moa_direction re-exported
from ..knowledge.genes import Resolved, resolve
from ..records.model import Perturbation, Record
from .base import CONTRADICTED, SUPPORTED, ClaimContext, ClaimVerdict, unverifiable
from .evidence import DrugTargetList, RecordField
from .graph import attribute

NAME, VERSION = "record", "6"

# Broad target classes (GO molecular function, with descendants). A drug's true off-targets are mostly of its listed
# targets' class (kinase inhibitors bind other kinases, bortezomib the serine protease HTRA2): outside a closed list
# such a target is contradicted with a lower score (0.5) and the shared class named; any other target at 0.6.
TARGET_CLASSES = {
    "GO:0016301": "kinase", "GO:0008233": "peptidase", "GO:0004879": "nuclear receptor",
    "GO:0004930": "G protein-coupled receptor", "GO:0005216": "ion channel", "GO:0005215": "transporter",
    "GO:0004407": "histone deacetylase", "GO:0003916": "DNA topoisomerase", "GO:0003950": "ADP-ribosyltransferase",
    "GO:0005200": "structural constituent of cytoskeleton", "GO:0004721": "phosphoprotein phosphatase",
    "GO:0008168": "methyltransferase", "GO:0016491": "oxidoreductase", "GO:0004888": "transmembrane signaling receptor",
}
SAME_CLASS_SCORE, OTHER_CLASS_SCORE = 0.5, 0.6
# A closed list with this many targets of the claimed target's class belongs to a drug promiscuous within the class
# (dasatinib: 8 kinases listed; kinome-wide profiling, e.g. Davis et al. 2011 Nat Biotechnol 29:1046, finds dozens
# more for such inhibitors): the list does not rule out another target of that class (unverifiable). A selective
# drug's short list (gefitinib: EGFR) still does, weakly (SAME_CLASS_SCORE).
MULTI_TARGET_MIN = 5
APPLIES_TO = ("binds_to", "modulates_molecule_activity", "loss_of_function", "post_translational_modification")
RTK_ACTIVITY = "GO:0004714"  # transmembrane receptor protein tyrosine kinase activity
# A protein change after a gene name ("BRAF V600E", "EGFR p.L858R"): the claim is about that gene.
_VARIANT = re.compile(r"\s+(?:p\.)?[A-Z]\d+(?:[A-Z]|\*|del|fs)?$")

_GENETIC_DOWN = re.compile(r"knock-?out|knock-?down|\bko\b|sirna|shrna|crispri|crispr(?![\s-]*a)|deletion|loss|silenc|null", re.IGNORECASE)
_GENETIC_UP = re.compile(r"overexpress|crispra|activation|gain", re.IGNORECASE)
_SALTS = re.compile(r"\b(mesylate|mesilate|esylate|hydrochloride|dihydrochloride|hcl|sodium|potassium|maleate|tosylate|citrate|"
                    r"sulfate|sulphate|phosphate|acetate|tartrate|fumarate|succinate|besylate|hydrobromide|"
                    r"dimaleate|monohydrate|hydrate|free base)\b", re.IGNORECASE)


def genetic_direction(ptype: str | None, name: str | None = None) -> str | None:
    """'down' for a knockout-like genetic perturbation, 'up' for overexpression-like, else None."""
    text = " ".join(t for t in (ptype, name) if t)
    down, up = bool(_GENETIC_DOWN.search(text)), bool(_GENETIC_UP.search(text))
    return "down" if down and not up else "up" if up and not down else None


def _fold_drug(name: str) -> str:
    return " ".join(_SALTS.sub(" ", str(name).casefold()).replace("-", " ").split())


def _is_chemical(p: Perturbation) -> bool:
    t = (p.type or "").lower()
    return bool(p.smiles) or any(w in t for w in ("chemical", "small molecule", "compound", "drug")) or (not t and not p.gene_symbol)


def _is_genetic(p: Perturbation) -> bool:
    t = (p.type or "").lower()
    return any(w in t for w in ("genetic", "knock", "crispr", "sirna", "shrna", "overexpress")) or (bool(p.gene_symbol) and not p.smiles)


def _names_of(p: Perturbation) -> set[str]:
    names = {p.name, p.gene_symbol}
    info = p.pubchem_info or {}
    for key in ("synonyms", "Synonym"):
        vals = info.get(key)
        if isinstance(vals, list):
            names.update(v for v in vals[:50] if isinstance(v, str))
    return {_fold_drug(n) for n in names if n}


def _is_actor(p: Perturbation, actor: str) -> bool:
    a = _fold_drug(actor)
    if not a:
        return False
    for n in _names_of(p):
        if not n:
            continue
        if a == n or n.startswith(a + " ") or a.startswith(n + " "):
            return True
    return False


def _raw_perturbations(record: Record) -> list[dict]:
    raw = record.raw or {}
    part = raw.get("perturbation")
    if record.shape == "tahoe" and isinstance(part, dict):
        perts = part.get("perturbations")
        perts = perts if isinstance(perts, list) else [perts]
        return [p if isinstance(p, dict) else {} for p in perts]
    return [part if isinstance(part, dict) else {}]


def _target_field(record: Record, i: int) -> str:
    """The record's own key for the targets ('known targets', 'target', ...)."""
    raws = _raw_perturbations(record)
    raw = raws[i] if i < len(raws) else {}
    for key in raw:
        if str(key).strip().lower().replace(" ", "_").replace("-", "_") in ("target", "targets", "known_targets"):
            return str(key)
    return "target"


def _moa(p: Perturbation) -> str | None:
    if p.moa_type:
        return p.moa_type
    for k, v in p.extras.items():  # Tahoe's "moa-fine" / "moa-broad"
        if str(k).lower().startswith("moa") and isinstance(v, str) and v.strip():
            return v
    return None


def _relation(claimed: str, rc: Resolved | None, listed: str, rl: Resolved | None) -> tuple[str, float] | None:
    """How a claimed target matches one listed target: (explanation, score) or None."""
    if rc is None or rl is None:  # a name that is no gene supports nothing, even written as listed
        return None
    if " ".join(claimed.casefold().split()) == " ".join(listed.casefold().split()):
        return f"{claimed} is listed as written", 0.9
    if rc.kind == "gene" and rl.kind == "gene" and rc.symbols == rl.symbols:
        return f"{claimed} is {next(iter(rl.symbols))} ({rc.via}), listed as {listed}", 0.9
    if rc.kind == "gene" and rl.kind == "family" and rc.symbols <= rl.symbols:
        return f"{claimed} is a member of the listed family {listed} ({rl.family})", 0.75
    if rc.kind == "family" and rl.kind == "gene" and rl.symbols <= rc.symbols:
        return f"the listed {listed} is a member of {claimed} ({rc.family})", 0.75
    if rc.kind == "fusion" and rl.kind == "gene" and rl.symbols <= rc.symbols:
        return f"{claimed} contains the listed {listed}", 0.7
    if rc.kind == "list" and rl.kind == "family" and rc.symbols <= rl.symbols:
        return f"every part of {claimed} is a member of the listed family {listed} ({rl.family})", 0.75
    if rc.kind == "family" and rl.kind == "family" and (rc.family == rl.family):
        return f"{claimed} and {listed} are the same family ({rc.family})", 0.9
    return None


def resolve_claimed(name: str) -> tuple[Resolved | None, str]:
    """The gene a claimed target stands for (:func:`vcr_core.knowledge.drug_targets.ground_target`: a protein
    change, a trailing "kinase", a list "VEGFR1/2/3", a fusion); (None, '') if none."""
    return ground_target(name)


def _shared_class(claimed: set[str], listed: set[str]) -> tuple[str, int] | None:
    """A broad target class (GO molecular function) the claimed and listed genes share, with how many listed genes
    are in it; None when they share none (also when no org db is installed: the score is then the out-of-class
    one, and the message says nothing of classes)."""
    from ..knowledge.orgdb import get_orgdb

    db = get_orgdb()
    if db is None:
        return None
    for go_id, label in TARGET_CLASSES.items():
        members = db.genes_annotated_to(go_id)
        if claimed & members and listed & members:
            return f"{label} ({go_id})", len(listed & members)
    return None


class RecordVerifier:
    """Checks target and direction claims against the record's own target list and MoA."""

    name, version = NAME, VERSION
    graph_scoped = True  # its verdict depends on who causes the claim in its own graph (verify/graph.py)

    def applies(self, node: Node) -> bool:
        return node.action in APPLIES_TO

    def verify(self, ctx: ClaimContext) -> ClaimVerdict:
        record = ctx.record
        if not record.perturbations:
            return unverifiable("the record names no perturbation")
        if ctx.node.action == "binds_to":
            return self._binds(ctx.node, record)
        if ctx.node.action == "loss_of_function":
            return self._loss(ctx.node, record)
        # Directions along the graph: the MoA applies only when the perturbation is upstream of the claim and
        # no other actor (the context's soluble factor, a ligand binding the target) is among its causes.
        att = attribute(ctx.explanation, record, ctx.node, lambda name: any(_is_actor(p, name) for p in record.perturbations))
        if att.kind != "perturbation":
            return unverifiable(f"the record's MoA says nothing about this claim: {att.reason}; it is judged by its own "
                                "cause, not by the perturbation")
        if ctx.node.action == "post_translational_modification":
            return self._ptm(ctx.node, record)
        return self._activity(ctx.node, record)

    # -- post_translational_modification
    def _ptm(self, node: Node, record: Record) -> ClaimVerdict:
        """Phosphorylation of a receptor tyrosine kinase the drug inhibits (a curated or record target): an
        ATP-competitive inhibitor blocks the receptor's autophosphorylation, so "down" is supported (0.6). "Up" is
        never contradicted: inhibited kinases can be phosphorylated more by feedback or by other kinases (pMEK
        rises under some MEK inhibitors, RAF inhibitors phosphorylate CRAF), and the claim may be about another
        site. Substrates of the kinase (ERK under a MEK inhibitor) need kinase-substrate relations no installed
        package ships: unverifiable."""
        protein, mod, direction = node.args.get("protein"), str(node.args.get("mod_type") or ""), \
            str(node.args.get("direction") or "").strip().lower()
        if not isinstance(protein, str) or "phospho" not in mod.lower() or direction not in ("up", "down"):
            return unverifiable("only phosphorylation of a named protein with a direction up or down is checked here")
        for pert in record.perturbations:
            if not _is_chemical(pert):
                continue
            dt = drug_targets(pert.name or pert.label, record)
            m = dt.match(protein)
            if m is None or m.kind != KNOWN:
                continue
            moa = _moa(pert)
            if moa_direction(moa) != "down":
                return unverifiable(f"{protein!r} is a listed target of {pert.label}, but its MoA ({moa or 'none given'}) "
                                    "does not say it is inhibited", [DrugTargetList(drug=dt.drug, matched=m.target.name, how=m.how,
                                                                                    target_kind=m.kind).store()])
            from ..knowledge.orgdb import get_orgdb, orgdb_status
            db = get_orgdb()
            if db is None:
                return unverifiable(f"whether {protein!r} is a receptor tyrosine kinase is unknown ({orgdb_status()[1]})")
            rtk = sorted(m.target.symbols & db.genes_annotated_to(RTK_ACTIVITY))
            if not rtk:
                return unverifiable(f"{m.target.name} is not annotated as a receptor tyrosine kinase ({RTK_ACTIVITY}), so "
                                    "its phosphorylation under the inhibitor is not implied by the MoA")
            ev = [RecordField(record=record.index, perturbation=pert.label, field="moa_type", value=moa, matched=m.target.name,
                              how=m.how, expected_direction="down").store(),
                  DrugTargetList(drug=dt.drug, target_kind=m.kind, matched=m.target.name, how=m.how, claimed=protein,
                                 sources=dt.known_sources()).store()]
            if direction == "down":
                return ClaimVerdict(SUPPORTED, 0.6, ev, f"{m.target.name} ({', '.join(rtk[:3])}) is a receptor tyrosine kinase "
                                    f"({RTK_ACTIVITY}, {db.source}) that {pert.label} inhibits ({moa!r}): a kinase inhibitor blocks "
                                    "its autophosphorylation")
            return unverifiable(f"{pert.label} inhibits {m.target.name}, which suggests less autophosphorylation, but more "
                                "phosphorylation of an inhibited kinase by feedback or other kinases is known, so 'up' is not "
                                "contradicted", ev)
        return unverifiable(f"{protein!r} is not a known target of the record's drug; its phosphorylation needs "
                            "kinase-substrate relations that no installed source ships")

    # -- binds_to
    def _binds(self, node: Node, record: Record) -> ClaimVerdict:
        actor, target = node.args.get("actor"), node.args.get("target")
        if not isinstance(actor, str) or not isinstance(target, str):
            return unverifiable("binds_to needs a text actor and target")
        hits = [(i, p) for i, p in enumerate(record.perturbations) if _is_actor(p, actor)]
        i, pert = hits[0] if hits else (None, None)
        dt = drug_targets(pert.name or actor, record) if pert is not None else drug_targets(actor)
        rc, read_as = ground_target(target)
        base = dict(drug=dt.drug, sources=dt.known_sources(), checked_against=dt.checked_against() or None, claimed=target,
                    ungrounded=list(dt.ungrounded), roles=list(dt.roles)[:12], closed_world=dt.curated)
        rec_ev = (RecordField(record=record.index, perturbation=pert.label, field=_target_field(record, i),
                              value=list(pert.targets)).store() if pert is not None and pert.targets else None)
        m = dt.match(target)
        if m is not None:
            how = m.how + (f" ({read_as})" if read_as else "")
            ev = [DrugTargetList(**base, target_kind=m.kind, matched=m.target.name, how=how).store()]
            if rec_ev is not None and m.target.source.startswith("record"):
                ev.insert(0, RecordField(**rec_ev, matched=m.target.name, how=how).store())
            if m.kind == KNOWN:
                return ClaimVerdict(SUPPORTED, m.score, ev, f"{m.target.source} lists {m.target.name}: {how}")
            return ClaimVerdict(SUPPORTED, m.score, ev, f"inferred only, so weak: {how}. A ChEBI class role is coarse "
                                "and can be wrong; it never rules a target out")
        ev = [x for x in (rec_ev, DrugTargetList(**base, claimed_as=sorted(rc.symbols)[:10] if rc else None).store()) if x]
        listed = f" (checked against {dt.checked_against()})" if dt.known else ""
        if rc is not None and rc.kind == "list":
            matched, missing = dt.list_matches(target)
            if matched:  # part of the list is right: the claim is partly wrong at most, never contradicted whole
                return unverifiable(f"{target!r} lists {len(matched) + len(missing)} targets; "
                                    f"{', '.join(missing)} not among the known targets{listed}", ev)
        if dt.ungrounded and not dt.known:
            return unverifiable(f"the record's targets for {dt.drug} ({', '.join(dt.ungrounded[:5])}) are not genes or "
                                f"families the offline sources know, so they support nothing and rule nothing out", ev)
        if rc is None or not rc.symbols:
            return unverifiable(f"{target!r} is not a gene or family name the offline sources know, so no target list can "
                                f"rule it in or out{listed}", ev)
        if not dt.known:
            if pert is None:
                labels = ", ".join(p.label for p in record.perturbations)
                return unverifiable(f"the actor {actor!r} is not the record's perturbation ({labels}) and no curated source "
                                    "lists its targets (unknown drugs stay unverifiable)", ev)
            return unverifiable(f"no curated target list for {dt.drug}: the record lists no grounded targets and PrimeKG "
                                "lists none; inferred classes never rule a target out", ev)
        if not dt.curated:
            return unverifiable(f"{target!r} is not among the known targets{listed}; open world: the record's target field "
                                "names a target, it is not curated as the drug's complete list", ev)
        sibs = dt.relatives(rc)
        if sibs or in_known_family(dt, rc):
            return unverifiable(f"{target!r} is not listed but shares a FamPlex family with {', '.join(sibs) or 'a listed target'}; "
                                "paralogues often share binders, so this is not a contradiction", ev)
        if dt.ungrounded:
            return unverifiable(f"{target!r} is not among the known targets{listed}, but the list also names "
                                f"{', '.join(dt.ungrounded[:5])}, which are not gene names the offline sources know (an alias "
                                "could hide a match)", ev)
        n = len(dt.known)
        shared_class = _shared_class(set(rc.symbols), set(dt.known_symbols))
        shared = shared_class[0] if shared_class else None
        if shared_class and shared_class[1] >= MULTI_TARGET_MIN:
            ev[-1] = {**ev[-1], "class_check": f"shares the class {shared} with {shared_class[1]} listed targets"}
            return unverifiable(f"{target!r} is not among the {n} known targets of {dt.drug}{listed}, but it is a {shared} "
                                f"like {shared_class[1]} of them: a drug that hits that many of one class is promiscuous "
                                "within it, and its curated list is a sample, not the whole (kinome-wide profiling finds "
                                "dozens of off-targets for such inhibitors), so the list does not rule this one out", ev)
        score = SAME_CLASS_SCORE if shared else OTHER_CLASS_SCORE
        ev[-1] = {**ev[-1], "class_check": (f"shares the class {shared} with a listed target" if shared
                                            else "no GO molecular-function class in common with the listed targets")}
        return ClaimVerdict(CONTRADICTED, score, ev,
                            f"closed world: {dt.checked_against()} list(s) {n} known target(s) of {dt.drug}; {target!r} "
                            f"({rc.kind} {', '.join(sorted(rc.symbols)[:5])}) is none of them, nor an alias, member or FamPlex "
                            "relative of one. " + (f"It is a {shared} like a listed target, so it could be an off-target the list "
                                                   "leaves out: weak" if shared else "Off-target binding is possible, hence a "
                                                   "score below 1"))

    # -- modulates_molecule_activity
    def _activity(self, node: Node, record: Record) -> ClaimVerdict:
        target, direction = node.args.get("target"), str(node.args.get("direction") or "").strip().lower()
        if not isinstance(target, str) or direction not in ("up", "down"):
            return unverifiable("needs a text target and a direction up or down")
        rc, read_as = resolve_claimed(target)
        for i, pert in enumerate(record.perturbations):
            field = _target_field(record, i)
            matched = None
            for name in pert.targets:
                rel = _relation(target, rc, name, resolve(name))
                if rel:
                    matched = (name, rel[0])
                    break
            if matched is None and rc is not None and rc.kind == "list":
                # a list ("VEGFR-1/VEGFR-2") follows the MoA when every part is a listed target
                found = [next((n for n in pert.targets if _relation(part, resolve(part), n, resolve(n))), None)
                         for part in split_target_list(target) or []]
                if found and all(found):
                    matched = (", ".join(dict.fromkeys(found)), f"every part of {target} is listed")
            if _is_genetic(pert) and matched is None and pert.gene_symbol:
                rel = _relation(target, rc, pert.gene_symbol, resolve(pert.gene_symbol))
                matched = (pert.gene_symbol, rel[0]) if rel else None
                field = "gene symbol" if rel else field
            if matched is None:
                continue
            if read_as:
                matched = (matched[0], f"{matched[1]} ({read_as})")
            if _is_genetic(pert):
                expected, basis, source = genetic_direction(pert.type, pert.name), "perturbation type", pert.type or pert.name
            else:
                moa = _moa(pert)
                expected, basis, source = moa_direction(moa), "moa_type", moa
            # basis is "moa_type" or "perturbation type" (kept as an extra field of the record's wording)
            ev = RecordField(record=record.index, perturbation=pert.label, field=field,
                             value=list(pert.targets) or pert.gene_symbol, matched=matched[0], how=matched[1],
                             expected_direction=expected, **{basis: source})
            if expected is None:
                return unverifiable(f"{target!r} is a listed target of {pert.label}, but its {basis} "
                                    f"({source or 'none given'}) gives no direction", [ev])
            if expected == direction:
                return ClaimVerdict(SUPPORTED, 0.8, [ev], f"{pert.label}'s {basis} {source!r} means {matched[0]} activity "
                                    f"goes {expected}, as claimed")
            return ClaimVerdict(CONTRADICTED, 0.6, [ev], f"{pert.label}'s {basis} {source!r} means {matched[0]} activity "
                                f"goes {expected}; the claim says {direction}")
        return unverifiable(f"{target!r} is not a target the record lists, so its MoA says nothing about it")

    # -- loss_of_function
    def _loss(self, node: Node, record: Record) -> ClaimVerdict:
        """A knockout-like perturbation of the record removes its own gene's function: the claimed protein is
        that gene's product (supported) or another gene's (contradicted: the record names what was knocked out)."""
        variant, protein = node.args.get("variant"), node.args.get("protein")
        if not isinstance(variant, str) or not isinstance(protein, str):
            return unverifiable("loss_of_function needs a text variant and protein")
        for pert in record.perturbations:
            gene = pert.gene_symbol or (pert.targets[0] if _is_genetic(pert) and len(pert.targets) == 1 else None)
            if not gene or genetic_direction(pert.type, pert.name) != "down":
                continue
            names = {_fold_drug(x) for x in (pert.name, gene) if x}
            if not any(n and n in _fold_drug(variant) for n in names):
                continue  # the claim's variant is not the record's perturbation
            ev = RecordField(record=record.index, perturbation=pert.label, perturbation_type=pert.type, gene=gene)
            rg, rp = resolve(gene), resolve(protein)
            rel = _relation(protein, rp, gene, rg)
            if rel:
                return ClaimVerdict(SUPPORTED, 0.8, [ev.model_copy(update={"how": rel[0]})],
                                    f"the record's {pert.type or 'genetic'} perturbation {pert.label!r} removes {gene}: {rel[0]}")
            if rp is None or rg is None or rp.kind != "gene":
                return unverifiable(f"{protein!r} is not a gene the offline sources know; the record's knockout is of {gene}", [ev])
            return ClaimVerdict(CONTRADICTED, 0.6, [ev.model_copy(update={"claimed": protein, "claimed_as": sorted(rp.symbols)[:5]})],
                                f"the record's perturbation {pert.label!r} knocks out {gene}, not {protein} "
                                f"({', '.join(sorted(rp.symbols)[:3])})")
        return unverifiable("the claim's variant is not the record's own knockout-like perturbation")
