"""Training sets: the selected traces as a Hugging Face dataset directory.

``write_hf_dataset`` writes ``DIR/README.md`` (a dataset card whose YAML header names the configs, their
splits and features, as ``datasets.load_dataset`` reads them) and Parquet shards under
``DIR/data/<config>/<split>-NNNNN.parquet``, streamed: traces are read ``BATCH`` at a time
(``iter_rows_docs``) and every shard is a ``pyarrow.parquet.ParquetWriter`` fed ``batch_rows`` rows at a
time, so memory is bounded by one batch whatever the export's size.

Configs:

* ``traces`` (the default config): one row per trace in the scope: record fields, context, perturbation,
  the four text sections, the claims (primitive, arguments, grounding, machine verdict, effective
  verdict, curation), the trace verdict and curation state, and ``archive``: the trace's archive section
  as JSON (the one ``vcr import-traces`` reads, so the config reads back into a database);
* ``sft``: chat messages (system and user as the explanation agent sends them, the assistant's text form
  from ``formalism.to_text``: ``<think>``, ``<answer>``, ``<explain>``, ``<dag>``) of the traces that pass
  the quality selection (curation state, filter verdict);
* ``preferences``: (chosen, rejected) pairs of one record's traces: curators approved one and rejected the
  other, or (when no curator said otherwise) the filter passed one and failed the other; with the reason.

Splits are drawn per group, never per row, so nothing leaks: ``perturbation`` (a drug or knockout lies in
one split only), ``cell_line``, or ``both`` (a held-out drug x cell-line block: a row goes to split S only
when its perturbation and its cell line both fall in S; the other rows are left out and counted). A group's
split is a seeded hash of its name, so the same seed gives the same splits, and adding traces never moves a
group from one split to another.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..agents.agents import explain_messages
from ..agents.prompts import prompt_version
from ..formalism import Explanation, to_text
from ..formalism.parser import find_sections
from ..kernel.statuses import PolicyOutcome, TraceJudgment
from ..store import Trace
from ..store.traces import record_model
from ..verify.policy import current_policy
from .exporters import BATCH, TraceRows, iter_rows_docs

CONFIGS = ("traces", "sft", "preferences")
SPLIT_RULES = ("perturbation", "cell_line", "both")
SPLITS = ("train", "validation", "test")
FRACTIONS = (0.8, 0.1, 0.1)
HF_FORMAT = "vcr-hf/1"

_CURATION = pa.struct([("curator", pa.string()), ("judgment", pa.string()), ("verdict", pa.string()),
                       ("tag", pa.string()), ("note", pa.string()), ("at", pa.string())])
_MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
_CLAIM = pa.struct([
    ("node_id", pa.string()), ("primitive", pa.string()), ("arguments", pa.string()), ("text", pa.string()),
    ("grounding", pa.string()), ("machine_verdict", pa.string()), ("machine_score", pa.float64()),
    ("effective_verdict", pa.string()), ("curation_state", pa.string()), ("curation", pa.list_(_CURATION))])

SCHEMAS: dict[str, pa.Schema] = {
    "traces": pa.schema([
        ("trace_id", pa.int64()), ("record_index", pa.string()), ("batch", pa.string()), ("run", pa.string()),
        ("model", pa.string()), ("prompt_version", pa.string()), ("created_at", pa.string()),
        ("perturbation", pa.string()), ("perturbation_type", pa.string()), ("cell_line", pa.string()),
        ("context", pa.string()), ("record", pa.string()),
        ("think", pa.string()), ("answer", pa.string()), ("explain", pa.string()), ("dag", pa.string()),
        ("claims", pa.list_(_CLAIM)), ("trace_status", pa.string()), ("trace_verdict", pa.string()),
        ("trace_policy", pa.string()), ("curation_status", pa.string()), ("curation", pa.list_(_CURATION)),
        ("archive", pa.string())]),
    "sft": pa.schema([
        ("trace_id", pa.int64()), ("record_index", pa.string()), ("perturbation", pa.string()),
        ("cell_line", pa.string()), ("model", pa.string()), ("messages", pa.list_(_MESSAGE))]),
    "preferences": pa.schema([
        ("record_index", pa.string()), ("perturbation", pa.string()), ("cell_line", pa.string()),
        ("prompt", pa.list_(_MESSAGE)), ("chosen", pa.list_(_MESSAGE)), ("rejected", pa.list_(_MESSAGE)),
        ("chosen_trace_id", pa.int64()), ("rejected_trace_id", pa.int64()), ("chosen_model", pa.string()),
        ("rejected_model", pa.string()), ("source", pa.string()), ("reason", pa.string())]),
}
"""One schema per config: every shard of a config has it, and the card's features are read from it."""


