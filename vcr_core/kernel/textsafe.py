"""Text that cannot be encoded: lone surrogates that reached the database before ingest rejected them.

``scrub`` replaces each lone surrogate with U+FFFD (the replacement character) and says where, so an
export or an output file is written with the bad characters replaced and reported, instead of
failing as a whole.
"""
from __future__ import annotations

import json
import re
from typing import Any

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(s: str) -> tuple[str, int]:
    """(``s`` with lone surrogates replaced, how many were replaced)."""
    if s.isascii():
        return s, 0
    try:
        s.encode("utf-8")
        return s, 0
    except UnicodeEncodeError:
        return _SURROGATE.subn(REPLACEMENT, s)


def _surely_clean(value: Any) -> bool:
    """True when no string in ``value`` holds a lone surrogate: one JSON encoding at C speed, for the
    common case (walking a large export document in Python cost ten times more). False means 'look'."""
    try:
        json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
        return True
    except (UnicodeEncodeError, TypeError, ValueError, RecursionError):
        return False


def scrub(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """(``value`` with every unencodable string replaced, the field paths that were changed).

    Returns the same object when nothing needed replacing (no copy on the common path).
    """
    if _surely_clean(value):
        return value, []
    changed: list[str] = []

    def walk(v: Any, p: str) -> Any:
        if isinstance(v, str):
            out, n = clean_text(v)
            if n:
                changed.append(p or "(value)")
            return out
        if isinstance(v, dict):
            new = {}
            dirty = False
            for k, x in v.items():
                k2 = walk(k, f"{p}.<key>") if isinstance(k, str) else k
                x2 = walk(x, f"{p}.{k2}" if p else str(k2))
                dirty = dirty or k2 is not k or x2 is not x
                new[k2] = x2
            return new if dirty else v
        if isinstance(v, (list, tuple)):
            items = [walk(x, f"{p}[{i}]") for i, x in enumerate(v)]
            return items if any(a is not b for a, b in zip(items, v)) else v
        return v

    return walk(value, path), changed
