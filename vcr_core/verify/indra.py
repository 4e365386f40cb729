"""The INDRA verifier (network): signed mechanisms from INDRA's statement REST service.

``GET {INDRA_URL}/statements/from_agents?subject=..&object=..&format=json`` answers
``{"statements": {hash: statement JSON}, "evidence_totals": {hash: n}, "total_evidence", ...}``;
each statement has a ``type`` (Activation, Inhibition, IncreaseAmount, DecreaseAmount, ...),
``subj``/``obj`` agents, a ``belief`` and some ``evidence`` (``source_api``, ``pmid``, ``text``).

Claims checked, subject -> object and the statement types that carry the claimed sign:

| claim | subject | object | up | down |
|---|---|---|---|---|
| modulates_molecule_activity | the ``via`` node's actor, else the record's perturbation | target | Activation | Inhibition |
| regulates_expression | regulator | each gene (at most 5) | IncreaseAmount | DecreaseAmount |
| degrades_or_stabilises | regulator | target | IncreaseAmount (stabilises) | DecreaseAmount (degrades) |

Supported when statements of the claimed sign have evidence (score 0.6 for 1-2 pieces, 0.75 for
3-9, 0.85 for 10 or more). Contradicted (0.55) only when the opposite sign has at least
:data:`CONTRA_MIN_EVIDENCE` pieces of evidence and the claimed sign none: text-mined statements are
noisy and effects depend on context, so a weak or mixed picture stays unverifiable. No statement at
all never contradicts. ``OFFLINE=true`` or an unreachable service: unverifiable with the reason.
"""
from __future__ import annotations

from typing import Any

from ..formalism import Node
from ..knowledge.genes import resolve
from ..records.model import Record
from .base import CONTRADICTED, SUPPORTED, ClaimContext, ClaimVerdict, unverifiable
from .evidence import IndraStatement

NAME, VERSION = "indra", "1"
CONTRA_MIN_EVIDENCE = 10
MAX_GENES = 5
SIGNS = {
    "modulates_molecule_activity": {"Activation": "up", "Inhibition": "down"},
    "regulates_expression": {"IncreaseAmount": "up", "DecreaseAmount": "down"},
    "degrades_or_stabilises": {"IncreaseAmount": "up", "DecreaseAmount": "down"},
}
ACTOR_ARGS = ("actor", "regulator", "source", "enzyme", "ligand", "sender")


def claim_subject(node: Node, explanation, record: Record) -> str | None:
    """Who acts in a claim without an actor argument: the actor of the node named in ``via``, else the
    record's (first) perturbation."""
    for arg in ACTOR_ARGS:
        if isinstance(node.args.get(arg), str) and node.args[arg].strip():
            return node.args[arg].strip()
    if node.via and explanation is not None:
        for other in explanation.nodes:
            if other.id == node.via:
                for arg in ACTOR_ARGS:
                    if isinstance(other.args.get(arg), str) and other.args[arg].strip():
                        return other.args[arg].strip()
    if record is not None and record.perturbations:
        p = record.perturbation
        return p.name or p.gene_symbol
    return None


def agent_param(name: str) -> str:
    """An agent as INDRA's service reads it: an HGNC symbol, ``<FamPlex id>@FPLX``, else the name itself."""
    r = resolve(name)
    if r is None:
        return name
    if r.kind == "family" and r.family:
        return f"{r.family}@FPLX"
    return next(iter(r.symbols))


def _pmids(stmt: dict) -> list[str]:
    out = []
    for ev in stmt.get("evidence") or []:
        pmid = ev.get("pmid") or (ev.get("text_refs") or {}).get("PMID")
        if pmid and str(pmid) not in out:
            out.append(str(pmid))
    return out


def _score(n: int) -> float:
    return 0.85 if n >= 10 else 0.75 if n >= 3 else 0.6


