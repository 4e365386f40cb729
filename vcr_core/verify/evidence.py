"""Typed evidence: one pydantic model per kind of evidence a verifier returns.

A verdict's evidence is stored as a list of plain dicts with a ``kind`` (the stored and archived form
does not change); these models are the one place that knows each kind's fields, how the Review page
shows it and how an export writes it. Verifiers build evidence through the models and store
``item.store()``; readers call :func:`parse_evidence`, which never fails: a kind this module does not
know, or an old row whose fields do not fit its kind, loads as :class:`GenericEvidence`.

Rendering data is plain text plus links the model builds itself from validated identifiers (a PMID
of digits, an ``HP:``/``GO:``/``CHEMBL`` id): nothing a model, an upload or a remote source wrote ever
becomes a live link or markup. The page draws the text with ``st.text``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Tag, TypeAdapter, ValidationError

from ..formalism.catalogue import SCOPE_TEXT

_PMID = re.compile(r"^\d{1,9}$")
_HPO = re.compile(r"^HP:\d{7}$")
_GO = re.compile(r"^GO:\d{7}$")
_CHEMBL = re.compile(r"^CHEMBL\d{1,10}$")
MAX_TEXT = 300  # characters of one shown value


def _text(value: Any) -> Any:
    """Identifiers may arrive as numbers (a PMID from JSON); they are kept as text."""
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


Text = Annotated[str, BeforeValidator(_text)]


@dataclass(frozen=True)
class Link:
    """A link the app may draw: a fixed label and a URL built from a validated identifier."""

    label: str
    url: str


@dataclass(frozen=True)
class Rendered:
    """What the Review page shows for one evidence item: a plain-text line and safe links."""

    text: str
    links: tuple[Link, ...] = ()


def pubmed_link(pmid: Any) -> Link | None:
    pmid = str(pmid or "").strip()
    return Link(f"PMID {pmid}", f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/") if _PMID.match(pmid) else None


def hpo_link(term: Any) -> Link | None:
    term = str(term or "").strip()
    return Link(term, f"https://hpo.jax.org/browse/term/{term}") if _HPO.match(term) else None


def go_link(term: Any) -> Link | None:
    term = str(term or "").strip()
    return Link(term, f"https://amigo.geneontology.org/amigo/term/{term}") if _GO.match(term) else None


def chembl_link(ident: Any) -> Link | None:
    ident = str(ident or "").strip()
    return Link(ident, f"https://www.ebi.ac.uk/chembl/explore/compound/{ident}") if _CHEMBL.match(ident) else None


def _s(value: Any) -> str:
    """A value as one line of plain text, shortened."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = ", ".join(_s(v) for v in value)
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


class Evidence(BaseModel):
    """One evidence item. Fields a kind does not declare are kept (old rows, newer verifiers)."""

    model_config = ConfigDict(extra="allow")

    kind: str
    label: ClassVar[str] = "evidence"

    def store(self) -> dict[str, Any]:
        """The stored form: ``kind`` first, then the fields that were given (unset ones left out)."""
        return {"kind": self.kind, **self.model_dump(mode="json", exclude_unset=True, exclude={"kind"})}

    def summary(self) -> str:
        """One line of plain text saying what this evidence is."""
        fields = self.store()
        fields.pop("kind", None)
        return f"{self.kind or self.label}: " + "; ".join(f"{k}={_s(v)}" for k, v in fields.items())

    def links(self) -> list[Link]:
        """Links built from validated identifiers only (see the module docstring)."""
        return []

    def render(self) -> Rendered:
        """Plain text and links for the Review page."""
        return Rendered(self.summary(), tuple(link for link in self.links() if link is not None))

    def export_dict(self) -> dict[str, Any]:
        """The export form: the stored fields plus the plain-text ``summary`` and any ``links`` (URLs)."""
        out = self.store()
        out["summary"] = self.summary()
        links = [link.url for link in self.links() if link is not None]
        if links:
            out["links"] = links
        return out


class GenericEvidence(Evidence):
    """A kind this module does not know (or an old row that does not fit its kind): every field as text."""

    kind: str = "evidence"


class PmidSentence(Evidence):
    """A sentence of a PubMed abstract (literature verifier), found or cited by the judge."""

    kind: Literal["pmid_sentence"] = "pmid_sentence"
    pmid: Text
    sentence: str = ""
    title: str | None = None
    cited_by: str | None = None

    def summary(self) -> str:
        return f"PMID {_s(self.pmid)}" + (" (cited by the judge)" if self.cited_by else "") + f": {_s(self.sentence)}"

    def links(self) -> list[Link]:
        return [pubmed_link(self.pmid)]


