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
    """The best grounding of a bare name (from the dictionary vocabularies), or None. While a claim is
    verified, its stored grounding of ``name`` (other than a gene's: the gene resolver reads those)
    answers first (:mod:`vcr_core.kernel.grounding`)."""
    if not name or not name.strip():
        return None
    stored = _stored(name, type)
    if stored is not None:
        return stored
    return get_ner_backend("dictionary").ground(name, type)


# Kinds of entity (knowledge.identifiers) -> the NER types a grounding of that kind answers as.
_NER_TYPE = {"chemical": "Chemical", "gene": "Gene", "disease": "Disease", "cell_line": "CellLine"}


def _stored(name: str, type: str | None) -> Entity | None:  # noqa: A002
    from ..kernel.grounding import GENE_NAMESPACES, note_used, stored_entity
    from ..knowledge.identifiers import entity_kind

    e = stored_entity(name)
    if e is None or (e.get("namespace") in GENE_NAMESPACES and not e.get("curator")):
        return None
    etype = _NER_TYPE.get(entity_kind(e.get("namespace")) or "")
    if etype is None or (type is not None and etype != type):
        return None
    note_used(e)
    ns, ident = str(e["namespace"]), str(e.get("identifier") or "")
    local = ident[len(ns) + 1:] if ident.startswith(f"{ns}:") and ns not in ("CHEBI", "GO", "HGNC") else ident
    return Entity(name, etype, 0, len(name), ns, local, e.get("canonical") or name)
