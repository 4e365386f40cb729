"""The NER backends (dictionary, HunFlair2), loaded once per process, and grounding of a bare name."""
from __future__ import annotations

import threading

from ..kernel.settings import get_settings
from .entities import Entity

_BACKENDS: dict[str, object] = {}
_LOCK = threading.Lock()


def get_ner_backend(name: str | None = None):
    """The NER backend ``name`` ('dictionary' or 'hunflair2'; default: the NER_BACKEND setting), cached."""
    s = get_settings()
    name = name or s.ner_backend
    with _LOCK:
        if name not in _BACKENDS:
            if name == "dictionary":
                from .dictionary import DictionaryBackend
                _BACKENDS[name] = DictionaryBackend.cached()
            elif name == "hunflair2":
                from .hunflair import HunFlairBackend
                _BACKENDS[name] = HunFlairBackend(s.hunflair2_model)
            else:
                raise ValueError(f"unknown NER backend {name!r}; use 'dictionary' or 'hunflair2'")
        return _BACKENDS[name]


def ground(name: str, type: str | None = None) -> Entity | None:  # noqa: A002 - the contract's name
    """The best grounding of a bare name (from the dictionary vocabularies), or None."""
    if not name or not name.strip():
        return None
    return get_ner_backend("dictionary").ground(name, type)
