"""`vcr export -o`: one line for every path that names no writable file; whole files or none; an
existing file replaced only with --force; GraphML survives control characters."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from vcr_core.cli import main as cli
from vcr_core import curation as cur
from vcr_core.store import Curation, session_scope


@pytest.fixture
def approved(engine, trace_id):
    cur.judge_trace(engine, trace_id, "ana", "approve")
    return trace_id


def _fails_with_one_line(capsys, argv, expected):
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and expected in err and len(err.splitlines()) == 1, err


def test_paths_that_name_no_writable_file_give_one_line(approved, tmp_path, capsys):
    _fails_with_one_line(capsys, ["export", "-o", str(tmp_path / "missing" / "x.jsonl")], "does not exist")
    assert not (tmp_path / "missing").exists()  # not created behind the user's back
    _fails_with_one_line(capsys, ["export", "-o", str(tmp_path)], "is a directory")
    if Path("/dev/full").exists():
        _fails_with_one_line(capsys, ["export", "-o", "/dev/full"], "the disk holding /dev/full is full")


def test_an_existing_output_is_replaced_only_with_force(approved, tmp_path, capsys):
    out = tmp_path / "a.jsonl"
    out.write_text("precious\n")
    _fails_with_one_line(capsys, ["export", "-o", str(out)], "add --force")
    assert out.read_text() == "precious\n"
    assert cli.main(["export", "-o", str(out), "--force"]) == 0
    assert json.loads(out.read_text())["trace_id"] == approved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "test.db"] or not list(tmp_path.glob("*.tmp"))


def test_a_failure_part_way_keeps_the_old_file(approved, tmp_path, capsys, monkeypatch):
    out = tmp_path / "a.jsonl"
    out.write_text("old export\n")

    def half(engine, ids, fmt, fh, **kw):
        fh.write(b'{"trace_id": 1, "half')
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("vcr_core.cli.export.write_export", half)
    _fails_with_one_line(capsys, ["export", "-o", str(out), "--force"], "is full: free space and retry; nothing was lost")
    assert out.read_text() == "old export\n"
    assert not list(tmp_path.glob("*.tmp"))


def test_graphml_survives_control_characters_in_names_and_notes(engine, approved, tmp_path, capsys):
    from vcr_core.store import Trace

    with session_scope(engine) as s:  # a judgment stored before names were normalised, with a NUL and an ESC
        s.add(Curation(target="trace", trace_id=approved, curator="eve\x00\x1b", judgment="approve", note="n\x00te\x07"))
        s.get(Trace, approved).model = "local/m\x00del\x1b"  # a model name as a provider sent it
    cur.rebuild_state(engine)
    out = tmp_path / "g.graphml"
    assert cli.main(["export", "--format", "graphml", "-o", str(out)]) == 0
    root = ET.parse(out).getroot()  # well-formed XML
    assert out.stat().st_size > 0 and root.tag.endswith("graphml")
    assert "\ufffd" in out.read_text(encoding="utf-8")


def test_the_export_keeps_every_judgment_and_names_the_disagreement(engine, trace_id, tmp_path):
    """CONSENSUS=one: ana approves, ben rejects; ben decides, ana's approval stays and is named."""
    cur.judge_trace(engine, trace_id, "ana", "approve", rule="one")
    cur.judge_trace(engine, trace_id, "ben", "reject", rule="one")
    out = tmp_path / "all.jsonl"
    assert cli.main(["export", "--status", "any", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["curation_status"] == "reject"
    assert doc["trace_judgments"] == {"ana": "approve", "ben": "reject"}
    assert [c["judgment"] for c in doc["archive"]["curations"]] == ["approve", "reject"]
    assert doc["disagreement"] == "decided by the latest (ben: reject); ana disagreed (approve)"
