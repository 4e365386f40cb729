"""Typed models of a structured explanation (the canonical JSON form)."""
from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

Scalar = Union[str, int, float, bool, None]
ArgValue = Union[Scalar, list[Any], dict[str, Any]]


class Node(BaseModel):
    """One primitive line of ``<explain>``; every node but ``set_context`` is a claim."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Unique node id, e.g. 'n1'.")
    action: str = Field(description="Primitive name from the catalogue.")
    args: dict[str, ArgValue] = Field(default_factory=dict, description="Arguments except id, via, confidence.")
    via: str | None = Field(default=None, description="Free text: mechanism, evidence basis or an upstream node id.")
    confidence: ArgValue = Field(default=None, description="Optional confidence as the model wrote it.")
    line: int | None = Field(default=None, exclude=True, description="Line in the raw text (not serialised).")


class Edge(BaseModel):
    """A directed edge of ``<dag>``."""

    model_config = ConfigDict(extra="forbid")

    source: str
    target: str
    relation: str = Field(default="causal", description="'causal' or 'correlative'.")
    line: int | None = Field(default=None, exclude=True)


class Explanation(BaseModel):
    """A structured explanation: context, claims (nodes), edges, answer and reasoning."""

    model_config = ConfigDict(extra="forbid")

    context: dict[str, ArgValue] = Field(default_factory=dict, description="Arguments of set_context.")
    context_id: str | None = Field(default=None, description="The id set_context carried, if any (e.g. 'c0').")
    nodes: list[Node] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)
    answer: str | None = None
    think: str | None = None
    has_context: bool = Field(default=True, description="False when the text had no set_context line.")

    @property
    def claims(self) -> list[Node]:
        return [n for n in self.nodes if n.action != "set_context"]

    def node(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)


RelationLiteral = Literal["causal", "correlative"]


def explanation_json_schema() -> dict[str, Any]:
    """JSON Schema of the canonical explanation form (printed by ``vcr schema``)."""
    schema = Explanation.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "VCR structured explanation"
    return schema
