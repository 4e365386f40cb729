"""The ChEMBL verifier (network): curated drug mechanisms - target and action type.

Requests (``CHEMBL_URL`` is ChEMBL's ``/chembl/api/data``):

1. ``molecule/search.json?q=<drug>`` -> ``{"molecules": [{"molecule_chembl_id", "pref_name",
   "molecule_synonyms": [{"molecule_synonym", ...}], "molecule_hierarchy": {"parent_chembl_id"}}]}``;
   every form whose preferred name or synonym is the drug's name (salts included) and its parent;
2. ``mechanism.json?molecule_chembl_id__in=...`` -> ``{"mechanisms": [{"action_type",
   "mechanism_of_action", "target_chembl_id", "molecule_chembl_id", "mechanism_refs", ...}]}``;
3. ``target.json?target_chembl_id__in=...`` -> ``{"targets": [{"target_chembl_id", "pref_name",
   "target_components": [{"accession", "target_component_synonyms": [{"component_synonym",
   "syn_type": "GENE_SYMBOL"}]}]}]}``.

* ``binds_to(drug, target)``: supported (0.85) when a mechanism's target has the claimed gene
  among its components (aliases and FamPlex families resolved); otherwise unverifiable: ChEMBL
  lists a drug's efficacy targets, not every protein it binds.
* ``modulates_molecule_activity(target, direction)`` (the drug is the ``via`` node's actor, else
  the record's perturbation): the action type gives the direction (INHIBITOR, ANTAGONIST, BLOCKER,
  NEGATIVE ALLOSTERIC MODULATOR, INVERSE AGONIST, DEGRADER -> down; AGONIST, ACTIVATOR, OPENER,
  POSITIVE ALLOSTERIC MODULATOR -> up): agreeing -> supported (0.85), flipped -> contradicted
  (0.6; a curated mechanism, not an absence).

``OFFLINE=true`` or an unreachable service: unverifiable with the reason.
"""
from __future__ import annotations

from typing import Any

from ..formalism import Node
from ..knowledge.genes import resolve, symbol_for_uniprot
from .base import CONTRADICTED, SUPPORTED, ClaimContext, ClaimVerdict, unverifiable
from .evidence import ChemblMechanism
from .indra import claim_subject
from .record import moa_direction

NAME, VERSION = "chembl", "1"
APPLIES_TO = ("binds_to", "modulates_molecule_activity")


def _fold(s: str) -> str:
    return " ".join(str(s or "").casefold().split())