@dataclass
class HfOptions:
    """How the dataset is cut: the split rule and seed, the split fractions, rows per Parquet write and per shard."""

    split_by: str = "perturbation"
    seed: int = 0
    fractions: tuple[float, float, float] = FRACTIONS
    batch_rows: int = 1000
    shard_rows: int = 50_000

    def __post_init__(self) -> None:
        if self.split_by not in SPLIT_RULES:
            raise ValueError(f"unknown split rule {self.split_by!r}; use one of {', '.join(SPLIT_RULES)}")
        if len(self.fractions) != 3 or any(f < 0 for f in self.fractions) or abs(sum(self.fractions) - 1) > 1e-9:
            raise ValueError("split fractions are three non-negative numbers (train, validation, test) adding up to 1")


def group_split(kind: str, key: str, seed: int, fractions: tuple[float, float, float] = FRACTIONS) -> str:
    """The split of one group (a perturbation or a cell line): a seeded hash of its name, so every row of
    the group lands in the same split and the same seed always gives the same answer."""
    h = int(hashlib.sha256(f"{seed}\0{kind}\0{key}".encode()).hexdigest()[:15], 16) / 16 ** 15
    if h < fractions[0]:
        return "train"
    return "validation" if h < fractions[0] + fractions[1] else "test"


def row_split(perturbation: str, cell_line: str, options: HfOptions) -> str | None:
    """The split of a row under ``options.split_by``; None when the rule ``both`` leaves it out (its
    perturbation and its cell line fall in different splits)."""
    if options.split_by == "perturbation":
        return group_split("perturbation", perturbation, options.seed, options.fractions)
    if options.split_by == "cell_line":
        return group_split("cell_line", cell_line, options.seed, options.fractions)
    a = group_split("perturbation", perturbation, options.seed, options.fractions)
    b = group_split("cell_line", cell_line, options.seed, options.fractions)
    return a if a == b else None


