"""Foundation sub-commands: schema, ingest, import-traces, validate, db info."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..formalism import explanation_json_schema
from .util import USAGE, CommandError, add_command, add_group, fails_with
from .util import engine as _engine


def _existing_file(name: str) -> Path:
    path = Path(name)
    if not path.is_file():
        raise CommandError(f"{path} does not exist or is not a file", USAGE)
    return path


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(explanation_json_schema(), indent=2, ensure_ascii=False))
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from ..files.ingest import ingest_file

    path = _existing_file(args.file)
    result = ingest_file(_engine(), path, name=args.name, created_by=args.curator)
    if result.problems:
        print(f"error: {path.name} was not stored; fix these {len(result.problems)} problem(s) and ingest it again:", file=sys.stderr)
        for p in result.problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    if result.duplicate:
        print(f"{path.name} is already stored as batch {result.batch_id}; nothing added.")
    else:
        print(f"stored {result.added} record(s) from {path.name} as batch {result.batch_id}.")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ..files.hf import is_hf_export
    from ..files.importers import import_traces

    paths = [Path(p) for p in args.paths]
    status = 0
    for path in paths:
        if not (path.is_file() or (path.is_dir() and is_hf_export(path))):  # a dataset of `vcr export --format hf`
            print(f"error: {path} does not exist or is not a file (nor a dataset directory of `vcr export --format hf`)",
                  file=sys.stderr)
            status = 2
            continue
        try:
            counts = import_traces(_engine(), path, created_by=args.curator, name=args.name)
        except ValueError as exc:
            print(f"error: {path.name}: {exc}", file=sys.stderr)
            status = 1
            continue
        if counts.get("archive"):
            added = counts["added"]
            print(f"{path.name}: archive of {counts['rows']} trace(s): added " +
                  ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in added.items()) +
                  (" (all were already here)" if counts["duplicate"] else ""))
            continue
        if counts["duplicate"]:
            print(f"{path.name} was imported before (batch {counts['batch_id']}); nothing added.")
        else:
            print(f"{path.name}: {counts['rows']} row(s) -> batch {counts['batch_id']}, run {counts['run_id']}: "
                  f"{counts['ok']} valid, {counts['invalid']} with errors (stored with their findings), "
                  f"{counts['report_only']} report only.")
    return status


def cmd_validate(args: argparse.Namespace) -> int:
    from ..files.importers import validate_file

    path = _existing_file(args.path)
    with fails_with(ValueError, code=USAGE):
        results = validate_file(path)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return 0
    for res in results:
        errors = sum(f["severity"] == "error" for f in res["findings"])
        warnings = len(res["findings"]) - errors
        print(f"explanation {res['index']}: {len(res['claims'])} claim(s), {res['edges']} edge(s), "
              f"{errors} error(s), {warnings} warning(s)")
        for f in res["findings"]:
            line = f"line {f['line']}" if f["line"] else "-"
            print(f"  {f['severity']:<8} {line:<9} {f['code']:<22} {f['message']}")
    return 0


def cmd_db_info(args: argparse.Namespace) -> int:
    from sqlalchemy import func
    from sqlmodel import Session, select

    from ..kernel.settings import get_settings
    from ..store import redact_url, schema_revision
    from ..store.models import TABLE_NAMES

    engine = _engine()
    with Session(engine) as session:
        counts = {name: session.exec(select(func.count()).select_from(model)).one() for name, model in TABLE_NAMES.items()}
    info = {**counts, "counts": counts, "database_url": redact_url(get_settings().resolved_database_url),
            "schema_revision": schema_revision(engine)}
    if args.json:
        print(json.dumps(info))
        return 0
    print(f"database: {info['database_url']}")
    print(f"schema revision: {info['schema_revision']}")
    for name, n in counts.items():
        print(f"  {name:<10} {n:>8}")
    return 0


def cmd_db_copy(args: argparse.Namespace) -> int:
    from ..store import get_engine, redact_url
    from ..store.copy import CopyError, copy_database

    source = get_engine(args.source) if args.source else _engine()
    replaced: list[str] = []
    with fails_with(CopyError):
        counts = copy_database(source, args.to, progress=lambda t, n: print(f"  {t:<14} {n:>8} row(s)"),
                               replaced=replaced)
    if replaced:
        print(f"{len(replaced)} row(s) held a NUL character or lone surrogate, which not every database can store; "
              f"replaced by U+FFFD in the copy: {'; '.join(replaced[:5])}{' ...' if len(replaced) > 5 else ''}")
    print(f"copied {sum(counts.values())} row(s) in {len(counts)} table(s) into {redact_url(args.to)}; "
          f"point DATABASE_URL there to use it")
    return 0


def cmd_db_batches(args: argparse.Namespace) -> int:
    from ..files.ingest import batch_summaries

    rows = batch_summaries(_engine())
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print("no batches yet: store records with `vcr ingest FILE.json` (or the app's Upload page)")
        return 0
    print(f"{'id':>4}  {'records':>7}  {'preprocessed':>12}  {'failed':>6}  {'kind':<6}  {'created (UTC)':<16}  name")
    for r in rows:
        print(f"{r['id']:>4}  {r['records']:>7}  {r['preprocessed']:>12}  {r['preprocess_failed']:>6}  {r['kind']:<6}  "
              f"{r['created_at']:<16}  {r['name']}")
    return 0


def cmd_db_backup(args: argparse.Namespace) -> int:
    from ..store.backup import BackupError, backup_database

    with fails_with(BackupError):
        res = backup_database(_engine(), args.path, overwrite=args.force)
    print(f"backed up to {res.path} ({res.bytes / 1024 / 1024:.1f} MB, schema {res.revision}, "
          f"{res.traces} trace(s), {res.curations} curation(s)); restore it with `vcr db restore {res.path}`.")
    return 0


def cmd_db_restore(args: argparse.Namespace) -> int:
    from ..store import redact_url
    from ..store.backup import BackupError, inspect_file, restore_database, sqlite_path

    engine = _engine()
    if sqlite_path(engine) is None:
        from ..store.backup import PG_GUIDANCE

        raise CommandError(PG_GUIDANCE)
    with fails_with(BackupError):
        revision, n_cur, n_tr = inspect_file(Path(args.path))
    target = redact_url(str(engine.url))
    if not args.yes:
        if not sys.stdin.isatty():
            raise CommandError(f"restoring replaces {target}; pass --yes to confirm when not at a terminal "
                               "(nothing was changed)", USAGE)
        answer = input(f"Replace {target} with {args.path} ({n_tr} trace(s), {n_cur} curation(s), schema {revision})? "
                       "The current database is kept as a side copy. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("restore cancelled; nothing was changed.")
            return 1
    from ..curation import bring_back_judgments, rebuild_state
    from ..store.engine import DatabaseRestoring

    with fails_with(BackupError):
        res = restore_database(engine, args.path)
    rebuild_state(engine)  # the kept state follows the restored log, ordered by this version's rule
    print(f"restored {args.path} into {target} ({res.traces} trace(s), {res.curations} curation(s)); "
          f"the replaced database is kept as {res.side_copy}.")
    if res.missing:
        held = ", ".join(f"{n} {kind}" for kind, n in res.missing.items())
        print(f"the restored copy does not hold what was added since the backup: {held} (all kept in {res.side_copy}).")
        if res.recoverable and args.bring_back:
            with fails_with(BackupError, DatabaseRestoring):
                got = bring_back_judgments(engine, str(res.side_copy))
            print(f"brought back {got['brought_back']} judgment(s) with their own times{_reuse_redone(got)}; {got['left']} on "
                  "traces the backup does not hold stay in the side copy.")
        elif res.recoverable:
            print(f"{res.recoverable} of those judgments are on traces and claims the restored copy holds: bring them "
                  f"back with their own times with `vcr db bring-back {res.side_copy}`.")
    else:
        print("the restored copy holds everything the replaced database held.")
    return 0


def cmd_db_bring_back(args: argparse.Namespace) -> int:
    from ..curation import bring_back_judgments
    from ..store.backup import BackupError
    from ..store.engine import DatabaseRestoring

    with fails_with(BackupError, DatabaseRestoring):
        got = bring_back_judgments(_engine(), args.path)
    print(f"brought back {got['brought_back']} judgment(s) with their own times from {args.path}{_reuse_redone(got)}"
          + (f"; {got['left']} on traces or claims this database does not hold stay there." if got["left"] else "."))
    return 0


def _reuse_redone(got: dict) -> str:
    """How many cores' reuse a bring-back brought up to date, as a clause ("" for none)."""
    return f" (their decisions on {got['cores']} claim core(s) applied again wherever they hold)" if got.get("cores") else ""


