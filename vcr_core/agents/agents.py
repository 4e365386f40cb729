"""The report agent and the explanation agent.

Report agent (mode ``report-explain``): record + tool context -> a sectioned markdown report.
Explanation agent: record (+ report) + tool context -> a structured explanation, in the text form
or (where the provider follows a JSON schema) as constrained JSON converted to the same model.
Invalid output gets one repair round that shows the model the validator's findings; if it is still
invalid it is kept, with its findings, never dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..formalism import Explanation, Finding, parse_text, to_text, validate_parsed
from ..formalism.checks import check_explanation
from ..formalism.findings import error
from ..formalism.parser import find_sections
from ..llm import CallInfo, LlmError, LlmResponse, ModelChoice, complete
from ..records.model import Record
from . import structured
from .prompts import prompt_version, question_text, render

Recorder = Callable[[CallInfo], None]
MAX_FINDINGS_SHOWN = 25
# Output caps for the tiny local model: without them it can ramble until its context is full.
LOCAL_MAX_TOKENS = {"report": 400, "explain": 600, "repair": 600}


@dataclass
class CallOptions:
    """How agents call the model: time-out, output format, token caps, rate limit."""

    timeout: float | None = None
    output_format: str = "auto"  # auto (JSON schema for the local model, text otherwise), text, json
    max_tokens: int | None = None
    rpm: float | None = None
    recorder: Recorder | None = None
    progress: Callable[[dict[str, Any]], None] | None = None  # stage / call / token events (the progress panel)

    def use_json(self, choice: ModelChoice) -> bool:
        return self.output_format == "json" or (self.output_format == "auto" and choice.is_local)


@dataclass
class ExplainResult:
    """What the explanation agent produced (kept even when invalid) and what it cost."""

    explanation: Explanation | None
    findings: list[Finding]
    raw_output: str | None
    text_form: str | None
    sections: dict[str, str] = field(default_factory=dict)  # think, answer, explain, dag as text
    responses: list[LlmResponse] = field(default_factory=list)
    repaired: bool = False
    output_format: str = "text"
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.explanation is not None and not any(f.severity == "error" for f in self.findings)


def _messages(user: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": render("system")}, {"role": "user", "content": user}]


def explain_messages(record: Record, tool_context: str, report: str | None = None,
                     use_json: bool = False) -> list[dict[str, str]]:
    """The system and user messages the explanation agent sends for ``record`` (the training-set export
    writes the same ones, so a model trained on them sees the prompts it will be run with)."""
    user = render("explain_json" if use_json else "explain", question=question_text(record),
                  evidence=_evidence(report, tool_context))
    return _messages(user)


def _call(messages: list[dict], choice: ModelChoice, purpose: str, opts: CallOptions, **kw: Any) -> LlmResponse:
    max_tokens = opts.max_tokens or (LOCAL_MAX_TOKENS.get(purpose) if choice.is_local else None)
    return complete(messages, model_choice=choice, purpose=purpose, timeout=opts.timeout,
                    max_tokens=max_tokens, recorder=opts.recorder, rpm=opts.rpm, progress=opts.progress, **kw)


def generate_report(record: Record, tool_context: str, choice: ModelChoice, opts: CallOptions) -> LlmResponse:
    """Report agent: a sectioned markdown report for ``record``. Raises LlmError when the call fails."""
    user = render("report", question=question_text(record),
                  tool_context=tool_context.strip() or "(no tool was run, or none found anything)")
    return _call(_messages(user), choice, "report", opts)


def _evidence(report: str | None, tool_context: str) -> str:
    parts = []
    if report:
        parts.append(f"## Research report\n{report.strip()}")
    if tool_context.strip():
        parts.append(f"## What the tools found\n{tool_context.strip()}")
    return "\n\n".join(parts) or "## Evidence\n(no report and no tool context: answer from what you know)"


def _findings_text(findings: list[Finding]) -> str:
    shown = [f"- {f}" for f in findings if f.severity == "error"][:MAX_FINDINGS_SHOWN]
    return "\n".join(shown) or "- (none)"


def _text_attempt(text: str) -> tuple[Explanation, list[Finding], dict[str, str]]:
    result = parse_text(text)
    findings = validate_parsed(result)
    if "explain" in result.sections and not result.explanation.claims:
        findings.append(error("path_not_measurable", "the explanation has no claims, so it has no measurable output"))
    sections = {k: v.content.strip() for k, v in result.sections.items()}
    return result.explanation, findings, sections


def _json_attempt(text: str, record: Record) -> tuple[Explanation | None, list[Finding], dict[str, str]]:
    expl, findings = structured.from_json(text, record)
    if expl is None:  # unreadable: keep an empty explanation so the trace is stored as invalid
        expl = Explanation(context=structured.context_of(record))
    findings = findings + check_explanation(expl)
    if not expl.claims and not findings:
        findings.append(error("path_not_measurable", "the explanation has no claims, so it has no measurable output"))
    text_form = to_text(expl)
    return expl, findings, {k: v.content.strip() for k, v in find_sections(text_form).items()}


def explain(record: Record, tool_context: str, choice: ModelChoice, opts: CallOptions,
            report: str | None = None) -> ExplainResult:
    """Explanation agent with one repair round. Raises LlmError only when the first call fails."""
    use_json = opts.use_json(choice)
    messages = explain_messages(record, tool_context, report, use_json)
    extra = {"response_format": structured.response_format(choice.is_local)} if use_json else {}
    first = _call(messages, choice, "explain", opts, **extra)
    out = _evaluate(first.text, record, use_json)
    out.responses.append(first)
    if out.ok:
        return out
    repair_user = render("repair_json" if use_json else "repair", findings=_findings_text(out.findings))
    messages = messages + [{"role": "assistant", "content": first.text}, {"role": "user", "content": repair_user}]
    try:
        second = _call(messages, choice, "repair", opts, **extra)
    except LlmError as exc:
        out.errors.append(f"repair call failed: {exc}")
        return out
    fixed = _evaluate(second.text, record, use_json)
    fixed.responses = out.responses + [second]
    fixed.repaired = True
    if fixed.explanation is None and out.explanation is not None:
        out.responses, out.repaired = fixed.responses, True
        out.errors.append("the repaired answer could not be read; the first answer is kept")
        return out
    return fixed


def _evaluate(text: str, record: Record, use_json: bool) -> ExplainResult:
    if use_json:
        expl, findings, sections = _json_attempt(text, record)
        text_form = to_text(expl) if expl is not None else None
        return ExplainResult(expl, findings, text, text_form, sections, output_format="json")
    expl, findings, sections = _text_attempt(text)
    return ExplainResult(expl, findings, text, to_text(expl), sections, output_format="text")


__all__ = ["CallOptions", "ExplainResult", "explain", "generate_report", "prompt_version"]
