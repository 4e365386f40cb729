"""Explanations assembled from knowledge, without a model (``--model_type knowledge``).

As INDRA assembles mechanisms from statements, this builds the action graph of a record from what
is known about it, by fixed rules, and keeps the source of every claim:

* the record itself: the perturbation, its listed targets and its mechanism of action (MoA);
* the loaded knowledge graph: the drug node and its ChEBI roles (starter graph), drug-target edges
  (PrimeKG); a named drug's targets through ``knowledge.drug_targets`` (record, PrimeKG, ChEBI class roles);
* Gene Ontology annotations of the targets (``vcr_core.knowledge.orgdb``, when installed), and what
  ``knowledge.signalling`` derives from them: a soluble factor's receptors, a target's pathway, and the
  outcomes the pathway's members agree on.

Rules, in order: a genetic perturbation is a ``loss_of_function`` / ``gain_of_function`` read from its type,
name and context; a soluble factor binds and activates its receptors; a drug's listed (else graph, else
class-inferred) target is bound (``binds_to``) and the MoA (or a ChEBI inhibitor/antagonist role) gives the
direction of its activity. Where the sources stop before a measurable output, a phenotype is *inferred*,
never stated as known: a target whose activity goes down and that GO annotates to "positive regulation of
P" -> P reduced (the GO annotation is a premise node and both premises are the evidence); a target that GO
annotates to regulate a signalling pathway -> the pathway's activity, closed by the outcomes its members
agree on; a ChEBI role that names a process ("apoptosis inducer", "angiogenesis inhibitor") is a known,
context-free claim where the context's cells carry out that process; "antineoplastic agent" for cancer
cells -> reduced cancer cell growth, inferred. Inferences that contradict the drug's ChEBI role or each
other are dropped; HPO gene - phenotype correlations are organism-level and not used. A record nothing is
known about gets a graph without claims and the reason (the trace is stored as incomplete), never
invented claims.

Every claim carries its source twice: a short line in ``via`` (visible wherever the claim is) and
full evidence items in the trace's tool context under ``knowledge-assembly`` (shown in Review).
Inferred claims carry ``confidence="inferred"``; known ones ``confidence="known"``.
"""
from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..formalism import Edge, Explanation, Finding, Node
from ..formalism.checks import check_explanation
from ..formalism.findings import error
from ..knowledge import cache as _cache
from ..knowledge import signalling
from ..knowledge.cache import Knowledge, set_knowledge
from ..records.model import Perturbation, Record

log = logging.getLogger(__name__)

ASSEMBLER_NAME = "knowledge-assembly"
ASSEMBLER_VERSION = "2"  # 2: genetic, soluble-factor, class-target and pathway rules; assembled_from (issue 24)
KNOWN, INFERRED = "known", "inferred"
DISCLAIMER = ("Assembled from knowledge bases by fixed rules, not reasoned by a language model: it can only "
              "restate known biology about the perturbation's targets, and every inference is labelled as one.")

MAX_TARGETS = 4
MAX_GO_PHENOTYPES = 3
MAX_PREMISES_PER_PHENOTYPE = 2
MAX_PATHWAYS_PER_TARGET = 1
MAX_PATHWAY_OUTCOMES = 2

_LOSS = re.compile(r"knock-?out|knock-?down|\bKO\b|\bKD\b|crispri|crispr(?!a)|sirna|shrna|deletion|\bnull\b|loss of function|"
                   r"\bloss\b|silenc|depletion|\bdeleted\b|-/-", re.I)
_GAIN = re.compile(r"overexpress|over-express|\bOE\b|crispra|CRISPR activation|gain of function|\bgain\b|ectopic expression|"
                   r"constitutively active", re.I)
# Words of a genetic perturbation's name that are the method, not the gene.
_METHOD_WORDS = re.compile(r"^(ko|kd|oe|crispr|crispri|crispra|sirna|shrna|knockout|knockdown|knock-out|knock-down|overexpression|"
                           r"over-expression|of|against|targeting|the|gene|loss|gain|deletion|null|mutant|silencing|"
                           r"depletion|cas9|dcas9|activation|interference|and|in|with|a|an)$", re.I)
_GENETIC = re.compile(r"genetic|crispr|knock|sirna|shrna|overexpress|\bKO\b|\bKD\b|\bOE\b|-/-|silenc|deletion|"
                      r"gain of function|loss of function", re.I)
_SOLUBLE = re.compile(r"cytokine|growth factor|ligand|soluble|recombinant|protein|hormone|chemokine|interleukin|interferon|"
                      r"stimulation|stimulated", re.I)
_STIM_WORDS = re.compile(r"\b(recombinant|human|rh|stimulation|stimulated|treatment|treated|addition|added|soluble|protein)\b", re.I)
_SALT = re.compile(r"\s*\((?:[^()]*)\)\s*$")
_GO_REG = re.compile(r"^(positive|negative) regulation of (.+)$")

# Cell-level processes a GO regulation annotation may close a path with (general terms only: a
# "neuron apoptotic process" annotation says nothing about a carcinoma cell line).
GO_PROCESSES = ("cell population proliferation", "apoptotic process", "angiogenesis", "cell migration", "cell growth",
                "autophagy", "epithelial to mesenchymal transition", "G1/S transition of mitotic cell cycle",
                "cell cycle", "mitotic cell cycle", "inflammatory response", "cell death", "cellular senescence",
                "epithelial cell proliferation", "DNA replication", "cell differentiation", "sprouting angiogenesis",
                "anoikis")
# General processes that one cell type carries out: angiogenesis is endothelial cells' (a leukaemia line does not
# sprout), EMT epithelial cells' (fibroblasts are mesenchymal already).
TISSUE_PROCESSES = {"angiogenesis": "endothelial", "sprouting angiogenesis": "endothelial",
                    "epithelial to mesenchymal transition": "epithelial"}
# Processes of one cell type count only where the record's context is that cell type.
CELL_TYPE_CONTEXT = {"endothelial": r"endotheli|huvec", "T cell": r"\bT[- ]?cell|lymphoblast|jurkat|ccrf",
                     "leukocyte": r"leuk|lymph|myelo|\bHEL\b|K562|MOLM", "myeloid": r"myel|\bHEL\b|K562|MOLM|\bAML\b",
                     "B cell": r"\bB[- ]?cell|lymphoma|myeloma", "fibroblast": r"fibroblast",
                     "epithelial": r"epitheli|carcinoma|adenocarcinoma|MCF|A549|HeLa|HEK293"}
_CELL_PROCESS = re.compile(r"^(.+?) (proliferation|apoptotic process|migration|differentiation)$")
# Processes that all mean "more (or fewer) dividing cells": inferences within the family must agree.
PROLIFERATION_FAMILY = {"cell population proliferation", "epithelial cell proliferation", "cell cycle", "mitotic cell cycle",
                        "G1/S transition of mitotic cell cycle", "DNA replication", "cell growth"}
_EXPERIMENTAL = {"EXP", "IDA", "IPI", "IMP", "IGI", "IEP", "HTP", "HDA", "HMP", "HGI", "HEP", "TAS", "IC"}
# A drug whose ChEBI role is "antineoplastic agent" is not inferred to make cancer cells grow.
_AGAINST_ANTINEOPLASTIC = {("cell population proliferation", "up"), ("cell growth", "up"), ("apoptotic process", "down"),
                           ("epithelial cell proliferation", "up"), ("G1/S transition of mitotic cell cycle", "up"),
                           ("cell cycle", "up"), ("mitotic cell cycle", "up"), ("DNA replication", "up"),
                           ("cell death", "down"), ("cellular senescence", "down")}
