"""One record through the generation pipeline: tools -> report -> explanation -> trace fields."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ..formalism import Explanation, Finding
from ..llm import LlmError, LlmResponse, ModelChoice
from ..records.model import Record
from ..tools.base import DEFAULT_KG_NUM_NEIGHBOR
from .agents import CallOptions, explain, generate_report
from .prompts import prompt_version

MODES = ("report-explain", "explain-only")  # the one list of generation modes


@dataclass
class GenerationConfig:
    """A run's configuration as the agents need it."""

    choice: ModelChoice
    mode: str = "report-explain"
    tools: list[str] = field(default_factory=list)
    kg_with_rel: bool = False
    kg_num_neighbor: int = DEFAULT_KG_NUM_NEIGHBOR
    pubmed_num_papers: int = 30
    tool_timeout_s: float | None = None
    call: CallOptions = field(default_factory=CallOptions)


@dataclass
class GenerationOutcome:
    """Everything a trace stores for one record (``fields`` are Trace columns)."""

    explanation: Explanation | None
    findings: list[Finding]
    fields: dict[str, Any]
    sections: dict[str, str]  # think, answer, explain, dag as text


def _stage(cfg: GenerationConfig, stage: str) -> None:
    """Tell the progress panel which stage a record is in (never fails the record)."""
    if cfg.call.progress is not None:
        try:
            cfg.call.progress({"event": "stage", "stage": stage})
        except Exception:  # noqa: BLE001
            pass


def _tool_context(record: Record, cfg: GenerationConfig) -> tuple[dict[str, Any], str]:
    if not cfg.tools:
        return {}, ""
    _stage(cfg, "running tools: " + ", ".join(cfg.tools))
    from ..tools import ToolOptions, run_tools
    from ..tools.base import tool_context_text

    opts = ToolOptions(kg_with_rel=cfg.kg_with_rel, kg_num_neighbor=cfg.kg_num_neighbor,
                       pubmed_num_papers=cfg.pubmed_num_papers)
    results = run_tools(record, cfg.tools, opts, timeout_s=cfg.tool_timeout_s)
    stored = {name: r.to_dict() for name, r in results.items()}
    return stored, tool_context_text(results)


def _sum(responses: list[LlmResponse]) -> dict[str, Any]:
    return {"prompt_tokens": sum(r.prompt_tokens for r in responses),
            "completion_tokens": sum(r.completion_tokens for r in responses),
            "cost_usd": round(sum(r.cost_usd for r in responses), 8),
            "latency_s": round(sum(r.latency_s for r in responses), 3)}


def generate_for_record(record: Record, cfg: GenerationConfig) -> GenerationOutcome:
    """Run tools and agents for one record. Never raises for model failures: a failed explanation
    call yields an outcome with no explanation and the error in ``fields['errors']``."""
    if cfg.mode not in MODES:
        raise ValueError(f"unknown mode {cfg.mode!r}; choose one of {', '.join(MODES)}")
    if cfg.choice.is_knowledge:
        return _assembled(record, cfg)
    start = time.perf_counter()
    tool_context, context_text = _tool_context(record, cfg)
    responses: list[LlmResponse] = []
    errors: list[str] = []
    report: str | None = None
    if cfg.mode == "report-explain":
        _stage(cfg, "writing the report")
        try:
            resp = generate_report(record, context_text, cfg.choice, cfg.call)
            responses.append(resp)
            report = resp.text
        except LlmError as exc:
            errors.append(f"report: {exc}; the explanation was written from the tool context alone")
    meta: dict[str, Any] = {"mode": cfg.mode, "tools": cfg.tools, "elapsed_s": 0.0}
    _stage(cfg, "writing the explanation")
    try:
        result = explain(record, context_text, cfg.choice, cfg.call, report=report)
    except LlmError as exc:
        errors.append(f"explanation: {exc}")
        result = None
    if result is not None:
        responses += result.responses
        errors += result.errors
        meta.update(output_format=result.output_format, repaired=result.repaired)
    meta["elapsed_s"] = round(time.perf_counter() - start, 3)
    expl = result.explanation if result else None
    findings = result.findings if result else []
    fields = dict(report=report, raw_output=result.raw_output if result else None,
                  text_form=result.text_form if result else None, tool_context=tool_context or None,
                  errors=errors or None, prompt_version=prompt_version(), provider=cfg.choice.provider,
                  model=cfg.choice.model, meta=meta, **_sum(responses))
    return GenerationOutcome(expl, findings, fields, result.sections if result else {})


def _assembled(record: Record, cfg: GenerationConfig) -> GenerationOutcome:
    """Assembly from knowledge (no model): the report is the summary of the sources it used, the
    evidence of every claim is stored with the trace's tool context. Chosen tools still run, so their
    context is kept with the trace as it would be for a model."""
    from ..formalism import to_text
    from ..formalism.parser import find_sections
    from .assembler import ASSEMBLER_NAME, ASSEMBLER_VERSION, assemble

    start = time.perf_counter()
    tool_context, _ = _tool_context(record, cfg)
    _stage(cfg, "assembling from knowledge")
    result = assemble(record)
    text = to_text(result.explanation)
    meta = {"mode": cfg.mode, "tools": cfg.tools, "elapsed_s": round(time.perf_counter() - start, 3),
            "output_format": "assembled", "assembler_version": ASSEMBLER_VERSION, "incomplete": result.incomplete}
    fields = dict(report=result.report, raw_output=text, text_form=text,
                  tool_context={**(tool_context or {}), ASSEMBLER_NAME: result.tool_entry()},
                  errors=[f"incomplete: {result.incomplete}"] if result.incomplete else None,
                  prompt_version=f"assembler-v{ASSEMBLER_VERSION}", provider=cfg.choice.provider,
                  model=cfg.choice.model, meta=meta, prompt_tokens=0, completion_tokens=0, cost_usd=0.0, latency_s=0.0)
    sections = {k: v.content.strip() for k, v in find_sections(text).items()}
    return GenerationOutcome(result.explanation, result.findings, fields, sections)