class _ShardWriter:
    """One config's Parquet shards of one split, written ``batch_rows`` rows at a time."""

    def __init__(self, root: Path, config: str, split: str, options: HfOptions):
        self.dir, self.config, self.split, self.options = root / "data" / config, config, split, options
        self.schema = SCHEMAS[config]
        self.buffer: list[dict[str, Any]] = []
        self.writer: pq.ParquetWriter | None = None
        self.shard_rows = 0
        self.files: list[str] = []
        self.rows = 0

    def add(self, row: dict[str, Any]) -> None:
        self.buffer.append(row)
        self.rows += 1
        if len(self.buffer) >= self.options.batch_rows:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        if self.writer is None or self.shard_rows >= self.options.shard_rows:
            self._open()
        self.writer.write_table(pa.Table.from_pylist(self.buffer, schema=self.schema))
        self.shard_rows += len(self.buffer)
        self.buffer = []

    def _open(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.dir.mkdir(parents=True, exist_ok=True)
        name = f"{self.split}-{len(self.files):05d}.parquet"
        self.files.append(f"data/{self.config}/{name}")
        self.writer = pq.ParquetWriter(self.dir / name, self.schema, compression="zstd")
        self.shard_rows = 0

    def close(self) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.close()


@dataclass
class _Candidate:
    """What a preference pair needs of one trace of a record."""

    trace_id: int
    model: str | None
    curation_status: str
    verdict: str | None
    prompt: list[dict[str, str]]
    answer: str


def preference_pairs(cands: list[_Candidate]) -> Iterator[tuple[_Candidate, _Candidate, str, str]]:
    """(chosen, rejected, source, reason) for each pair of one record's traces that curators or the filter
    rank: approved over rejected; otherwise pass over fail, unless a curator ranked the pair the other way
    (a rejected trace is never chosen, an approved one never rejected)."""
    for a in cands:
        for b in cands:
            if a is b:
                continue
            if a.curation_status == TraceJudgment.APPROVE and b.curation_status == TraceJudgment.REJECT:
                yield a, b, "curation", (f"curators approved trace {a.trace_id} and rejected trace {b.trace_id}")
            elif (a.verdict == PolicyOutcome.PASS and b.verdict == PolicyOutcome.FAIL and a.curation_status != TraceJudgment.REJECT
                  and b.curation_status != TraceJudgment.APPROVE):
                yield a, b, "filter", (f"the filter policy passes trace {a.trace_id} and fails trace {b.trace_id}")


@dataclass
class _Stats:
    """What the dataset card counts, gathered while the rows stream past."""

    traces: int = 0
    claims: int = 0
    excluded: int = 0
    verdicts: Counter = field(default_factory=Counter)  # machine verdict rows by value
    effective: Counter = field(default_factory=Counter)  # effective claim verdicts
    trace_verdicts: Counter = field(default_factory=Counter)
    curation_status: Counter = field(default_factory=Counter)
    curations: Counter = field(default_factory=Counter)  # judgments by kind
    curators: set = field(default_factory=set)
    models: Counter = field(default_factory=Counter)
    prompt_versions: Counter = field(default_factory=Counter)
    verifiers: Counter = field(default_factory=Counter)  # (name, version) -> verdicts
    sources: set = field(default_factory=set)  # (verifier, version, source) from 'sources_consulted' evidence
    pair_sources: Counter = field(default_factory=Counter)
    groups: dict = field(default_factory=dict)  # split -> {"perturbation": set, "cell_line": set}


def _sections(expl: Explanation | None, text: str | None) -> tuple[str | None, dict[str, str]]:
    """The trace's text form (written from its explanation by the one writer of that format) and its four sections."""
    source = to_text(expl) if expl is not None else text
    return source, {k: v.content.strip() for k, v in find_sections(source or "").items()}


def _messages(rows: TraceRows, rec) -> list[dict[str, str]]:
    tools = rows.trace.tool_context or {}
    context = "\n\n".join(t.get("prompt_text") or "" for _, t in sorted(tools.items())
                          if isinstance(t, dict) and t.get("prompt_text"))
    return explain_messages(rec, context, rows.trace.report)


def _curations(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"curator": c["curator"], "judgment": c["judgment"], "verdict": c["verdict"], "tag": c["tag"],
             "note": c["note"], "at": c["at"]} for c in items]


def _trace_row(rows: TraceRows, doc: dict[str, Any], rec, pert: str, cell: str,
               sections: dict[str, str]) -> dict[str, Any]:
    claims_by_node = {c.node_id: c for c in rows.claims}
    claims = []
    for c in doc["claims"]:
        stored = claims_by_node.get(c["node_id"])
        claims.append({"node_id": c["node_id"], "primitive": c["action"],
                       "arguments": json.dumps(stored.args if stored is not None else None, ensure_ascii=False, default=str),
                       "text": c["text"], "grounding": c["hash"], "machine_verdict": c["machine_verdict"],
                       "machine_score": c["machine_score"], "effective_verdict": c["effective_verdict"],
                       "curation_state": c["curation_state"], "curation": _curations(c["curations"])})
    tv = doc["trace_verdict"] or {}
    return {"trace_id": rows.trace.id, "record_index": doc["record_index"],
            "batch": rows.batch.name if rows.batch else None, "run": rows.run.name if rows.run else None,
            "model": doc["model"], "prompt_version": doc["prompt_version"],
            "created_at": rows.trace.created_at.isoformat() if rows.trace.created_at else None,
            "perturbation": pert, "perturbation_type": rec.perturbation.type, "cell_line": cell,
            "context": rec.context_text(), "record": json.dumps(doc["record"], ensure_ascii=False, default=str),
            "think": sections.get("think"), "answer": sections.get("answer"), "explain": sections.get("explain"),
            "dag": sections.get("dag"), "claims": claims, "trace_status": doc["status"],
            "trace_verdict": tv.get("verdict"), "trace_policy": json.dumps(tv.get("policy"), default=str) if tv else None,
            "curation_status": doc["curation_status"],
            "curation": _curations([c for c in doc["curations"] if c["target"] == "trace"]),
            "archive": json.dumps(doc["archive"], ensure_ascii=False, default=str)}


