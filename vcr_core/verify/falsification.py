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
from .evidence import Falsification

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
            verdicts[node.id] = ClaimVerdict(verdict, score, [Falsification(verdict=label, reason=reason)],
                                             reason or ("no answer within the turn limit" if answer is None else label))
        overall = str((answer or {}).get("overall", "inconclusive")).lower()
        if any(v.verdict == CONTRADICTED for v in verdicts.values()):
            overall = "falsified"
        return verdicts, overall if overall in ("falsified", "consistent", "inconclusive") else "inconclusive", transcript


def run_model_choice(session, trace) -> Any:
    """The model (with its ``api_base``) the trace's run was generated with, or None for imported
    traces and runs without a model (then the configured model is used)."""
    from ..store import Run
    run = session.get(Run, trace.run_id) if getattr(trace, "run_id", None) else None
    if run is None or run.mode == "import" or not run.model:
        return None
    from ..llm.models import choice_for_run
    return choice_for_run(run)


def default_falsifier(engine, record, batch_id, model_choice=None):
    """A falsification agent with the KG, literature and expression tools, on ``model_choice`` (the run's
    model and ``api_base``, or the one asked for) or else the configured model; None when there is none."""
    from sqlmodel import Session, select

    from ..llm import complete, model_available
    choice = model_choice or model_available()
    if choice is None:
        return None
    kg_holder: list = []

    def kg_edges(entity_a: str, entity_b: str) -> Any:
        if not kg_holder:  # the graph loads only when the model asks for it
            from .kg import KgVerifier
            kg_holder.append(KgVerifier())
        kg = kg_holder[0]
        if kg.problem:
            return {"error": kg.problem}
        out = []
        for a in kg._match(entity_a)[:2]:
            for b in kg._match(entity_b)[:2]:
                out += kg._edges(getattr(a, "index", None), getattr(b, "index", None)) or []
        return out[:20]

    def search_literature(query: str) -> Any:
        from ..tools.pubmed import search_papers
        return [{"pmid": p.pmid, "title": p.title, "abstract": (p.abstract or "")[:600]} for p in search_papers(query, 5)]

    def expression(gene: str) -> Any:
        from ..store import ExpressionRow
        names = [p.label for p in record.perturbations]
        with Session(engine) as s:
            rows = s.exec(select(ExpressionRow).where(ExpressionRow.batch_id == batch_id, ExpressionRow.gene == gene,
                                                      ExpressionRow.perturbation.in_(names))).all()
        return [{"perturbation": r.perturbation, "context": r.context, "log2fc": r.log2fc, "padj": r.padj} for r in rows]

    def chat(messages, tools):
        return complete(messages, model_choice=choice, purpose="falsify", tools=tools, max_tokens=800)

    agent = FalsificationAgent(chat, {"kg_edges": kg_edges, "search_literature": search_literature, "expression": expression})
    agent.model_label = choice.label
    return agent