# ChEBI roles that name what a drug does to cells: role -> (phenotype, known or inferred, needs a cancer context).
ROLE_PHENOTYPES: dict[str, tuple[str, str, bool]] = {
    "apoptosis inducer": ("apoptosis", KNOWN, False),
    "angiogenesis inhibitor": ("reduced angiogenesis", KNOWN, False),
    "DNA synthesis inhibitor": ("reduced DNA synthesis", KNOWN, False),
    "antimitotic": ("mitotic arrest", KNOWN, False),
    "microtubule-destabilising agent": ("microtubule destabilisation", KNOWN, False),
    "microtubule-stabilising agent": ("mitotic arrest", KNOWN, False),
    "anti-inflammatory drug": ("reduced inflammatory response", INFERRED, False),
    "non-steroidal anti-inflammatory drug": ("reduced inflammatory response", INFERRED, False),
    "anti-inflammatory agent": ("reduced inflammatory response", INFERRED, False),
    "immunosuppressive agent": ("reduced immune response", INFERRED, False),
    "antirheumatic drug": ("reduced inflammatory response", INFERRED, False),
    "antineoplastic agent": ("reduced cancer cell growth", INFERRED, True),
}


@dataclass
class GoAnn:
    """One GO annotation as the assembler uses it (from orgdb, or a gene - process edge of the graph)."""

    go_id: str
    term: str
    evidence: str
    source: str


def _load_graph() -> tuple[Any, Any]:
    from ..tools.kg import api
    graph = api.get_graph()
    return graph, api._matcher()  # the KG tool's own indexes: built once, shared


def load_knowledge(*, refresh: bool = False) -> Knowledge:
    """The graph (``tools.kg.get_graph``) and the GO annotations (``knowledge.orgdb``), loaded once per process
    into the knowledge cache (``knowledge.cache``). A missing source is recorded with its reason."""
    return _cache.load_knowledge(_load_graph, refresh=refresh, warm=_warm)


# A record that reads every source an assembly reads (drug name, listed targets, an MoA, a cancer cell line):
# assembling it once at load time loads the gene vocabularies, ChEBI roles and DrugBank names, so the first
# real record (the Home demo's graph) waits for none of them.
_WARM_RECORD = {"index": 0, "context": {"cell_type": "K562", "disease_model": "chronic myeloid leukemia"},
                "perturbation": {"type": "small molecule", "name": "imatinib", "target": ["ABL1"],
                                 "moa_type": "tyrosine kinase inhibitor"}}


def _warm(kb: Knowledge) -> None:
    from ..knowledge.genes import claim_grounder
    from ..records.model import parse_records

    records, _ = parse_records([_WARM_RECORD])
    assemble(records[0], kb)
    grounder = claim_grounder()  # claim hashes: what storing a trace reads
    if grounder is not None:
        grounder("ABL1")


@dataclass
class Assembly:
    """The assembled explanation, its findings, every claim's evidence, and the report."""

    explanation: Explanation
    findings: list[Finding]
    evidence: dict[str, list[dict[str, Any]]]
    report: str
    incomplete: str | None
    sources: dict[str, Any]
    elapsed_s: float = 0.0

    def tool_entry(self) -> dict[str, Any]:
        """The trace's ``tool_context`` entry (ToolResult-shaped, so every view can show it)."""
        return {"tool": ASSEMBLER_NAME, "status": "ok" if not self.incomplete else "empty",
                "prompt_text": self.report, "error": self.incomplete, "elapsed_s": self.elapsed_s,
                "evidence": {"version": ASSEMBLER_VERSION, "claims": self.evidence, "sources": self.sources}}


class _Builder:
    """Nodes, edges and evidence of one record's graph, de-duplicated by content."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self.evidence: dict[str, list[dict[str, Any]]] = {}
        self._by_key: dict[tuple, str] = {}
        self.fusions: dict[str, str] = {}  # a drawn target -> the fusion protein carrying it in these cells

    def add(self, action: str, args: dict[str, Any], via: str, confidence: str,
            evidence: list[dict[str, Any]]) -> str:
        key = (action, tuple(sorted((k, str(v)) for k, v in args.items())))
        if key in self._by_key:
            nid = self._by_key[key]
            self.evidence[nid].extend(e for e in evidence if e not in self.evidence[nid])
            return nid
        nid = f"n{len(self.nodes) + 1}"
        self.nodes.append(Node(id=nid, action=action, args=args, via=via, confidence=confidence))
        self.evidence[nid] = list(evidence)
        self._by_key[key] = nid
        return nid

    def edge(self, a: str, b: str, relation: str = "causal") -> None:
        if a != b and not any(e.source == a and e.target == b for e in self.edges):
            self.edges.append(Edge(source=a, target=b, relation=relation))

    def has_out(self, nid: str) -> bool:
        return any(e.source == nid for e in self.edges)


def _clean_name(name: str) -> str:
    """'Crizotinib (hydrochloride)' -> 'Crizotinib' (salts and solvates are not separate drugs here)."""
    return _SALT.sub("", name).strip() or name


def _direction(text: str | None) -> str | None:
    """The MoA's direction, read as the verifiers read it (knowledge.drug_targets.moa_direction)."""
    from ..knowledge.drug_targets import moa_direction

    return moa_direction(text)


def _lookup(kb: Knowledge, name: str, types: list[str]) -> list[Any]:
    if kb.matcher is None:
        from ..tools.kg.match import Matcher
        kb.matcher = Matcher(kb.graph)
    return kb.matcher.lookup(name, types, 3)


def _graph_node(kb: Knowledge, name: str, types: list[str]) -> Any | None:
    """The graph node for ``name`` matched by name, synonym, DrugBank id or alias (never approximately:
    a near-miss drug name is another drug)."""
    if kb.graph is None or not name:
        return None
    try:
        hits = _lookup(kb, name, types)
    except Exception:  # noqa: BLE001 - a lookup failure means "not found", said in the report
        log.warning("assembler: the graph lookup of %r failed", name, exc_info=True)
        return None
    return next((h for h in hits if h.method != "approximate"), None)


def _neighbours(kb: Knowledge, index: int) -> list[tuple[int, str, str]]:
    g = kb.graph
    nb, rl = g.neighbors(index)
    return [(j, g.relation_names[r], g.type_of(j)) for j, r in zip(nb.tolist(), rl.tolist())]


def _go_annotations(kb: Knowledge, symbol: str, gene_index: int | None) -> list[GoAnn]:
    out: list[GoAnn] = []
    if kb.orgdb is not None:
        try:
            for a in kb.orgdb.go_annotations(symbol):
                if getattr(a, "ontology", "BP") == "BP":
                    out.append(GoAnn(a.go_id, a.term, a.evidence or "", "Gene Ontology (org.Hs.eg.db)"))
        except Exception:  # noqa: BLE001 - one gene's failure is a gap, not a crash
            log.warning("assembler: GO annotations of %s could not be read", symbol, exc_info=True)
    if not out and kb.graph is not None and gene_index is not None:
        g = kb.graph
        for j, rel, t in _neighbours(kb, gene_index):
            if t == "biological_process":
                out.append(GoAnn(g.ids[j] or g.names[j], g.names[j], f"graph edge '{rel}'", kb.graph_origin))
    return out


def _process_allowed(process: str, context_text: str) -> bool:
    if process in TISSUE_PROCESSES:  # made by one cell type: in its context only
        return bool(re.search(CELL_TYPE_CONTEXT[TISSUE_PROCESSES[process]], context_text, re.I))
    if process in GO_PROCESSES:
        return True
    m = _CELL_PROCESS.match(process)
    if not m:
        return False
    cell = m.group(1).replace(" cell", "") if m.group(1) not in CELL_TYPE_CONTEXT else m.group(1)
    pattern = CELL_TYPE_CONTEXT.get(m.group(1)) or CELL_TYPE_CONTEXT.get(cell)
    return bool(pattern and re.search(pattern, context_text, re.I))


def _phenotype_label(process: str, direction: str) -> str:
    return f"{'increased' if direction == 'up' else 'reduced'} {process}"


@dataclass
class _Target:
    symbol: str
    activity_id: str | None = None  # the node whose effect the phenotype rules follow
    direction: str | None = None     # of the target's activity
    gene_index: int | None = None
    label: str | None = None         # how the premise reads ("IFNG added"); default "<symbol> activity <direction>"
    also: list[str] = field(default_factory=list)  # further activity nodes the same outcomes follow from (a ligand's receptors)
    driver: Any = None               # the cell line's driver fusion carrying this target (knowledge.cell_lines), if any

    @property
    def premise(self) -> str:
        return self.label or f"{self.symbol} activity {self.direction}"