def cmd_db_rebuild_state(args: argparse.Namespace) -> int:
    from ..curation import rebuild_state

    counts = rebuild_state(_engine(), args.consensus)
    if args.json:
        print(json.dumps(counts))
    else:
        print(f"state rebuilt from the judgment log: {counts['traces']} trace(s), {counts['claims']} claim(s) judged")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..system.status import status_report

    parts = status_report()
    if args.json:
        print(json.dumps([asdict(p) for p in parts]))
        return 0
    for p in parts:
        print(f"{'ok' if p.ok else '--':<3} {p.name}: {p.detail}")
        if p.todo and not p.ok:
            print(f"    what to do: {p.todo}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the foundation sub-commands."""
    add_command(sub, "schema", "print the JSON Schema of a structured explanation", func=cmd_schema,
                description="Print the JSON Schema of the canonical explanation form.",
                examples=("vcr schema > explanation.schema.json",))

    p = add_command(sub, "ingest", "validate and store a JSON file of perturbation records", func=cmd_ingest,
                    description="Validate a whole file of perturbation records and store it as a batch. If any record "
                                "has a problem, nothing is stored and every problem is listed with its record index "
                                "and field path. A file already stored (same bytes) adds nothing.",
                    examples=("vcr ingest data/demo_records.json", "vcr ingest tahoe.json --name 'Tahoe plate 3' --curator ana"))
    p.add_argument("file", help="JSON file: a list of records, or one record object")
    p.add_argument("--name", help="batch name (default: the file name)")
    p.add_argument("--curator", help="who uploads it")

    p = add_command(sub, "import-traces", "import outputs of the original pipeline for curation", func=cmd_import,
                    description="Load work done with the original pipeline: its structured-explanation output JSON, its "
                                "report JSON, or its CSV results. Every row becomes a record plus a trace; rows that "
                                "do not parse are stored with their findings, never dropped. Also the project's own "
                                "exports: a JSONL archive, or the traces config of a `vcr export --format hf` dataset "
                                "directory (or one of its Parquet shards), rebuilt with verdicts and curations.",
                    examples=("vcr import-traces results/structure-explain-results.csv",
                              "vcr import-traces report_results.json --name 'claude run'",
                              "vcr import-traces dataset/"))
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="files to import (.json, .jsonl, .csv, .parquet) or dataset directories of `vcr export --format hf`")
    p.add_argument("--name", help="batch and run name (default: the file name)")
    p.add_argument("--curator", help="who imports it")

    p = add_command(sub, "validate", "check every explanation in a file", func=cmd_validate,
                    description="Check every explanation in a file (the text form, or any import format) against the "
                                "formalism. Exits 0 whether or not findings exist.",
                    examples=("vcr validate explanation.txt", "vcr validate results.csv --json | jq '.[].findings'"))
    p.add_argument("path", help="a .txt file in the text form, or .json/.jsonl/.csv in an import format")
    p.add_argument("--json", action="store_true", help="print one JSON list, one object per explanation")

    p = add_command(sub, "status", "what is configured and working, and what to do about each missing part",
                    func=cmd_status, description="The Status page of the app, in the terminal: database, tools, "
                    "NER backend, model providers (never a key), embedded model, network.",
                    examples=("vcr status --json",))
    p.add_argument("--json", action="store_true", help="print one JSON list")

    _, dsub = add_group(sub, "db", "database information", dest="db_command",
                        description="Inspect, back up, restore and copy the database (DATABASE_URL).",
                        examples=("vcr db info --json", "vcr db batches", "vcr db backup backups/vcr-today.db",
                                  "vcr db restore backups/vcr-today.db --yes"))
    for name, help_, func in (("info", "row counts per table, URL without credentials, schema revision", cmd_db_info),
                              ("batches", "every batch: id, name, records, how many are preprocessed", cmd_db_batches)):
        add_command(dsub, name, help_, func=func).add_argument("--json", action="store_true", help="print JSON")
    pc = add_command(dsub, "copy", "copy this database (every table and curation) into an empty one, e.g. PostgreSQL",
                     func=cmd_db_copy, examples=("vcr db copy --to postgresql+psycopg://vcr@db.example.org/vcr",),
                     description="Copy every table of DATABASE_URL (or --from) into the empty database at --to, "
                                 "migrated first; ids are kept and PostgreSQL sequences moved past them.")
    pc.add_argument("--to", required=True, metavar="URL", help="the target database URL (must be empty)")
    pc.add_argument("--from", dest="source", metavar="URL", help="the source database URL (default: DATABASE_URL)")
    pk = add_command(dsub, "backup", "copy the database to PATH, safely while the app and workers write",
                     func=cmd_db_backup, description="A consistent copy of the SQLite database (online backup API), "
                                                     "checked before it is kept. For PostgreSQL it prints pg_dump guidance.")
    pk.add_argument("path", help="the backup file to write (a directory gets a time-stamped file name)")
    pk.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    pr = add_command(dsub, "restore", "replace the database with a backup (asks first; keeps a side copy)",
                     func=cmd_db_restore, description="Check that PATH is a VCR database, then, with the database out "
                                                      "of service (writers wait or are told a restore is under way), "
                                                      "keep it as <db>.before-restore-<time> and replace it with PATH "
                                                      "in one transaction; ids are never handed out again. Says what "
                                                      "the backup does not hold (--bring-back copies those judgments "
                                                      "back). Asks for confirmation; scripts pass --yes.")
    pr.add_argument("path", help="a file written by `vcr db backup`")
    pr.add_argument("--yes", action="store_true", help="do not ask (needed when stdin is not a terminal)")
    pr.add_argument("--bring-back", action="store_true",
                    help="copy back the judgments made since the backup (on traces the backup holds), with their times")
    pg = add_command(dsub, "bring-back", "copy back judgments a restore left in its side copy, with their own times",
                     func=cmd_db_bring_back, examples=("vcr db bring-back data/vcr.db.before-restore-20260101-120000",),
                     description="Add the judgments of SIDE_COPY (a <db>.before-restore-<time> file) that this "
                                 "database does not hold, on traces and claims it holds, with their own ids and "
                                 "times; the state is recomputed (judgments ordered by time). Running it twice adds nothing.")
    pg.add_argument("path", metavar="SIDE_COPY", help="the side copy a restore kept")
    pb = add_command(dsub, "rebuild-state", "recompute the kept claim and trace curation state from the judgment log",
                     func=cmd_db_rebuild_state)
    pb.add_argument("--consensus", choices=("one", "two_agree"), help="consensus rule (default: the CONSENSUS setting)")
    pb.add_argument("--json", action="store_true", help="print JSON")