class IndraVerifier:
    """Looks up signed statements between a claim's subject and object."""

    name, version = NAME, VERSION
    network_url_setting = "indra_url"  # in the default set only when this service answers

    def __init__(self, base_url: str | None = None) -> None:
        from ..kernel.settings import get_settings
        from ..net.http import HttpClient
        s = get_settings()
        key = s.indra_api_key.get_secret_value() if s.indra_api_key else None
        self.client = HttpClient(base_url or s.indra_url, name="INDRA", rate_per_s=3, timeout_s=30, retries=2,
                                 cache_namespace="indra")
        self.api_key = key

    def applies(self, node: Node) -> bool:
        return node.action in SIGNS

    def _query(self, subject: str, obj: str) -> tuple[dict[str, Any], str, str]:
        params = {"subject": agent_param(subject), "object": agent_param(obj), "format": "json", "ev_limit": 3,
                  "max_stmts": 100}
        if self.api_key:
            params["api_key"] = self.api_key
        data = self.client.get_json("statements/from_agents", params)
        return (data if isinstance(data, dict) else {}), params["subject"], params["object"]

    def _pair(self, action: str, subject: str, obj: str, direction: str) -> dict[str, Any]:
        """Evidence counts by sign for one subject -> object pair, with the strongest statements."""
        data, sp, op = self._query(subject, obj)
        stmts = data.get("statements") or {}
        totals = data.get("evidence_totals") or {}
        signs = SIGNS[action]
        counts = {"same": 0, "opposite": 0}
        shown: dict[str, list] = {"same": [], "opposite": []}
        items = stmts.items() if isinstance(stmts, dict) else enumerate(stmts)
        for h, st in items:
            sign = signs.get(st.get("type"))
            if sign is None:
                continue
            n = totals.get(str(h)) if isinstance(totals, dict) else None
            n = int(n) if n is not None else len(st.get("evidence") or [])  # no totals: count what came back
            side = "same" if sign == direction else "opposite"
            counts[side] += n
            shown[side].append(IndraStatement(
                type=st.get("type"), subject=(st.get("subj") or {}).get("name"), object=(st.get("obj") or {}).get("name"),
                evidence_count=n, belief=st.get("belief"), pmids=_pmids(st)[:5], hash=str(h), sign=sign,
                query=f"subject={sp}&object={op}", source=f"INDRA DB ({self.client.base_url})").store())
        for side in shown:
            shown[side].sort(key=lambda e: -e["evidence_count"])
        return {"object": obj, "counts": counts, "shown": shown}

    def verify(self, ctx: ClaimContext) -> ClaimVerdict:
        from ..net.http import HttpError, NetworkUnavailable
        node = ctx.node
        direction = str(node.args.get("direction") or "").strip().lower()
        if direction not in ("up", "down"):
            return unverifiable("INDRA checks signed claims: the direction must be up or down")
        subject = claim_subject(node, ctx.explanation, ctx.record)
        if node.action == "regulates_expression":
            genes = node.args.get("gene_list")
            objects = [g for g in (genes if isinstance(genes, list) else [genes]) if isinstance(g, str) and g.strip()][:MAX_GENES]
        else:
            objects = [node.args["target"]] if isinstance(node.args.get("target"), str) else []
        if not subject or not objects:
            return unverifiable("no subject or object to look up in INDRA")
        try:
            pairs = [self._pair(node.action, subject, o, direction) for o in objects]
        except NetworkUnavailable as exc:
            return unverifiable(f"INDRA {exc}")
        except HttpError as exc:
            return unverifiable(f"INDRA could not be asked: {exc}")
        supported = [p for p in pairs if p["counts"]["same"] > 0 and p["counts"]["same"] >= p["counts"]["opposite"]]
        against = [p for p in pairs if p["counts"]["same"] == 0 and p["counts"]["opposite"] >= CONTRA_MIN_EVIDENCE]
        evidence = [e for p in pairs for e in p["shown"]["same"][:3] + p["shown"]["opposite"][:2]]
        if supported and len(supported) * 2 >= len(pairs) and not against:
            n = min(p["counts"]["same"] for p in supported)
            names = ", ".join(p["object"] for p in supported)
            return ClaimVerdict(SUPPORTED, _score(n), evidence,
                                f"INDRA has {sum(p['counts']['same'] for p in supported)} piece(s) of evidence that {subject} "
                                f"moves {names} {direction}")
        if against and len(against) * 2 > len(pairs) and not supported:
            total = sum(p["counts"]["opposite"] for p in against)
            return ClaimVerdict(CONTRADICTED, 0.55, evidence,
                                f"INDRA has {total} piece(s) of evidence for the opposite sign "
                                f"({', '.join(p['object'] for p in against)}) and none for {direction}")
        if any(sum(p["counts"].values()) for p in pairs):
            return unverifiable(f"INDRA's evidence for {subject} -> {', '.join(objects)} is mixed or weak "
                                "(a weak opposite sign never contradicts)", evidence)
        return unverifiable(f"INDRA has no signed statement from {subject} to {', '.join(objects)}; absence never contradicts")