@dataclass
class _Notes:
    used: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    inferences: list[str] = field(default_factory=list)


def _names_cancer(text: str) -> bool:
    from ..knowledge.drug_context import CANCER

    return bool(CANCER.search(text))


def _is_cancer_context(ctx: Any, context_text: str) -> bool:
    """A cancer context: the text names a cancer, and the cells are not primary or normal cells (HUVEC in a
    "tumour angiogenesis" model are still endothelial cells, not cancer cells)."""
    from ..knowledge.drug_context import CANCER, normal_cells_named

    if not CANCER.search(context_text):
        return False
    cells = " ".join(filter(None, [ctx.cell_line, ctx.cell_type, ctx.description]))
    cell_fields = " ".join(filter(None, [ctx.cell_line, ctx.cell_type]))
    return not (normal_cells_named(cells) and not CANCER.search(cell_fields))


def assemble(record: Record, kb: Knowledge | None = None) -> Assembly:
    """Assemble the action graph of ``record`` from the knowledge sources (see the module docstring)."""
    start = time.perf_counter()
    kb = kb or load_knowledge()
    b = _Builder()
    notes = _Notes()
    ctx = record.context
    context = {k: v for k, v in {"cell_type": ctx.cell_line or ctx.cell_type, "disease": ctx.disease,
                                 "genotype": ctx.genotype}.items() if v}
    context_text = " ".join(filter(None, [ctx.cell_line, ctx.cell_type, ctx.disease, ctx.description,
                                          ctx.tissue, record.description or ""]))
    sources: dict[str, Any] = {"graph": kb.graph_origin if kb.graph is not None else None,
                               "graph_reason": kb.graph_reason, "gene_ontology": kb.orgdb is not None,
                               "gene_ontology_reason": kb.orgdb_reason}
    pert = record.perturbation
    roles: list[str] = []
    drug_label = None
    targets: list[_Target] = []
    if not record.perturbations:
        notes.gaps.append("the record names no perturbation")
    else:
        drug_label, roles, targets = _perturbation_claims(kb, b, record, pert, notes, sources, context_text)
    cancer = _is_cancer_context(ctx, context_text)
    if not cancer and _names_cancer(context_text):
        notes.gaps.append("the context names a cancer but the cells are not cancer cells: no cancer outcome is inferred")
    phenos = _go_phenotypes(kb, b, targets, drug_label, roles, context_text, notes)
    phenos += _pathway_steps(kb, b, targets, drug_label, roles, notes, context_text)
    role_ids = _role_phenotypes(b, drug_label, roles, cancer, notes, pert, context_text)
    role_ids += [n for n in _driver_outcomes(b, targets, drug_label, cancer, notes) if n not in role_ids]
    # Gene - phenotype correlations (HPO) are organism-level and say nothing about cells: not used.
    # Every activity node must lead to a measurable output. A target the GO rule reached nothing from
    # is linked to the drug-level phenotypes with a correlative edge: which target carries them is not known.
    for t in targets:
        if t.activity_id and not b.has_out(t.activity_id):
            for rid in role_ids:
                b.edge(t.activity_id, rid, "correlative")
            if not role_ids:
                notes.gaps.append(f"no source links {t.symbol} to a measurable outcome (no usable GO annotation, "
                                  f"pathway or ChEBI role), so its path stays open")
    # A drug-level phenotype (a ChEBI role's) that no rule reached is linked to every target's activity with a
    # correlative edge: the drug has the phenotype, which of its targets carries it is not known.
    reached = {e.target for e in b.edges}
    for rid in role_ids:
        if rid not in reached:
            for t in targets:
                if t.activity_id:
                    b.edge(t.activity_id, rid, "correlative")
    for t in targets:
        if t.activity_id and _is_transcription_factor(t.symbol):
            linked = "" if b.has_out(t.activity_id) and any(e.relation == "causal" for e in b.edges if e.source == t.activity_id) \
                else "; the mechanism stops at its activity, and the outcomes are tied to it only by the drug's ChEBI roles (correlative edges)"
            notes.gaps.append(f"{t.symbol} is a transcription factor (INDRA's list), but no installed source names its target genes "
                              f"(GO, INDRA's resources and the graph hold none), so no regulates_expression claim is drawn for it{linked}")
    expl = Explanation(context=context, nodes=b.nodes, edges=b.edges, answer=_answer(record, b, phenos + role_ids, notes))
    findings = check_explanation(expl)
    incomplete = None
    if not expl.claims:
        incomplete = ("nothing is known about this perturbation in the loaded sources "
                      f"({'; '.join(notes.gaps) or 'no target, mechanism or role found'}); no claim was made")
        findings.append(error("path_not_measurable", f"incomplete: {incomplete}"))
    elif any(f.severity == "error" for f in findings):
        incomplete = "the sources stop before a measurable output on some path: " + "; ".join(notes.gaps or ["see findings"])
    elapsed = round(time.perf_counter() - start, 4)
    report = _report(record, kb, b, notes, roles, incomplete)
    sources["assembled_from"] = assembled_from(b.evidence)
    return Assembly(expl, findings, b.evidence, report, incomplete, sources, elapsed)


def _is_genetic(pert: Perturbation, ptype: str) -> bool:
    return bool(pert.gene_symbol) or bool(_GENETIC.search(f"{ptype} {pert.name or ''}"))


