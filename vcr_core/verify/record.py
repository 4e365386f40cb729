"""The record verifier: the perturbation record itself is evidence.

A Tahoe record lists ``known targets`` and a ``moa_type``; a single-shape record has ``target`` and
``moa_type``. Rules (names compared case-insensitively through HGNC/Entrez aliases and FamPlex
families, see :mod:`vcr_core.knowledge.genes`: "VEGFR2" is KDR, "ERK1/2" is MAPK1 and MAPK3):

* ``binds_to(actor, target)`` where the actor is the record's perturbation and the target is a
  listed target -> **supported** (0.9 the same gene, 0.75 a family relation: the claim names a
  family with a listed member or a member of a listed family); evidence: the record's field and value.
* ``binds_to`` to a target outside the list -> **contradicted (0.6) only in a closed world**: the
  record is a Tahoe record whose ``known targets`` list is curated as complete, the actor is that
  record's chemical perturbation, the claimed target is a real gene or FamPlex family, every listed
  target resolves to genes too (so an alias cannot hide a match), and the claimed target is neither
  a listed gene, an alias of one, a member of a listed family nor in the same FamPlex family as a
  listed target (paralogues often share inhibitors). The evidence says "closed world: the record
  lists N known targets". Anywhere else (single-shape ``target``, unresolved names, siblings) it is
  unverifiable, with the reason.
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
from ..knowledge.genes import Resolved, families_of, resolve
from ..records.model import Perturbation, Record
from .base import CONTRADICTED, SUPPORTED, ClaimContext, ClaimVerdict, unverifiable
from .evidence import RecordField
from .graph import attribute

NAME, VERSION = "record", "3"

# Broad target classes (GO molecular function, with descendants). A drug's off-targets are mostly of its
# known targets' class (kinase inhibitors bind other kinases, proteasome inhibitors other peptidases), so
# the closed world never rules out a target that shares one of these classes with a listed target.
TARGET_CLASSES = {
    "GO:0016301": "kinase", "GO:0008233": "peptidase", "GO:0004879": "nuclear receptor",
    "GO:0004930": "G protein-coupled receptor", "GO:0005216": "ion channel", "GO:0005215": "transporter",
    "GO:0004407": "histone deacetylase", "GO:0003916": "DNA topoisomerase", "GO:0003950": "ADP-ribosyltransferase",
    "GO:0005200": "structural constituent of cytoskeleton", "GO:0004721": "phosphoprotein phosphatase",
    "GO:0008168": "methyltransferase", "GO:0016491": "oxidoreductase", "GO:0004888": "transmembrane signaling receptor",
}
APPLIES_TO = ("binds_to", "modulates_molecule_activity", "loss_of_function")
# A protein change after a gene name ("BRAF V600E", "EGFR p.L858R"): the claim is about that gene.
_VARIANT = re.compile(r"\s+(?:p\.)?[A-Z]\d+(?:[A-Z]|\*|del|fs)?$")

_DOWN = re.compile(r"inverse agonist|inactivat|negative allosteric|inhibit|antagonist|blocker|degrad|suppress|down-?regulat|"
                   r"destabili[sz]|disrupt", re.IGNORECASE)
_UP = re.compile(r"(?<!inverse )\bagonist|\bactivat|\binducer|\bopener|\bpotentiat|positive allosteric|\bstimulat|"
                 r"\bup-?regulat|\bstabili[sz]er", re.IGNORECASE)
_GENETIC_DOWN = re.compile(r"knock-?out|knock-?down|\bko\b|sirna|shrna|crispri|crispr(?![\s-]*a)|deletion|loss|silenc|null", re.IGNORECASE)
_GENETIC_UP = re.compile(r"overexpress|crispra|activation|gain", re.IGNORECASE)
_SALTS = re.compile(r"\b(mesylate|mesilate|esylate|hydrochloride|dihydrochloride|hcl|sodium|potassium|maleate|tosylate|citrate|"
                    r"sulfate|sulphate|phosphate|acetate|tartrate|fumarate|succinate|besylate|hydrobromide|"
                    r"dimaleate|monohydrate|hydrate|free base)\b", re.IGNORECASE)


def moa_direction(moa: str | None) -> str | None:
    """'down' / 'up' for an MoA text, None when it says neither or both."""
    if not moa:
        return None
    down, up = bool(_DOWN.search(moa)), bool(_UP.search(moa))
    return "down" if down and not up else "up" if up and not down else None


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


def _closed_world(record: Record, i: int) -> bool:
    """Tahoe ``known targets`` lists are curated as the drug's complete target list."""
    return record.shape == "tahoe" and _target_field(record, i).strip().lower().replace("_", " ") == "known targets"


