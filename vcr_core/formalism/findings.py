"""Findings: problems the parser and structural checks report, with stable codes."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Severity = Literal["error", "warning"]

# Stable codes. Tests, the UI and exports rely on these names: do not rename them.
CODES: dict[str, str] = {
    "missing_explain": "no <explain> section",
    "missing_dag": "no <dag> section",
    "missing_answer": "no <answer> section",
    "unparseable_line": "a line that is not a primitive call",
    "stray_text": "prose or markup inside a section, ignored",
    "unknown_primitive": "a primitive not in the catalogue",
    "missing_argument": "a required argument is absent",
    "unknown_argument": "an argument the primitive does not take",
    "bad_direction": "direction is not 'up' or 'down'",
    "bad_argument": "an argument value of the wrong shape (e.g. a list where one name is expected)",
    "missing_id": "a primitive without an id",
    "duplicate_id": "two nodes share an id",
    "missing_set_context": "no set_context line",
    "set_context_not_first": "set_context is not the first line",
    "duplicate_set_context": "more than one set_context line",
    "edge_unknown_id": "an edge names an id that was never declared",
    "bad_relation": "an edge relation other than causal or correlative",
    "self_loop": "an edge from a node to itself",
    "cycle": "the edges form a cycle",
    "path_not_measurable": "a path ends on a node that is not a measurable output",
    "isolated_node": "a node connected to nothing",
    "via_unknown_id": "via names an id that does not exist",
}


class Finding(BaseModel):
    """One problem: stable ``code``, ``severity``, 1-based ``line`` (or None) and a plain ``message``."""

    code: str
    severity: Severity
    line: int | None = None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"[{self.severity}] {where}{self.message} ({self.code})"


def error(code: str, message: str, line: int | None = None) -> Finding:
    return Finding(code=code, severity="error", line=line, message=message)


def warning(code: str, message: str, line: int | None = None) -> Finding:
    return Finding(code=code, severity="warning", line=line, message=message)