def _perturbation_claims(kb: Knowledge, b: _Builder, record: Record, pert: Perturbation, notes: _Notes,
                         sources: dict[str, Any], context_text: str = "") -> tuple[str, list[str], list[_Target]]:
    ptype = (pert.type or "").strip()
    if _is_genetic(pert, ptype):
        return _genetic_claims(kb, b, pert, ptype, notes, record)
    ligand = _soluble_factor(kb, pert, ptype)
    if ligand is not None:
        return _ligand_claims(kb, b, pert, ligand, notes)
    name = _clean_name(pert.name or pert.label)
    node = _graph_node(kb, name, ["drug"])
    roles: list[str] = []
    if node is not None:
        det = kb.graph.details[node.index] if isinstance(kb.graph.details[node.index], dict) else {}
        roles = list(det.get("roles") or [])
        sources["drug_node"] = {"name": node.name, "id": kb.graph.ids[node.index], "matched_by": node.method,
                                "chebi": det.get("chebi")}
        notes.used.append(f"drug node {node.name} ({kb.graph.ids[node.index]}, matched by {node.method})"
                          + (f"; ChEBI {det.get('chebi')} roles: {', '.join(roles)}" if roles else "; no ChEBI roles"))
    else:
        notes.gaps.append(f"{name!r} is not a drug in the loaded graph" if kb.graph is not None else kb.graph_reason or "no graph")
    dt = _drug_targets(name, record, notes)
    ungrounded = set(dt.ungrounded) if dt is not None else set()
    for bad in sorted(ungrounded):
        notes.gaps.append(f"the record's target {bad!r} is no gene or family the offline sources know: not drawn")
    listed = [t for t in dict.fromkeys(pert.targets) if t not in ungrounded]
    kg_targets = _kg_targets(kb, node)
    if dt is not None:  # PrimeKG's DrugBank target edges, when configured (read by knowledge.drug_targets)
        kg_targets += [(t.name, "drug_protein target (PrimeKG)") for t in dt.known if t.source.startswith("PrimeKG")
                       and t.name not in dict(kg_targets)]
    if not listed and kg_targets:
        notes.used.append(f"targets from the graph: {', '.join(t for t, _ in kg_targets)}")
    chosen = listed[:MAX_TARGETS] or [t for t, _ in kg_targets][:MAX_TARGETS]
    if len(listed) > MAX_TARGETS:
        notes.gaps.append(f"only the first {MAX_TARGETS} of {len(listed)} listed targets are drawn")
    class_targets: dict[str, Any] = {}
    if not chosen and dt is not None:
        chosen, class_targets = _class_targets(dt, notes)
    if not chosen:
        notes.gaps.append("the record lists no target, the graph has no drug-target edge for it and no ChEBI class role "
                          "names a small enough class of genes")
    fusions = _context_fusions(context_text, chosen)
    driver = _driver_fusion(record)
    if driver is not None and driver.kinase in chosen:
        # The cells grow on a fusion kinase that the drug's target is part of (K562: BCR-ABL1, with ABL1's kinase
        # domain): the mechanism runs through it. Other listed targets are bound too, but nothing says these
        # cells depend on them, so they are left out rather than drawn as paths to outcomes.
        others = [t for t in chosen if t != driver.kinase]
        if others:
            notes.gaps.append(f"{driver.statement}, so the mechanism follows {driver.kinase} in {driver.fusion}; {name}'s other "
                              f"listed target(s) {', '.join(others)} are not drawn: no source says these cells depend on them")
        chosen = [driver.kinase]
        fusions[driver.kinase] = driver.fusion
        notes.used.append(f"{driver.cell_line}'s driver fusion {driver.fusion} from the {_cell_line_source()}")
    moa_dir = _direction(pert.moa_type)
    role_dir_role = next((r for r in roles if _direction(r) and re.search(r"inhibitor|antagonist|agonist", r)), None)
    if not role_dir_role and dt is not None and dt.direction and dt.direction_source and "ChEBI" in dt.direction_source:
        role_dir_role = dt.direction_source.split("'")[1] if "'" in dt.direction_source else None
        roles = roles or list(dt.roles)
    targets: list[_Target] = []
    for sym in chosen:
        kg_rel = dict(kg_targets).get(sym)
        ev = []
        if sym in listed:
            ev.append({"source": "record", "field": "targets", "statement": f"the record lists {sym} as a target of {name}"})
        if kg_rel:
            ev.append({"source": kb.graph_origin, "relation": kg_rel, "statement": f"graph edge {name} --{kg_rel}--> {sym}"})
        inferred_from = class_targets.get(sym)
        if inferred_from is not None:
            ev.append({"source": "ChEBI", "id": dt.chebi_id, "statement": f"{name} has the ChEBI role '{inferred_from.name} "
                       f"inhibitor/antagonist' class", "detail": inferred_from.detail})
            ev.append({"source": "inference", "rule": "ChEBI class role -> genes of the class (knowledge.drug_targets)",
                       "statement": f"{inferred_from.detail} -> {sym} (a class role can be wrong: an inference, not a known target)"})
            via = f"inferred from a class: {inferred_from.detail}"
        else:
            via = "source: " + "; ".join(["record (known targets)"] * (sym in listed) + [f"graph edge '{kg_rel}'"] * bool(kg_rel))
        n_bind = b.add("binds_to", {"actor": name, "target": sym}, via, INFERRED if inferred_from is not None else KNOWN, ev)
        t = _Target(sym, gene_index=(g.index if (g := _graph_node(kb, sym, ["gene/protein"])) else None))
        direction, dvia, dev = None, None, None
        if moa_dir:
            direction, dvia = moa_dir, f"source: record mechanism of action '{pert.moa_type}'"
            dev = {"source": "record", "field": "moa_type", "statement": f"mechanism of action: {pert.moa_type}"}
        elif role_dir_role:
            direction, dvia = _direction(role_dir_role), f"source: ChEBI role '{role_dir_role}' of {name}"
            dev = {"source": "ChEBI", "id": sources.get("drug_node", {}).get("chebi"), "statement": f"{name} has role {role_dir_role}"}
        if direction:
            if inferred_from is not None:  # the direction is known, the target only inferred: so is its activity
                dvia = f"inferred: {dvia.removeprefix('source: ')} acting on {sym}, a target inferred from a class"
            n_act = b.add("modulates_molecule_activity", {"target": sym, "direction": direction}, dvia,
                          INFERRED if inferred_from is not None else KNOWN, [dev])
            b.edge(n_bind, n_act)
            t.activity_id, t.direction = n_act, direction
            fusion = fusions.get(sym)
            if fusion:
                # The record's context names a fusion carrying the target (K562: BCR-ABL1): the drug acts on
                # the fusion protein there, and the cells' dependence is on the fusion's activity.
                named = fusion in context_text
                from_table = driver is not None and driver.fusion == fusion
                fev = ([{"source": "record", "field": "context",
                         "statement": f"the context names the fusion {fusion}, which contains {sym}"}] if named else [])
                if from_table:
                    fev.append({"source": _cell_line_source(), "reference": driver.reference,
                                "statement": f"{driver.statement}; it keeps {sym}'s kinase domain"})
                fvia = "; ".join(["record context names " + fusion] * named
                                 + [f"{_cell_line_source()}: {driver.statement}"] * from_table)
                n_fus = b.add("modulates_molecule_activity", {"target": fusion, "direction": direction},
                              f"source: {fvia}, which carries the target {sym}", KNOWN, fev + [dev])
                b.edge(n_bind, n_fus)
                b.edge(n_act, n_fus)
                b.fusions[sym] = fusion
                t.activity_id = n_fus
                t.label = f"{fusion} (carrying {sym}) activity {direction}"
                t.driver = driver if from_table else None
        else:
            t.activity_id = n_bind
            notes.gaps.append(f"no mechanism of action says whether {name} raises or lowers {sym}'s activity")
        targets.append(t)
    return name, roles, targets


def _is_transcription_factor(symbol: str) -> bool:
    """Whether INDRA's transcription-factor list (shipped with INDRA) names the gene."""
    if not _TF:
        try:
            from ..kernel.vocab import resource_path
            lines = resource_path("indra", "resources/transcription_factors.csv").read_text(encoding="utf-8").splitlines()[1:]
            _TF.update(line.split(",")[1].strip() for line in lines if "," in line)
        except Exception:  # noqa: BLE001 - no list: say nothing rather than guess
            _TF.add("")
    return symbol in _TF


_TF: set[str] = set()


def _drug_targets(name: str, record: Record, notes: _Notes) -> Any:
    """The drug's targets as ``knowledge.drug_targets`` knows them (record fields grounded, PrimeKG when
    configured, ChEBI class roles), or None when that module cannot be read."""
    try:
        from ..knowledge.drug_targets import drug_targets
        return drug_targets(name, record)
    except Exception as exc:  # noqa: BLE001 - a missing vocabulary is a gap, not a crash
        notes.gaps.append(f"drug targets could not be read ({exc})")
        return None


def _class_targets(dt: Any, notes: _Notes) -> tuple[list[str], dict[str, Any]]:
    """Targets inferred from the drug's ChEBI class roles: the genes of each class small enough to name
    (at most MAX_TARGETS genes; a FamPlex family is drawn as the family). Broad classes are a gap."""
    chosen: list[str] = []
    by_symbol: dict[str, Any] = {}
    for t in dt.inferred:
        if t.family and len(t.symbols) > MAX_TARGETS:
            names = [t.family]
        elif len(t.symbols) <= MAX_TARGETS:
            names = sorted(t.symbols)
        else:
            notes.gaps.append(f"{dt.drug}'s ChEBI class role names {len(t.symbols)} genes ({t.name}): too broad to draw a target from")
            continue
        for n in names:
            if n not in by_symbol and len(chosen) < MAX_TARGETS:
                chosen.append(n)
                by_symbol[n] = t
    if chosen:
        notes.inferences.append(f"targets inferred from ChEBI class roles: {', '.join(chosen)} (not known targets)")
    return chosen, by_symbol


def _driver_fusion(record: Record) -> Any:
    """The driver fusion of the record's cell line (``knowledge.cell_lines``, a curated table), or None."""
    from ..knowledge.cell_lines import driver_fusion

    ctx = record.context
    return driver_fusion(ctx.cell_line, ctx.cell_type)


def _cell_line_source() -> str:
    from ..knowledge.cell_lines import SOURCE

    return SOURCE


def _driver_outcomes(b: _Builder, targets: list[_Target], drug: str | None, cancer: bool, notes: _Notes) -> list[str]:
    """A drug that lowers the activity of the fusion the cancer cells are driven by -> reduced growth of those
    cells (inferred: the table's reference says the fusion drives them)."""
    out: list[str] = []
    for t in targets:
        d = t.driver
        if d is None or t.direction != "down" or not t.activity_id or not cancer:
            continue
        nid = b.add("induces_phenotype", {"source": drug or t.symbol, "phenotype": "reduced cancer cell growth"},
                    f"inferred: {d.fusion} activity goes down and {d.statement}", INFERRED,
                    [{"source": _cell_line_source(), "reference": d.reference, "statement": d.statement},
                     {"source": "inference", "rule": "a driver fusion inhibited -> reduced growth of the cells it drives",
                      "premises": [t.activity_id], "statement": f"{d.fusion} activity down in {d.cell_line} -> reduced cancer cell growth"}])
        b.edge(t.activity_id, nid, "causal")
        notes.inferences.append(f"{nid}: reduced cancer cell growth (from {d.fusion}, the driver of {d.cell_line})")
        out.append(nid)
    return out