class RejectedCitation(Evidence):
    """A citation the judge gave that is not verbatim in the abstract (shown so a curator sees it was dropped)."""

    kind: Literal["rejected_citation"] = "rejected_citation"
    pmid: Text = ""
    sentence: str = ""
    reason: str | None = None

    def summary(self) -> str:
        return f"rejected citation PMID {_s(self.pmid)}: {_s(self.sentence)} ({_s(self.reason)})"


class KgEdge(Evidence):
    """An edge of the knowledge graph between the claim's two entities."""

    kind: Literal["kg_edge"] = "kg_edge"
    source: Text | None = None
    target: Text | None = None
    relation: Text | None = None
    graph: str | None = None
    edge_source: Text | None = None

    def summary(self) -> str:
        return f"graph edge: {_s(self.source)} —{_s(self.relation)}→ {_s(self.target)}" + (f" ({_s(self.graph)})" if self.graph else "")


class KgEdgeSkipped(KgEdge):
    """A graph edge left to another verifier (an HPO annotation: counted once, by the phenotype verifier)."""

    kind: Literal["kg_edge_skipped"] = "kg_edge_skipped"  # type: ignore[assignment]
    note: str | None = None

    def summary(self) -> str:
        return f"graph edge not used: {_s(self.source)} —{_s(self.relation)}→ {_s(self.target)} ({_s(self.note)})"


class KgPairsChecked(Evidence):
    """The entity pairs looked up in the graph when no matching edge was found."""

    kind: Literal["kg_pairs_checked"] = "kg_pairs_checked"
    pairs: list[str] = []
    graph: str | None = None

    def summary(self) -> str:
        return f"graph pairs checked{f' in {_s(self.graph)}' if self.graph else ''}: {_s(self.pairs) or 'none'}"


class SourcesConsulted(Evidence):
    """The sources a verifier consulted (every unverifiable verdict names them)."""

    kind: Literal["sources_consulted"] = "sources_consulted"
    sources: list[str] = []
    verifier: str | None = None
    version: Text | None = None

    def summary(self) -> str:
        return f"sources consulted{f' by {_s(self.verifier)}' if self.verifier else ''}: {_s(self.sources)}"


class Expression(Evidence):
    """One gene's result in the batch's expression table."""

    kind: Literal["expression"] = "expression"
    gene: Text
    log2fc: float | None = None
    padj: float | None = None
    context: str | None = None
    call: str | None = None

    def summary(self) -> str:
        return (f"expression: {_s(self.gene)} log2FC={_s(self.log2fc)} padj={_s(self.padj)}"
                + (f" in {_s(self.context)}" if self.context else "") + f" → {_s(self.call)}")


class OntologyTerm(Evidence):
    """The HPO term a claim's phenotype was read as."""

    kind: Literal["ontology_term"] = "ontology_term"
    id: Text
    name: str | None = None
    url: str | None = None  # stored for the record; the link shown is rebuilt from ``id``
    source: str | None = None

    def summary(self) -> str:
        return f"HPO term: {_s(self.id)} {_s(self.name)}" + (f" ({_s(self.source)})" if self.source else "")

    def links(self) -> list[Link]:
        return [hpo_link(self.id)]


class HpoGenePhenotype(Evidence):
    """An HPO gene-phenotype annotation."""

    kind: Literal["hpo_gene_phenotype"] = "hpo_gene_phenotype"
    gene: Text
    id: Text
    name: str | None = None
    source: str | None = None
    level: str | None = None

    def summary(self) -> str:
        return f"HPO: {_s(self.gene)} → {_s(self.id)} {_s(self.name)} ({_s(self.level)}; {_s(self.source)})"

    def links(self) -> list[Link]:
        return [hpo_link(self.id)]


class HpoDiseasePhenotype(Evidence):
    """An HPO disease-phenotype annotation (``qualifier`` NOT: recorded as absent)."""

    kind: Literal["hpo_disease_phenotype"] = "hpo_disease_phenotype"
    disease: Text
    id: Text
    name: str | None = None
    qualifier: str | None = None
    source: str | None = None
    level: str | None = None

    def summary(self) -> str:
        absent = " (recorded as absent)" if self.qualifier == "NOT" else ""
        return f"HPO: {_s(self.disease)} → {_s(self.id)} {_s(self.name)}{absent} ({_s(self.level)}; {_s(self.source)})"

    def links(self) -> list[Link]:
        return [hpo_link(self.id)]


