"""Typed claims: one pydantic model per primitive, built at import from the catalogue.

``Node.action`` / ``Node.args`` stay the canonical, stored form of a claim; a typed claim is a view
of it that validates and coerces. Each model has a ``Literal`` ``action`` (the union discriminates on
it) and one field per argument of the primitive: entity arguments are names (``str``, or ``list[str]``
for the arguments primitives.json marks as ``lists``), ``direction`` is ``"up"``/``"down"``, free text
is kept as written. Every field carries its kinds from primitives.json in
``json_schema_extra={"kinds": [...]}``, so :func:`entity_values` is the one way code learns which
arguments of a claim name entities and of what kind.

Arguments a primitive does not take are kept (``extra="allow"``): the structural checks warn about
them, but they do not make the claim unreadable.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from .catalogue import ARG_KINDS, DIRECTIONS, Primitive, catalogue, closest_primitive
from .model import ArgValue, Node

TEXT = ("text",)


def _entity_items(value: Any) -> list[str]:
    """The names an entity argument's value holds: strings stripped, numbers as text, lists expanded."""
    items = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for item in items:
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, (int, float)):
            item = str(item)
        if isinstance(item, str) and item.strip():
            out.append(item.strip())
    return out


def _one_name(value: Any) -> Any:
    """A scalar entity argument: one name (a number is read as its text)."""
    if isinstance(value, (list, tuple)):
        raise ValueError(f"takes one name, not a list of {len(value)}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else value


def _names(value: Any) -> Any:
    """A list entity argument: a single name is read as a list of one."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [_one_name(v) for v in value]
    return value


def _direction(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


EntityName = Annotated[str, BeforeValidator(_one_name)]
EntityNames = Annotated[list[EntityName], BeforeValidator(_names)]
Direction = Annotated[Literal[DIRECTIONS], BeforeValidator(_direction)]  # type: ignore[valid-type]


class ClaimBase(BaseModel):
    """What every typed claim shares: its ``action``, ``id``, ``via`` and ``confidence``."""

    model_config = ConfigDict(extra="allow")

    action: str
    id: str | None = None
    via: str | None = None
    confidence: ArgValue = None

    @classmethod
    def primitive(cls) -> Primitive:
        return catalogue()[cls.model_fields["action"].default]

    @classmethod
    def kinds(cls, arg: str) -> tuple[str, ...]:
        """The kinds ``arg`` takes (from its field metadata); ``("text",)`` for an argument not declared."""
        field = cls.model_fields.get(arg)
        extra = field.json_schema_extra if field is not None and isinstance(field.json_schema_extra, dict) else {}
        return tuple(extra.get("kinds") or TEXT)

    @classmethod
    def entity_fields(cls) -> tuple[str, ...]:
        """The arguments that name entities (any kind but free text), in catalogue order."""
        return tuple(a for a in cls.model_fields if cls.kinds(a) != TEXT)

    def args(self) -> dict[str, Any]:
        """The arguments (without action, id, via, confidence) as validated, unset ones left out."""
        data = self.model_dump(exclude_unset=True)
        return {k: v for k, v in data.items() if k not in ("action", "id", "via", "confidence")}

    def entities(self) -> list[EntityValue]:
        """Every entity name of the claim with its argument and kinds (lists expanded)."""
        return [EntityValue(a, n, self.kinds(a)) for a in self.entity_fields() for n in _entity_items(getattr(self, a, None))]


@dataclass(frozen=True)
class EntityValue:
    """One entity name in a claim: the argument it fills and the kinds that argument takes."""

    arg: str
    name: str
    kinds: tuple[str, ...]


def _drop_empty(data: Any) -> Any:
    """None, "" and [] count as absent (so a required argument given as "" is reported missing)."""
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if not (v is None or (isinstance(v, (str, list)) and not v))}
    return data


def _field_type(prim: Primitive, arg: str) -> Any:
    kinds = prim.kinds(arg)
    if arg == "direction":
        return Direction
    if kinds == TEXT:
        return ArgValue
    return EntityNames if prim.is_list(arg) else EntityName


def _model_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Claim"


def _build(prim: Primitive) -> type[ClaimBase]:
    fields: dict[str, Any] = {"action": (Literal[prim.name], prim.name)}  # type: ignore[valid-type]
    if not prim.is_context:
        fields["id"] = (str, Field(description="Unique node id, e.g. 'n1'."))
    for arg in prim.all_args:
        kinds = prim.kinds(arg)
        desc = " or ".join(ARG_KINDS[k] for k in kinds) + (" (a list)" if prim.is_list(arg) else "")
        default = ... if arg in prim.required else None
        typ = _field_type(prim, arg)
        if arg == "via":
            typ = str
        fields[arg] = (typ if default is ... else typ | None,
                       Field(default, description=desc, json_schema_extra={"kinds": list(kinds)}))
    return create_model(_model_name(prim.name), __base__=ClaimBase, __doc__=prim.description, **fields)


@lru_cache(maxsize=1)
def claim_models() -> dict[str, type[ClaimBase]]:
    """One typed model per primitive of the catalogue (``set_context`` included), by name."""
    return {name: _build(p) for name, p in catalogue().items()}


def claim_model(action: str) -> type[ClaimBase] | None:
    """The typed model of primitive ``action``, or None for a name not in the catalogue."""
    return claim_models().get(action)


@lru_cache(maxsize=1)
def claim_adapter() -> TypeAdapter:
    """A TypeAdapter of the union of every claim model, discriminated on ``action``."""
    union = Union[tuple(claim_models().values())]  # type: ignore[valid-type]
    return TypeAdapter(Annotated[union, Field(discriminator="action")])


@dataclass(frozen=True)
class ClaimProblem:
    """Why a claim does not validate: a finding code (as in findings.CODES), the argument and a message."""

    code: str
    arg: str | None
    message: str


class ClaimTypeError(ValueError):
    """A claim that does not validate against its primitive's model; ``problems`` says why."""

    def __init__(self, action: str, node_id: str | None, problems: list[ClaimProblem]):
        self.action, self.node_id, self.problems = action, node_id, problems
        super().__init__(f"{action} {node_id!r}: " + "; ".join(p.message for p in problems))


def _data(node: Node | dict[str, Any]) -> dict[str, Any]:
    if isinstance(node, Node):
        data: dict[str, Any] = dict(node.args)
        data.update(action=node.action, id=node.id, via=node.via, confidence=node.confidence)
        return data
    return dict(node)


def _problems(action: str, node_id: Any, exc: ValidationError) -> list[ClaimProblem]:
    out = []
    for err in exc.errors():
        loc = [str(x) for x in err["loc"]]
        arg = loc[1] if len(loc) > 1 else (loc[0] if loc else None)
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            guess = closest_primitive(str(action))
            hint = f"; did you mean {guess}?" if guess else ""
            out.append(ClaimProblem("unknown_primitive", None, f"{action!r} is not a known primitive{hint}"))
        elif err["type"] == "missing":
            what = "id" if arg == "id" else f"required argument {arg!r}"
            out.append(ClaimProblem("missing_argument", arg, f"{action} {node_id!r} is missing its {what}"))
        elif arg == "direction":
            out.append(ClaimProblem("bad_direction", arg, f"direction of {node_id!r} is {err.get('input')!r}; it must be 'up' or 'down'"))
        else:
            out.append(ClaimProblem("bad_argument", arg, f"{action} {node_id!r}: {arg} {err['msg'].removeprefix('Value error, ')}"))
    return out


def typed_claim(node: Node | dict[str, Any]) -> ClaimBase:
    """The typed view of a claim (a :class:`Node`, or a flat dict with ``action`` and the arguments).

    Raises :class:`ClaimTypeError` naming each problem: an unknown primitive (with the closest known
    name), a missing required argument, a direction other than up/down, a value of the wrong shape.
    """
    data = _drop_empty(_data(node))
    try:
        return claim_adapter().validate_python(data)
    except ValidationError as exc:
        raise ClaimTypeError(str(data.get("action")), data.get("id"), _problems(data.get("action"), data.get("id"), exc)) from None


def claim_problems(node: Node | dict[str, Any]) -> list[ClaimProblem]:
    """What :func:`typed_claim` would report for this claim ([] when it validates)."""
    try:
        typed_claim(node)
    except ClaimTypeError as exc:
        return exc.problems
    return []


def entity_values(node: Node) -> list[EntityValue]:
    """Every entity name a claim gives, with its argument and kinds from the primitive's model.

    Read leniently from ``node.args`` (the claim need not validate otherwise: a claim missing its
    direction still names entities a verifier can check); [] for a primitive not in the catalogue.
    """
    model = claim_model(node.action)
    if model is None:
        return []
    return [EntityValue(a, n, model.kinds(a)) for a in model.entity_fields() for n in _entity_items(node.args.get(a))]


def typed_context(context: dict[str, Any]) -> ClaimBase:
    """The typed view of an explanation's ``set_context`` arguments."""
    return typed_claim({"action": "set_context", **context})


__all__ = ["ClaimBase", "ClaimProblem", "ClaimTypeError", "EntityValue", "claim_adapter", "claim_model", "claim_models",
           "claim_problems", "entity_values", "typed_claim", "typed_context"]