def _count(stats: _Stats, rows: TraceRows, doc: dict[str, Any]) -> None:
    stats.traces += 1
    stats.claims += len(doc["claims"])
    for c in doc["claims"]:
        stats.effective[c["effective_verdict"] or "none"] += 1
    for v in doc["archive"]["verdicts"]:
        stats.verdicts[v["verdict"]] += 1
        stats.verifiers[(v["verifier"], v["version"])] += 1
        for ev in v.get("evidence") or []:
            if isinstance(ev, dict) and ev.get("kind") == "sources_consulted":
                for src in ev.get("sources") or []:
                    stats.sources.add((v["verifier"], ev.get("version") or v["version"], str(src)))
    stats.trace_verdicts[(doc["trace_verdict"] or {}).get("verdict") or "none"] += 1
    stats.curation_status[doc["curation_status"]] += 1
    for c in doc["curations"]:
        stats.curations[c["judgment"]] += 1
        stats.curators.add(c["curator"])
    stats.models[doc["model"] or "none"] += 1
    stats.prompt_versions[doc["prompt_version"] or "none"] += 1


def _ordered_by_record(engine: Engine, trace_ids: list[int]) -> list[int]:
    """The trace ids with each record's traces next to each other (so pairs are built from one record at
    a time, in bounded memory)."""
    wanted = set(trace_ids)
    with Session(engine) as s:
        pairs = s.exec(select(Trace.record_id, Trace.id).order_by(Trace.record_id, Trace.id)).all()
    return [tid for _rid, tid in pairs if tid in wanted]


def write_hf_dataset(engine: Engine, trace_ids: Iterable[int], out_dir: str | Path, *,
                     sft_ids: Iterable[int] | None = None, options: HfOptions | None = None,
                     selection: dict[str, Any] | None = None, problems: list[str] | None = None) -> dict[str, Any]:
    """Write the dataset directory ``out_dir`` (replaced if it holds an earlier export; refused if it holds
    anything else). ``trace_ids`` is the scope (the ``traces`` and ``preferences`` configs); ``sft_ids`` the
    traces that pass the quality selection (the ``sft`` config; all of the scope when None); ``selection``
    is recorded in the card. Returns the summary the card states (rows per config and split, pairs, ...)."""
    options = options or HfOptions()
    out = Path(out_dir)
    _prepare(out)
    ids = _ordered_by_record(engine, list(trace_ids))
    sft = set(ids) if sft_ids is None else set(sft_ids)
    writers: dict[tuple[str, str], _ShardWriter] = {}
    stats = _Stats()

    def write(config: str, split: str, row: dict[str, Any]) -> None:
        w = writers.get((config, split))
        if w is None:
            w = writers[(config, split)] = _ShardWriter(out, config, split, options)
        w.add(row)

    def emit_pairs(record_index, split, pert, cell, cands) -> None:
        if split is None or len(cands) < 2:
            return
        for a, b, source, reason in preference_pairs(cands):
            stats.pair_sources[source] += 1
            write("preferences", split, {
                "record_index": record_index, "perturbation": pert, "cell_line": cell, "prompt": a.prompt,
                "chosen": [{"role": "assistant", "content": a.answer}],
                "rejected": [{"role": "assistant", "content": b.answer}], "chosen_trace_id": a.trace_id,
                "rejected_trace_id": b.trace_id, "chosen_model": a.model, "rejected_model": b.model,
                "source": source, "reason": reason})

    record_id = record_index = split = None
    pert = cell = ""
    cands: list[_Candidate] = []
    for rows, doc in iter_rows_docs(engine, ids, BATCH, problems):
        if rows.record.id != record_id:
            emit_pairs(record_index, split, pert, cell, cands)
            rec = record_model(rows.record)
            record_id, record_index, cands = rows.record.id, doc["record_index"], []
            pert = " + ".join(sorted(p.label for p in rec.perturbations)) or "unknown perturbation"
            cell = rec.context.cell_line or rec.context.cell_type or rec.context.label
            split = row_split(pert, cell, options)
        if split is None:  # the rule 'both' leaves this drug x cell-line combination out
            stats.excluded += 1
            continue
        groups = stats.groups.setdefault(split, {"perturbation": set(), "cell_line": set()})
        groups["perturbation"].add(pert)
        groups["cell_line"].add(cell)
        _count(stats, rows, doc)
        expl = Explanation.model_validate(doc["explanation"]) if doc["explanation"] else None
        text, sections = _sections(expl, doc["text"])
        write("traces", split, _trace_row(rows, doc, rec, pert, cell, sections))
        if expl is None or not text:
            continue
        prompt = _messages(rows, rec)
        if rows.trace.id in sft:
            write("sft", split, {"trace_id": rows.trace.id, "record_index": record_index, "perturbation": pert,
                                 "cell_line": cell, "model": doc["model"],
                                 "messages": prompt + [{"role": "assistant", "content": text}]})
        cands.append(_Candidate(rows.trace.id, doc["model"], doc["curation_status"],
                                (doc["trace_verdict"] or {}).get("verdict"), prompt, text))
    emit_pairs(record_index, split, pert, cell, cands)
    for w in writers.values():
        w.close()
    summary = _summary(writers, stats, options, selection or {}, len(sft & set(ids)))
    _write_card(engine, out, writers, summary)
    (out / "vcr_export.json").write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")
    return summary