def _context_fusions(context_text: str, targets: list[str]) -> dict[str, str]:
    """target -> the fusion the context names that carries it ("BCR-ABL1 positive" and ABL1 -> BCR-ABL1)."""
    out: dict[str, str] = {}
    for m in re.finditer(r"\b([A-Z][A-Z0-9]{1,9})[-:/]{1,2}([A-Z][A-Z0-9]{1,9})\b", context_text or ""):
        a, c = m.group(1), m.group(2)
        for part in (a, c):
            if part in targets and a != c:
                out.setdefault(part, f"{a}-{c}")
    return out


def _resolve_gene(name: str) -> tuple[str | None, list[str]]:
    """(symbol or family name, member symbols) of a gene name, from the one gene resolver; (None, [])."""
    from ..knowledge.genes import resolve
    try:
        r = resolve(name)
    except Exception:  # noqa: BLE001 - no vocabularies: no gene
        return None, []
    if r is None:
        return None, []
    return r.symbol, sorted(r.symbols)


def _genetic_gene(pert: Perturbation, context_text: str = "") -> str | None:
    """The gene a genetic perturbation acts on: its gene symbol, its one listed target, else the first word of
    its name (then of the context) that the gene resolver knows and is not a method word ("TSC2 KO")."""
    if pert.gene_symbol:
        return pert.gene_symbol
    if len(pert.targets) == 1:
        return pert.targets[0]
    for text in (pert.name or "", context_text):
        for word in re.split(r"[\s,;()]+", text):
            word = word.strip(".:")
            if len(word) < 2 or _METHOD_WORDS.match(word) or not re.search(r"[A-Z]", word):
                continue
            sym, members = _resolve_gene(word)
            if sym and len(members) == 1:
                return members[0]
    return None


def _genetic_kind(texts: list[str]) -> tuple[str | None, str | None]:
    """('down' | 'up' | None, the words that said so), reading the texts in order: the first that says one
    direction decides (the perturbation's type and name before the context's description)."""
    for text in texts:
        if not text:
            continue
        loss, gain = _LOSS.search(text), _GAIN.search(text)
        if loss and not gain:
            return "down", loss.group(0)
        if gain and not loss:
            return "up", gain.group(0)
    return None, None


def _genetic_claims(kb: Knowledge, b: _Builder, pert: Perturbation, ptype: str, notes: _Notes, record: Record | None = None):
    label = pert.name or pert.gene_symbol or "genetic perturbation"
    ctx = record.context if record is not None else None
    ctx_texts = [ctx.description, getattr(ctx, "perturbation_type", None), record.description] if ctx is not None else []
    gene = _genetic_gene(pert, " ".join(filter(None, ctx_texts)))
    if not gene:
        notes.gaps.append("the genetic perturbation names no gene the gene resolver knows")
        return label, [], []
    direction, words = _genetic_kind([ptype, pert.name or "", *[t for t in ctx_texts if t]])
    t = _Target(gene, gene_index=(g.index if (g := _graph_node(kb, gene, ["gene/protein"])) else None))
    variant = ptype if ptype and not re.fullmatch(r"genetic( perturbation)?", ptype, re.I) else words
    where = "perturbation type" if words and words in ptype else "perturbation name" if words and words in (pert.name or "") \
        else "context description"
    ev = [{"source": "record", "field": "type" if where == "perturbation type" else "name" if where == "perturbation name" else "context",
           "statement": f"the record's perturbation: {label} ({ptype or 'genetic'}); its {where} says '{words}'"}]
    if direction == "up":
        t.activity_id = b.add("gain_of_function", {"variant": variant or "overexpression", "protein": gene},
                              f"source: record ({where}: '{words}')", KNOWN, ev)
    elif direction == "down":
        t.activity_id = b.add("loss_of_function", {"variant": variant or "knockout", "protein": gene},
                              f"source: record ({where}: '{words}')", KNOWN, ev)
    else:
        notes.gaps.append(f"the record does not say whether {gene} is lost or gained ({ptype!r}, {label!r})")
        return label, [], []
    t.direction = direction
    return label, [], [t]


def _soluble_factor(kb: Knowledge, pert: Perturbation, ptype: str) -> tuple[str, list[str]] | None:
    """(gene or family, member symbols) when the perturbation is a soluble factor added to the cells: its
    name is a gene (or family) that GO says binds a receptor, and it is not a drug of the graph."""
    if kb.orgdb is None or not hasattr(kb.orgdb, "find_terms"):
        return None
    raw = _STIM_WORDS.sub(" ", _clean_name(pert.name or "")).strip(" -")
    if not raw or (not _SOLUBLE.search(f"{ptype} {pert.name or ''}") and _graph_node(kb, raw, ["drug"]) is not None):
        return None
    sym, members = _resolve_gene(raw)
    if not sym:
        return None
    links = kb.remember(("receptors", tuple(members)), lambda: signalling.receptors_of(kb.orgdb, members, MAX_TARGETS))
    return (sym, members) if links else None


def _ligand_claims(kb: Knowledge, b: _Builder, pert: Perturbation, ligand: tuple[str, list[str]], notes: _Notes):
    sym, members = ligand
    label = pert.name or sym
    links = kb.remember(("receptors", tuple(members)), lambda: signalling.receptors_of(kb.orgdb, members, MAX_TARGETS))
    src = "Gene Ontology (org.Hs.eg.db)"
    notes.used.append(f"{label} read as the soluble factor {sym}; its receptors from GO: "
                      + ", ".join(f"{r.receptor} ({r.receptor_term})" for r in links))
    targets: list[_Target] = []
    for r in links:
        known = bool(set(re.split(r",\s*", r.evidence)) & signalling.EXPERIMENTAL)
        ev = [{"source": src, "id": r.binding_go_id, "term": r.binding_term, "evidence_code": r.evidence,
               "statement": f"{r.ligand} is annotated to '{r.binding_term}'"},
              {"source": src, "id": r.receptor_go_id, "term": r.receptor_term,
               "statement": f"{r.receptor} is annotated to '{r.receptor_term}'"}]
        if not known:
            ev.append({"source": "inference", "rule": "ligand-receptor pairing by GO molecular function",
                       "statement": f"'{r.binding_term}' ({r.evidence}, not experimental) and '{r.receptor_term}' -> "
                                    f"{r.ligand} binds {r.receptor}"})
        n_bind = b.add("binds_to", {"actor": sym, "target": r.receptor},
                       f"{'source' if known else 'inferred from'}: GO: {r.ligand} '{r.binding_term}' ({r.evidence}) and "
                       f"{r.receptor} '{r.receptor_term}'", KNOWN if known else INFERRED, ev)
        n_act = b.add("modulates_molecule_activity", {"target": r.receptor, "direction": "up"},
                      f"inferred: {sym} is added and is {r.receptor}'s ligand, so the receptor is activated", INFERRED,
                      [{"source": "inference", "rule": "an added ligand activates its receptor", "premises": [n_bind],
                        "statement": f"{label} adds {sym}, a ligand of {r.receptor} -> {r.receptor} activity up"}])
        b.edge(n_bind, n_act)
        notes.inferences.append(f"{n_act}: {r.receptor} activity up (an added ligand activates its receptor)")
        targets.append(_Target(r.receptor, n_act, "up",
                               (g.index if (g := _graph_node(kb, r.receptor, ["gene/protein"])) else None)))
    if targets:
        # The ligand's own GO regulation annotations describe what its signalling does, through its receptors.
        first = targets[0]
        targets.append(_Target(sym if len(members) == 1 else members[0], first.activity_id, "up", None,
                               label=f"{sym} signalling through {', '.join(t.symbol for t in targets)} up",
                               also=[t.activity_id for t in targets[1:]]))
    return sym, [], targets


