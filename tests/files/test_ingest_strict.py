"""Strict, bounded ingest: hostile JSON is refused with record and field path, never stored."""
from __future__ import annotations

import io
import json

import pytest
from sqlmodel import Session, func, select

from vcr_core.files.ingest import ingest_bytes, ingest_file, validate_bytes, validate_stream
from vcr_core.records.model import normalize_index, parse_records
from vcr_core.records.strictjson import StreamReader
from vcr_core.store import Batch, Record


def rec(i, **pert):
    return {"index": i, "context": {"cell_type": "HUVEC"}, "perturbation": {"name": f"d{i}", **pert}}


def _count(engine, model):
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize("field", ["name", "target", "description"])
def test_lone_surrogate_in_any_field_is_rejected_with_its_path(engine, field):
    body = '[%s, {"index": 7, "context": {"cell_type": "A"}, "perturbation": {"%s": "x\\ud800y"}}]' % (
        json.dumps(rec(0)), field)
    res = ingest_bytes(engine, body.encode(), name="s")
    assert not res.ok and _count(engine, Record) == 0
    p = res.problems[0]
    assert p.position == 1 and p.path == f"perturbation.{field}" and "surrogate" in p.message
    assert str(p).startswith("record #1 perturbation.")


def test_a_proper_surrogate_pair_is_fine():
    assert validate_bytes(b'[{"index": 1, "perturbation": {"name": "\\ud83d\\ude00"}}]').ok


