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