def _pathway_steps(kb: Knowledge, b: _Builder, targets: list[_Target], drug: str | None, roles: list[str],
                   notes: _Notes, context_text: str = "") -> list[str]:
    """The step a biologist expects between a target and an outcome: the signalling pathway the target
    regulates (GO regulation annotation) and the outcome the pathway's member genes regulate (a vote of GO
    annotations). Added only where the pathway reaches an outcome that fits the context and agrees with the
    rest of the graph; where it does not, the report says so."""
    if kb.orgdb is None or not hasattr(kb.orgdb, "genes_annotated_to"):
        return []
    src = "Gene Ontology (org.Hs.eg.db)"
    present = {n.args.get("phenotype") for n in b.nodes if n.action == "induces_phenotype"}
    cands = []  # (target, link, pathway direction, [(outcome, effect)])
    seen_targets: set[str] = set()
    for t in targets:
        if not t.direction or not t.activity_id or t.symbol in seen_targets or t.label:
            continue
        seen_targets.add(t.symbol)
        links = kb.remember(("pathways", t.symbol), lambda s=t.symbol: signalling.regulated_pathways(kb.orgdb, s))
        options = []
        for link in links:
            members = kb.remember(("members", link.pathway_go_id),
                                  lambda g=link.pathway_go_id: set(kb.orgdb.genes_annotated_to(g, include_descendants=False)) if g else set())
            if link.sign < 0 and link.gene in members:
                notes.gaps.append(f"GO annotates {link.gene} to negative regulation of {link.pathway}, a pathway it belongs to "
                                  "(feedback); no pathway direction is inferred from it")
                continue
            outcomes = kb.remember(("outcomes", link.pathway_go_id),
                                   lambda g=link.pathway_go_id: signalling.pathway_outcomes(kb.orgdb, g))
            pdir = "up" if (link.sign > 0) == (t.direction == "up") else "down"
            usable = []
            for o in outcomes:
                effect = "up" if (o.sign > 0) == (pdir == "up") else "down"
                if not _process_allowed(o.process, context_text):
                    continue
                if "antineoplastic agent" in roles and (o.process, effect) in _AGAINST_ANTINEOPLASTIC:
                    notes.gaps.append(f"{link.pathway} {pdir} would suggest {_phenotype_label(o.process, effect)}, which "
                                      f"contradicts {drug}'s ChEBI role 'antineoplastic agent'; dropped")
                    continue
                if _phenotype_label(o.process, "down" if effect == "up" else "up") in present:
                    notes.gaps.append(f"{link.pathway} {pdir} would suggest {_phenotype_label(o.process, effect)}, which "
                                      "contradicts an outcome inferred from the targets' own annotations; dropped")
                    continue
                usable.append((o, effect))
            if usable:
                options.append((-len(usable[0][0].agree), link, pdir, usable))
            else:
                notes.gaps.append(f"GO says {t.symbol} {'positively' if link.sign > 0 else 'negatively'} regulates {link.pathway}, "
                                  "but the pathway's member genes do not agree on an outcome that fits this context; "
                                  "the step is not drawn")
        for _, link, pdir, usable in sorted(options, key=lambda o: o[0])[:MAX_PATHWAYS_PER_TARGET]:
            cands.append((t, link, pdir, usable))
    # One direction per pathway and per outcome across the whole graph, or none.
    pdirs: dict[str, set[str]] = defaultdict(set)
    odirs: dict[str, set[str]] = defaultdict(set)
    for _, link, pdir, usable in cands:
        pdirs[link.pathway].add(pdir)
        for o, effect in usable:
            odirs[o.process].add(effect)
    out: list[str] = []
    for t, link, pdir, usable in cands:
        if len(pdirs[link.pathway]) > 1:
            notes.gaps.append(f"the targets' GO annotations move {link.pathway} both ways; no direction is inferred")
            continue
        usable = [(o, e) for o, e in usable if len(odirs[o.process]) == 1]
        if not usable:
            continue
        pid = b.add("participates_in", {"entity": t.symbol, "ontology_id": link.regulation_go_id},
                    f"source: {src}: {t.symbol} annotated to {link.regulation_go_id} '{link.regulation_term}' ({link.evidence})",
                    KNOWN, [{"source": src, "id": link.regulation_go_id, "term": link.regulation_term,
                             "evidence_code": link.evidence, "statement": f"{t.symbol} is annotated to {link.regulation_term}"}])
        path_id = b.add("modulates_pathway_activity", {"pathway": link.pathway, "direction": pdir},
                        f"inferred from {t.activity_id} ({t.premise}) and {pid} ({link.regulation_term})", INFERRED,
                        [{"source": "inference", "rule": "GO regulation of a pathway", "premises": [t.activity_id, pid],
                          "statement": f"{t.premise} and {t.symbol} is annotated to '{link.regulation_term}' -> "
                                       f"{link.pathway} {pdir}"}])
        b.edge(t.activity_id, path_id, "causal")
        b.edge(pid, path_id, "correlative")
        notes.inferences.append(f"{path_id}: {link.pathway} {pdir} (from {t.symbol}'s GO annotation '{link.regulation_term}')")
        last = path_id
        effectors = kb.remember(("effectors", link.pathway_go_id),
                                lambda lk=link: signalling.pathway_effectors(kb.orgdb, lk.pathway, lk.pathway_go_id))
        eff = next((e for e in effectors if t.symbol not in e.symbols), None)
        if eff is not None:
            tier = kb.remember(("mapkk", link.pathway_go_id, t.symbol, eff.symbols),
                               lambda lk=link, e=eff: _cascade_tier(kb, lk.pathway_go_id, e.symbols, t.symbol))
            if tier is not None:
                # The kinases one tier above the effectors (MEK above ERK): a MAP kinase is activated by a MAPKK.
                codes = "; ".join(f"{g} {c}" for g, c in tier.evidence.items())
                eff_codes = "; ".join(f"{g} {c}" for g, c in tier.effector_evidence.items())
                fam = f" (FamPlex {tier.name}: {', '.join(tier.symbols)})" if "/" not in tier.name else ""
                mek_id = b.add("modulates_molecule_activity", {"target": tier.name, "direction": pdir},
                             f"inferred from {path_id} ({link.pathway} {pdir}): {', '.join(tier.symbols)} are annotated to it and to "
                             f"'MAP kinase kinase activity' (GO:0004708; {codes}){fam}, the kinases that activate "
                             f"{eff.name}'s MAP kinases", INFERRED,
                             [{"source": src, "id": signalling.MAPKK_ACTIVITY, "term": "MAP kinase kinase activity",
                               "evidence_code": codes, "statement": f"{', '.join(tier.symbols)} have MAP kinase kinase activity"},
                              {"source": src, "id": link.pathway_go_id, "term": link.pathway,
                               "statement": f"{', '.join(tier.symbols)} are annotated to {link.pathway}"},
                              {"source": src, "id": signalling.MAPK_ACTIVITY, "term": "MAP kinase activity",
                               "evidence_code": eff_codes, "statement": f"{', '.join(eff.symbols)} have MAP kinase activity"}]
                             + ([{"source": "FamPlex", "id": f"FPLX:{tier.name}",
                                  "statement": f"{tier.name} is the family of {', '.join(tier.symbols)}"}] if fam else [])
                             + [{"source": "inference", "rule": "MAP kinase cascade tiers (GO molecular functions)",
                                 "premises": [path_id],
                                 "statement": f"{link.pathway} goes {pdir} -> its MAP kinase kinases {tier.name} "
                                              f"activity {pdir} -> {eff.name} activity {pdir}"}])
                b.edge(path_id, mek_id, "causal")
                notes.inferences.append(f"{mek_id}: {tier.name} activity {pdir} (the MAP kinase kinases of '{link.pathway}')")
            # The effectors the pathway is named for (ERK for "ERK1 and ERK2 cascade"): the step a biologist reads.
            last = b.add("modulates_molecule_activity", {"target": eff.name, "direction": pdir},
                         f"inferred from {path_id if tier is None else mek_id} ({link.pathway} {pdir}): GO's name for the pathway "
                         f"names {eff.named_as}, "
                         f"and {', '.join(eff.symbols)} are annotated to it", INFERRED,
                         [{"source": src, "id": link.pathway_go_id, "term": link.pathway,
                           "statement": f"{', '.join(eff.symbols)} are annotated to {link.pathway}"},
                          {"source": "inference", "rule": "the effectors a GO pathway is named for", "premises": [path_id],
                           "statement": f"{link.pathway} goes {pdir} -> {eff.name} ({', '.join(eff.symbols)}) activity {pdir}"}])
            b.edge(path_id if tier is None else mek_id, last, "causal")
            notes.inferences.append(f"{last}: {eff.name} activity {pdir} (the effectors '{link.pathway}' is named for)")
        for o, effect in usable[:MAX_PATHWAY_OUTCOMES]:
            label = _phenotype_label(o.process, effect)
            nid = b.add("induces_phenotype", {"source": drug or t.symbol, "phenotype": label},
                        f"inferred from {path_id} ({link.pathway} {pdir}) and the pathway members' GO annotations", INFERRED,
                        [{"source": "inference", "rule": "pathway members' GO regulation (vote)", "premises": [path_id],
                          "statement": f"{link.pathway} goes {pdir}; {o.statement} -> {label}"},
                         {"source": src, "id": link.pathway_go_id, "term": link.pathway, "statement": o.statement}])
            b.edge(last, nid, "causal")
            notes.inferences.append(f"{nid}: {label} (from {link.pathway} {pdir} and its members' GO annotations)")
            out.append(nid)
    return out


