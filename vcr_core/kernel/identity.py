"""One normalisation of curator identity, used wherever a name is stored or compared.

A curator's **key** (``curator_key``) is the name in Unicode NFKC, with invisible characters
(zero-width spaces and joiners, the byte-order mark, soft hyphens, bidirectional marks: every
character of category Cf), control characters (NUL included) and unassigned or surrogate code points
removed, runs of white space made one space, trimmed and case-folded. "Dora", "dora", "ｄｏｒａ" and
"dora" + U+200B are one curator: one opinion under the consensus rule, one lease, one queue.

The name **as typed** (``curator_display``) keeps its case and letters for display, with only what
no screen or database should hold removed (controls, invisible characters, lone surrogates).

Names longer than ``MAX_CURATOR_CHARS`` (after cleaning) or empty ones are refused with one line
(``IdentityError``), never stored.
"""
from __future__ import annotations

import re
import unicodedata

MAX_CURATOR_CHARS = 80
"""The longest curator name accepted (characters, after invisible and control characters are removed)."""

_SPACES = re.compile(r"\s+")


class IdentityError(ValueError):
    """A curator name that cannot be used; the message says what to do."""


def _drop_invisible(text: str) -> str:
    # Cc: controls (NUL, ESC, DEL, ...); Cf: format (ZWSP, ZWJ, BOM, soft hyphen, bidi marks);
    # Cs: lone surrogates; Cn: unassigned; Co: private use. Line and paragraph separators become spaces.
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Zl", "Zp") or ch in "\t\n\r\v\f":
            out.append(" ")
        elif cat[0] != "C":
            out.append(ch)
    return "".join(out)


def curator_display(name: str | None) -> str:
    """The name as typed, for display: invisible and control characters removed, white space collapsed."""
    if name is None:
        return ""
    if not isinstance(name, str):
        raise IdentityError("a curator name must be text")
    return _SPACES.sub(" ", _drop_invisible(name)).strip()


def curator_key(name: str | None) -> str:
    """The one form under which a curator is stored and compared (see the module); raises
    ``IdentityError`` for an empty or over-long name."""
    shown = curator_display(name)
    if len(shown) > 4 * MAX_CURATOR_CHARS:  # before NFKC, which can expand a character many times
        raise IdentityError(f"a curator name is at most {MAX_CURATOR_CHARS} characters; use a shorter name")
    key = _SPACES.sub(" ", _drop_invisible(unicodedata.normalize("NFKC", shown))).strip().casefold()
    key = unicodedata.normalize("NFKC", key)  # casefold can leave a non-NFKC string ("ß" -> "ss" is fine, others not)
    if not key:
        raise IdentityError("enter your curator name before judging (a name of visible characters)")
    if len(key) > MAX_CURATOR_CHARS:
        raise IdentityError(f"a curator name is at most {MAX_CURATOR_CHARS} characters; use a shorter name")
    return key


def same_curator(a: str | None, b: str | None) -> bool:
    """True when ``a`` and ``b`` name the same curator (equal keys); False when either is no usable name."""
    try:
        return curator_key(a) == curator_key(b)
    except IdentityError:
        return False


def key_or_none(name: str | None) -> str | None:
    """``curator_key(name)``, or None for a name that is not usable (for filters and comparisons)."""
    try:
        return curator_key(name)
    except IdentityError:
        return None
