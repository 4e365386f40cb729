"""Directions along the graph: who causes a claim, read from the explanation's DAG.

A claim follows the record's perturbation (its MoA, its targets) only when the perturbation is upstream
of it and no other actor is among its causes. Other actors are the context's own perturbation (a soluble
factor added, a knockout: "Soluble factor addition of VEGF", ``set_context(prior_perturbation=...)``) or
any molecule a cause node names as its actor (``binds_to(actor="VEGF", target="VEGFR2")``).

:func:`attribute` answers for one claim with an :class:`Attribution`:

* ``"perturbation"``: every path up from the claim reaches the perturbation (a node whose actor is the
  perturbation, or a root claim with no actor of its own while the context names no other actor);
* ``"other"``: a cause names another actor (``actor`` says which, ``node`` where) and the perturbation is
  not upstream, or it is upstream but another actor is a direct cause too (then the claim is judged by its
  own cause, not by the MoA);
* ``"unknown"``: the claim has no cause in the graph while the context names another actor, so the graph
  does not say which of the two acts.

Causes are the DAG's incoming edges (causal or correlative) and a ``via`` that names a node id.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..formalism import Explanation, Node
from ..records.model import Record

# Arguments that name who acts in a claim (the same as the indra verifier's).
ACTOR_ARGS = ("actor", "regulator", "source", "enzyme", "ligand", "sender")
# Argument names a set_context line uses for a perturbation applied before or with the record's own.
CONTEXT_ACTOR_ARGS = ("prior_perturbation", "co_treatment", "stimulus", "treatment", "pretreatment")
# Wording of a record's context description that names another actor: "Soluble factor addition of VEGF",
# "stimulation with TNF-alpha", "IL6 treatment", "TP53 knockout".
_CONTEXT_PHRASES = re.compile(
    r"(?:soluble factor )?(?:addition|stimulation|treatment|pre-?treatment|co-?treatment|exposure|incubation)\s+"
    r"(?:of|with|to|by)\s+([^,;()]+)|([A-Za-z0-9α-ωΑ-Ω\-/]+)\s+(?:knock-?out|knock-?down|deletion|overexpression|"
    r"stimulation|treatment|addition)", re.IGNORECASE)
_FILLER = re.compile(r"\b(?:soluble factor|recombinant|human|the|a|an|addition|soluble|factor)\b", re.IGNORECASE)


@dataclass
class Attribution:
    kind: str  # "perturbation", "other", "unknown"
    actor: str | None = None  # the other actor's name (kind "other")
    node: str | None = None  # the cause node naming it, or "context"
    path: list[str] = field(default_factory=list)  # node ids from the perturbation's node down to the claim
    reason: str = ""


def node_actor(node: Node) -> str | None:
    """The name of who acts in a claim (its actor/regulator/source/... argument), or None."""
    for arg in ACTOR_ARGS:
        v = node.args.get(arg)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return None


def causes(explanation: Explanation, node_id: str) -> list[str]:
    """Ids of the claim's direct causes: incoming DAG edges, and ``via`` when it names a node."""
    out = [e.source for e in explanation.edges if e.target == node_id and e.source != node_id]
    node = explanation.node(node_id)
    if node is not None and node.via and explanation.node(node.via.strip()) is not None and node.via.strip() not in out:
        out.append(node.via.strip())
    return [i for i in dict.fromkeys(out) if explanation.node(i) is not None and explanation.node(i).action != "set_context"]


def upstream(explanation: Explanation, node_id: str) -> list[str]:
    """Every node above the claim (breadth first, nearest first), the claim excluded."""
    seen: list[str] = []
    todo = list(causes(explanation, node_id))
    while todo:
        cur = todo.pop(0)
        if cur in seen or cur == node_id:
            continue
        seen.append(cur)
        todo.extend(causes(explanation, cur))
    return seen


def context_actors(record: Record | None, explanation: Explanation | None) -> list[str]:
    """Names of actors the context applies besides the record's perturbation (a soluble factor, a knockout)."""
    texts: list[str] = []
    if explanation is not None:
        for arg in CONTEXT_ACTOR_ARGS:
            v = explanation.context.get(arg)
            if isinstance(v, str) and v.strip() and v.strip().lower() not in ("none", "n/a", "na", "-"):
                texts.append(v)
    if record is not None:
        if record.description:
            texts.append(record.description)
        for c in record.contexts:
            for v in (c.description, *(x for k, x in c.extras.items() if "perturb" in str(k).lower() or "treat" in str(k).lower())):
                if isinstance(v, str):
                    texts.append(v)
    out: list[str] = []
    for text in texts:
        found = False
        for m in _CONTEXT_PHRASES.finditer(text):
            name = " ".join(_FILLER.sub(" ", m.group(1) or m.group(2) or "").split())
            if name and name.lower() not in (o.lower() for o in out):
                out.append(name)
                found = True
        if not found and explanation is not None and text in explanation.context.values():
            name = " ".join(_FILLER.sub(" ", re.sub(r"(?i)\b(addition|treatment|stimulation|knock-?out)\b", " ", text)).split())
            if name and name.lower() not in (o.lower() for o in out):
                out.append(name)
    return out


