"""Prompt templates (package data in ``prompts/*.md``) and their version.

Templates use ``{{name}}`` placeholders, so JSON and code examples inside them need no escaping.
The version stored with each trace combines a hand-set release tag, the primitive catalogue's
version and a short hash of every template, so any edit to a prompt changes it.
"""
from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from ..formalism import catalogue_markdown, catalogue_version
from ..records.model import Record

PROMPT_RELEASE = "1"
TEMPLATES = ("system", "report", "explain", "explain_json", "repair", "repair_json")
QUESTION = ("**Q: How does the following perturbation influence the cell in the described context, "
            "mechanistically and functionally?**")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@lru_cache(maxsize=None)
def template(name: str) -> str:
    """The raw text of template ``name`` (one of :data:`TEMPLATES`)."""
    return resources.files(__package__).joinpath("prompts", f"{name}.md").read_text("utf-8")


@lru_cache(maxsize=1)
def prompt_version() -> str:
    """E.g. ``'p1-cat1-3f2a9c1d'``: release, catalogue version, hash of all templates."""
    digest = hashlib.sha256("\0".join(template(t) for t in TEMPLATES).encode()).hexdigest()[:8]
    return f"p{PROMPT_RELEASE}-cat{catalogue_version()}-{digest}"


def render(name: str, **values: Any) -> str:
    """Template ``name`` with placeholders filled (``catalogue`` is filled automatically)."""
    values.setdefault("catalogue", catalogue_markdown())

    def sub(m: re.Match) -> str:
        if m.group(1) not in values:
            raise KeyError(f"template {name!r} needs a value for {m.group(1)!r}")
        return str(values[m.group(1)])

    return _PLACEHOLDER.sub(sub, template(name)).strip()


def record_payload(record: Record) -> dict[str, Any]:
    """The record as the model sees it: the raw input, plus entities found by preprocessing."""
    payload: dict[str, Any] = dict(record.raw) if record.raw else {
        "perturbation": record.perturbation_text(), "context": record.context_text()}
    for key in ("perturbation_entity", "context_entity"):
        value = getattr(record, key)
        if value:
            payload[key] = value
    return payload


def question_text(record: Record) -> str:
    """The original pipeline's question: the fixed question line and the record as JSON."""
    return f"{QUESTION}\n\n{json.dumps(record_payload(record), indent=4, ensure_ascii=False, default=str)}"
