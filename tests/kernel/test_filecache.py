"""vcr_core/filecache.py: atomic writes and the pickled build caches (gene index, NER automaton, HPO
tables, DrugBank names) on real files."""
from __future__ import annotations

import pickle

import pytest

from vcr_core.kernel.filecache import atomic_file, load_or_build, write_atomic


def test_write_atomic_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "meta.json"
    write_atomic(target, "first")
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["meta.json"]


def test_load_or_build_builds_once_per_stamp(tmp_path):
    path = tmp_path / "cache.pkl"
    builds: list[int] = []

    def build():
        builds.append(1)
        return {"n": len(builds)}
    assert load_or_build(path, build, stamp="v1") == {"n": 1}
    assert load_or_build(path, build, stamp="v1") == {"n": 1} and len(builds) == 1  # read back, not rebuilt
    assert load_or_build(path, build, stamp="v2") == {"n": 2}  # another version of the sources: rebuilt
    assert load_or_build(path, build, stamp="v2") == {"n": 2} and len(builds) == 2


def test_broken_or_foreign_cache_files_are_rebuilt(tmp_path):
    path = tmp_path / "cache.pkl"
    path.write_bytes(b"not a pickle")
    assert load_or_build(path, lambda: [1, 2]) == [1, 2]
    path.write_bytes(pickle.dumps(("automaton", "entries")))  # an older layout without a stamp
    assert load_or_build(path, lambda: "fresh") == "fresh"
    assert pickle.loads(path.read_bytes()) == {"stamp": None, "data": "fresh"}


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "meta.json"
    write_atomic(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_file(target, "w") as fh:
            fh.write("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["meta.json"]


def test_gc_paused_nests_across_threads_and_restores_the_collector():
    import gc
    import threading

    from vcr_core.kernel.filecache import gc_paused

    assert gc.isenabled()
    inside = threading.Event()
    release = threading.Event()

    def other():
        with gc_paused():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=other)
    with gc_paused():
        assert not gc.isenabled()
        t.start()
        inside.wait(5)
    assert not gc.isenabled(), "another thread's pause is still on"
    release.set()
    t.join()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled(), "a collector that was off stays off"
    finally:
        gc.enable()


def test_file_stamp_changes_with_the_file(tmp_path):
    from vcr_core.kernel.filecache import file_stamp, load_or_build

    src = tmp_path / "source.txt"
    src.write_text("a")
    first = file_stamp(src)
    built = []
    assert load_or_build(tmp_path / "c.pkl", lambda: built.append(1) or "A", file_stamp(src)) == "A"
    assert load_or_build(tmp_path / "c.pkl", lambda: built.append(1) or "B", file_stamp(src)) == "A" and built == [1]
    src.write_text("ab")
    assert file_stamp(src) != first
    assert load_or_build(tmp_path / "c.pkl", lambda: built.append(1) or "B", file_stamp(src)) == "B" and built == [1, 1]
    assert file_stamp(tmp_path / "missing")[0][1:] == (None, None)
