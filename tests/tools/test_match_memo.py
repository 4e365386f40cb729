"""The matcher's memo of name lookups: same answers as an uncached lookup, bounded, thread-safe,
and forgotten when the graph reloads."""
from __future__ import annotations

import threading

from vcr_core.tools.kg import Matcher, load_kg_csv, set_graph
from vcr_core.tools.kg import api

HEAD = "x_index,x_id,x_type,x_name,x_source,relation,display_relation,y_index,y_id,y_type,y_name,y_source"


def _graph(tmp_path, nodes, edges, name="kg.csv"):
    rows = [HEAD]
    for a, b, r in edges:
        for x, y in ((a, b), (b, a)):
            rows.append(f"{x},{nodes[x][2]},{nodes[x][1]},{nodes[x][0]},SRC,{r},{r},{y},{nodes[y][2]},{nodes[y][1]},{nodes[y][0]},SRC")
    (tmp_path / name).write_text("\n".join(rows))
    return load_kg_csv(tmp_path / name)


NODES = [("imatinib", "drug", "DB00619"), ("ABL1", "gene/protein", "25"), ("apoptotic process", "biological_process", "GO:0006915"),
         ("KIT", "gene/protein", "3815")]
EDGES = [(0, 1, "target"), (0, 3, "target"), (1, 2, "interacts with")]
NAMES = ["imatinib", "IMATINIB", "  Imatinib ", "ABL1", "apoptotic proces", "apoptotic process", "KIT", "nothing like it", "db00619", "", "ab"]


def _plain(matcher, name, types=None, k=5):
    """The uncached answer: the routes run directly on the folded name."""
    from vcr_core.tools.kg.match import _fold
    key = _fold(name)
    return matcher._lookup(key, set(types) if types else None, k) if key else []


def test_memo_returns_what_an_uncached_lookup_returns(tmp_path):
    g = _graph(tmp_path, NODES, EDGES)
    m = Matcher(g)
    for _ in range(2):  # first pass fills the memo, second reads it
        for name in NAMES:
            for types, k in ((None, 5), (None, 3), (["drug"], 5), (["gene/protein"], 1)):
                assert m.lookup(name, types, k) == _plain(m, name, types, k), (name, types, k)
    assert m.memo_hits > 0 and m.memo_misses > 0
    # the key is the folded name: case and spacing variants share one entry
    before = m.memo_misses
    m.lookup("  iMaTiNiB", None, 5)
    assert m.memo_misses == before


def test_memo_hands_out_copies(tmp_path):
    m = Matcher(_graph(tmp_path, NODES, EDGES))
    first = m.lookup("imatinib")
    first[0].score = -1.0
    first.clear()
    again = m.lookup("imatinib")
    assert again and again[0].score == 1.0


def test_memo_is_bounded_lru(tmp_path):
    m = Matcher(_graph(tmp_path, NODES, EDGES), memo_size=2)
    m.lookup("imatinib")
    m.lookup("ABL1")
    m.lookup("imatinib")  # now the most recent
    m.lookup("KIT")  # evicts ABL1, the least recently used
    assert len(m._memo) == 2
    misses = m.memo_misses
    m.lookup("imatinib")
    assert m.memo_misses == misses
    m.lookup("ABL1")
    assert m.memo_misses == misses + 1
    off = Matcher(m.g, memo_size=0)  # memo off: still correct
    assert off.lookup("ABL1") == m.lookup("ABL1") and len(off._memo) == 0


def test_memo_is_thread_safe(tmp_path):
    m = Matcher(_graph(tmp_path, NODES, EDGES), memo_size=4)
    expected = {n: _plain(m, n) for n in NAMES}
    errors = []

    def work():
        for _ in range(50):
            for n in NAMES:
                if m.lookup(n) != expected[n]:
                    errors.append(n)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(m._memo) <= 4


def test_memo_forgotten_when_the_graph_reloads(tmp_path):
    g1 = _graph(tmp_path, NODES, EDGES, "a.csv")
    set_graph(g1)
    assert [h.name for h in api.lookup("ABL1")] == ["ABL1"]
    old = api._matcher()
    assert len(old._memo) == 1
    # a graph where ABL1 is gone and a new node answers the same name approximately
    nodes2 = [("imatinib", "drug", "DB00619"), ("ABL2", "gene/protein", "27")]
    g2 = _graph(tmp_path, nodes2, [(0, 1, "target")], "b.csv")
    set_graph(g2)
    assert len(old._memo) == 0  # the replaced matcher's memo is emptied
    hits = api.lookup("ABL1")
    assert [h.name for h in hits] == [] or all(h.name != "ABL1" for h in hits)
    assert [h.method for h in api.lookup("imatinib")] == ["exact"]
    # an explicit matcher handed in is cleared too (it may have answered for another graph)
    m = Matcher(g1)
    m.lookup("ABL1")
    set_graph(g1, m)
    assert len(m._memo) == 0
    m.clear_cache()