def _relation(claimed: str, rc: Resolved | None, listed: str, rl: Resolved | None) -> tuple[str, float] | None:
    """How a claimed target matches one listed target: (explanation, score) or None."""
    if " ".join(claimed.casefold().split()) == " ".join(listed.casefold().split()):
        return f"{claimed} is listed as written", 0.9
    if rc is None or rl is None:
        return None
    if rc.kind == "gene" and rl.kind == "gene" and rc.symbols == rl.symbols:
        return f"{claimed} is {next(iter(rl.symbols))} ({rc.via}), listed as {listed}", 0.9
    if rc.kind == "gene" and rl.kind == "family" and rc.symbols <= rl.symbols:
        return f"{claimed} is a member of the listed family {listed} ({rl.family})", 0.75
    if rc.kind == "family" and rl.kind == "gene" and rl.symbols <= rc.symbols:
        return f"the listed {listed} is a member of {claimed} ({rc.family})", 0.75
    if rc.kind == "fusion" and rl.kind == "gene" and rl.symbols <= rc.symbols:
        return f"{claimed} contains the listed {listed}", 0.7
    if rc.kind == "family" and rl.kind == "family" and (rc.family == rl.family):
        return f"{claimed} and {listed} are the same family ({rc.family})", 0.9
    return None


def resolve_claimed(name: str) -> tuple[Resolved | None, str]:
    """The gene a claimed target stands for, reading through a protein change ("BRAF V600E" -> BRAF)
    and a fusion ("BCR-ABL1" -> ABL1 when only one part is a gene the sources know); (None, '') if none."""
    rc = resolve(name)
    if rc is not None:
        return rc, ""
    stripped = _VARIANT.sub("", name.strip())
    if stripped != name.strip() and (rc := resolve(stripped)) is not None:
        return rc, f"{name!r} is a variant of {stripped}"
    parts = [x for x in re.split(r"::|-|/", name) if x.strip()]
    if len(parts) == 2:
        found = [(x, r) for x in parts if (r := resolve(x)) is not None and r.kind == "gene"]
        if found:
            symbols = frozenset().union(*(r.symbols for _, r in found))
            return Resolved(name, "fusion", symbols, "fusion of " + " and ".join(x for x, _ in found)), \
                f"{name!r} is a fusion containing {', '.join(x for x, _ in found)}"
    return None, ""


def _siblings(rc: Resolved, listed: list[tuple[str, Resolved | None]]) -> list[str]:
    fams_c = set().union(*(families_of(s) for s in rc.symbols)) | ({rc.family} if rc.family else set())
    out = []
    for name, rl in listed:
        if rl is None:
            continue
        fams_l = set().union(*(families_of(s) for s in rl.symbols)) | ({rl.family} if rl.family else set())
        if fams_c & fams_l or (rc.symbols & rl.symbols):
            out.append(f"{name} ({', '.join(sorted(fams_c & fams_l)) or 'shared genes'})")
    return out