def _mentions(text: str, name: str) -> bool:
    """Whether ``name`` appears in ``text`` as a whole word (case-insensitive), or names the same gene/family."""
    a, b = " ".join(str(text).casefold().split()), " ".join(str(name).casefold().split())
    if not a or not b:
        return False
    if re.search(rf"(?<![\w-]){re.escape(b)}(?![\w-])", a) or re.search(rf"(?<![\w-]){re.escape(a)}(?![\w-])", b):
        return True
    from ..knowledge.genes import resolve

    ra, rb = resolve(text), resolve(name)
    return bool(ra and rb and ra.symbols & rb.symbols)


def attribute(explanation: Explanation | None, record: Record | None, node: Node, is_perturbation) -> Attribution:
    """Who causes ``node`` (see the module docstring). ``is_perturbation(name) -> bool`` says whether a name
    is the record's perturbation (the record verifier's drug-name matching)."""
    # A context text that names the record's own perturbation ("TP53 knockout" as the description of a TP53
    # knockout record) names no other actor.
    others = [o for o in context_actors(record, explanation) if not is_perturbation(o)]
    own = node_actor(node)
    if explanation is None:
        if own and not is_perturbation(own):
            return Attribution("other", own, node.id, reason=f"the claim's own actor is {own!r}")
        return Attribution("perturbation", reason="no graph: read as the perturbation's effect")
    memo: dict[str, tuple[str, str | None, str | None, list[str]]] = {}

    def trace(cur: str, seen: frozenset[str] = frozenset()) -> tuple[str, str | None, str | None, list[str]]:
        """From a cause up: ('perturbation', None, None, path), ('other', actor, node id, path) or ('none', ...).
        A node whose actor is another molecule is a mediator when the perturbation is above it (a target of
        the drug acting on its own targets), and the claim's other cause when it is not; an actor the context
        applies is always another cause."""
        if cur in memo:
            return memo[cur]
        if cur in seen:
            return "none", None, None, []
        n = explanation.node(cur)
        actor = node_actor(n) if n is not None else None
        if actor and is_perturbation(actor):
            out = ("perturbation", None, None, [cur])
        elif actor and any(_mentions(actor, o) for o in others):
            out = ("other", actor, cur, [cur])
        else:
            ups = causes(explanation, cur)
            found = [trace(u, seen | {cur}) for u in ups]
            pert = next((f for f in found if f[0] == "perturbation"), None)
            other = next((f for f in found if f[0] == "other"), None)
            if pert and not other:
                out = ("perturbation", None, None, pert[3] + [cur])
            elif other:
                out = (other[0], other[1], other[2], other[3] + [cur])
            elif actor:
                out = ("other", actor, cur, [cur])
            elif not ups:  # a root without an actor: the perturbation's, unless the context names another actor
                ctx = next((o for o in others if n is not None and _mentions(" ".join(str(v) for v in n.args.values()), o)), None)
                out = ("perturbation", None, None, [cur]) if not others else ("other", ctx, cur, [cur]) if ctx else ("none", None, None, [])
            else:
                out = ("none", None, None, [])
        memo[cur] = out
        return out

    if own:
        kind, actor, where, path = trace(node.id)
        if kind == "perturbation":
            why = (f"the claim's own actor {own!r} is the perturbation" if is_perturbation(own)
                   else f"the claim's actor {own!r} acts downstream of the perturbation")
            return Attribution("perturbation", path=path, reason=why)
        if kind == "other":
            return Attribution("other", actor, where, path, f"the claim's cause is {actor!r} acting, not the perturbation")
        return Attribution("other", own, node.id, [node.id], f"the claim's own actor is {own!r}, and the perturbation is not upstream")
    direct = causes(explanation, node.id)
    if not direct:
        if others:
            return Attribution("unknown", reason=f"the claim has no cause in the graph and the context also applies "
                                                 f"{', '.join(others)}: the graph does not say which acts")
        return Attribution("perturbation", path=[node.id], reason="a root claim of the perturbation's explanation")
    results = [trace(c) for c in direct]
    pert = [r for r in results if r[0] == "perturbation"]
    other = [r for r in results if r[0] == "other"]
    if other:
        actor, where = other[0][1], other[0][2]
        also = " (the perturbation is upstream too, but another actor is a direct cause)" if pert else ""
        return Attribution("other", actor, where, other[0][3] + [node.id],
                           f"its cause {where} is {actor!r} acting, not the perturbation{also}")
    if pert:
        return Attribution("perturbation", path=pert[0][3] + [node.id], reason="the perturbation is upstream of the claim")
    return Attribution("unknown", reason="no path up from the claim reaches the perturbation or a named actor")
