"""The process-wide knowledge cache (knowledge/cache.py): loaded once, a failing source kept with its reason,
replaceable in tests, and answers derived from it remembered."""
from __future__ import annotations

from vcr_core.knowledge import cache


def test_loaded_once_and_replaceable():
    calls = []

    def loader():
        calls.append(1)
        return "graph", "matcher"

    cache.set_knowledge(None)
    try:
        kb = cache.load_knowledge(loader)
        assert (kb.graph, kb.matcher, kb.graph_reason) == ("graph", "matcher", None)
        assert cache.load_knowledge(loader) is kb and calls == [1]  # once per process
        assert kb.orgdb is not None or kb.orgdb_reason  # GO: loaded, or the reason why not
        own = cache.Knowledge(graph=None, graph_reason="set by a test")
        cache.set_knowledge(own)
        assert cache.load_knowledge(loader) is own and cache.current_knowledge() is own
        assert cache.load_knowledge(loader, refresh=True) is not own and calls == [1, 1]
    finally:
        cache.set_knowledge(None)


def test_a_failing_graph_is_a_reason_not_a_crash():
    def broken():
        raise OSError("no such file")

    cache.set_knowledge(None)
    try:
        kb = cache.load_knowledge(broken)
        assert kb.graph is None and "no such file" in kb.graph_reason
    finally:
        cache.set_knowledge(None)


def test_remember_computes_once():
    kb = cache.Knowledge()
    seen = []
    assert kb.remember(("k", 1), lambda: seen.append(1) or "v") == "v"
    assert kb.remember(("k", 1), lambda: seen.append(2) or "w") == "v" and seen == [1]
