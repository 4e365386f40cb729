"""Run output files: a second run never overwrites the first run's files; a resumed run rewrites its own."""
from __future__ import annotations

import json

from sqlmodel import select

from vcr_core.generation.outputs import output_paths, write_run_files
from vcr_core.store import Trace, session_scope
from vcr_core.verify.testing import EXPLANATION, add_trace


def _run_of(engine, trace_id):
    with session_scope(engine) as s:
        return s.exec(select(Trace.run_id).where(Trace.id == trace_id)).one()


def test_two_runs_with_the_same_names_keep_both_files(engine, batch_id, tmp_path):
    run1 = _run_of(engine, add_trace(engine, batch_id, EXPLANATION, run_name="one"))
    run2 = _run_of(engine, add_trace(engine, batch_id, EXPLANATION.replace("apoptosis", "senescence"), run_name="two"))
    rep, exp = output_paths(tmp_path, folder_name="f", experiment_name="e", tool_list=[], kg_num_neighbor=1)
    _, n1, _, exp1 = write_run_files(engine, run1, rep, exp)
    first = exp1.read_text()
    _, n2, _, exp2 = write_run_files(engine, run2, rep, exp)
    assert n1 == n2 == 1 and exp1 == exp and exp2 != exp1 and exp2.name.endswith(f"_run{run2}.json")
    assert exp1.read_text() == first  # run 1's file is untouched
    assert json.loads(exp2.read_text())[0]["raw_response"] != json.loads(first)[0]["raw_response"]
    _, _, _, again = write_run_files(engine, run1, rep, exp)  # a resumed run 1 rewrites its own file
    assert again == exp1
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_file_not_written_by_the_run_is_kept(engine, batch_id, tmp_path):
    run1 = _run_of(engine, add_trace(engine, batch_id, EXPLANATION))
    rep, exp = output_paths(tmp_path, folder_name="f", experiment_name="e", tool_list=[], kg_num_neighbor=1)
    exp.parent.mkdir(parents=True)
    exp.write_text("someone's file")
    _, _, _, written = write_run_files(engine, run1, rep, exp)
    assert exp.read_text() == "someone's file" and written != exp
