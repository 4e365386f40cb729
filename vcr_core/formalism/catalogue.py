"""The catalogue of the 20 action primitives, loaded from ``primitives.json``.

The JSON file is the single source of truth; prompts, the JSON Schema, structural checks
and the UI all read it through :func:`catalogue`.
"""
from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

MEASURABLE_OUTPUTS = frozenset(
    {"induces_phenotype", "alleviates_phenotype", "regulates_expression", "regulates_translation"}
)
DIRECTIONS = ("up", "down")
# Arguments every primitive may carry but that are not part of its identity.
META_ARGS = ("id", "via", "confidence")
# The kinds of value an argument takes (``types`` in primitives.json). Everything but ``text`` names
# an entity that a vocabulary can ground; an argument may accept several kinds (an ``actor`` is a
# gene/protein or a chemical).
ARG_KINDS = {
    "gene": "gene, protein, protein family or complex",
    "chemical": "chemical or drug",
    "cell_line": "cell line or cell type",
    "disease": "disease",
    "phenotype": "phenotype",
    "process": "biological process or pathway",
    "location": "cellular location",
    "go_id": "Gene Ontology id (GO:0000000)",
    "text": "free text",
}
# Where a curator's judgment on a claim holds (``scope`` in primitives.json), widest first: ``any`` -
# wherever the same claim is made (binding, a variant's effect); ``perturbation`` - the same perturbation
# in any cell line (a drug's effect on its target's activity); ``context`` - the same perturbation in the
# same cell line (expression, phenotypes, pathway activity, downstream PTMs); ``trace`` - this trace only
# (a curator may narrow a judgment to it).
SCOPES = ("any", "perturbation", "context", "trace")
# How a scope reads beside a reused verdict ("decided by ana's judgment on trace #12 (same claim, any cell line)").
SCOPE_TEXT = {"any": "same claim, any perturbation or cell line", "perturbation": "same claim, any cell line",
              "context": "same claim, same perturbation and cell line", "trace": "this trace only"}


@dataclass(frozen=True)
class Primitive:
    """One action primitive: its arguments, kind and whether it is a measurable output."""

    name: str
    kind: str
    measurable: bool
    direction_required: bool
    required: tuple[str, ...]
    optional: tuple[str, ...]
    description: str
    types: tuple[tuple[str, tuple[str, ...]], ...] = ()
    lists: tuple[str, ...] = ()
    scope: str = "context"

    @property
    def arg_types(self) -> dict[str, tuple[str, ...]]:
        """Argument -> the kinds of value it takes (see :data:`ARG_KINDS`)."""
        return dict(self.types)

    def kinds(self, arg: str) -> tuple[str, ...]:
        """The kinds an argument takes; ``("text",)`` for an argument the primitive does not declare."""
        return dict(self.types).get(arg, ("text",))

    def is_list(self, arg: str) -> bool:
        """Whether ``arg`` takes a list of values (``lists`` in primitives.json, e.g. ``gene_list``)."""
        return arg in self.lists

    @property
    def entity_args(self) -> tuple[str, ...]:
        """The arguments that name entities (any kind other than free text)."""
        return tuple(a for a, k in self.types if k != ("text",))

    @property
    def is_context(self) -> bool:
        return self.name == "set_context"

    @property
    def all_args(self) -> tuple[str, ...]:
        return self.required + self.optional

    def signature(self) -> str:
        """A one-line signature such as ``binds_to(id, actor, target | affinity, ...)``."""
        req = ([] if self.is_context else ["id"]) + list(self.required)
        opt = ", ".join(self.optional)
        return f"{self.name}({', '.join(req)}{' | ' + opt if opt else ''})"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Primitive]:
    """All primitives by name, in catalogue order."""
    raw = json.loads(resources.files(__package__).joinpath("primitives.json").read_text("utf-8"))
    out: dict[str, Primitive] = {}
    for p in raw["primitives"]:
        out[p["name"]] = Primitive(
            name=p["name"],
            kind=p["kind"],
            measurable=p["measurable"],
            direction_required=p["direction_required"],
            required=tuple(p["required"]),
            optional=tuple(p["optional"]),
            description=p["description"],
            types=tuple((a, tuple(p["types"][a])) for a in list(p["required"]) + list(p["optional"])),
            lists=tuple(p.get("lists", ())),
            scope=p.get("scope", "context"),
        )
        if out[p["name"]].scope not in SCOPES[:3]:
            raise ValueError(f"primitives.json: the scope of {p['name']} is one of {', '.join(SCOPES[:3])}")
        bad = {k for kinds in p["types"].values() for k in kinds} - set(ARG_KINDS)
        if bad or set(p["types"]) != set(p["required"]) | set(p["optional"]):
            raise ValueError(f"primitives.json: the types of {p['name']} do not match its arguments or use unknown kinds {bad}")
        if not set(p.get("lists", ())) <= set(p["types"]):
            raise ValueError(f"primitives.json: {p['name']} lists arguments it does not take")
    return out


def entity_args() -> tuple[str, ...]:
    """Every argument name that names an entity in some claim primitive (not set_context), in catalogue order."""
    out: dict[str, None] = {}
    for p in catalogue().values():
        if not p.is_context:
            out.update(dict.fromkeys(p.entity_args))
    return tuple(out)


def arg_kinds(action: str, arg: str) -> tuple[str, ...]:
    """The kinds of value ``arg`` of primitive ``action`` takes; ``("text",)`` when unknown."""
    prim = catalogue().get(action)
    return prim.kinds(arg) if prim else ("text",)


def catalogue_version() -> str:
    raw = json.loads(resources.files(__package__).joinpath("primitives.json").read_text("utf-8"))
    return str(raw["version"])


def closest_primitive(name: str) -> str | None:
    """The known primitive name closest to ``name`` (for 'did you mean' messages)."""
    names = list(catalogue())
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key in catalogue():
        return key
    # British/American spelling and common slips.
    swaps = {"localizes_to": "localises_to", "degrades_or_stabilizes": "degrades_or_stabilises"}
    if key in swaps:
        return swaps[key]
    hits = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    return hits[0] if hits else None


def catalogue_markdown() -> str:
    """The catalogue as a compact markdown list, used in prompts and the README."""
    lines = []
    for p in catalogue().values():
        typed = "; ".join(f"{a}: {'/'.join(k)}" for a, k in p.types if k != ("text",) and a in p.required)
        lines.append(f"- `{p.signature()}` [{p.kind}{', measurable output' if p.measurable else ''}]: {p.description}"
                     + (f" Types: {typed}." if typed else ""))
    return "\n".join(lines)