def _cascade_tier(kb: Knowledge, pathway_go_id: str, effectors: tuple[str, ...], target: str) -> Any:
    """The MAP kinase kinases between ``target``'s pathway and its effectors (``knowledge.signalling``), or None."""
    try:
        return signalling.cascade_kinase_tier(kb.orgdb, pathway_go_id, effectors, [target])
    except Exception:  # noqa: BLE001 - a source without molecular functions: no tier, the graph goes on
        log.warning("assembler: the kinase tier of %s could not be read", pathway_go_id, exc_info=True)
        return None


def assembled_from(evidence: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    """claim id -> the verifiers whose source the claim was assembled from (their "supported" would be circular:
    the record for record fields, ``go`` for GO annotations, ``kg`` for graph edges and ChEBI roles)."""
    out: dict[str, list[str]] = {}
    for nid, items in evidence.items():
        names: list[str] = []
        for e in items:
            src = str(e.get("source") or "")
            rule = str(e.get("rule") or "")
            found = (["record"] if src == "record" else [] if src.startswith("curated") else
                     ["go"] if src.startswith("Gene Ontology") or "GO" in rule
                     else ["kg", "record"] if src == "ChEBI" or "ChEBI" in rule  # the record verifier reads ChEBI class roles too
                     else [] if src == "inference" else ["kg"])
            names += [n for n in found if n not in names]
        out[nid] = names
    return out


def _kg_targets(kb: Knowledge, node: Any) -> list[tuple[str, str]]:
    """(gene, relation) for drug - gene edges of the graph (PrimeKG's drug_protein; the starter graph has none)."""
    if node is None or kb.graph is None:
        return []
    g = kb.graph
    out = []
    for j, rel, t in _neighbours(kb, node.index):
        if t == "gene/protein" and re.search(r"drug_protein|target|enzyme|carrier|transporter", rel):
            out.append((g.names[j], rel))
    return list(dict.fromkeys(out))


def _go_phenotypes(kb: Knowledge, b: _Builder, targets: list[_Target], drug: str | None, roles: list[str],
                   context_text: str, notes: _Notes) -> list[str]:
    """Inferred phenotypes from GO regulation annotations of targets whose activity direction is known."""
    # process -> direction -> [(target, annotations)]
    found: dict[str, dict[str, list[tuple[_Target, list[GoAnn]]]]] = defaultdict(lambda: defaultdict(list))
    any_go = False
    for t in targets:
        if not t.direction:
            continue
        anns = _go_annotations(kb, t.symbol, t.gene_index)
        any_go = any_go or bool(anns)
        per_process: dict[str, dict[str, list[GoAnn]]] = defaultdict(lambda: defaultdict(list))
        for a in anns:
            m = _GO_REG.match(a.term or "")
            # Only annotations backed by experiments or an author/curator statement are premises: an
            # electronic (IEA) or similarity-based one is too weak to infer a phenotype from.
            if not m or not _process_allowed(m.group(2), context_text) or a.evidence not in _EXPERIMENTAL:
                continue
            sign = 1 if m.group(1) == "positive" else -1
            effect = "up" if sign * (1 if t.direction == "up" else -1) > 0 else "down"
            per_process[m.group(2)][effect].append(a)
        for process, by_dir in per_process.items():
            if len(by_dir) > 1:
                notes.gaps.append(f"GO annotates {t.symbol} to both positive and negative regulation of {process}; "
                                  "no direction is inferred from it")
                continue
            (effect, anns_p), = by_dir.items()
            found[process][effect].append((t, anns_p))
    if targets and not any_go and kb.orgdb is None:
        notes.gaps.append(kb.orgdb_reason or "no Gene Ontology annotations")
    family = {(p, d) for p, by_dir in found.items() if p in PROLIFERATION_FAMILY or p.endswith(" proliferation")
              for d in by_dir}
    if len({d for _, d in family}) > 1:
        notes.gaps.append("the targets' GO annotations point both ways on proliferation (" +
                          ", ".join(f"{_phenotype_label(p, d)}" for p, d in sorted(family)) + "); none is inferred")
        for p, _ in family:
            found.pop(p, None)
    candidates = []
    for process, by_dir in found.items():
        if len(by_dir) > 1:
            notes.gaps.append(f"the targets' GO annotations disagree on the direction of {process}; not inferred")
            continue
        (effect, pairs), = by_dir.items()
        if "antineoplastic agent" in roles and (process, effect) in _AGAINST_ANTINEOPLASTIC:
            notes.gaps.append(f"GO would suggest {_phenotype_label(process, effect)}, which contradicts {drug}'s ChEBI role "
                              "'antineoplastic agent'; dropped")
            continue
        rank = GO_PROCESSES.index(process) if process in GO_PROCESSES else len(GO_PROCESSES)
        candidates.append((-len(pairs), rank, process, effect, pairs))
    out: list[str] = []
    # Cover every target first (a target without an outcome leaves its path open), then the best-supported.
    chosen, covered = [], set()
    for cand in sorted(candidates):
        if {t.symbol for t, _ in cand[4]} - covered:
            chosen.append(cand)
            covered |= {t.symbol for t, _ in cand[4]}
    chosen += [c for c in sorted(candidates) if c not in chosen]
    for _, _, process, effect, pairs in sorted(chosen[:MAX_GO_PHENOTYPES + 1], key=lambda c: (c[0], c[1])):
        premises: list[str] = []
        evidence: list[dict[str, Any]] = []
        for t, anns in pairs[:MAX_PREMISES_PER_PHENOTYPE]:
            best = sorted(anns, key=lambda a: (a.evidence not in _EXPERIMENTAL, a.evidence))[0]
            codes = ", ".join(sorted({a.evidence for a in anns}))
            pid = b.add("participates_in", {"entity": t.symbol, "ontology_id": best.go_id},
                        f"source: {best.source}: {t.symbol} annotated to {best.go_id} '{best.term}' ({codes})", KNOWN,
                        [{"source": best.source, "id": best.go_id, "term": best.term, "evidence_code": codes,
                          "statement": f"{t.symbol} is annotated to {best.term}"}])
            premises.append(f"{t.activity_id} ({t.premise})")
            premises.append(f"{pid} ({best.go_id} {best.term})")
            evidence.append({"source": "inference", "rule": "GO regulation", "premises": [t.activity_id, pid],
                             "statement": f"{t.premise} and {t.symbol} is annotated to "
                                          f"'{best.term}' -> {_phenotype_label(process, effect)}"})
        label = _phenotype_label(process, effect)
        nid = b.add("induces_phenotype", {"source": drug or pairs[0][0].symbol, "phenotype": label},
                    "inferred from " + " and ".join(premises), INFERRED, evidence)
        for t, anns in pairs[:MAX_PREMISES_PER_PHENOTYPE]:
            b.edge(t.activity_id, nid, "causal")
            for extra in t.also:
                b.edge(extra, nid, "causal")
        for e in evidence:
            b.edge(e["premises"][1], nid, "correlative")
        for t, _ in pairs[MAX_PREMISES_PER_PHENOTYPE:]:
            b.edge(t.activity_id, nid, "causal")
        notes.inferences.append(f"{nid}: {label} (from GO annotations of {', '.join(t.symbol for t, _ in pairs)})")
        out.append(nid)
    return out


def _role_phenotypes(b: _Builder, drug: str | None, roles: list[str], cancer: bool, notes: _Notes,
                     pert: Perturbation, context_text: str = "") -> list[str]:
    out: list[str] = []
    if not drug:
        return out
    for role in roles:
        spec = ROLE_PHENOTYPES.get(role)
        if spec is None:
            continue
        phenotype, kind, needs_cancer = spec
        if needs_cancer and not cancer:
            continue
        tissue = next((p for p in TISSUE_PROCESSES if p in phenotype), None)
        if tissue and not _process_allowed(tissue, context_text):
            notes.gaps.append(f"{drug}'s ChEBI role '{role}' names {phenotype}, which {TISSUE_PROCESSES[tissue]} cells carry out, "
                              "not the cells of this context; not drawn")
            continue
        ev = [{"source": "ChEBI", "statement": f"{drug} has the ChEBI role '{role}'"}]
        if kind == INFERRED:
            why = " and the context is a cancer" if needs_cancer else ""
            ev.append({"source": "inference", "rule": "ChEBI role", "statement": f"role '{role}'{why} -> {phenotype}"})
            via = f"inferred from the ChEBI role '{role}' of {drug}" + (" in a cancer context" if needs_cancer else "")
        else:
            via = f"source: ChEBI role '{role}' of {drug} (not specific to this cell context)"
        nid = b.add("induces_phenotype", {"source": drug, "phenotype": phenotype}, via, kind, ev)
        if kind == INFERRED:
            notes.inferences.append(f"{nid}: {phenotype} (from the ChEBI role '{role}')")
        out.append(nid)
    return out


def _and(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(dict.fromkeys(i for i in items if i))
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


_VERB = {"down": "lowers", "up": "raises"}


def _answer(record: Record, b: _Builder, outcomes: list[str], notes: _Notes) -> str:
    """The answer as one sentence, whatever the record's shape: what the perturbation acts on and how, the
    steps downstream, the outcomes (known and inferred apart), then the disclaimer."""
    label = record.perturbation.label if record.perturbations else "The record"
    where = record.context.label
    head = f"{label} in {where}" if where else label
    if not b.nodes:
        return (f"Nothing is known about {label} in the loaded knowledge sources, so no mechanism "
                f"is stated. {DISCLAIMER}")
    acts = {n.args.get("target"): n.args.get("direction") for n in b.nodes if n.action == "modulates_molecule_activity"}
    bound = list(dict.fromkeys(n.args["target"] for n in b.nodes if n.action == "binds_to"))
    clauses: list[str] = []
    if bound:
        dirs = {acts.get(t) for t in bound}
        how = f" and {_VERB[d]} {'its' if len(bound) == 1 else 'their'} activity" if len(dirs) == 1 and (d := dirs.pop()) in _VERB else ""
        inferred_bind = any(n.confidence == INFERRED for n in b.nodes if n.action == "binds_to")
        shown = [f"{t} (in these cells part of {b.fusions[t]})" if t in b.fusions else t for t in bound]
        clauses.append(f"{label} binds {_and(shown)}{' (inferred)' if inferred_bind else ''}{how}")
    for n in b.nodes:
        if n.action in ("loss_of_function", "gain_of_function"):
            clauses.append(f"{label} {'removes' if n.action == 'loss_of_function' else 'raises'} the function of {n.args['protein']}")
    steps: dict[str, list[str]] = {"down": [], "up": []}
    for n in b.nodes:
        if n.action == "modulates_pathway_activity" and n.args.get("direction") in steps:
            steps[n.args["direction"]].append(f"the {n.args['pathway']}")
        elif (n.action == "modulates_molecule_activity" and n.args.get("target") not in bound
              and n.args.get("target") not in b.fusions.values() and n.args.get("direction") in steps):
            steps[n.args["direction"]].append(str(n.args["target"]))
    down_stream = [f"{_VERB[d]} the activity of {_and(items)}" for d, items in steps.items() if items]
    if down_stream:
        clauses.append(f"downstream it {' and '.join(down_stream)}")
    outs = [b.nodes[int(o[1:]) - 1] for o in dict.fromkeys(outcomes)]
    known = [n.args["phenotype"] for n in outs if n.confidence == KNOWN]
    inferred = [n.args["phenotype"] for n in outs if n.confidence == INFERRED and n.args["phenotype"] not in known]
    if known:
        clauses.append(f"known outcome{'s' if len(set(known)) > 1 else ''}: {_and(known)}")
    if inferred:
        clauses.append(f"inferred outcome{'s' if len(set(inferred)) > 1 else ''}: {_and(inferred)}")
    if not known and not inferred:
        clauses.append("no measurable outcome follows from the loaded sources")
    return f"{head}: " + "; ".join(clauses) + f". {DISCLAIMER}"


def _report(record: Record, kb: Knowledge, b: _Builder, notes: _Notes, roles: list[str], incomplete: str | None) -> str:
    p = record.perturbation
    lines = ["## How this explanation was made", DISCLAIMER, "",
             "## The record", f"- perturbation: {p.label} ({p.type or 'type not given'})",
             f"- listed targets: {', '.join(p.targets) or 'none'}", f"- mechanism of action: {p.moa_type or 'not given'}",
             f"- context: {record.context_text() or 'not given'}", "",
             "## Sources used"]
    lines += [f"- {u}" for u in notes.used] or ["- none beyond the record"]
    lines += ["- knowledge graph: " + (kb.graph_origin if kb.graph is not None else kb.graph_reason or "not loaded"),
              "- Gene Ontology: " + ("annotations of the targets (org.Hs.eg.db)" if kb.orgdb is not None else (kb.orgdb_reason or "not available")),
              "- ChEBI roles: " + (", ".join(roles) if roles else "none found"), "",
              "## Claims", f"{len(b.nodes)} claim(s); each names its source in `via`, with full evidence in the trace."]
    lines += [f"- {n.id} `{n.action}` ({n.confidence}): {n.via}" for n in b.nodes]
    lines += ["", "## Inferences (labelled, not known facts)"]
    lines += [f"- {i}" for i in notes.inferences] or ["- none"]
    lines += ["", "## Gaps"]
    lines += [f"- {g}" for g in dict.fromkeys(notes.gaps)] or ["- none"]
    if incomplete:
        lines += ["", f"**Incomplete:** {incomplete}"]
    return "\n".join(lines)


def claims_with_source(expl: Explanation, evidence: dict[str, list[dict[str, Any]]]) -> int:
    """How many claims name a source (``via``) and carry at least one evidence item."""
    return sum(1 for n in expl.claims if (n.via or "").strip() and evidence.get(n.id))


def inferred_claims(expl: Explanation) -> int:
    """How many claims are labelled as inferences."""
    return sum(1 for n in expl.claims if n.confidence == INFERRED)


def evidence_lines(items: Iterable[dict[str, Any]]) -> list[str]:
    """Evidence items as one line each (Review and the CLI show these)."""
    out = []
    for e in items:
        extra = ", ".join(f"{k} {e[k]}" for k in ("id", "evidence_code", "relation", "field") if e.get(k))
        out.append(f"{e.get('source', 'source?')}: {e.get('statement', '')}" + (f" ({extra})" if extra else ""))
    return out


__all__ = ["ASSEMBLER_NAME", "ASSEMBLER_VERSION", "Assembly", "DISCLAIMER", "Knowledge", "assemble",
           "claims_with_source", "evidence_lines", "inferred_claims", "load_knowledge", "set_knowledge"]
