"""`vcr verify` and `vcr expression attach`."""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict

from sqlalchemy import func
from sqlmodel import Session, select

from ..store import Verdict, get_engine
from ..verify.runner import all_verifier_names, select_trace_ids, verify_traces
from .util import USAGE, CommandError, add_command, add_group, fails_with, require_selection


def verdict_table(engine, trace_ids: list[int]) -> dict[str, dict[str, int]]:
    """Claims by verifier and verdict over ``trace_ids`` (trace-level structural verdicts included)."""
    table: dict[str, dict[str, int]] = defaultdict(dict)
    with Session(engine) as s:
        for start in range(0, len(trace_ids), 500):
            chunk = trace_ids[start:start + 500]
            rows = s.exec(select(Verdict.verifier, Verdict.verdict, func.count()).where(Verdict.trace_id.in_(chunk))
                          .group_by(Verdict.verifier, Verdict.verdict)).all()
            for verifier, verdict, n in rows:
                table[verifier][verdict] = table[verifier].get(verdict, 0) + n
    return dict(table)


def cmd_verify(args: argparse.Namespace) -> int:
    engine = get_engine()
    if not (args.run or args.trace or args.batch or args.all):
        raise CommandError("say what to verify: --run ID, --trace ID, --batch ID or --all", USAGE)
    require_selection(engine, run_id=args.run, batch_id=args.batch, trace_ids=args.trace)
    ids = select_trace_ids(engine, run_id=args.run, trace_ids=args.trace, batch_id=args.batch, all_traces=args.all)
    if not ids:
        print("nothing to verify: no traces match", file=sys.stderr)
        return 1
    names = [n.strip() for n in args.verifiers.split(",")] if args.verifiers else None
    choice = None
    if args.model_type or args.model or args.api_base:  # the falsification agent's model; else each run's own
        from ..llm import resolve_model
        with fails_with(ValueError, code=USAGE):
            choice = resolve_model(args.model_type, args.model, args.api_base)
    from tqdm import tqdm
    bar = tqdm(total=len(ids), desc="verifying", unit="trace", disable=args.json)

    def progress(done: int, total: int) -> None:
        bar.update(done - bar.n)

    with fails_with(ValueError, code=USAGE):
        if getattr(args, "executor", "threads") == "ray":
            from ..jobs.executor import RayUnavailable, shutdown_ray
            from ..verify.ray_tasks import verify_with_ray
            try:
                with fails_with(RayUnavailable, code=USAGE):
                    summary = verify_with_ray(engine, ids, names, progress=progress)
            finally:
                shutdown_ray()
        else:
            summary = verify_traces(engine, ids, names, progress=progress, model_choice=choice)
    bar.close()
    table = verdict_table(engine, ids)
    if args.json:
        print(json.dumps(summary | {"table": table}))
        return 0
    print(f"verified {summary['traces']} trace(s) with {', '.join(summary['verifiers'])}: "
          f"{summary['computed']} new verdict(s), {summary['cached']} reused from the cache")
    cols = ("supported", "contradicted", "unverifiable")
    print(f"{'verifier':<14}" + "".join(f"{c:>14}" for c in cols))
    for verifier in sorted(table):
        print(f"{verifier:<14}" + "".join(f"{table[verifier].get(c, 0):>14}" for c in cols))
    tv = summary["trace_verdicts"]
    print(f"filter policy: {tv.get('pass', 0)} trace(s) pass, {tv.get('fail', 0)} fail, "
          f"{tv.get('insufficient', 0)} insufficient evidence")
    return 0


def cmd_attach(args: argparse.Namespace) -> int:
    from ..verify.expression import ExpressionFileError, attach_expression
    with fails_with(ExpressionFileError):
        n = attach_expression(get_engine(), args.batch, args.file)
    print(f"attached {n} expression row(s) to batch {args.batch}; run `vcr verify --batch {args.batch}` to use them")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `vcr verify` and `vcr expression`."""
    p = add_command(sub, "verify", "check every claim with the verifiers and apply the filter policy", func=cmd_verify,
                    description="Run the verifiers over traces: each claim gets supported / contradicted / unverifiable with "
                                   "evidence. Verdicts are cached by claim hash and verifier version, so nothing is verified "
                                   f"twice. Verifiers: {', '.join(all_verifier_names())} (falsification needs a model: the one "
                                   "each trace's run used, or --model/--api_base; indra and chembl need the network).",
                    examples=("vcr verify --run 3", "vcr verify --batch 1 --verifiers kg,expression", "vcr verify --all --json"))
    g = p.add_mutually_exclusive_group()
    g.add_argument("--run", type=int, help="every trace of a run")
    g.add_argument("--trace", type=int, nargs="+", help="these traces")
    g.add_argument("--batch", type=int, help="every trace of a batch's records")
    g.add_argument("--all", action="store_true", help="every trace in the database")
    p.add_argument("--verifiers", help="comma-separated subset (default: all that can run)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--model_type", choices=("anthropic", "openai", "gemini", "local"),
                   help="the falsification agent's provider (default: the model each trace's run was generated with)")
    p.add_argument("--model", help="the falsification agent's litellm model name")
    p.add_argument("--api_base", help="base URL of an OpenAI-compatible server for the falsification agent")
    p.add_argument("--executor", choices=["threads", "ray"], default="threads",
                   help="verify here, or as Ray tasks on the cluster at RAY_ADDRESS (a local one when unset)")

    _, esub = add_group(sub, "expression", "attach differential-expression results to a batch", dest="expression_command",
                        description="Differential-expression results for the expression verifier.",
                        examples=("vcr expression attach --batch 1 de_results.csv",))
    pa = esub.add_parser("attach", help="load a CSV or Parquet table (perturbation, context, gene, log2FC, padj)")
    pa.add_argument("--batch", type=int, required=True, help="the batch the results belong to")
    pa.add_argument("file", help="CSV/TSV or Parquet file")
    pa.set_defaults(func=cmd_attach)
