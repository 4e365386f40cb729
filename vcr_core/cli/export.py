"""`vcr export`."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from ..files.exporters import CURATION_STATES, FORMATS, select_traces, write_export
from ..files.hf import SPLIT_RULES, HfOptions, write_hf_dataset
from ..kernel.filecache import output_file
from .util import USAGE, CommandError, add_command, fails_with, require_selection
from .util import engine as cli_engine

ALL_FORMATS = FORMATS + ("hf",)


def _date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None


def selection_of(args: argparse.Namespace) -> dict:
    """The selection an export was made with, as the dataset card records it."""
    return {"status": args.status, "verified_only": args.verified_only, "verdict": args.verdict, "batch": args.batch,
            "run": args.run, "model": args.model, "since": args.since.isoformat() if args.since else None,
            "until": args.until.isoformat() if args.until else None}


def cmd_export(args: argparse.Namespace) -> int:
    engine = cli_engine()
    require_selection(engine, run_id=args.run, batch_id=args.batch)
    scope = dict(batch_id=args.batch, run_id=args.run, model=args.model, since=args.since, until=args.until)
    ids = select_traces(engine, status=args.status, verified_only=args.verified_only, verdict=args.verdict, **scope)
    if args.format == "hf":
        return _export_hf(engine, args, scope, ids)
    if not ids:
        print("nothing to export: no trace matches (by default only approved traces are exported; "
              "use --status any for all)", file=sys.stderr)
        return 1
    problems: list[str] = []
    if args.output in (None, "-"):
        write_export(engine, ids, args.format, sys.stdout.buffer, problems=problems)
    else:
        # streamed (memory stays bounded by one batch of traces) into a temporary moved into place: a failure
        # part-way keeps the old file; an existing one is replaced only with --force
        try:
            with output_file(Path(args.output), force=args.force) as out:
                write_export(engine, ids, args.format, out, problems=problems)
        except OSError as exc:  # name the output in the one-line error (a failed write does not)
            exc.filename = exc.filename or args.output
            raise
        print(f"exported {len(ids)} trace(s) as {args.format} to {args.output}", file=sys.stderr)
    for line in problems:
        print(f"warning: {line}", file=sys.stderr)
    return 0


def _export_hf(engine, args: argparse.Namespace, scope: dict, sft_ids: list[int]) -> int:
    """The dataset directory: the traces and preferences configs hold the scope (batch, run, model, dates);
    the sft config only the traces that also pass the curation-status and filter selection."""
    if args.output in (None, "-"):
        raise CommandError("--format hf writes a directory: name it with -o DIR", USAGE)
    all_ids = select_traces(engine, status="any", **scope)
    if not all_ids:
        print("nothing to export: no trace matches the batch, run, model and dates given", file=sys.stderr)
        return 1
    problems: list[str] = []
    with fails_with(ValueError):
        summary = write_hf_dataset(engine, all_ids, args.output, sft_ids=sft_ids, selection=selection_of(args),
                                   options=HfOptions(split_by=args.split_by, seed=args.seed), problems=problems)
    rows = ", ".join(f"{c} {sum(v.values())}" for c, v in summary["rows"].items())
    print(f"exported a dataset to {args.output} ({rows}; split by {args.split_by}, seed {args.seed}"
          + (f", {summary['split']['excluded_traces']} trace(s) left out by the rule" if args.split_by == "both" else "")
          + f"); load it with datasets.load_dataset({str(args.output)!r}, 'sft')", file=sys.stderr)
    for line in problems:
        print(f"warning: {line}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `vcr export`."""
    p = add_command(sub, "export", "export approved (or any) traces as JSONL, original JSON, GraphML, SVG or a Hugging "
                    "Face dataset", func=cmd_export,
                    description="Export traces. By default only traces a curator approved; --status any exports all, "
                                "--verified-only keeps those that pass the filter policy. --format hf writes a dataset "
                                "directory (Parquet shards and a dataset card) with the configs traces and preferences "
                                "(every trace of the batch, run, model and dates given) and sft (only the traces that also "
                                "pass --status and --verified-only/--verdict), split without leakage (--split-by).",
                    examples=("vcr export -o approved.jsonl",
                              "vcr export --status any --verified-only --format original -o verified.json",
                              "vcr export --run 3 --format graphml -o run3.graphml",
                              "vcr export --format hf -o dataset/ --split-by both --seed 1 --model claude-sonnet-4",
                              "vcr export --format svg -o approved.svg"))
    p.add_argument("--format", choices=ALL_FORMATS, default="jsonl",
                   help="jsonl (default), original, graphml, svg (a picture of each trace's action graph, as the app "
                        "draws it) or hf (a Hugging Face dataset directory)")
    p.add_argument("--status", choices=(*CURATION_STATES, "approved"), default="approve",
                   help="curation state to export: approve (default: approved by the consensus rule; 'approved' reads the same), "
                        "any, or one state such as reject or uncurated")
    p.add_argument("--verified-only", action="store_true", help="only traces that pass the filter policy")
    p.add_argument("--verdict", choices=("pass", "fail", "insufficient"), help="only traces with this filter-policy verdict")
    p.add_argument("--batch", type=int, help="only this batch")
    p.add_argument("--run", type=int, help="only this run")
    p.add_argument("--model", help="only traces of this model")
    p.add_argument("--since", type=_date, help="only traces made at or after this date (YYYY-MM-DD)")
    p.add_argument("--until", type=_date, help="only traces made before this date (YYYY-MM-DD)")
    p.add_argument("--split-by", choices=SPLIT_RULES, default="perturbation",
                   help="hf: perturbation (default), cell_line, or both (a held-out drug x cell-line block)")
    p.add_argument("--seed", type=int, default=0, help="hf: seed of the split (default 0)")
    p.add_argument("-o", "--output", help="file to write (default: standard output), written whole or not at all; "
                   "with --format hf a directory")
    p.add_argument("--force", action="store_true", help="replace the --output file when it exists")
