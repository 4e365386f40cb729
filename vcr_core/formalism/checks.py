"""Structural checks of an explanation: every rule of formalism.md as a finding with a stable code."""
from __future__ import annotations

import re
from collections import defaultdict

from .catalogue import MEASURABLE_OUTPUTS, catalogue
from .findings import Finding, error, warning
from .model import Explanation
from .parser import ParseResult, parse_text
from .typed import claim_problems

_ID_SHAPE = re.compile(r"^([A-Za-z]+_?)(\d+)$")


def _id_prefixes(ids: set[str]) -> set[str]:
    return {m.group(1).lower() for i in ids if (m := _ID_SHAPE.match(i))}


def _via_ids(via: str, prefixes: set[str]) -> list[str]:
    """Tokens of ``via`` that look like node ids in this explanation's own id style."""
    tokens = [t for t in re.split(r"[\s,;]+|\band\b", via.strip()) if t]
    if not tokens:
        return []
    shaped = [t for t in tokens if (m := _ID_SHAPE.match(t)) and m.group(1).lower() in prefixes]
    # Only treat via as a reference when every token is id-shaped ("n1", "n1, n2"), never in prose.
    return shaped if len(shaped) == len(tokens) else []


def _check_nodes(expl: Explanation) -> list[Finding]:
    out: list[Finding] = []
    cat = catalogue()
    seen: dict[str, int | None] = {}
    for node in expl.nodes:
        # Unknown primitive, missing argument, bad direction and wrongly shaped values: the typed model's
        # problems (typed.py), so the checks and the typed view never disagree about a claim.
        for p in claim_problems(node):
            if p.code == "missing_argument" and p.arg == "id":
                continue  # the parser reports a missing id (missing_id) and gave the node one
            out.append((warning if p.code == "bad_argument" else error)(p.code, p.message, node.line))
        prim = cat.get(node.action)
        if prim is not None:
            for arg in node.args:
                if arg not in prim.all_args:
                    out.append(warning("unknown_argument", f"{node.action} does not take an argument {arg!r}", node.line))
        if node.id in seen:
            first = seen[node.id]
            out.append(error("duplicate_id", f"id {node.id!r} is used again (first on line {first})", node.line))
        else:
            seen[node.id] = node.line
    return out


def _find_cycles(succ: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    comps: list[list[str]] = []
    counter = 0
    for root in list(succ):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            recurse = False
            nbrs = succ.get(v, [])
            for j in range(i, len(nbrs)):
                w = nbrs[j]
                if w not in index:
                    work.append((v, j + 1))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    comps.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return comps


def _check_graph(expl: Explanation) -> list[Finding]:
    out: list[Finding] = []
    ids = {n.id for n in expl.nodes}
    declared = ids | ({expl.context_id} if expl.context_id else set())
    succ: dict[str, list[str]] = defaultdict(list)
    has_edge: set[str] = set()
    for e in expl.edges:
        for end in (e.source, e.target):
            if end not in declared:
                out.append(error("edge_unknown_id", f"edge {e.source} -> {e.target} names {end!r}, which no primitive declares", e.line))
        if e.relation not in ("causal", "correlative"):
            out.append(warning("bad_relation", f"edge {e.source} -> {e.target} has relation {e.relation!r}; use 'causal' or 'correlative'", e.line))
        if e.source == e.target:
            out.append(error("self_loop", f"edge {e.source} -> {e.target} points at its own node", e.line))
        if e.source in ids and e.target in ids and e.source != e.target:
            succ[e.source].append(e.target)
            succ.setdefault(e.target, [])
        has_edge.update((e.source, e.target))
    for comp in _find_cycles(dict(succ)):
        members = set(comp)
        # A cycle is reported on the line of one of its edges (the first written), so it has a place to fix.
        line = next((e.line for e in expl.edges if e.source in members and e.target in members and e.line), None)
        out.append(error("cycle", f"the edges form a cycle through {', '.join(comp)}", line))
    lines = {n.id: n.line for n in expl.nodes}
    actions = {n.id: n.action for n in expl.nodes}
    kinds = {name: p.kind for name, p in catalogue().items()}
    for node in expl.nodes:
        if node.id not in has_edge and len(expl.nodes) > 1:
            out.append(warning("isolated_node", f"{node.action} {node.id!r} is connected to nothing", node.line))
    for nid, targets in succ.items():
        if targets or nid not in has_edge:
            continue
        action = actions.get(nid, "")
        if action in MEASURABLE_OUTPUTS:
            continue
        sev = warning if kinds.get(action) in ("non-causal", "annotation") else error
        out.append(sev("path_not_measurable", f"a path ends on {nid!r} ({action}), which is not a measurable output "
                       "(induces_phenotype, alleviates_phenotype, regulates_expression, regulates_translation)", lines.get(nid)))
    if expl.nodes and not any(n.action in MEASURABLE_OUTPUTS for n in expl.nodes):
        last = max((n.line for n in expl.nodes if n.line), default=None)  # where an output would follow
        out.append(error("path_not_measurable", "the explanation has no measurable output at all", last))
    prefixes = _id_prefixes(declared)
    for node in expl.nodes:
        if node.via:
            for ref in _via_ids(node.via, prefixes):
                if ref not in declared:
                    out.append(error("via_unknown_id", f"via of {node.id!r} names {ref!r}, which does not exist", node.line))
    return out


def check_explanation(expl: Explanation) -> list[Finding]:
    """Structural findings for a parsed explanation (without the parse-level ones)."""
    out: list[Finding] = []
    if not expl.has_context:
        first = min((n.line for n in expl.nodes if n.line), default=None)  # where set_context belongs
        out.append(error("missing_set_context", "the explanation does not begin with set_context, so its cell context is unknown",
                         first))
    out.extend(_check_nodes(expl))
    out.extend(_check_graph(expl))
    return out


def validate_parsed(result: ParseResult) -> list[Finding]:
    """Parse findings plus structural findings, sorted by line."""
    checks = check_explanation(result.explanation)
    if "explain" not in result.sections:
        checks = [f for f in checks if f.code != "missing_set_context"]
    found = result.findings + checks
    return sorted(found, key=lambda f: (f.line or 0, f.severity != "error"))


def validate_text(raw: str) -> tuple[ParseResult, list[Finding]]:
    """Parse text and return (parse result, every finding)."""
    result = parse_text(raw)
    return result, validate_parsed(result)
