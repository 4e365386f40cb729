"""``vcr generate``, ``vcr worker``, ``vcr runs`` and ``vcr local-model``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..agents.pipeline import MODES as GENERATION_MODES
from ..kernel.statuses import JobStatus
from ..preprocess import MODES as PREPROCESS_MODES
from ..tools.base import DEFAULT_KG_NUM_NEIGHBOR
from .util import USAGE, add_command, fails_with
from .util import engine as _engine

GENERATE_EPILOG = """\
examples:
  vcr generate --pert_path data/tahoe_sample.json --model_type anthropic --tool_list '["kg-ner"]'
  vcr generate --batch 1                   no key: assembled from knowledge bases (no model), seconds a record
  vcr generate --batch 1 --mode explain-only --model_type local --max_items 5
  vcr generate --batch 1 --model openai/my-model --api_base http://127.0.0.1:8000/v1 --concurrency 16
  vcr generate --run 7                      resume run 7 (done records are kept and skipped)
  vcr generate --batch 1 --background       only queue the run; a `vcr worker` (or the app) runs it

Records come from --batch (stored with `vcr ingest`), from --pert_path (ingested first; the same file
is stored once), or from --run (resume). Besides the database, the original pipeline's JSON files are
written to <output_dir>/report/<folder_name>/ and <output_dir>/structure_explain/<folder_name>/.
Keys (ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY) are read from the environment or .env.
Without a key the default is --model_type knowledge: the action graph is assembled from the record,
the knowledge graph, Gene Ontology and ChEBI by rules (every claim with its source, inferences
labelled), not reasoned by a model. --model_type local uses the embedded SmolLM2-135M model (the
optional extra 'local'): a tiny model that exercises the LLM path, not a source of real answers."""


def _tool_list(value: str) -> list[str]:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = [t.strip() for t in value.split(",") if t.strip()]
    if not isinstance(parsed, list) or not all(isinstance(t, str) for t in parsed):
        raise argparse.ArgumentTypeError('--tool_list takes a JSON list of tool names, e.g. \'["kg-ner", "wikipedia"]\'')
    return parsed


def register(subparsers: Any) -> None:
    """Add generate, worker, runs and local-model."""
    _register_generate(subparsers)
    w = add_command(subparsers, "worker", "run queued jobs (generation, verification, preprocessing)", func=cmd_worker,
                    description="Run the job queue in the foreground. Several workers may run at once; each job is "
                                "taken by one of them.",
                    examples=("vcr worker", "vcr worker --concurrency 16 --exit-when-idle"))
    w.add_argument("--concurrency", type=int, default=None, help="records in flight per run (default: the run's own)")
    w.add_argument("--exit-when-idle", action="store_true", help="stop when the queue is empty")
    w.add_argument("--stale-after", type=float, default=60.0, help="seconds without a heartbeat before a job is taken over")
    w.add_argument("--poll", type=float, default=1.0, help="seconds between looks at an empty queue")
    w.add_argument("--executor", choices=["threads", "ray"], default="threads",
                   help="run each generate job's records here (threads) or as Ray tasks at RAY_ADDRESS")
    w.add_argument("--kinds", default="generate,verify,preprocess",
                   help="comma-separated job kinds this worker takes (e.g. 'generate' on GPU-less hosts)")

    r = add_command(subparsers, "runs", "list generation runs with their progress, cancel or resume one", func=cmd_runs,
                    examples=("vcr runs", "vcr runs --run 3 --json", "vcr runs --cancel 3", "vcr runs --resume 3"))
    r.add_argument("--run", type=int, help="show one run in detail")
    r.add_argument("--cancel", type=int, metavar="ID", help="cancel a run (finished traces are kept)")
    r.add_argument("--resume", type=int, metavar="ID", help="queue a run again (done records are skipped)")
    r.add_argument("--json", action="store_true", help="print JSON")
    r.add_argument("--limit", type=int, default=30)

    lm = add_command(subparsers, "local-model", "the embedded local model (SmolLM2-135M, a tiny demo model)",
                     func=cmd_local_model,
                     examples=("vcr local-model status", "vcr local-model serve          # foreground, Ctrl-C stops it",
                               "vcr local-model install        # the optional runtime (compiles for several minutes)"))
    lm.add_argument("action", choices=["serve", "status", "install"])


def _register_generate(subparsers: Any) -> None:
    g = add_command(subparsers, "generate", "generate reports and structured explanations for records", func=cmd_generate,
                    epilog=GENERATE_EPILOG, description="Generate a report (mode report-explain) and a structured "
                                                        "explanation for every record of a batch, as a resumable run.")
    src = g.add_argument_group("records")
    src.add_argument("--batch", type=int, help="stored batch id (see `vcr db` / the app)")
    src.add_argument("--pert_path", help="a JSON file of perturbation records (ingested first)")
    src.add_argument("--run", type=int, help="resume this run instead of starting a new one")
    src.add_argument("--max_items", type=int, default=0, help="only the first N records (0: all)")
    m = g.add_argument_group("model")
    m.add_argument("--model_type", choices=["anthropic", "openai", "gemini", "local", "knowledge"], default=None,
                   help="provider (default: DEFAULT_MODEL, else the first provider with a key, else knowledge: "
                        "assembled from knowledge bases, no model)")
    m.add_argument("--model", help="any litellm model name, e.g. anthropic/claude-sonnet-4-6 or openai/my-model")
    m.add_argument("--api_base", help="base URL of an OpenAI-compatible server (vLLM, llama.cpp, Ollama)")
    m.add_argument("--output-format", dest="output_format", choices=["auto", "text", "json"], default="auto",
                   help="text form, JSON-schema-constrained output, or auto (JSON for the local model)")
    m.add_argument("--rpm", type=float, default=None, help="requests-per-minute cap for the provider")
    m.add_argument("--timeout", type=float, default=None, help="per-call time-out in seconds (default LLM_TIMEOUT_S)")
    o = g.add_argument_group("pipeline (original flags)")
    o.add_argument("--mode", choices=GENERATION_MODES, default=GENERATION_MODES[0])
    o.add_argument("--preprocess", nargs="?", const="ner-pubchem", choices=PREPROCESS_MODES, default=None,
                   help="first find the entities (and PubChem information) of records never preprocessed "
                        "(default mode ner-pubchem); without it such records reach the tools with their own fields")
    o.add_argument("--tool_list", type=_tool_list, default=[], help='JSON list of tools, e.g. \'["kg-ner", "pubmed-fast-ner"]\'')
    o.add_argument("--kg_with_rel", action="store_true", help="include relation names in the KG context")
    o.add_argument("--kg_num_neighbor", type=int, default=DEFAULT_KG_NUM_NEIGHBOR, help="KG neighbours per entity")
    o.add_argument("--pubmed_num_papers", type=int, default=30, help="papers the PubMed tool retrieves")
    o.add_argument("--order", action="store_true", help="accepted for compatibility (explanations are always ordered)")
    o.add_argument("--experiment_name", default="test")
    o.add_argument("--folder_name", default="test")
    o.add_argument("--output_dir", default="output", help="root of the original JSON files")
    o.add_argument("--no-files", action="store_true", help="do not write the original JSON files")
    o.add_argument("--no-verify", action="store_true",
                   help="leave the verification job queued instead of running it here after generation")
    o.add_argument("--wandb_mode", choices=["disabled", "online", "offline"], default="disabled")
    o.add_argument("--wandb_id", default="", help="resume this W&B run id")
    x = g.add_argument_group("execution")
    x.add_argument("--concurrency", type=int, default=4, help="records in flight at once (with --executor ray: "
                   "Ray tasks in flight)")
    x.add_argument("--executor", choices=["threads", "ray"], default="threads",
                   help="threads in this process, or Ray tasks on the cluster at RAY_ADDRESS (a local one when "
                        "unset; pip install -e '.[ray]')")
    x.add_argument("--max-concurrent-calls", dest="max_concurrent_calls", type=int, default=None,
                   help="cap on model calls in flight per provider across every worker and Ray task")
    x.add_argument("--background", action="store_true", help="only queue the run; `vcr worker` or the app runs it")
    x.add_argument("--curator", default=None, help="your name, stored with the run")
    g.set_defaults(func=cmd_generate)


def _batch_for(engine, args: argparse.Namespace) -> int | None:
    if args.pert_path:
        from ..files.ingest import ingest_file

        path = Path(args.pert_path)
        if not path.is_file():
            raise SystemExit(f"error: {path} does not exist or is not a file")
        res = ingest_file(engine, path, created_by=args.curator)
        if res.problems:
            lines = "\n".join(f"  - {p}" for p in res.problems[:20])
            raise SystemExit(f"error: {path.name} has {len(res.problems)} problem(s); nothing was run:\n{lines}")
        print(f"records: batch {res.batch_id} ({'already stored' if res.duplicate else f'{res.added} new'})")
        return res.batch_id
    return args.batch


def _create_or_resume(engine, args: argparse.Namespace) -> int:
    from ..generation import create_run, resume_run
    from ..llm import missing_key_message, resolve_model

    if args.run:
        resume_run(engine, args.run)
        return args.run
    batch_id = _batch_for(engine, args)
    if batch_id is None:
        raise SystemExit("error: give --batch ID, --pert_path FILE or --run ID")
    choice = resolve_model(args.model_type, args.model, args.api_base)
    problem = missing_key_message(choice)
    if problem:
        raise SystemExit(f"error: {problem}")
    options = {k: getattr(args, k) for k in ("kg_with_rel", "kg_num_neighbor", "pubmed_num_papers", "max_items",
                                              "order", "concurrency", "output_format", "rpm", "timeout", "api_base",
                                              "experiment_name", "folder_name", "preprocess")}
    options["pert_path"] = args.pert_path
    run_id = create_run(engine, batch_id=batch_id, record_ids=None, tools=args.tool_list, model_type=args.model_type,
                        model=args.model, mode=args.mode, options=options, created_by=args.curator)
    print(f"run {run_id}: {choice.label}, mode {args.mode}, tools {args.tool_list or 'none'}")
    _note_unpreprocessed(engine, run_id, args)
    if choice.is_local:
        from ..llm import LOCAL_MODEL_SHORT

        print(f"note: {LOCAL_MODEL_SHORT}")
    return run_id


def _note_unpreprocessed(engine, run_id: int, args: argparse.Namespace) -> None:
    """Say when records will reach the tools without entities, and how to change that."""
    if args.preprocess or not args.tool_list:
        return
    from ..preprocess import not_preprocessed
    from ..store import Run, session_scope
    with session_scope(engine) as session:
        record_ids = list(session.get(Run, run_id).record_ids or [])
    n = len(not_preprocessed(engine, record_ids))
    if n:
        print(f"note: {n} of {len(record_ids)} record(s) are not preprocessed; the tools will use their own fields "
              f"(name, targets, cell type, disease). Add --preprocess, or run `vcr preprocess --batch ID` first.")


def cmd_generate(args: argparse.Namespace) -> int:
    from ..generation.runs import run_progress

    engine = _engine()
    with fails_with(ValueError, code=USAGE):
        run_id = _create_or_resume(engine, args)
    if args.background:
        print(f"queued; `vcr worker` (or the app) will run it. Follow it with `vcr runs --run {run_id}`.")
        return 0
    wb = _wandb_start(args, run_id)
    executor = getattr(args, "executor", "threads")
    try:
        status = _run_foreground(engine, run_id, args.concurrency, executor, getattr(args, "max_concurrent_calls", None))
    finally:
        if executor == "ray":
            from ..jobs.executor import shutdown_ray
            shutdown_ray()
    info = run_progress(engine, run_id)
    _print_summary(info)
    if not args.no_files:
        _write_files(engine, run_id, args)
    if status == JobStatus.DONE and not args.no_verify:
        _verify_foreground(engine, run_id)
    if wb is not None:
        wb.log({k: info[k] for k in ("n_done", "n_ok", "n_invalid", "n_failed", "prompt_tokens",
                                     "completion_tokens", "cost_usd")})
        wb.finish()
    if status == JobStatus.DONE and info.get("n_failed"):
        # a finished run with failed records is not a success: scripts must see it
        print(f"error: {info['n_failed']} of {info.get('n_total') or info['n_done']} record(s) failed (no explanation); "
              f"see `vcr runs --run {run_id}` for each reason, and resume with `vcr generate --run {run_id}`",
              file=sys.stderr)
        return 1
    return 0 if status == JobStatus.DONE else (130 if status == JobStatus.QUEUED else 1)


def _run_foreground(engine, run_id: int, concurrency: int | None, executor: str = "threads",
                    max_concurrent_calls: int | None = None) -> str:
    """Run this run's generate job here, with a progress bar; Ctrl-C releases it for later."""
    from sqlmodel import select
    from tqdm import tqdm

    from ..jobs.worker import Worker
    from ..store import Job, session_scope

    with session_scope(engine) as session:
        job = session.exec(select(Job).where(Job.run_id == run_id, Job.kind == "generate",
                                             Job.status.in_(("queued", "running"))).order_by(Job.id.desc())).first()
    if job is None:
        return "done"
    bar = tqdm(total=0, unit="record", desc=f"run {run_id}", file=sys.stderr)

    def progress(_job, done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    worker = Worker(engine, concurrency=concurrency, on_progress=progress, kinds=("generate",), executor=executor,
                    max_concurrent_calls=max_concurrent_calls)
    try:
        claimed = worker.run_one(job.id)
    except KeyboardInterrupt:
        from ..generation.runs import set_run_status
        from ..jobs.queue import finish

        lease = worker.control.lease if worker.control is not None else None
        worker.stop()
        # Fenced: if another worker took the job over meanwhile, leave the job and the run to it.
        set_run_status(engine, run_id, "queued", only_from=("running",), lease=lease)
        finish(engine, job.id, worker.worker_id, "queued", message="interrupted; waiting for a worker", lease=lease)
        print(f"\ninterrupted: finished records are stored; resume with `vcr generate --run {run_id}`",
              file=sys.stderr)
        return "queued"
    finally:
        bar.close()
    if not claimed:
        print(f"run {run_id} is being processed by another worker; follow it with `vcr runs --run {run_id}`")
        return "running"
    with session_scope(engine) as session:
        return session.get(Job, job.id).status


def _verify_foreground(engine, run_id: int) -> None:
    """Run the verification job queued for this run here, and print its summary line."""
    from sqlmodel import select

    from ..jobs.worker import Worker
    from ..store import Job, session_scope

    with session_scope(engine) as session:
        job = session.exec(select(Job).where(Job.run_id == run_id, Job.kind == "verify",
                                             Job.status == JobStatus.QUEUED).order_by(Job.id.desc())).first()
    if job is None:
        return
    print(f"verifying run {run_id} (skip with --no-verify; or later: vcr verify --run {run_id})", file=sys.stderr)
    Worker(engine, kinds=("verify",)).run_one(job.id)
    with session_scope(engine) as session:
        done = session.get(Job, job.id)
        print(f"verification {done.status}: {done.error or done.message or ''}")


def _print_summary(info: dict) -> None:
    print(f"run {info['id']} {info['status']}: {info['n_ok']} valid, {info['n_invalid']} failed validation "
          f"(stored with findings), {info['n_failed']} without output, of {info['n_total']}; "
          f"tokens {info['prompt_tokens']} in / {info['completion_tokens']} out, cost ${info['cost_usd']:.4f}")
    if info.get("error"):
        print(f"  {info['error']}")


def _write_files(engine, run_id: int, args: argparse.Namespace) -> None:
    from ..generation.outputs import index_tag, output_paths, write_run_files

    tag = index_tag(args.pert_path)
    rep, exp = output_paths(Path(args.output_dir), folder_name=args.folder_name, experiment_name=args.experiment_name,
                            tool_list=args.tool_list, kg_num_neighbor=args.kg_num_neighbor, tag=tag)
    n_rep, n_exp, rep, exp = write_run_files(engine, run_id, rep, exp, tag)  # never over another run's files
    if n_rep:
        print(f"wrote {n_rep} report(s) to {rep}")
    print(f"wrote {n_exp} structured explanation(s) to {exp}")


def _wandb_start(args: argparse.Namespace, run_id: int):
    """A W&B run when --wandb_mode asks for one and the optional package is installed."""
    if args.wandb_mode == "disabled":
        return None
    try:
        import wandb
    except ImportError:
        print("note: --wandb_mode needs the optional package: pip install 'vcr-curation[wandb]'; not logging",
              file=sys.stderr)
        return None
    kwargs = {"project": "vcr-curation", "mode": args.wandb_mode,
              "name": f"{args.experiment_name}_{args.tool_list}_{args.kg_num_neighbor}"}
    if args.wandb_id:
        kwargs.update(id=args.wandb_id, resume="allow")
    wb = wandb.init(**kwargs)
    wb.config.update({k: v for k, v in vars(args).items() if k != "func"} | {"run_id": run_id}, allow_val_change=True)
    return wb


def cmd_worker(args: argparse.Namespace) -> int:
    from ..generation.generate import warm_knowledge
    from ..jobs.worker import run_worker

    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    if not kinds or "generate" in kinds:
        warm_knowledge()  # in the background: the first assembled explanation (the Home demo) does not wait for it
    n = run_worker(_engine(), concurrency=args.concurrency, exit_when_idle=args.exit_when_idle,
                   stale_after_s=args.stale_after, poll_s=args.poll, executor=args.executor,
                   kinds=kinds)
    print(f"worker stopped after {n} job(s)")
    return 0


def _fmt_run(p: dict) -> str:
    bar_len = 20
    filled = int(round(p["fraction"] * bar_len))
    bar = "#" * filled + "-" * (bar_len - filled)
    note = " [tiny local demo model]" if p["is_local"] else ""
    stale = " (worker lost; will be picked up again)" if p["job"] and p["job"]["stale"] else ""
    return (f"{p['id']:>4}  {p['status']:<9} [{bar}] {p['n_done']}/{p['n_total']}  ok {p['n_ok']}  invalid "
            f"{p['n_invalid']}  failed {p['n_failed']}  ${p['cost_usd']:.4f}  {p['model']}{note}  {p['name']}{stale}")


def cmd_runs(args: argparse.Namespace) -> int:
    from ..generation import cancel_run, list_runs, resume_run, run_progress

    engine = _engine()
    with fails_with(ValueError, code=USAGE):
        if args.cancel:
            status = run_progress(engine, args.cancel)["status"]  # raises for a run that does not exist
            ok = cancel_run(engine, args.cancel)
            print(f"run {args.cancel} cancelled; finished traces are kept" if ok else f"run {args.cancel} is {status}: nothing to cancel")
            return 0
        if args.resume:
            job = resume_run(engine, args.resume)
            print(f"run {args.resume} queued again (job {job}); a `vcr worker` or the app will continue it")
            return 0
        runs = [run_progress(engine, args.run)] if args.run else list_runs(engine, args.limit)
    if args.json:
        print(json.dumps(runs if not args.run else runs[0], indent=2, default=str))
    elif not runs:
        print("no runs yet: start one with `vcr generate --batch ID` (see `vcr generate --help`)")
    else:
        for p in runs:
            print(_fmt_run(p))
            if args.run and p.get("error"):
                print(f"      error: {p['error']}")
    return 0


def cmd_local_model(args: argparse.Namespace) -> int:
    import subprocess

    from ..llm import LOCAL_MODEL_DESCRIPTION, LocalModelError, local_status
    from ..llm.local import server_command

    st = local_status()
    if args.action == "install":
        from ..llm.local import install_command
        if st.installed:
            print(f"already installed: {st.message}")
            return 0
        cmd = install_command()
        print("installing the local model runtime (llama-cpp-python compiles for several minutes):\n  " + " ".join(cmd))
        return subprocess.call(cmd)
    if args.action == "status":
        print(st.message)
        print(f"model file: {st.model_path or 'not installed'}")
        print(f"endpoint:   {st.api_base}")
        print(f"\n{LOCAL_MODEL_DESCRIPTION}")
        return 0
    if st.running:
        print(f"already running at {st.api_base}")
        return 0
    with fails_with(LocalModelError):
        cmd = server_command()
    print(f"serving {st.model_path} at {st.api_base} (Ctrl-C stops it)\n{LOCAL_MODEL_DESCRIPTION}")
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 0