class ChemblVerifier:
    """Checks drug-target and direction claims against ChEMBL's curated mechanisms."""

    name, version = NAME, VERSION
    network_url_setting = "chembl_url"  # in the default set only when this service answers

    def __init__(self, base_url: str | None = None) -> None:
        from ..kernel.settings import get_settings
        from ..net.http import HttpClient
        self.client = HttpClient(base_url or get_settings().chembl_url, name="ChEMBL", rate_per_s=5, timeout_s=30,
                                 retries=2, cache_namespace="chembl")

    def applies(self, node: Node) -> bool:
        return node.action in APPLIES_TO

    # -- lookups (each GET is cached on disk by the shared client)
    def molecule_ids(self, drug: str) -> list[str]:
        """ChEMBL ids of every form named ``drug`` (preferred name or synonym) and their parents."""
        data = self.client.get_json("molecule/search.json", {"q": drug, "limit": 20})
        want, ids = _fold(drug), []
        for m in (data or {}).get("molecules") or []:
            names = {_fold(m.get("pref_name"))} | {_fold(s.get("molecule_synonym")) for s in m.get("molecule_synonyms") or []}
            if want in names:
                for cid in (m.get("molecule_chembl_id"), (m.get("molecule_hierarchy") or {}).get("parent_chembl_id")):
                    if cid and cid not in ids:
                        ids.append(cid)
        return ids

    def mechanisms(self, drug: str) -> list[dict[str, Any]]:
        """The drug's mechanisms, each with ``genes`` (HGNC symbols of its target's components)."""
        ids = self.molecule_ids(drug)
        if not ids:
            return []
        data = self.client.get_json("mechanism.json", {"molecule_chembl_id__in": ",".join(ids), "limit": 100})
        mechs = [m for m in (data or {}).get("mechanisms") or [] if m.get("target_chembl_id")]
        targets = sorted({m["target_chembl_id"] for m in mechs})
        genes: dict[str, tuple[str, set[str]]] = {}
        if targets:
            tdata = self.client.get_json("target.json", {"target_chembl_id__in": ",".join(targets), "limit": 100})
            for t in (tdata or {}).get("targets") or []:
                syms: set[str] = set()
                for comp in t.get("target_components") or []:
                    for syn in comp.get("target_component_synonyms") or []:
                        if syn.get("syn_type") == "GENE_SYMBOL" and syn.get("component_synonym"):
                            r = resolve(syn["component_synonym"])
                            syms |= set(r.symbols) if r and r.kind == "gene" else {syn["component_synonym"].upper()}
                    if (sym := symbol_for_uniprot(comp.get("accession") or "")):
                        syms.add(sym)
                genes[t.get("target_chembl_id")] = (t.get("pref_name") or "", syms)
        for m in mechs:
            m["target_name"], m["genes"] = genes.get(m["target_chembl_id"], ("", set()))
        return mechs

    # -- verdicts
    def verify(self, ctx: ClaimContext) -> ClaimVerdict:
        from ..net.http import HttpError, NetworkUnavailable
        node = ctx.node
        drug = node.args.get("actor") if node.action == "binds_to" else claim_subject(node, ctx.explanation, ctx.record)
        target = node.args.get("target")
        if not isinstance(drug, str) or not isinstance(target, str) or not drug.strip() or not target.strip():
            return unverifiable("needs a drug and a target")
        try:
            mechs = self.mechanisms(drug.strip())
        except NetworkUnavailable as exc:
            return unverifiable(f"ChEMBL {exc}")
        except HttpError as exc:
            return unverifiable(f"ChEMBL could not be asked: {exc}")
        if not mechs:
            return unverifiable(f"ChEMBL has no curated mechanism for {drug!r} (or no molecule of that name)")
        r = resolve(target)
        claimed = set(r.symbols) if r else {target.strip().upper()}
        hits = [m for m in mechs if m["genes"] & claimed or _fold(m.get("target_name")) == _fold(target)]
        listed = sorted({g for m in mechs for g in m["genes"]})
        if not hits:
            return unverifiable(f"ChEMBL's mechanisms for {drug} name {', '.join(listed[:10]) or 'no gene'}, not {target}; "
                                "ChEMBL lists efficacy targets only, so this is not a contradiction",
                                [self._ev(m) for m in mechs[:5]])
        evidence = [self._ev(m) for m in hits]
        if node.action == "binds_to":
            m = hits[0]
            return ClaimVerdict(SUPPORTED, 0.85, evidence, f"ChEMBL: {m.get('mechanism_of_action') or m.get('action_type')} "
                                f"({m['target_chembl_id']} {m['target_name']})")
        direction = str(node.args.get("direction") or "").strip().lower()
        dirs = {moa_direction(str(m.get("action_type") or "").lower()) for m in hits} - {None}
        if direction not in ("up", "down") or len(dirs) != 1:
            return unverifiable(f"ChEMBL's action type for {target} ({', '.join(sorted({str(m.get('action_type')) for m in hits}))}) "
                                "gives no single direction", evidence)
        expected = dirs.pop()
        if expected == direction:
            return ClaimVerdict(SUPPORTED, 0.85, evidence, f"ChEMBL: {drug} is a {hits[0].get('action_type', '').lower()} of "
                                f"{hits[0]['target_name'] or target}, so its activity goes {expected}")
        return ClaimVerdict(CONTRADICTED, 0.6, evidence, f"ChEMBL: {drug} is a {hits[0].get('action_type', '').lower()} of "
                            f"{hits[0]['target_name'] or target}, so its activity goes {expected}, not {direction}")

    def _ev(self, m: dict[str, Any]) -> dict[str, Any]:
        refs = [{"type": r.get("ref_type"), "id": r.get("ref_id"), "url": r.get("ref_url")} for r in (m.get("mechanism_refs") or [])[:3]]
        return ChemblMechanism(molecule=m.get("molecule_chembl_id"), action_type=m.get("action_type"),
                               mechanism_of_action=m.get("mechanism_of_action"), target_chembl_id=m.get("target_chembl_id"),
                               target_name=m.get("target_name"), genes=sorted(m.get("genes") or [])[:10], refs=refs,
                               source=f"ChEMBL ({self.client.base_url})").store()
