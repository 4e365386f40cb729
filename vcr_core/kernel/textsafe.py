"""Text that cannot be encoded: lone surrogates that reached the database before ingest rejected them;
and text one supported database cannot store (a NUL character: PostgreSQL refuses it, SQLite keeps it).

``storable`` replaces both with U+FFFD the same way whatever the database, where imported text enters
(importers, archives, ``vcr db copy``); ``unstorable_reason`` lets typed text (notes) and ingest refuse it.

``scrub`` replaces each lone surrogate with U+FFFD (the replacement character) and says where, so an
export or an output file is written with the bad characters replaced and reported, instead of
failing as a whole.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

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


def _replace_strings(value: Any, path: str, fix: Callable[[str], tuple[str, int]]) -> tuple[Any, list[str]]:
    """(``value`` with ``fix`` applied to every string, keys included, the field paths that changed); the
    same objects come back where nothing changed (no copy on the common path)."""
    changed: list[str] = []

    def walk(v: Any, p: str) -> Any:
        if isinstance(v, str):
            out, n = fix(v)
            if n:
                changed.append(p or "(value)")
            return out
        if isinstance(v, dict):
            new, dirty = {}, False
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


def scrub(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """(``value`` with every unencodable string replaced, the field paths that were changed).

    Returns the same object when nothing needed replacing (no copy on the common path).
    """
    if _surely_clean(value):
        return value, []
    return _replace_strings(value, path, clean_text)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_reason(s: str) -> str | None:
    """Why ``s`` cannot be stored alike on every supported database, or None when it can."""
    if "\x00" in s:
        return "holds a NUL character (\\u0000), which PostgreSQL cannot store"
    if not s.isascii():
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            return "holds a lone surrogate (\\ud800-\\udfff), which is not text"
    return None


def storable_text(s: str) -> tuple[str, int]:
    """(``s`` with NUL characters and lone surrogates replaced by U+FFFD, how many were replaced)."""
    if "\x00" not in s and (s.isascii() or unstorable_reason(s) is None):
        return s, 0
    return _UNSTORABLE.subn(REPLACEMENT, s)


def storable(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """(``value`` with every NUL and lone surrogate in its strings, keys included, replaced by U+FFFD, the
    field paths that changed). The same object comes back when nothing needed replacing."""
    try:  # the common case at C speed: one JSON encoding shows there is nothing to replace
        encoded = json.dumps(value, ensure_ascii=False, default=str)
        if "\\u0000" not in encoded:
            encoded.encode("utf-8")
            return value, []
    except (UnicodeEncodeError, TypeError, ValueError, RecursionError):
        pass
    return _replace_strings(value, path, storable_text)
