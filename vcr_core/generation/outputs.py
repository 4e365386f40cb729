"""The original pipeline's output files, written from the database (so a resumed run's files
hold every record, not only those of the last session).

``output/report/<folder>/<tag><experiment>_<tool_list>_<kg_num_neighbor>.json`` and
``output/structure_explain/<folder>/...`` with the original field names.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from ..agents.prompts import question_text
from ..files.exporters import original_row
from ..store import Record, Run, Trace, session_scope
from ..store.traces import record_model

_KIND_KEYS = {"kg_info": "kg", "harmonizome_info": "harmonizome", "wikipedia_info": "wikipedia", "pubmed_info": "pubmed"}


def index_tag(pert_path: str | None) -> str:
    """The original's index prefix: 'tahoe_' or 'rxrx_<n>_' from the input path, else ''."""
    if not pert_path:
        return ""
    if "tahoe" in pert_path:
        return "tahoe_"
    if "rxrx" in pert_path:
        m = re.search(r"\d+", pert_path)
        return f"rxrx_{m.group(0) if m else None}_"
    return ""


def output_paths(root: Path, *, folder_name: str, experiment_name: str, tool_list: list[str],
                 kg_num_neighbor: int, tag: str = "") -> tuple[Path, Path]:
    """(report file, structured-explanation file), named as the original script names them."""
    stem = f"{tag}{experiment_name}_{tool_list}_{kg_num_neighbor}.json"
    return root / "report" / folder_name / stem, root / "structure_explain" / folder_name / stem


def _context_text(tool_context: dict[str, Any]) -> str:
    return "\n\n".join(t.get("prompt_text") or "" for _, t in sorted(tool_context.items()) if t.get("prompt_text"))


def rows_for_run(engine: Engine, run_id: int, tag: str = "") -> tuple[list[dict], list[dict]]:
    """(report rows, structured-explanation rows) of a run, sorted by index."""
    reports, explains = [], []
    with session_scope(engine) as session:
        run = session.get(Run, run_id)
        pairs = session.exec(select(Trace, Record).where(Trace.run_id == run_id, Trace.record_id == Record.id)).all()
    for trace, row in pairs:
        rec = record_model(row)
        index = f"{tag}{rec.index}"
        tools = trace.tool_context or {}
        question = question_text(rec)
        if run.mode == "report-explain":
            rep = {"index": index, "perturbation": rec.raw, "report_text": trace.report or "", "question": question}
            for key, needle in _KIND_KEYS.items():
                rep[key] = "\n\n".join(t.get("prompt_text") or "" for n, t in tools.items() if needle in n)
            rep["extracted_graph_info"] = next((t.get("evidence") for n, t in tools.items() if "kg" in n), {})
            rep["paperqa_info"], rep["papers_info"] = "", {}
            reports.append(rep)
        explains.append(original_row(index=index, record=rec.raw, explanation=trace.explanation,
                                     raw_output=trace.raw_output, report=trace.report, question=question,
                                     additional_info=_context_text(tools), status=trace.status))
    reports.sort(key=lambda r: str(r["index"]))
    explains.sort(key=lambda r: str(r["index"]))
    return reports, explains


def _owner(path: Path) -> Path:
    """The file beside an output that names the run which wrote it."""
    return path.with_name(f".{path.name}.run")


def _owned_by_other(path: Path, run_id: int) -> bool:
    if not path.exists():
        return False
    try:
        return int(_owner(path).read_text().strip()) != run_id
    except (OSError, ValueError):  # written before outputs named their run, or by hand: not this run's
        return True


def run_output_paths(report_path: Path, explain_path: Path, run_id: int) -> tuple[Path, Path]:
    """The paths this run writes: the original names, unless another run's file (or any file not written
    by this run) is there; then ``<name>_run<id>.json`` for both. A resumed run rewrites its own files;
    run outputs never overwrite each other."""
    if _owned_by_other(report_path, run_id) or _owned_by_other(explain_path, run_id):
        return tuple(p.with_name(f"{p.stem}_run{run_id}{p.suffix}") for p in (report_path, explain_path))  # type: ignore[return-value]
    return report_path, explain_path


def write_run_files(engine: Engine, run_id: int, report_path: Path, explain_path: Path,
                    tag: str = "") -> tuple[int, int, Path, Path]:
    """``write_original_files`` at ``run_output_paths``: (report rows, explanation rows, report path,
    explanation path)."""
    report_path, explain_path = run_output_paths(report_path, explain_path, run_id)
    n_rep, n_exp = write_original_files(engine, run_id, report_path, explain_path, tag)
    return n_rep, n_exp, report_path, explain_path


def write_original_files(engine: Engine, run_id: int, report_path: Path, explain_path: Path,
                         tag: str = "") -> tuple[int, int]:
    """Write both files (the report file only in mode report-explain); returns the row counts. Each is
    written whole or not at all; the run that wrote it is noted beside it (``run_output_paths``)."""
    reports, explains = rows_for_run(engine, run_id, tag)
    _write_json(explain_path, explains, run_id)
    if reports:
        _write_json(report_path, reports, run_id)
    return len(reports), len(explains)


def _write_json(path: Path, rows: list[dict], run_id: int) -> None:
    """Write ``rows`` whole or not at all (temporary file, then rename); text that cannot be encoded
    (lone surrogates stored before ingest rejected them) is replaced by U+FFFD and logged."""
    import logging

    from ..kernel.filecache import atomic_file, write_atomic
    from ..kernel.textsafe import scrub

    rows, changed = scrub(rows)
    if changed:
        logging.getLogger(__name__).warning("run %s: text that cannot be encoded was replaced by U+FFFD in %s "
                                            "(%d field(s), e.g. %s)", run_id, path.name, len(changed), changed[0])
    try:
        with atomic_file(path, "w") as fh:
            json.dump(rows, fh, ensure_ascii=False, indent=1, default=str)
        write_atomic(_owner(path), str(run_id))
    except OSError as exc:  # a failed write names no file: name the output in the one-line error
        exc.filename = exc.filename or str(path)
        raise