def _prepare(out: Path) -> None:
    """An empty directory to write to: an earlier export there is replaced, anything else refused."""
    if out.exists():
        if not out.is_dir():
            raise ValueError(f"{out} is a file, not a directory")
        entries = {p.name for p in out.iterdir()}
        if entries and not (entries <= {"README.md", "data", "vcr_export.json"} and (out / "vcr_export.json").exists()):
            raise ValueError(f"{out} is not empty and holds no earlier export; choose an empty or new directory")
        shutil.rmtree(out / "data", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)


def _summary(writers, stats: _Stats, options: HfOptions, selection: dict[str, Any], n_sft_selected: int) -> dict[str, Any]:
    rows = {c: {s: writers[(c, s)].rows for s in SPLITS if (c, s) in writers} for c in CONFIGS}
    return {
        "format": HF_FORMAT, "selection": selection,
        "split": {"rule": options.split_by, "seed": options.seed, "fractions": list(options.fractions),
                  "excluded_traces": stats.excluded,
                  "groups": {s: {k: len(v) for k, v in g.items()} for s, g in sorted(stats.groups.items())}},
        "rows": rows, "traces": stats.traces, "claims": stats.claims, "sft_selected": n_sft_selected,
        "verdicts": dict(stats.verdicts), "effective_verdicts": dict(stats.effective),
        "trace_verdicts": dict(stats.trace_verdicts), "curation_status": dict(stats.curation_status),
        "curations": dict(stats.curations), "curators": sorted(stats.curators),
        "preference_pairs": sum(stats.pair_sources.values()), "pair_sources": dict(stats.pair_sources),
        "models": dict(stats.models), "prompt_versions": dict(stats.prompt_versions),
        "current_prompt_version": prompt_version(),
        "verifiers": [{"verifier": n, "version": v, "verdicts": k} for (n, v), k in sorted(stats.verifiers.items())],
        "knowledge_sources": [{"verifier": n, "version": v, "source": s} for n, v, s in sorted(stats.sources)],
        "policy": current_policy(),
    }


