"""Parse the text form (``<think>``, ``<answer>``, ``<explain>``, ``<dag>``) into an
:class:`Explanation`, and write an explanation back to text.

The parser never raises on any input: it parses what can be parsed, keeps the raw text, and
reports each problem as a :class:`Finding` with its line number. It tolerates the variations real
model outputs show: any indentation, tags in any case, markdown fences and prose inside a section,
single or curly quotes, lists and bare numbers, non-ASCII text, ids of any shape, ``set_context``
with or without an id, misspelled primitives (reported with the closest known name), calls that
span several lines, and edges written as ``n1 -> n2``.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any

from .findings import Finding, error, warning
from .model import Edge, Explanation, Node

SECTIONS = ("think", "answer", "explain", "dag")
_OPEN = re.compile(r"<\s*(think|answer|explain|dag)\s*>", re.IGNORECASE)
_CLOSE = {name: re.compile(rf"<\s*/\s*{name}\s*>", re.IGNORECASE) for name in SECTIONS}
_CALL_START = re.compile(r"^([A-Za-z_][\w\-]*)\s*\(")
_BULLET = re.compile(r"^(?:[-*\u2022]\s+|\d+[.)]\s+)")
_ARROW = re.compile(r"""^["']?([\w.:\-]+)["']?\s*(?:->|-->|\u2192|=>)\s*["']?([\w.:\-]+)["']?(?:\s*[\[(:,]?\s*(?:relation\s*=\s*)?["']?(causal|correlative)["']?[\])]?)?""", re.IGNORECASE)
_SMART = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


@dataclass
class Section:
    """A tagged section: its content and the 1-based line where the content starts."""

    content: str
    line: int
    closed: bool = True


@dataclass
class ParseResult:
    """What :func:`parse_text` returns: the model, the findings and the raw text."""

    explanation: Explanation
    findings: list[Finding]
    raw: str
    sections: dict[str, Section] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def find_sections(raw: str) -> dict[str, Section]:
    """Locate each tagged section (first occurrence), tolerating a missing closing tag."""
    sections: dict[str, Section] = {}
    opens = list(_OPEN.finditer(raw))
    for i, m in enumerate(opens):
        name = m.group(1).lower()
        if name in sections:
            continue
        start = m.end()
        close = _CLOSE[name].search(raw, start)
        next_open = opens[i + 1].start() if i + 1 < len(opens) else len(raw)
        if close and close.start() <= next_open:
            end, closed = close.start(), True
        elif close and name in ("think",):
            end, closed = close.start(), True  # reasoning may quote other tags
        else:
            end, closed = next_open, False
        sections[name] = Section(raw[start:end], _line_of(raw, start), closed)
    return sections


def _structure(text: str):
    """(index, char, depth after it) of every bracket and comma outside quoted strings.

    The one scanner behind call joining and argument splitting: quotes are single or double,
    and a backslash escapes the character after it inside a quoted string.
    """
    depth, quote, escape = 0, None, False
    for i, ch in enumerate(text):
        if quote:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
            yield i, ch, depth
        elif ch in ")]}":
            depth -= 1
            yield i, ch, depth
        elif ch == ",":
            yield i, ch, depth


def _balanced_end(text: str) -> int:
    """Index just past the parenthesis closing the first '(' in ``text``, or -1."""
    for i, ch, depth in _structure(text):
        if ch in ")]}" and depth == 0:
            return i + 1
    return -1


def _statements(content: str, first_line: int) -> tuple[list[tuple[int, str]], list[Finding]]:
    """Split a section into (line, call text) statements; report skipped prose."""
    stmts: list[tuple[int, str]] = []
    findings: list[Finding] = []
    lines = content.split("\n")
    i = 0
    while i < len(lines):
        line_no = first_line + i
        text = _BULLET.sub("", lines[i].strip())
        if not text or text.startswith(("```", "#", "//")) or text in ("~~~",):
            i += 1
            continue
        if _CALL_START.match(text) or _ARROW.match(text.translate(_SMART)):
            buf, j = text, i
            # A call may span lines: join until its parentheses balance (at most 50 lines).
            while _CALL_START.match(text) and _balanced_end(buf) < 0 and j + 1 < len(lines) and j - i < 50:
                j += 1
                buf += " " + lines[j].strip()
            stmts.append((line_no, buf))
            i = j + 1
            continue
        findings.append(warning("stray_text", f"ignored text that is not a primitive: {text[:80]!r}", line_no))
        i += 1
    return stmts, findings


def _literal(node: ast.AST, src: str) -> Any:
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(elt, src) for elt in node.elts]
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        seg = ast.get_source_segment(src, node)
        return seg.strip() if seg else None


def _split_top(argstr: str) -> list[str]:
    """Split an argument string on top-level commas (fallback when ``ast`` cannot parse)."""
    parts, start = [], 0
    for i, ch, depth in _structure(argstr):
        if ch == "," and depth == 0:
            parts.append(argstr[start:i])
            start = i + 1
    if argstr[start:].strip():
        parts.append(argstr[start:])
    return parts


def _loose_value(text: str) -> Any:
    text = text.strip()
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("null", "none"):
        return None
    if text[:1] == "[" and text[-1:] == "]":
        return [_loose_value(p) for p in _split_top(text[1:-1])]
    if len(text) >= 2 and text[0] in "\"'" and text[-1] == text[0]:
        return text[1:-1]
    return text.strip("\"'")


def parse_call(text: str) -> tuple[str, dict[str, Any], list[Any]]:
    """Parse ``name(k=v, ...)`` into (name, keyword args, positional args). Raises ValueError."""
    m = _CALL_START.match(text)
    if not m:
        raise ValueError("not a call")
    end = _balanced_end(text)
    if end < 0:
        raise ValueError("the parentheses are not closed")
    name = m.group(1)
    inner = text[m.end() : end - 1]
    # Curly quotes are only rewritten when the call does not read as it is, so that a curly quote
    # inside a properly quoted string survives.
    for candidate in dict.fromkeys((inner, inner.translate(_SMART))):
        src = f"f({candidate})"
        try:
            call = ast.parse(src, mode="eval").body
            assert isinstance(call, ast.Call)
            kwargs = {kw.arg: _literal(kw.value, src) for kw in call.keywords if kw.arg}
            pos = [_literal(a, src) for a in call.args]
            return name, kwargs, pos
        except (SyntaxError, AssertionError, ValueError, MemoryError, RecursionError):
            continue
    inner = inner.translate(_SMART)
    kwargs, pos = {}, []
    for part in _split_top(inner):
        key, eq, val = part.partition("=")
        if eq and re.fullmatch(r"\s*[A-Za-z_]\w*\s*", key):
            kwargs[key.strip()] = _loose_value(val)
        elif part.strip():
            pos.append(_loose_value(part))
    return name, kwargs, pos


def _as_text(v: Any) -> str | None:
    if v is None:
        return None
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def _parse_explain(section: Section, expl: Explanation, findings: list[Finding]) -> None:
    stmts, skipped = _statements(section.content, section.line)
    findings.extend(skipped)
    auto = 0
    for line_no, text in stmts:
        try:
            name, kwargs, pos = parse_call(text)
        except ValueError as exc:
            findings.append(error("unparseable_line", f"could not read this line as a primitive ({exc}): {text[:80]!r}", line_no))
            continue
        if pos:
            findings.append(warning("unparseable_line", f"{name}: {len(pos)} argument(s) without a name were ignored", line_no))
        if name.lower() == "set_context":
            if expl.context or expl.context_id:
                findings.append(warning("duplicate_set_context", "a second set_context line; its arguments were merged", line_no))
            cid = kwargs.pop("id", None)
            expl.context_id = expl.context_id or (_as_text(cid) if cid is not None else None)
            expl.context.update(kwargs)
            expl.has_context = True
            if expl.nodes:
                findings.append(warning("set_context_not_first", "set_context should come before every other primitive", line_no))
            continue
        node_id = kwargs.pop("id", None)
        if node_id is None or node_id == "":
            auto += 1
            node_id = f"_auto{auto}"
            findings.append(error("missing_id", f"{name} has no id; it was given the id {node_id!r}", line_no))
        via = kwargs.pop("via", None)
        conf = kwargs.pop("confidence", None)
        expl.nodes.append(Node(id=_as_text(node_id) or "", action=name, args=kwargs, via=_as_text(via), confidence=conf, line=line_no))


def _parse_dag(section: Section, expl: Explanation, findings: list[Finding]) -> None:
    stmts, skipped = _statements(section.content, section.line)
    findings.extend(skipped)
    for line_no, text in stmts:
        arrow = _ARROW.match(text.translate(_SMART))
        if arrow and not _CALL_START.match(text):
            expl.edges.append(Edge(source=arrow.group(1), target=arrow.group(2), relation=(arrow.group(3) or "causal").lower(), line=line_no))
            continue
        try:
            name, kwargs, pos = parse_call(text)
        except ValueError as exc:
            findings.append(error("unparseable_line", f"could not read this line as an edge ({exc}): {text[:80]!r}", line_no))
            continue
        if name.lower() != "edge":
            findings.append(error("unparseable_line", f"expected edge(...) in <dag>, found {name}(...)", line_no))
            continue
        src = kwargs.get("source", kwargs.get("src", pos[0] if pos else None))
        dst = kwargs.get("target", kwargs.get("dst", pos[1] if len(pos) > 1 else None))
        rel = kwargs.get("relation", kwargs.get("type", pos[2] if len(pos) > 2 else "causal"))
        if src is None or dst is None:
            findings.append(error("unparseable_line", "an edge needs a source and a target id", line_no))
            continue
        rel_text = str(rel).strip()
        expl.edges.append(Edge(source=_as_text(src) or "", target=_as_text(dst) or "", relation=rel_text.lower() if rel_text.lower() in ("causal", "correlative") else rel_text, line=line_no))


def parse_text(raw: str | None) -> ParseResult:
    """Parse the text form. Never raises; see the module docstring for what is tolerated."""
    raw = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
    findings: list[Finding] = []
    expl = Explanation(has_context=False)
    try:
        sections = find_sections(raw)
    except RecursionError:  # pragma: no cover - pathological input
        sections = {}
    for name in ("think", "answer"):
        if name in sections:
            setattr(expl, name, sections[name].content.strip())
    if "explain" in sections:
        _parse_explain(sections["explain"], expl, findings)
    else:
        # A missing section is reported on the text's last line, where it would have to be added.
        findings.append(error("missing_explain", "the text has no <explain> section, so there are no claims to read",
                              max(1, raw.count("\n") + 1)))
    if "dag" in sections:
        _parse_dag(sections["dag"], expl, findings)
    else:
        findings.append(error("missing_dag", "the text has no <dag> section, so the claims are not connected",
                              max(1, raw.count("\n") + 1)))
    return ParseResult(explanation=expl, findings=findings, raw=raw, sections=sections)


# ---------------------------------------------------------------------------------------------
# Writer


def format_value(v: Any) -> str:
    """A value as the text form writes it (Python/JSON-compatible literal)."""
    if isinstance(v, bool):
        return "True" if v else "False"
    if v is None:
        return "None"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(format_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{format_value(str(k))}: {format_value(x)}" for k, x in v.items()) + "}"
    return json.dumps(str(v), ensure_ascii=False)


def format_call(name: str, args: dict[str, Any]) -> str:
    return f"{name}(" + ", ".join(f"{k}={format_value(v)}" for k, v in args.items()) + ")"


def node_to_text(node: Node) -> str:
    """One node as its primitive line."""
    args: dict[str, Any] = {"id": node.id, **node.args}
    if node.via is not None:
        args["via"] = node.via
    if node.confidence is not None:
        args["confidence"] = node.confidence
    return format_call(node.action, args)


def to_text(expl: Explanation) -> str:
    """Write an explanation in the text form; ``parse_text(to_text(e))`` gives ``e`` back."""
    out: list[str] = []
    if expl.think is not None:
        out.append(f"<think>\n{expl.think}\n</think>")
    if expl.answer is not None:
        out.append(f"<answer>\n{expl.answer}\n</answer>")
    body = []
    if expl.has_context:
        ctx = ({"id": expl.context_id} if expl.context_id else {}) | dict(expl.context)
        body.append(format_call("set_context", ctx))
    body.extend(node_to_text(n) for n in expl.nodes)
    out.append("<explain>\n" + "\n".join(body) + "\n</explain>")
    edges = [f"edge({format_value(e.source)}, {format_value(e.target)}, relation={format_value(e.relation)})" for e in expl.edges]
    out.append("<dag>\n" + "\n".join(edges) + ("\n" if edges else "") + "</dag>")
    return "\n".join(out) + "\n"
