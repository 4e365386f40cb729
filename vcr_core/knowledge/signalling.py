"""Signalling knowledge derived from GO annotations (org.Hs.eg.db): which receptors a soluble factor
acts through, which pathways a gene regulates, and which cell-level outcomes a pathway's members regulate.

Nothing here is a hand list: every answer is read from GO and carries the terms and evidence codes it
came from, so whoever uses it can label it and say where it stops.

* ``receptors_of``: a ligand annotated to the molecular function "<X> receptor binding" acts through the
  genes annotated to "<X> receptor activity" (IFNG: "type II interferon receptor binding" -> IFNGR1,
  IFNGR2). Generic pairings ("signaling receptor binding") name too many genes and are skipped.
* ``regulated_pathways``: a gene's experimental "positive/negative regulation of <pathway>" annotations,
  where the pathway is a signalling term (cascade, signal transduction, signaling pathway).
* ``pathway_outcomes``: the general cell-level processes that the pathway's own members (genes annotated
  to the pathway term) regulate, counted by member; an outcome is only given when at least
  ``MIN_MEMBERS`` members agree and at most a fifth disagree (a vote of annotations, labelled as such).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

EXPERIMENTAL = frozenset({"EXP", "IDA", "IPI", "IMP", "IGI", "IEP", "HTP", "HDA", "HMP", "HGI", "HEP", "TAS", "IC"})
MAX_RECEPTOR_GENES = 8      # a "<X> receptor activity" term naming more genes is a class, not a receptor
MAX_PATHWAY_MEMBERS = 300   # a pathway term with more members is too broad to vote on
MIN_MEMBERS = 4
MIN_AGREEMENT = 0.8
_REG = re.compile(r"^(positive|negative) regulation of (.+)$")
_SIGNALLING = re.compile(r"(signaling pathway|signal transduction|cascade|signaling)( via [^ ]+)?$")
_GENERIC_PATHWAY = re.compile(r"^(signal transduction|cell surface receptor signaling pathway|intracellular signal transduction|"
                              r"signaling|protein kinase B signaling|G protein-coupled receptor signaling pathway)$")
# General cell-level processes a pathway's members may vote on (cell-type-specific ones are left out:
# the vote pools genes annotated in many cell types).
VOTE_PROCESSES = ("cell population proliferation", "apoptotic process", "cell migration", "cell growth", "autophagy",
                  "angiogenesis", "inflammatory response", "cellular senescence", "epithelial to mesenchymal transition",
                  "G1/S transition of mitotic cell cycle")


@dataclass(frozen=True)
class ReceptorLink:
    ligand: str
    receptor: str
    binding_go_id: str
    binding_term: str
    evidence: str          # the ligand's evidence codes for the binding term
    receptor_go_id: str
    receptor_term: str
    why: str = ""          # why this receptor of the class: named after the ligand, or a shared pathway


@dataclass(frozen=True)
class PathwayLink:
    gene: str
    pathway: str
    pathway_go_id: str
    sign: int              # +1: the gene positively regulates the pathway
    evidence: str
    regulation_go_id: str
    regulation_term: str


@dataclass
class PathwayOutcome:
    process: str
    sign: int              # +1: the members positively regulate the process
    agree: list[str] = field(default_factory=list)
    disagree: list[str] = field(default_factory=list)

    @property
    def statement(self) -> str:
        word = "positive" if self.sign > 0 else "negative"
        return (f"{len(self.agree)} member gene(s) of the pathway are annotated (experimental GO evidence) to {word} "
                f"regulation of {self.process} ({', '.join(self.agree[:6])}{', ...' if len(self.agree) > 6 else ''}); "
                f"{len(self.disagree)} to the opposite")


def _codes(anns: Iterable[Any]) -> str:
    return ", ".join(sorted({a.evidence for a in anns if a.evidence}))


def _signalling_terms(db: Any, gene: str) -> set[str]:
    """The specific signalling pathways a gene is annotated to (BP, any evidence; generic ones left out)."""
    return {a.go_id for a in db.go_annotations(gene)
            if getattr(a, "ontology", "BP") == "BP" and _SIGNALLING.search(a.term or "") and not _REG.match(a.term or "")
            and not _GENERIC_PATHWAY.match(a.term or "") and "cytokine-mediated" not in (a.term or "")}


_STRICT = frozenset({"EXP", "IDA", "IPI", "IMP", "IGI"})


def _hgnc_names() -> dict[str, tuple[str, ...]]:
    from .gene_files import hgnc_genes
    return {g.symbol: (g.symbol, *g.aliases, *g.previous) for g in hgnc_genes()}


_NAMES: list[dict[str, tuple[str, ...]]] = []


def gene_names(symbol: str) -> tuple[str, ...]:
    """The gene's HGNC symbol, aliases and previous symbols (HGNC's file, read once)."""
    if not _NAMES:
        try:
            _NAMES.append(_hgnc_names())
        except Exception:  # noqa: BLE001 - no HGNC file: only the symbol itself
            _NAMES.append({})
    return _NAMES[0].get(symbol, (symbol,))


def _named_for(receptor: str, ligands: list[str], names=gene_names) -> bool:
    """HGNC names receptors after their ligands: IFNGR1 (IFNG), IL2RA (IL2), TNFR1 = TNFRSF1A (TNF),
    VEGFR2 = KDR (VEGFA), TGFBR2 (TGFB1): the receptor's symbol or an alias is the ligand's symbol, or its
    root without the member suffix, then "R" and at most two characters."""
    roots = set()
    for lig in ligands:
        roots.add(lig)
        root = re.sub(r"(?<=[A-Z])([0-9]+[A-Z]?|[A-Z])$", "", lig)  # TGFB1 -> TGFB, VEGFA -> VEGF, IL1B -> IL1
        if len(root) >= 2:
            roots.add(root)
    pattern = re.compile(r"^(" + "|".join(sorted(map(re.escape, roots), key=len, reverse=True)) + r")R[0-9A-Z]{0,2}$")
    return any(pattern.match(n.upper()) for n in names(receptor))


def receptors_of(db: Any, ligands: list[str], limit: int = 3, names=gene_names) -> list[ReceptorLink]:
    """The receptors that GO's "<X> receptor binding" of ``ligands`` (one gene, or a family's members) points
    to; the pairing annotated by most of the ligands first (a family: VEGFA..VEGFD, PGF -> VEGF receptors).

    GO's receptor-activity terms name whole receptor classes (every TNF receptor superfamily member is
    "tumor necrosis factor receptor activity"), so a receptor is kept when HGNC names it after the ligand
    (:func:`_named_for`); failing that, when its own receptor-activity annotation is experimental and it shares
    a specific signalling pathway annotation with the ligand. Either way the pairing is an inference."""
    by_term: dict[str, list[tuple[str, Any]]] = {}
    for lig in ligands:
        for a in db.go_annotations(lig):
            m = re.match(r"^(.+) receptor binding$", a.term or "")
            if getattr(a, "ontology", "MF") == "MF" and m:
                by_term.setdefault(a.term, []).append((lig, a))
    ligand_paths = set().union(*(_signalling_terms(db, lig) for lig in ligands)) if ligands else set()
    for term, hits in sorted(by_term.items(), key=lambda kv: -len({lig for lig, _ in kv[1]})):
        want = term[: -len(" binding")] + " activity"
        ids = db.find_terms(want, ("MF",))
        if not ids:
            continue
        genes = (set(db.genes_annotated_to(ids[0], include_descendants=False)) | set(db.genes_annotated_to(ids[0]))) - set(ligands)
        named = {g for g in genes if _named_for(g, ligands, names)}
        chosen = named
        if not chosen and len(genes) <= MAX_RECEPTOR_GENES:  # a generic class ("chemokine receptor activity"): no guess
            exp = {g for g in genes if any(a.go_id == ids[0] and a.evidence in _STRICT for a in db.go_annotations(g))}
            chosen = {g for g in exp if _signalling_terms(db, g) & ligand_paths}
        if not chosen or len(chosen) > MAX_RECEPTOR_GENES:
            continue
        lig = hits[0][0]
        return [ReceptorLink(lig, g, hits[0][1].go_id, term, _codes(a for _, a in hits), ids[0], want,
                             "named after the ligand (HGNC)" if g in named else "experimental receptor annotation and a shared pathway")
                for g in sorted(chosen)][:limit]
    return []


def regulated_pathways(db: Any, gene: str) -> list[PathwayLink]:
    """Signalling pathways the gene regulates by experimental GO annotation (one direction only)."""
    found: dict[str, list[tuple[int, Any]]] = {}
    for a in db.go_annotations(gene):
        m = _REG.match(a.term or "")
        if (getattr(a, "ontology", "BP") != "BP" or not m or a.evidence not in EXPERIMENTAL
                or not _SIGNALLING.search(m.group(2)) or _GENERIC_PATHWAY.match(m.group(2))):
            continue
        found.setdefault(m.group(2), []).append((1 if m.group(1) == "positive" else -1, a))
    out = []
    for pathway, hits in found.items():
        signs = {s for s, _ in hits}
        if len(signs) != 1:
            continue  # annotated both ways: no direction
        ids = db.find_terms(pathway, ("BP",))
        a = hits[0][1]
        out.append(PathwayLink(gene, pathway, ids[0] if ids else "", hits[0][0], _codes(x for _, x in hits), a.go_id, a.term))
    return out


def pathway_outcomes(db: Any, pathway_go_id: str, exclude: Iterable[str] = ()) -> list[PathwayOutcome]:
    """Cell-level processes the pathway's members regulate, by vote (see the module docstring); best first."""
    if not pathway_go_id:
        return []
    members = sorted(set(db.genes_annotated_to(pathway_go_id, include_descendants=False)) - set(exclude))
    if not members or len(members) > MAX_PATHWAY_MEMBERS:
        return []
    votes: dict[str, dict[int, list[str]]] = {}
    for g in members:
        seen = set()
        for a in db.go_annotations(g):
            m = _REG.match(a.term or "")
            if not m or a.evidence not in EXPERIMENTAL or m.group(2) not in VOTE_PROCESSES:
                continue
            seen.add((m.group(2), 1 if m.group(1) == "positive" else -1))
        for process, sign in seen:
            votes.setdefault(process, {1: [], -1: []})[sign].append(g)
    out = []
    for process, by in votes.items():
        for sign in (1, -1):
            agree, disagree = by[sign], by[-sign]
            if len(agree) >= MIN_MEMBERS and len(agree) / (len(agree) + len(disagree)) >= MIN_AGREEMENT:
                out.append(PathwayOutcome(process, sign, agree, disagree))
    return sorted(out, key=lambda o: (-len(o.agree), VOTE_PROCESSES.index(o.process)))