class LevelMismatch(Evidence):
    """An annotation at another level than the claim (e.g. inherited disease vs a cell line)."""

    kind: Literal["level_mismatch"] = "level_mismatch"
    claim_level: str | None = None
    annotation_level: str | None = None

    def summary(self) -> str:
        return f"level mismatch: the claim is about {_s(self.claim_level)}, the annotation about {_s(self.annotation_level)}"


class GoAnnotation(Evidence):
    """A Gene Ontology annotation of a gene (offline org.Hs.eg.db)."""

    kind: Literal["go_annotation"] = "go_annotation"
    gene: Text
    go_id: Text
    term: str | None = None
    aspect: str | None = None
    evidence_code: str | None = None
    evidence_kind: str | None = None
    how: str | None = None
    source: str | None = None
    role: str | None = None

    def summary(self) -> str:
        return (f"GO: {_s(self.gene)} {_s(self.go_id)} {_s(self.term)} [{_s(self.aspect)}, evidence {_s(self.evidence_code)}]"
                f" ({_s(self.how)}; {_s(self.source)})")

    def links(self) -> list[Link]:
        return [go_link(self.go_id)]


class GoLookup(Evidence):
    """What the GO verifier looked up when it found no annotation under the claimed term."""

    kind: Literal["go_lookup"] = "go_lookup"
    genes: list[Text] = []
    terms: list[Text] = []
    resolved_via: Any = None
    annotated_elsewhere: list[str] | None = None
    source: str | None = None

    def summary(self) -> str:
        where = f"; annotated elsewhere: {_s(self.annotated_elsewhere)}" if self.annotated_elsewhere else ""
        return f"GO looked up: genes {_s(self.genes)}; terms {_s(self.terms) or 'none'}{where} ({_s(self.source)})"


class RecordField(Evidence):
    """A field of the input record (targets, MoA, perturbation type) the claim was compared with."""

    kind: Literal["record_field"] = "record_field"
    record: Any = None
    perturbation: str | None = None
    field: str | None = None
    value: Any = None
    matched: str | None = None
    how: str | None = None
    moa_type: str | None = None
    expected_direction: str | None = None
    perturbation_type: str | None = None
    gene: str | None = None
    claimed: str | None = None
    claimed_as: list[str] | None = None
    closed_world: bool | None = None
    class_check: Any = None
    resolved_via: Any = None

    def summary(self) -> str:
        parts = [f"record {_s(self.record)}"]
        if self.field:
            parts.append(f"{_s(self.field)} = {_s(self.value)}")
        if self.perturbation_type or self.gene:
            parts.append(f"{_s(self.perturbation)} ({_s(self.perturbation_type)}) removes {_s(self.gene)}")
        if self.closed_world:
            parts.append("closed world")
        for name in ("matched", "how", "moa_type", "expected_direction", "claimed", "class_check"):
            if getattr(self, name):
                parts.append(f"{name.replace('_', ' ')}: {_s(getattr(self, name))}")
        return " · ".join(parts)


class DrugTargetList(Evidence):
    """The targets of a drug a claim was checked against (:mod:`vcr_core.knowledge.drug_targets`): the known
    list and its sources, or the inferred class (a ChEBI role) that matched."""

    kind: Literal["drug_target_list"] = "drug_target_list"
    drug: str | None = None
    target_kind: str | None = None          # "known" / "inferred" (what matched), None when nothing did
    sources: list[str] = []
    checked_against: str | None = None      # the known list, readable
    matched: str | None = None
    how: str | None = None
    claimed: str | None = None
    claimed_as: list[str] | None = None
    ungrounded: list[str] = []               # listed names that are no gene: they support nothing
    roles: list[str] = []
    closed_world: bool | None = None

    def summary(self) -> str:
        head = f"targets of {_s(self.drug)}"
        if self.matched:
            return f"{head}: {_s(self.claimed)} matches {_s(self.matched)} ({_s(self.target_kind)}; {_s(self.how)})"
        return f"{head} checked against {_s(self.checked_against)}" + (f"; claimed {_s(self.claimed)}" if self.claimed else "")


class IndraStatement(Evidence):
    """An INDRA statement between the claim's subject and object, with its evidence count and PMIDs."""

    kind: Literal["indra_statement"] = "indra_statement"
    type: str | None = None
    subject: Text | None = None
    object: Text | None = None
    evidence_count: int | None = None
    belief: float | None = None
    pmids: list[Text] = []
    hash: Text | None = None
    sign: str | None = None
    query: str | None = None
    source: str | None = None

    def summary(self) -> str:
        return (f"INDRA: {_s(self.type)}({_s(self.subject)}, {_s(self.object)}) · {_s(self.evidence_count)} evidence · "
                f"belief {_s(self.belief)}")

    def links(self) -> list[Link]:
        return [pubmed_link(p) for p in self.pmids]