def _write_card(engine: Engine, out: Path, writers, summary: dict[str, Any]) -> None:
    """README.md: the YAML header (configs with their split files, features and split sizes, through the
    ``datasets``/``huggingface_hub`` card classes) and a body a person reads."""
    from datasets import DatasetInfo, Features, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCard, DatasetCardData

    from ..curation import inter_curator_agreement

    configs, infos = [], {}
    for config in CONFIGS:
        present = [s for s in SPLITS if (config, s) in writers]
        if not present:  # datasets cannot load a config (or split) without rows: the body says it is empty
            continue
        configs.append({"config_name": config, **({"default": True} if config == "traces" else {}),
                        "data_files": [{"split": s, "path": f"data/{config}/{s}-*.parquet"} for s in present]})
        splits = SplitDict()
        for s in present:
            splits.add(SplitInfo(name=s, num_examples=writers[(config, s)].rows))
        infos[config] = DatasetInfo(features=Features.from_arrow_schema(SCHEMAS[config]), splits=splits)
    if configs and not any(c.get("default") for c in configs):
        configs[0]["default"] = True
    data = DatasetCardData(configs=configs, tags=["biology", "perturbation", "mechanistic-explanation"])
    DatasetInfosDict(infos).to_dataset_card_data(data)
    agreement = inter_curator_agreement(engine)["pairs"]
    card = DatasetCard(f"---\n{data.to_yaml()}\n---\n\n{_card_body(summary, agreement)}")
    card.save(out / "README.md")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if v is None else str(v).replace("|", "\\|") for v in r) + " |" for r in rows]
    return "\n".join(lines)


def _card_body(s: dict[str, Any], agreement: list[dict[str, Any]]) -> str:
    split = s["split"]
    rule = {"perturbation": "by perturbation: every drug or knockout lies in one split only",
            "cell_line": "by cell line: every cell line lies in one split only",
            "both": "held-out drug x cell-line block: a trace goes to split S only when its perturbation and its "
                    "cell line both fall in S, so no perturbation and no cell line is shared between splits; "
                    "the other traces are left out"}[split["rule"]]
    counts = lambda c: ", ".join(f"{k}: {v}" for k, v in sorted(c.items())) or "none"  # noqa: E731
    parts = [
        "# VCR Curation traces",
        "Mechanistic explanations (action graphs of typed claims) of how a perturbation changes a cell, with "
        "their machine verdicts and curators' judgments, exported by `vcr export --format hf`.",
        "```python\nfrom datasets import load_dataset\ntraces = load_dataset(DIR)            # the default config: traces\n"
        "sft = load_dataset(DIR, \"sft\")\nprefs = load_dataset(DIR, \"preferences\")\n```",
        "## Configs and splits",
        _table(["config", *SPLITS], [[c, *[s["rows"][c].get(x, 0) for x in SPLITS]] for c in CONFIGS]),
        *([f"Not in this dataset (no row, so `load_dataset` has nothing to read): {', '.join(empty)}."]
          if (empty := [c for c in CONFIGS if not s["rows"][c]]) else []),
        "* `traces`: one row per trace; `archive` holds the trace's archive section (JSON), which "
        "`vcr import-traces DIR` reads back (the JSONL export stays the lossless archive).\n"
        "* `sft`: chat messages (system, user, assistant with `<think>`, `<answer>`, `<explain>`, `<dag>`) of the "
        f"{s['sft_selected']} trace(s) that pass the quality selection.\n"
        f"* `preferences`: {s['preference_pairs']} (chosen, rejected) pair(s) of one record's traces "
        f"({counts(s['pair_sources'])}): approved over rejected; otherwise pass over fail unless a curator "
        "ranked them the other way. `prompt` is the chosen trace's prompt.",
        f"## Split rule\n\nSplit {rule}; seed {split['seed']}, fractions (train, validation, test) "
        f"{tuple(split['fractions'])}, each group's split a seeded hash of its name. Traces left out by the rule: "
        f"{split['excluded_traces']}.\n\n"
        + _table(["split", "perturbations", "cell lines"],
                 [[k, v.get("perturbation", 0), v.get("cell_line", 0)] for k, v in split["groups"].items()]),
        "## Counts",
        _table(["what", "count"], [
            ["traces", s["traces"]], ["claims", s["claims"]],
            ["machine verdicts", f"{sum(s['verdicts'].values())} ({counts(s['verdicts'])})"],
            ["effective claim verdicts", counts(s["effective_verdicts"])],
            ["trace verdicts (filter policy)", counts(s["trace_verdicts"])],
            ["curations", f"{sum(s['curations'].values())} ({counts(s['curations'])})"],
            ["curation status of traces", counts(s["curation_status"])],
            ["curators", len(s["curators"])]]),
        "## Filter policy\n\n" + _table(["setting", "value"], [[k, v] for k, v in s["policy"].items()]),
        "## Verifiers and knowledge sources\n\n"
        + _table(["verifier", "version", "verdicts"], [[v["verifier"], v["version"], v["verdicts"]] for v in s["verifiers"]])
        + "\n\n" + (_table(["verifier", "version", "source consulted"],
                           [[k["verifier"], k["version"], k["source"]] for k in s["knowledge_sources"]])
                    if s["knowledge_sources"] else "No verdict names the sources it consulted."),
        "## Models and prompts\n\n"
        + _table(["model", "traces"], [[k, v] for k, v in sorted(s["models"].items())]) + "\n\n"
        + _table(["prompt version", "traces"], [[k, v] for k, v in sorted(s["prompt_versions"].items())])
        + f"\n\nThe `sft` and `preferences` prompts are the explanation agent's current ones ({s['current_prompt_version']}).",
        "## Curators' agreement\n\n" + (_table(["curator a", "curator b", "claims both judged", "agreement", "Cohen's kappa"],
                                               [[a["curator_a"], a["curator_b"], a["claims"], a["agreement"], a["kappa"]]
                                                for a in agreement])
                                        if agreement else "No claim was judged by two curators."),
        "## Selection\n\n" + _table(["filter", "value"], [[k, v] for k, v in s["selection"].items()]),
    ]
    return "\n\n".join(parts) + "\n"