@dataclass(frozen=True)
class Effector:
    name: str              # the FamPlex family or gene the pathway's name names ("ERK")
    symbols: tuple[str, ...]
    named_as: str          # the words of the pathway name ("ERK1 and ERK2")


def pathway_effectors(db: Any, pathway: str, pathway_go_id: str, resolve=None) -> list[Effector]:
    """The genes a pathway's GO name names that are also annotated to the pathway term itself ("ERK1 and
    ERK2 cascade" -> ERK1 = MAPK3 and ERK2 = MAPK1, the FamPlex family ERK): the effectors a biologist
    expects between a receptor or kinase and the outcome. A word that the gene resolver reads as a gene not
    annotated to the pathway ("TOR" -> RORC) is not one."""
    if resolve is None:
        from .genes import resolve
    from .genes import families_of, family_members
    members = set(db.genes_annotated_to(pathway_go_id, include_descendants=False)) if pathway_go_id else set()
    if not members:
        return []
    words: list[str] = []
    for w in re.split(r"[\s/,()]+", pathway):
        if w.lower() in ("and", "of", "via", "by", "the", "signaling", "pathway", "cascade", "signal", "transduction"):
            continue
        words += [w] + (w.split("-") if "-" in w else [])
    found: dict[str, str] = {}   # symbol -> the word that named it
    for w in words:
        if len(w) < 3 or not re.search(r"[A-Z]", w):
            continue
        r = resolve(w)
        if r is None:
            continue
        hit = set(r.symbols) & members
        if len(r.symbols) > 1 and hit != set(r.symbols):
            continue  # a family only some of whose members take part ("MAPK cascade": 2 of 14 MAPKs): not named
        for sym in sorted(hit):
            found.setdefault(sym, w)
    if not found:
        return []
    syms = set(found)
    named = list(dict.fromkeys(found.values()))
    if len(named) == 1 and len(syms) > 1:  # one word names them all ("SMAD"): that word
        return [Effector(named[0], tuple(sorted(syms)), named[0])]
    for fam in sorted({f for s in syms for f in families_of(s)}):
        fm = set(family_members(fam))
        if fm and fm == syms:  # the words name exactly a FamPlex family ("ERK1 and ERK2" -> ERK): one effector
            return [Effector(fam, tuple(sorted(syms)), " and ".join(named))]
    return [Effector(s, (s,), found[s]) for s in sorted(syms)][:2]


