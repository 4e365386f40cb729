"""One redaction function for every error, log line and stored column: API keys never leave.

A provider may echo a key back in an error (whole, without its prefix, or cut); so any run of 8 or
more characters that also occurs in a configured key (ANTHROPIC/OPENAI/GEMINI/NCBI) is masked, as
is anything key-shaped. The same function guards three exits: error messages (the LLM client and
tool clients), log records (:func:`install_log_redaction`) and every parameter written to the
database (an engine hook in ``store.engine``).
"""
from __future__ import annotations

import logging
import os
import re
import threading

MIN_FRAGMENT = 8
MASK = "***"
KEY_SETTINGS = ("anthropic_api_key", "openai_api_key", "gemini_api_key", "ncbi_api_key")
KEY_ENV = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "NCBI_API_KEY")
_KEYLIKE = re.compile(r"\b(sk|key|AIza)[-_A-Za-z0-9*]{6,}")
_cache: dict[tuple[str, ...], frozenset[str]] = {}
_lock = threading.Lock()


def configured_keys() -> list[str]:
    """The configured key values (settings, falling back to the environment), at least 8 characters."""
    values: list[str] = []
    try:
        from .settings import get_settings

        s = get_settings()
        for name in KEY_SETTINGS:
            secret = getattr(s, name, None)
            if secret is not None:
                values.append(secret.get_secret_value())
    except Exception:  # noqa: BLE001 - settings that cannot load must not stop redaction from the environment
        pass
    values += [os.environ.get(k, "") for k in KEY_ENV]
    return sorted({v for v in values if v and len(v) >= MIN_FRAGMENT})


def _grams(keys: tuple[str, ...]) -> frozenset[str]:
    with _lock:
        grams = _cache.get(keys)
        if grams is None:
            grams = frozenset(k[i:i + MIN_FRAGMENT] for k in keys for i in range(len(k) - MIN_FRAGMENT + 1))
            _cache.clear()
            _cache[keys] = grams
    return grams


def redact(text: str, keys: list[str] | None = None) -> str:
    """``text`` with every fragment (8+ characters) of a configured key, and anything key-shaped, masked."""
    if not isinstance(text, str) or not text:
        return text
    keys = configured_keys() if keys is None else keys
    if keys:
        text = _mask_fragments(text, tuple(keys))
    return _KEYLIKE.sub(MASK, text)


def contains_secret(text: str, keys: list[str] | None = None) -> bool:
    """Does ``text`` hold a fragment of a configured key?"""
    keys = configured_keys() if keys is None else keys
    if not keys or not text:
        return False
    grams = _grams(tuple(keys))
    return any(g in text for g in grams)


def _mask_fragments(text: str, keys: tuple[str, ...]) -> str:
    grams = _grams(keys)
    if len(text) < MIN_FRAGMENT or not any(g in text for g in grams):  # C-speed check first: the common case
        return text
    spans: list[list[int]] = []
    for i in range(len(text) - MIN_FRAGMENT + 1):
        if text[i:i + MIN_FRAGMENT] in grams:
            end = i + MIN_FRAGMENT
            if spans and i <= spans[-1][1]:
                spans[-1][1] = end
            else:
                spans.append([i, end])
    out, last = [], 0
    for a, b in spans:
        out.append(text[last:a])
        out.append(MASK)
        last = b
    out.append(text[last:])
    return "".join(out)


def redact_value(value):
    """``value`` with :func:`redact` applied to every string inside (dicts, lists, tuples)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v) for v in value)
    return value


_installed = False


def install_log_redaction() -> None:
    """Redact every log record of this process (message and arguments), once."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            if configured_keys():
                record.msg = redact(record.getMessage())
                record.args = None
                if record.exc_info and record.exc_info[1] is not None:
                    exc = record.exc_info[1]
                    record.exc_text = redact("".join(__import__("traceback").format_exception(exc)))
        except Exception:  # noqa: BLE001 - logging must never fail because of redaction
            pass
        return record

    logging.setLogRecordFactory(factory)


def redact_db_params(conn, cursor, statement, parameters, context, executemany):
    """SQLAlchemy ``before_cursor_execute`` hook: no key fragment is ever written to the database."""
    keys = configured_keys()
    if not keys or parameters is None:
        return statement, parameters
    grams = _grams(tuple(keys))

    def fix(v):
        if isinstance(v, str) and len(v) >= MIN_FRAGMENT and any(g in v for g in grams):
            return redact(v, keys)
        return v

    def fix_set(p):
        if isinstance(p, dict):
            return {k: fix(v) for k, v in p.items()}
        if isinstance(p, (list, tuple)):
            return type(p)(fix(v) for v in p)
        return p

    if executemany and isinstance(parameters, (list, tuple)):
        return statement, type(parameters)(fix_set(p) for p in parameters)
    return statement, fix_set(parameters)