def iter_hf_archives(path: str | Path) -> Iterator[dict[str, Any]]:
    """The archive sections of the ``traces`` config of an export (a directory, or one of its Parquet
    files), every split, streamed a Parquet batch at a time: what ``vcr import-traces`` rebuilds from."""
    path = Path(path)
    files = sorted((path / "data" / "traces").glob("*.parquet")) if path.is_dir() else [path]
    if not files:
        raise ValueError(f"{path} holds no traces config (data/traces/*.parquet)")
    for f in files:
        pf = pq.ParquetFile(f)
        if "archive" not in pf.schema_arrow.names:
            raise ValueError(f"{f.name} is not a traces shard of `vcr export --format hf` (it has no archive column)")
        for batch in pf.iter_batches(batch_size=500, columns=["archive"]):
            for value in batch.column(0).to_pylist():
                yield json.loads(value)


def is_hf_export(path: str | Path) -> bool:
    """A directory written by ``write_hf_dataset``, or a Parquet file of one."""
    path = Path(path)
    if path.is_dir():
        return (path / "data" / "traces").is_dir()
    return path.suffix == ".parquet"


def hf_zip(engine: Engine, trace_ids: Iterable[int], *, sft_ids: Iterable[int] | None = None,
           options: HfOptions | None = None, selection: dict[str, Any] | None = None,
           problems: list[str] | None = None):
    """The dataset directory as a zip in an anonymous temporary file, rewound for reading (what the Export
    page's download button reads): written to a temporary directory, zipped file by file, then removed."""
    import tempfile
    import zipfile

    fh = tempfile.TemporaryFile(prefix="vcr-hf-", suffix=".zip", buffering=0)
    try:
        with tempfile.TemporaryDirectory(prefix="vcr-hf-") as tmp:
            root = Path(tmp) / "dataset"
            write_hf_dataset(engine, trace_ids, root, sft_ids=sft_ids, options=options, selection=selection,
                             problems=problems)
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as z:  # Parquet is compressed already
                for f in sorted(root.rglob("*")):
                    if f.is_file():
                        z.write(f, f.relative_to(root).as_posix())
    except BaseException:
        fh.close()
        raise
    fh.seek(0)
    return fh