MAPK_ACTIVITY, MAPKK_ACTIVITY, MAPKKK_ACTIVITY = "GO:0004707", "GO:0004708", "GO:0004709"


@dataclass(frozen=True)
class CascadeTier:
    """The kinases of a MAP kinase cascade one tier above its effectors (MEK above ERK)."""

    name: str                    # the FamPlex family they make up exactly ("MEK"), else the genes joined
    symbols: tuple[str, ...]
    evidence: dict[str, str]     # symbol -> GO evidence codes of its 'MAP kinase kinase activity' annotation
    effector_evidence: dict[str, str]  # effector symbol -> codes of its 'MAP kinase activity' annotation


def _mf_codes(db: Any, gene: str, go_id: str) -> str:
    """The non-electronic evidence codes of the gene's direct annotation to the MF term ``go_id``."""
    return ", ".join(sorted({a.evidence for a in db.go_annotations(gene)
                             if a.go_id == go_id and a.evidence and a.evidence != "IEA"}))


def cascade_kinase_tier(db: Any, pathway_go_id: str, effectors: Iterable[str], exclude: Iterable[str] = ()) -> CascadeTier | None:
    """The MAP kinase kinases (MAPKKs) of a cascade whose effectors are MAP kinases: the direct members of the
    pathway term annotated (not electronically) to "MAP kinase kinase activity" (GO:0004708), which GO defines as
    the phosphorylation and activation of a MAP kinase; the effectors, ``exclude`` (the target) and genes that are
    annotated as MAP kinases or MAP kinase kinase kinases themselves (BRAF, a MAPKKK with a MAPKK
    annotation too) are left out. "ERK1 and ERK2 cascade" with ERK (MAPK1, MAPK3) -> MEK
    (MAP2K1, MAP2K2). None when the effectors are not all MAP kinases or no MAPKK is a member."""
    from .genes import families_of, family_members

    effectors = [e for e in effectors]
    if not pathway_go_id or not effectors:
        return None
    eff_codes = {e: _mf_codes(db, e, MAPK_ACTIVITY) for e in effectors}
    if not all(eff_codes.values()):
        return None
    members = set(db.genes_annotated_to(pathway_go_id, include_descendants=False))
    skip = set(effectors) | set(exclude)
    tier = {}
    for g in sorted(members - skip):
        codes = _mf_codes(db, g, MAPKK_ACTIVITY)
        if codes and not _mf_codes(db, g, MAPK_ACTIVITY) and not _mf_codes(db, g, MAPKKK_ACTIVITY):
            tier[g] = codes
    if not tier:
        return None
    syms = set(tier)
    name = next((f for f in sorted({f for s in syms for f in families_of(s)}) if set(family_members(f)) == syms),
                "/".join(sorted(syms)))
    return CascadeTier(name, tuple(sorted(syms)), tier, eff_codes)


__all__ = ["CascadeTier", "EXPERIMENTAL", "Effector", "cascade_kinase_tier", "pathway_effectors", "PathwayLink", "PathwayOutcome", "ReceptorLink", "pathway_outcomes", "receptors_of",
           "regulated_pathways"]
