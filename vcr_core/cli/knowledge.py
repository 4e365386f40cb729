"""`vcr knowledge`: what the team knows (judged claim cores), exported, imported, recomputed."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..curation.consensus import CurationError
from ..curation.knowledge import FORMATS, export_knowledge, import_knowledge
from ..curation.reuse import identify_and_reuse, rebuild_reuse
from .util import add_command, add_group, fails_with
from .util import engine as cli_engine


def cmd_export(args: argparse.Namespace) -> int:
    with fails_with(CurationError):
        data = export_knowledge(cli_engine(), args.format)
    if args.output in (None, "-"):
        sys.stdout.buffer.write(data)
    else:
        Path(args.output).write_bytes(data)
        n = data.count(b"\n") - (args.format == "csv")
        print(f"exported {n} judged core(s) as {args.format} to {args.output}", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    with fails_with(CurationError, OSError):
        counts = import_knowledge(cli_engine(), Path(args.file).read_bytes())
    print(f"{counts['cores']} core(s): {counts['judgments']} judgment(s) replayed, {counts['claims_decided']} claim(s) "
          f"decided here, {counts['not_here']} judgment(s) whose claim does not occur here in scope")
    return 0


def cmd_identify(args: argparse.Namespace) -> int:
    engine = cli_engine()
    print(f"{identify_and_reuse(engine)} claim(s) given their core identity")
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    with fails_with(CurationError):
        r = rebuild_reuse(cli_engine())
    print(f"{r['cores']} judged core(s); {r['decided']} claim(s) decided by reuse")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `vcr knowledge export|import|identify|rebuild`."""
    _p, kn = add_group(sub, "knowledge", "what the team knows: judged claim cores, exported and imported", dest="knowledge_cmd",
                       examples=("vcr knowledge export --format csv -o knowledge.csv",
                                 "vcr knowledge export -o team.jsonl && DATABASE_URL=sqlite:///other.db vcr knowledge import team.jsonl"))
    p = add_command(kn, "export", "every judged core with its verdict, curators, evidence and traces decided", func=cmd_export,
                    examples=("vcr knowledge export -o team.jsonl", "vcr knowledge export --format csv"))
    p.add_argument("--format", choices=FORMATS, default="jsonl", help="jsonl (default; importable) or csv")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p = add_command(kn, "import", "replay a team's knowledge (JSONL) on this database's claims", func=cmd_import,
                    examples=("vcr knowledge import team.jsonl",))
    p.add_argument("file", help="a JSONL file written by `vcr knowledge export`")
    add_command(kn, "identify", "give claims stored before migration 0006 their core identity", func=cmd_identify)
    add_command(kn, "rebuild", "recompute which claims judgments decide by reuse (e.g. after changing CONSENSUS)",
                func=cmd_rebuild)
