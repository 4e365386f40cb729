"""`vcr preprocess`, with the original script's flags."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..preprocess import MODES
from .util import USAGE, CommandError, add_command, require_selection
from .util import engine as cli_engine


def _run_files(args) -> int:
    from tqdm import tqdm

    from ..files.ingest import decode_json
    from ..preprocess import get_ner_backend, preprocess_record
    from ..records.model import parse_record, to_preprocessed_dict

    data, problems = decode_json(Path(args.input_path).read_bytes())
    if problems:
        raise CommandError(f"{args.input_path}: {problems[0].message}")
    items = data if isinstance(data, list) else [data]
    out_path = Path(args.preprocessed_path)
    done: dict[str, dict] = {}
    if out_path.exists():  # resume: records already written are kept and skipped
        for obj in json.loads(out_path.read_text()):
            done[str(obj.get("index"))] = obj
    backend = get_ner_backend(args.ner_backend) if "ner" in args.mode else None
    results, failed = [], 0
    for pos, item in enumerate(tqdm(items, desc="preprocessing", unit="record")):
        idx = str(item.get("index", pos)) if isinstance(item, dict) else str(pos)
        if idx in done:
            results.append(done[idx])
            continue
        rec, probs = parse_record(item, pos)
        if rec is None or probs:
            print(f"record {idx}: skipped ({'; '.join(p.message for p in probs)})", file=sys.stderr)
            failed += 1
            continue
        try:
            results.append(to_preprocessed_dict(preprocess_record(rec, args.mode, backend)))
        except Exception as exc:  # noqa: BLE001 - report and go on
            print(f"record {idx}: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed += 1
        if len(results) % 50 == 0:  # periodic checkpoint
            out_path.write_text(json.dumps(results))
    out_path.write_text(json.dumps(results))
    print(f"preprocessed {len(results)} record(s) into {out_path}" + (f"; {failed} failed (see above)" if failed else ""))
    return 0


def cmd_preprocess(args: argparse.Namespace) -> int:
    if args.batch is not None:
        from tqdm import tqdm

        from ..preprocess import preprocess_batch
        engine = cli_engine()
        require_selection(engine, batch_id=args.batch)
        bar = tqdm(desc="preprocessing", unit="record")

        def progress(done, total):
            bar.total = total
            bar.update(done - bar.n)

        counts = preprocess_batch(engine, args.batch, args.mode, progress, args.ner_backend, redo=args.redo)
        bar.close()
        if counts["total"] == 0:
            print(f"batch {args.batch}: every record is already preprocessed (--redo does them again)")
            return 0
        print(f"batch {args.batch}: {counts['done']} preprocessed, {counts['failed']} failed, of {counts['total']}")
        return 1 if counts["failed"] and not counts["done"] else 0
    if not args.input_path or not args.preprocessed_path:
        raise CommandError("give --batch ID, or --input_path and --preprocessed_path", USAGE)
    return _run_files(args)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `vcr preprocess`."""
    p = add_command(sub, "preprocess", "find entities (NER + grounding) and PubChem information", func=cmd_preprocess,
                    description="Tag entities in each record's perturbation and context parts and look up PubChem "
                                "information for chemicals. Resumable: records already done are skipped.",
                    examples=("vcr preprocess --batch 1", "vcr preprocess --batch 1 --redo --ner-backend hunflair2",
                              "vcr preprocess --input_path records.json --preprocessed_path records.pre.json --mode ner"))
    p.add_argument("--input_path", help="JSON file of records (original shapes)")
    p.add_argument("--preprocessed_path", help="output JSON in the original preprocessed shape")
    p.add_argument("--mode", choices=MODES, default="ner-pubchem")
    p.add_argument("--ner-backend", dest="ner_backend", choices=("dictionary", "hunflair2"), default=None,
                   help="default: the NER_BACKEND setting (dictionary)")
    p.add_argument("--batch", type=int, help="preprocess a stored batch instead of files (`vcr db batches` lists them)")
    p.add_argument("--redo", action="store_true", help="with --batch: preprocess records already done again")