class ChemblMechanism(Evidence):
    """A ChEMBL drug mechanism (action type on a target)."""

    kind: Literal["chembl_mechanism"] = "chembl_mechanism"
    molecule: Text | None = None
    action_type: str | None = None
    mechanism_of_action: str | None = None
    target_chembl_id: Text | None = None
    target_name: str | None = None
    genes: list[Text] = []
    refs: list[dict[str, Any]] = []
    source: str | None = None

    def summary(self) -> str:
        return (f"ChEMBL: {_s(self.molecule)} {_s(self.action_type)} · {_s(self.mechanism_of_action)} · "
                f"{_s(self.target_chembl_id)} {_s(self.target_name)} ({_s(self.genes)})")

    def links(self) -> list[Link]:
        return [chembl_link(self.molecule)]


class Falsification(Evidence):
    """The falsification agent's verdict and reason for one claim (model-written: shown as text)."""

    kind: Literal["falsification"] = "falsification"
    verdict: str | None = None
    reason: Any = None

    def summary(self) -> str:
        return f"falsification: {_s(self.verdict)} — {_s(self.reason)}"


class FalsificationOverall(Evidence):
    """The falsification agent's verdict on the whole explanation."""

    kind: Literal["falsification_overall"] = "falsification_overall"
    overall: str | None = None

    def summary(self) -> str:
        return f"falsification of the whole explanation: {_s(self.overall)}"


class EntityGrounding(Evidence):
    """How one entity name of a claim grounds (entity verifier); old rows have no ``kind``."""

    kind: Literal["entity_grounding"] = "entity_grounding"
    argument: str
    name: str
    kinds: list[str] = []
    status: str | None = None
    grounding: dict[str, Any] | None = None
    candidates: list[dict[str, Any]] = []
    nearest: list[str] | None = None

    def summary(self) -> str:
        g = self.grounding or {}
        where = " ".join(_s(g.get(k)) for k in ("namespace", "identifier", "type") if g.get(k)) or "no grounding"
        near = f"; nearest: {_s(self.nearest)}" if self.nearest else ""
        return f"entity {_s(self.argument)}={_s(self.name)} ({'/'.join(self.kinds)}): {_s(self.status)} — {where}{near}"


