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
        )
    return out


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
        lines.append(f"- `{p.signature()}` [{p.kind}{', measurable output' if p.measurable else ''}]: {p.description}")
    return "\n".join(lines)
