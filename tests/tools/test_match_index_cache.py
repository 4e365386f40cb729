"""The matcher's name indexes are saved beside the graph's files, keyed by them: a graph read again reuses
them, a changed graph file rebuilds them, and a graph built in memory never reads or writes one."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vcr_core.tools.kg import Matcher, load_kg_csv
from vcr_core.tools.kg import match as match_mod
from vcr_core.tools.kg.graph import CompactGraph

HEAD = "x_index,x_id,x_type,x_name,x_source,relation,display_relation,y_index,y_id,y_type,y_name,y_source"
ROWS = ["0,DB00619,drug,imatinib,DrugBank,target,target,1,25,gene/protein,ABL1,NCBI",
        "1,25,gene/protein,ABL1,NCBI,target,target,0,DB00619,drug,imatinib,DrugBank"]


def _counting(monkeypatch):
    calls = []
    real = match_mod.build_indexes

    def counted(graph):
        calls.append(graph.n_nodes)
        return real(graph)
    monkeypatch.setattr(match_mod, "build_indexes", counted)
    return calls


def test_indexes_are_saved_beside_the_graph_and_reused(tmp_path, monkeypatch):
    calls = _counting(monkeypatch)
    (tmp_path / "kg.csv").write_text("\n".join([HEAD, *ROWS]))
    g = load_kg_csv(tmp_path / "kg.csv")
    assert g.stamp, "a graph read from its cache files knows them"
    m = Matcher(g)
    saved = Path(g.stamp[0][0]).with_suffix(".matcher.pkl")
    assert saved.exists() and calls == [2]
    again = Matcher(load_kg_csv(tmp_path / "kg.csv"))
    assert calls == [2], "the saved indexes were read, not rebuilt"
    assert [x.index for x in again.lookup("Imatinib")] == [x.index for x in m.lookup("Imatinib")] == [0]


def test_a_changed_graph_file_rebuilds_the_indexes(tmp_path, monkeypatch):
    calls = _counting(monkeypatch)
    (tmp_path / "kg.csv").write_text("\n".join([HEAD, *ROWS]))
    g = load_kg_csv(tmp_path / "kg.csv")
    Matcher(g)
    npz = Path(g.stamp[0][0])
    st = npz.stat()
    os.utime(npz, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # the graph's file changed after the indexes were saved
    Matcher(CompactGraph.load(npz.with_suffix("")))
    assert calls == [2, 2], "indexes saved for other graph files were not used"


def test_a_graph_built_in_memory_writes_no_index(tmp_path, monkeypatch):
    calls = _counting(monkeypatch)
    g = CompactGraph.from_edges(["imatinib", "ABL1"], np.array([0, 1]), ["drug", "gene/protein"], np.array([0]), np.array([1]),
                                np.array([0]), ["target"], sources=["DrugBank", "NCBI"], ids=["DB00619", "25"],
                                details=[None, None], symmetric=True)
    assert g.stamp == ()
    assert [x.index for x in Matcher(g).lookup("abl1")] == [1] and calls == [2]
    assert not list(tmp_path.rglob("*.matcher.pkl"))


def test_a_cache_folder_copied_with_its_mtimes_keeps_its_indexes(tmp_path, monkeypatch):
    import shutil

    calls = _counting(monkeypatch)
    (tmp_path / "kg.csv").write_text("\n".join([HEAD, *ROWS]))
    g = load_kg_csv(tmp_path / "kg.csv")
    Matcher(g)
    src = Path(g.stamp[0][0]).parent
    copy = tmp_path / "elsewhere"
    shutil.copytree(src, copy)  # copy2: mtimes kept
    npz = copy / Path(g.stamp[0][0]).name
    Matcher(CompactGraph.load(npz.with_suffix("")))
    assert calls == [2]
