"""`vcr export`."""
from __future__ import annotations

import argparse
import sys

from ..files.exporters import FORMATS, select_traces, write_export
from .util import add_command, require_selection
from .util import engine as cli_engine


def cmd_export(args: argparse.Namespace) -> int:
    engine = cli_engine()
    require_selection(engine, run_id=args.run, batch_id=args.batch)
    ids = select_traces(engine, status=args.status, verified_only=args.verified_only, batch_id=args.batch, run_id=args.run)
    if not ids:
        print("nothing to export: no trace matches (by default only approved traces are exported; "
              "use --status any for all)", file=sys.stderr)
        return 1
    problems: list[str] = []
    if args.output in (None, "-"):
        write_export(engine, ids, args.format, sys.stdout.buffer, problems=problems)
    else:
        with open(args.output, "wb") as out:  # streamed: memory stays bounded by one batch of traces
            write_export(engine, ids, args.format, out, problems=problems)
        print(f"exported {len(ids)} trace(s) as {args.format} to {args.output}", file=sys.stderr)
    for line in problems:
        print(f"warning: {line}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `vcr export`."""
    p = add_command(sub, "export", "export approved (or any) traces as JSONL, original JSON, GraphML or SVG", func=cmd_export,
                    description="Export traces. By default only traces a curator approved; --status any exports all, "
                                "--verified-only keeps those that pass the filter policy.",
                    examples=("vcr export -o approved.jsonl",
                              "vcr export --status any --verified-only --format original -o verified.json",
                              "vcr export --run 3 --format graphml -o run3.graphml",
                              "vcr export --format svg -o approved.svg"))
    p.add_argument("--format", choices=FORMATS, default="jsonl", help="jsonl (default), original, graphml, or svg (a picture of each trace's action graph, "
                                                                   "as the app draws it)")
    p.add_argument("--status", choices=("approved", "any"), default="approved", help="curation status to export")
    p.add_argument("--verified-only", action="store_true", help="only traces that pass the filter policy")
    p.add_argument("--batch", type=int, help="only this batch")
    p.add_argument("--run", type=int, help="only this run")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
