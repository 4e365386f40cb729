"""JSON-schema-constrained explanations, for providers that can follow a schema.

The schema describes a causal chain: one to four ``steps`` and a measurable ``outcome``, each an
action whose ``action`` is a catalogue name (an enum per branch) with that primitive's required
arguments. A grammar-constrained server (llama.cpp) can then only write explanations that are
well-formed by construction: known primitives, all required arguments, a DAG that ends on a
measurable output. The answer is converted to the same :class:`Explanation` as the text form.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from ..formalism import MEASURABLE_OUTPUTS, Edge, Explanation, Finding, Node, catalogue
from ..formalism.catalogue import ARG_KINDS
from ..formalism.findings import error
from ..records.model import Record

MAX_STEPS = 4
# No maxLength: llama.cpp expands a bounded string into nested optional rules, which makes
# constrained sampling very slow; output length is bounded by max_tokens instead.
_STR = {"type": "string", "minLength": 1}


def _action_schema(name: str) -> dict[str, Any]:
    prim = catalogue()[name]
    props: dict[str, Any] = {"action": {"type": "string", "enum": [name]}}
    for arg in prim.required:
        if arg == "direction":
            props[arg] = {"type": "string", "enum": ["up", "down"]}
        elif prim.is_list(arg):
            props[arg] = {"type": "array", "items": _STR, "minItems": 1, "maxItems": 6}
        else:
            props[arg] = dict(_STR)
        # The argument's kinds from primitives.json, so the model sees what each argument takes.
        props[arg]["description"] = " or ".join(ARG_KINDS[k] for k in prim.kinds(arg))
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


@lru_cache(maxsize=1)
def explanation_schema() -> dict[str, Any]:
    """The JSON Schema of a constrained answer (see the module docstring)."""
    names = [n for n, p in catalogue().items() if not p.is_context]
    outcomes = [n for n in names if n in MEASURABLE_OUTPUTS]
    return {
        "type": "object",
        "properties": {
            "answer": {"type": "string", "minLength": 1},
            "steps": {"type": "array", "items": {"anyOf": [_action_schema(n) for n in names]},
                      "minItems": 1, "maxItems": MAX_STEPS},
            "outcome": {"anyOf": [_action_schema(n) for n in outcomes]},
        },
        "required": ["answer", "steps", "outcome"],
        "additionalProperties": False,
    }


def response_format(local: bool) -> dict[str, Any]:
    """The ``response_format`` to send: llama.cpp's ``json_object`` + schema, or OpenAI's ``json_schema``."""
    if local:
        return {"type": "json_object", "schema": explanation_schema()}
    return {"type": "json_schema", "json_schema": {"name": "structured_explanation", "schema": explanation_schema()}}


def _strip_fences(text: str) -> str:
    t = text.strip()
    if t.startswith("```"):
        t = t.split("\n", 1)[1] if "\n" in t else ""
        t = t.rsplit("```", 1)[0]
    start, end = t.find("{"), t.rfind("}")
    return t[start:end + 1] if start >= 0 and end > start else t


def _node(obj: Any, node_id: str) -> Node | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("action"), str):
        return None
    args = {k: v for k, v in obj.items() if k not in ("action", "id", "via", "confidence")}
    via = obj.get("via")
    return Node(id=node_id, action=obj["action"].strip(), args=args, via=via if isinstance(via, str) else None)


def context_of(record: Record) -> dict[str, Any]:
    """``set_context`` arguments taken from the record (the record, not the model, fixes the context)."""
    c = record.context
    ctx = {"cell_type": c.cell_line or c.cell_type, "disease": c.disease, "genotype": c.genotype}
    return {k: v for k, v in ctx.items() if v}


def from_json(text: str, record: Record) -> tuple[Explanation | None, list[Finding]]:
    """Convert a constrained JSON answer to an :class:`Explanation` (chain edges), or say why not."""
    try:
        data = json.loads(_strip_fences(text), strict=False)  # small models put raw newlines in strings
    except json.JSONDecodeError as exc:
        return None, [error("unparseable_line", f"the model's JSON answer could not be read ({exc.msg} at "
                                                 f"character {exc.pos}); it may have been cut off")]
    if not isinstance(data, dict):
        return None, [error("unparseable_line", "the model's JSON answer is not an object")]
    steps = data.get("steps") if isinstance(data.get("steps"), list) else []
    items = list(steps) + ([data["outcome"]] if data.get("outcome") is not None else [])
    nodes = [n for i, obj in enumerate(items) if (n := _node(obj, f"n{i + 1}")) is not None]
    findings: list[Finding] = []
    if len(nodes) < len(items):
        findings.append(error("unparseable_line", f"{len(items) - len(nodes)} step(s) of the JSON answer have no 'action'"))
    edges = [Edge(source=a.id, target=b.id, relation="causal") for a, b in zip(nodes, nodes[1:])]
    answer = data.get("answer") if isinstance(data.get("answer"), str) else None
    think = data.get("think") if isinstance(data.get("think"), str) else None
    return Explanation(context=context_of(record), nodes=nodes, edges=edges, answer=answer, think=think), findings
