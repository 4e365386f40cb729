"""The falsification agent: a model with tool calls tries to refute an explanation claim by claim.

The tools it may call are the other verifiers' evidence sources as functions (knowledge-graph edges,
literature search, attached expression results). Within ``max_turns`` it must answer, for every
claim id, ``refuted``, ``survives`` or ``inconclusive`` with a reason; the overall result is
``falsified`` (any claim refuted), ``consistent`` (every claim survives) or ``inconclusive``. The
whole transcript is kept as evidence.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from ..formalism import Explanation, node_to_text
from .base import CONTRADICTED, SUPPORTED, UNVERIFIABLE, ClaimVerdict, json_object_in

NAME, VERSION = "falsification", "1"

SYSTEM = """You are a sceptical molecular biologist. Try to refute each claim of a mechanistic explanation.
Use the tools to look for counter-evidence. When done, answer with JSON only:
{"claims": {"<claim id>": {"verdict": "refuted" | "survives" | "inconclusive", "reason": "..."}}, "overall": "falsified" | "consistent" | "inconclusive"}"""

TOOL_SPECS = [
    {"type": "function", "function": {"name": "kg_edges", "description": "Edges between two entities in the knowledge graph.",
                                      "parameters": {"type": "object", "properties": {"entity_a": {"type": "string"}, "entity_b": {"type": "string"}},
                                                     "required": ["entity_a", "entity_b"]}}},
    {"type": "function", "function": {"name": "search_literature", "description": "PubMed abstracts for a query (top 5).",
                                      "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}},
    {"type": "function", "function": {"name": "expression", "description": "Measured log2 fold change and adjusted p of a gene under this perturbation.",
                                      "parameters": {"type": "object", "properties": {"gene": {"type": "string"}}, "required": ["gene"]}}},
]

MAP = {"refuted": (CONTRADICTED, 0.6), "survives": (SUPPORTED, 0.5), "inconclusive": (UNVERIFIABLE, 0.0)}


class FalsificationAgent:
    """Runs the refutation loop for one trace. ``chat(messages, tools) -> LlmResponse``-like object."""

    name, version = NAME, VERSION

    def __init__(self, chat: Callable[[list, list], Any], functions: dict[str, Callable[..., Any]], max_turns: int = 6) -> None:
        self.chat, self.functions, self.max_turns = chat, functions, max_turns

    def run(self, expl: Explanation) -> tuple[dict[str, ClaimVerdict], str, list[dict]]:
        """(verdict per claim id, overall, transcript)."""
        claims = "\n".join(node_to_text(n) for n in expl.claims)
        messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM},
                                          {"role": "user", "content": f"Context: {json.dumps(expl.context, ensure_ascii=False)}\nClaims:\n{claims}"}]
        answer = None
        for _ in range(self.max_turns):
            resp = self.chat(messages, TOOL_SPECS)
            calls = getattr(resp, "tool_calls", None) or []
            if not calls:
                messages.append({"role": "assistant", "content": resp.text})
                answer = json_object_in(resp.text)
                break
            messages.append({"role": "assistant", "content": resp.text or None, "tool_calls": calls})
            for call in calls:
                fn = call.get("function", {})
                try:
                    args = json.loads(fn.get("arguments") or "{}")
                    result = self.functions[fn.get("name")](**args)
                except Exception as exc:  # noqa: BLE001 - the model is told its call failed
                    result = {"error": f"{type(exc).__name__}: {exc}"}
                messages.append({"role": "tool", "tool_call_id": call.get("id"), "name": fn.get("name"),
                                 "content": json.dumps(result, ensure_ascii=False, default=str)[:4000]})
        transcript = [{"role": m["role"], "content": m.get("content"), **({"tool_calls": m["tool_calls"]} if m.get("tool_calls") else {})}
                      for m in messages]
        verdicts: dict[str, ClaimVerdict] = {}
        per_claim = (answer or {}).get("claims") or {}
        for node in expl.claims:
            item = per_claim.get(node.id) or {}
            label = str(item.get("verdict", "inconclusive")).lower() if isinstance(item, dict) else "inconclusive"
            verdict, score = MAP.get(label, MAP["inconclusive"])
            reason = item.get("reason", "") if isinstance(item, dict) else ""
            verdicts[node.id] = ClaimVerdict(verdict, score, [{"kind": "falsification", "verdict": label, "reason": reason}],
                                             reason or ("no answer within the turn limit" if answer is None else label))
        overall = str((answer or {}).get("overall", "inconclusive")).lower()
        if any(v.verdict == CONTRADICTED for v in verdicts.values()):
            overall = "falsified"
        return verdicts, overall if overall in ("falsified", "consistent", "inconclusive") else "inconclusive", transcript