def _shared_class(claimed: set[str], listed: set[str]) -> tuple[str | None, str | None]:
    """(a target class the claimed and listed genes share, or None; a reason the check cannot be made, or None)."""
    from ..knowledge.orgdb import get_orgdb, orgdb_status

    db = get_orgdb()
    if db is None:
        return None, f"target classes unknown ({orgdb_status()[1]})"
    for go_id, label in TARGET_CLASSES.items():
        members = db.genes_annotated_to(go_id)
        if claimed & members and listed & members:
            return f"{label} ({go_id})", None
    return None, None


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
        return self._activity(ctx.node, record)

    # -- binds_to
    def _binds(self, node: Node, record: Record) -> ClaimVerdict:
        actor, target = node.args.get("actor"), node.args.get("target")
        if not isinstance(actor, str) or not isinstance(target, str):
            return unverifiable("binds_to needs a text actor and target")
        hits = [(i, p) for i, p in enumerate(record.perturbations) if _is_actor(p, actor)]
        if not hits:
            labels = ", ".join(p.label for p in record.perturbations)
            return unverifiable(f"the actor {actor!r} is not the record's perturbation ({labels}); the record says "
                                f"nothing about its targets")
        i, pert = hits[0]
        field = _target_field(record, i)
        if not pert.targets:
            return unverifiable(f"the record lists no targets for {pert.label}")
        rc, read_as = resolve_claimed(target)
        listed = [(t, resolve(t)) for t in pert.targets]
        ev_base = RecordField(record=record.index, perturbation=pert.label, field=field, value=list(pert.targets)).store()
        best = None
        for name, rl in listed:
            rel = _relation(target, rc, name, rl)
            if rel and (best is None or rel[1] > best[1]):
                best = (rel[0], rel[1], name)
        if best:
            how = best[0] + (f" ({read_as})" if read_as else "")
            return ClaimVerdict(SUPPORTED, best[1], [RecordField(**ev_base, matched=best[2], how=how)],
                                f"the record's {field!r} lists {best[2]}: {how}")
        n = len(pert.targets)
        shown = ", ".join(pert.targets[:12]) + (" ..." if n > 12 else "")
        if rc is None:
            return unverifiable(f"{target!r} is not among the record's {field!r} ({shown}), and it is not a gene or family "
                                "name the offline sources know, so the record cannot rule it out", [ev_base])
        sibs = _siblings(rc, listed)
        if sibs:
            return unverifiable(f"{target!r} is not listed but shares a family with listed {', '.join(sibs)}; paralogues "
                                "often share binders, so this is not a contradiction", [ev_base])
        unresolved = [name for name, rl in listed if rl is None]
        if not _closed_world(record, i) or not _is_chemical(pert) or unresolved:
            why = (f"listed target(s) {', '.join(unresolved)} are not gene names the offline sources know" if unresolved
                   else f"the record's {field!r} is not curated as a complete list" if not _closed_world(record, i)
                   else "the perturbation is not a chemical")
            return unverifiable(f"{target!r} is not among the record's {field!r} ({shown}); open world: {why}", [ev_base])
        shared, why_not = _shared_class(rc.symbols, set().union(*(rl.symbols for _, rl in listed)))
        if shared or why_not:
            reason = (f"it shares the target class {shared} with a listed target, and drugs often bind other members of "
                      f"their targets' class" if shared else why_not)
            return unverifiable(f"{target!r} is not among the record's {field!r} ({shown}); not ruled out: {reason}",
                                [RecordField(**ev_base, class_check=shared or why_not)])
        ev = RecordField(**ev_base, closed_world=True, claimed=target, claimed_as=sorted(rc.symbols)[:10], resolved_via=rc.via,
                         class_check="no GO molecular-function class in common with the listed targets (org.Hs.eg.db)")
        return ClaimVerdict(CONTRADICTED, 0.6, [ev],
                            f"closed world: the record lists {n} known target(s) of {pert.label} ({shown}); {target!r} "
                            f"({rc.kind} {', '.join(sorted(rc.symbols)[:5])}) is none of them, nor an alias, member or "
                            "family relative of one, nor of a listed target's class (GO molecular function)")

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