class StructuralFinding(Evidence):
    """A structural finding of the formalism checks (stored as the finding itself, without ``kind``)."""

    kind: Literal["structural_finding"] = "structural_finding"
    code: str
    severity: str | None = None
    line: int | None = None
    message: str = ""

    def summary(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{_s(self.severity)} {_s(self.code)}: {where}{_s(self.message)}"


class ByConstruction(Evidence):
    """A verifier agreed with a claim that was assembled from that verifier's own source: not independent
    support, so the verdict is kept as "unverifiable" with what the verifier found."""

    kind: Literal["by_construction"] = "by_construction"
    source: Text = ""
    verifier: str | None = None
    found: str | None = None     # the verdict the verifier gave
    message: Text = ""

    def summary(self) -> str:
        return (f"by construction from {_s(self.source)}: the claim was assembled from this source, so "
                f"{_s(self.verifier)}'s '{_s(self.found)}' is not independent support ({_s(self.message)})")


class CuratedJudgment(Evidence):
    """A curator's judgment on another claim with the same core, deciding this one (the ``curated``
    verifier's evidence): who judged, on which trace and claim, how, in which scope and when."""

    kind: Literal["curation"] = "curation"
    label: ClassVar[str] = "curator's judgment"
    curation_id: int | None = None
    curator: Text = ""
    trace_id: int | None = None
    claim_id: int | None = None
    judgment: str | None = None
    verdict: str | None = None
    scope: str | None = None
    scope_reason: Text | None = None
    at: str | None = None

    def summary(self) -> str:
        how = "accepted" if self.judgment == "accept" else f"→ {_s(self.verdict)}"
        scope = SCOPE_TEXT.get(self.scope or "", _s(self.scope))
        reason = f"; {_s(self.scope_reason)}" if self.scope_reason else ""
        return (f"{_s(self.curator)}'s judgment on trace #{self.trace_id} ({scope}{reason}), {how}"
                + (f", {_s(self.at)[:16]}" if self.at else ""))


class StoredGroundingUsed(Evidence):
    """The claim's stored grounding the verifier read instead of resolving the names again; ``curator``
    names who re-grounded an entity (a curator's grounding wins over the automatic one)."""

    kind: Literal["stored_grounding"] = "stored_grounding"
    label: ClassVar[str] = "stored grounding"
    entities: list[dict[str, Any]] = []

    def summary(self) -> str:
        parts = []
        for e in self.entities:
            who = f"curator {_s(e.get('curator'))}'s grounding" if e.get("curator") else f"stored grounding ({_s(e.get('method'))})"
            arg = f"{_s(e.get('argument'))} = " if e.get("argument") else ""
            parts.append(f"{arg}{_s(e.get('name'))} → {_s(e.get('identifier'))} ({who})")
        return "grounding read from the claim: " + "; ".join(parts)

    def links(self) -> list[Link]:
        return [link for e in self.entities if (link := go_link(e.get("identifier"))) is not None]


MODELS: tuple[type[Evidence], ...] = (
    PmidSentence, RejectedCitation, KgEdge, KgEdgeSkipped, KgPairsChecked, SourcesConsulted, Expression, OntologyTerm,
    HpoGenePhenotype, HpoDiseasePhenotype, LevelMismatch, GoAnnotation, GoLookup, RecordField, DrugTargetList, IndraStatement,
    ChemblMechanism, Falsification, FalsificationOverall, EntityGrounding, StructuralFinding, ByConstruction,
    StoredGroundingUsed, CuratedJudgment,
)
BY_KIND: dict[str, type[Evidence]] = {m.model_fields["kind"].default: m for m in MODELS}
OTHER = "other"


def evidence_kind(item: Any) -> str:
    """The kind of a stored item; rows written before they carried one are recognised by their fields."""
    if isinstance(item, Evidence):
        return item.kind
    if not isinstance(item, dict):
        return OTHER
    kind = item.get("kind")
    if kind is None and {"argument", "name", "status"} <= item.keys():
        return "entity_grounding"
    if kind is None and {"code", "severity", "message"} <= item.keys():
        return "structural_finding"
    return kind if isinstance(kind, str) else OTHER


def _tag(item: Any) -> str:
    kind = evidence_kind(item)
    return kind if kind in BY_KIND else OTHER


# The union of every kind, discriminated on ``kind`` (a kind not listed: GenericEvidence).
EvidenceItem = Annotated[
    Union[tuple(Annotated[m, Tag(k)] for k, m in BY_KIND.items()) + (Annotated[GenericEvidence, Tag(OTHER)],)],  # type: ignore[misc]
    Discriminator(_tag),
]
EVIDENCE_ADAPTER: TypeAdapter = TypeAdapter(EvidenceItem)


def parse_evidence(item: Any, strict: bool = False) -> Evidence:
    """The typed model of a stored evidence item. Never fails unless ``strict``: an item whose fields do
    not fit its kind, or that is not a dict at all, loads as :class:`GenericEvidence`."""
    if isinstance(item, Evidence):
        return item
    data = dict(item) if isinstance(item, dict) else {"value": item}
    kind = evidence_kind(data)
    if "kind" not in data and kind in ("entity_grounding", "structural_finding"):
        data["kind"] = kind
    try:
        return EVIDENCE_ADAPTER.validate_python(data)
    except ValidationError:
        if strict:
            raise
        data["kind"] = kind if kind != OTHER else "evidence"
        return GenericEvidence.model_validate({k if isinstance(k, str) else str(k): v for k, v in data.items()})


def parse_all(items: Any) -> list[Evidence]:
    """Every item of a stored evidence list, typed (None or a non-list: [])."""
    return [parse_evidence(i) for i in items] if isinstance(items, list) else []


def export_evidence(items: Any) -> list[dict[str, Any]]:
    """The export form of a stored evidence list (see :meth:`Evidence.export_dict`)."""
    return [e.export_dict() for e in parse_all(items)]


def stored(items: list[Evidence | dict[str, Any]]) -> list[dict[str, Any]]:
    """Evidence as stored in a verdict: models become their dicts, dicts stay as they are."""
    return [i.store() if isinstance(i, Evidence) else i for i in items]


__all__ = ["BY_KIND", "EVIDENCE_ADAPTER", "Evidence", "EvidenceItem", "GenericEvidence", "Link", "MODELS", "Rendered",
           "evidence_kind", "export_evidence", "parse_all", "parse_evidence", "stored"]