@pytest.mark.parametrize("number", ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_rejected_with_their_path(number):
    rep = validate_bytes(f'[{{"index": 3, "perturbation": {{"name": "x", "dose": {number}}}}}]'.encode())
    assert not rep.ok
    assert rep.problems[0].path == "perturbation.dose" and "finite" in rep.problems[0].message


def test_duplicate_keys_are_rejected_with_their_path():
    rep = validate_bytes(b'[{"index": 1, "perturbation": {"name": "a", "name": "b"}}]')
    assert not rep.ok and rep.problems[0].path == "perturbation.name" and "twice" in rep.problems[0].message
    top = validate_bytes(b'[{"index": 1, "index": 2, "perturbation": {"name": "a"}}]')
    assert top.problems[0].path == "index"


def test_indices_are_normalised_before_the_duplicate_check():
    assert {normalize_index(v) for v in (1, 1.0, " 1", "1", "1.0", "1e0")} == {"1"}
    assert normalize_index(None) is None and normalize_index("  ") is None
    recs, problems = parse_records([rec(1), rec(1.0), rec(" 1")])
    assert sum("duplicate index" in p.message for p in problems) == 2
    recs, problems = parse_records([{"index": None, "perturbation": {"name": "a"}}])
    assert not problems and recs[0].index == "0"  # no index: its position, never the text "None"


def test_a_duplicate_far_down_is_reported_at_its_position():
    items = [rec(i) for i in range(5001)]
    items[5000]["index"] = 17
    rep = validate_bytes(json.dumps(items).encode())
    dup = [p for p in rep.problems if "duplicate" in p.message]
    assert len(dup) == 1 and dup[0].position == 5000 and str(dup[0]).startswith("record #5000")
    assert "also record #17" in dup[0].message


def test_size_is_checked_before_reading(engine, tmp_path, monkeypatch):
    big = tmp_path / "huge.json"
    with open(big, "wb") as fh:  # a sparse 2 GB file: costs no disk, and must never be read
        fh.truncate(2 * 1024 ** 3)
    import vcr_core.files.ingest as ingest_module

    opened = []
    monkeypatch.setattr(ingest_module, "open", lambda *a, **k: opened.append(a) or io.BytesIO(b""), raising=False)
    res = ingest_file(engine, big)
    assert not res.ok and "above the 50 MB limit" in res.problems[0].message and "nothing was read" in res.problems[0].message
    assert not opened


def test_errors_are_capped_and_counted():
    data = b"[" + b",".join([b"{}"] * 20000) + b"]"
    rep = validate_bytes(data)
    assert rep.problem_count == 20000 and len(rep.problems) == 101
    assert "19900 more problem(s)" in rep.problems[-1].message


def test_streaming_reader_holds_one_record_at_a_time():
    items = [rec(i, description="x" * 1000) for i in range(3000)]
    data = json.dumps(items).encode()
    reader = StreamReader(io.BytesIO(data), chunk=4096)
    peak = 0
    n = 0
    for item in reader.items():
        peak = max(peak, len(reader.buf))
        n += 1
    assert n == 3000 and peak < 64 * 1024  # the buffer never holds the ~3 MB file
    rep = validate_stream(io.BytesIO(data), keep_records=False)
    assert rep.ok and rep.n_records == 3000 and not rep.records


def test_one_record_too_big_is_refused(monkeypatch):
    from vcr_core.kernel.settings import get_settings

    monkeypatch.setenv("MAX_UPLOAD_MB", "1")
    get_settings.cache_clear()
    rep = validate_bytes(json.dumps([rec(1, description="y" * 600_000), rec(2, description="y" * 600_000)]).encode(),
                         max_mb=10)
    assert rep.ok  # two records of 0.6 MB each fit the 1 MB per-record bound
    rep = validate_bytes(json.dumps([rec(1, description="y" * 1_200_000)]).encode(), max_mb=10)
    assert not rep.ok and "larger than" in rep.problems[0].message


@pytest.mark.parametrize("data,needle", [
    (b'[{"index": 1, "perturbation": {"name": "a"}}', "truncated"),
    (b'[{"index": 1, "perturbation": {"name": "a"}},]', "comma"),
    (b'[{"index": 1, "perturbation": {"name": "a"}}] trailing', "extra data"),
    (b"\xff\xfe[\x00]\x00", "UTF-16"),
    (b'[' * 100000 + b']' * 100000, "nested too deeply"),
    (b"", "empty"),
    (b"   ", "empty"),
    (b'"text"', "top level"),
    (b'[{"index": 1, "perturbation": {"name": "caf\xe9"}}]', "UTF-8"),
])
def test_broken_files_give_one_clear_problem(data, needle):
    rep = validate_bytes(data)
    assert not rep.ok and needle in str(rep.problems[0]), rep.problems


def test_bom_is_accepted_and_hash_covers_every_byte(engine):
    body = json.dumps([rec(1)]).encode()
    assert validate_bytes(b"\xef\xbb\xbf" + body).ok
    a = ingest_bytes(engine, body, name="a")
    b = ingest_bytes(engine, body + b"\n", name="b")  # other bytes: another batch
    assert a.ok and b.ok and a.batch_id != b.batch_id and _count(engine, Batch) == 2


def test_merging_many_targets_is_linear():
    targets = [f"T{i}" for i in range(30000)]
    obj = {"index": 1, "perturbation": {"name": "x", "targets": targets, "known targets": targets[::-1],
                                          "target": ", ".join(targets)}}
    recs, problems = parse_records([obj])  # quadratic merging took ~30 s here; bench/ingest_bench.py times it
    assert not problems and len(recs[0].perturbation.targets) == 30000
    assert recs[0].perturbation.targets[:2] == ["T0", "T1"]  # merged once, in first-seen order


def test_a_stored_file_reads_back_the_same(engine, tmp_path):
    path = tmp_path / "ok.json"
    path.write_text(json.dumps([rec(i, target="EGFR") for i in range(1200)]))
    res = ingest_file(engine, path)
    assert res.ok and res.added == 1200 and _count(engine, Record) == 1200
    with Session(engine) as s:
        last = s.exec(select(Record).where(Record.position == 1199)).one()
    assert last.index == "1199" and last.raw["perturbation"]["name"] == "d1199"
    again = ingest_file(engine, path)
    assert again.duplicate and _count(engine, Record) == 1200
