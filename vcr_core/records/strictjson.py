"""Strict, streaming JSON reading for input files.

Strict: UTF-8 only (a UTF-16 file or a bad byte is named), no NaN/Infinity and no number that
overflows to infinity (``1e999``), no lone surrogate (``"\\ud800"``) in any key or text, no key
repeated within an object. Each problem carries the record position and the field path.

Streaming: a top-level list is read one element at a time with the standard library's C decoder
(``raw_decode``) over a sliding text buffer, so memory holds one record, not the file; one record
may not exceed ``max_item_mb``. (ijson's fast yajl backend was considered and rejected: it silently
turns a lone surrogate into "?".)
"""
from __future__ import annotations

import codecs
import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import IO, Any, Iterator

from ..kernel.textsafe import unstorable_reason

CHUNK = 1 << 20
_WS = re.compile(r"[ \t\n\r]*")


class _NonFinite:
    """Stands in for a number that is not finite, so the walk can report where it was."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class _Pairs(dict):
    """A decoded object that remembers the keys it saw twice."""

    __slots__ = ("dups",)


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict:
    out = _Pairs()
    dups = []
    for k, v in pairs:
        if k in out:
            dups.append(k)
        out[k] = v
    out.dups = dups
    return out


def _float(text: str) -> Any:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


DECODER = json.JSONDecoder(object_pairs_hook=_pairs_hook, parse_float=_float, parse_constant=_NonFinite)


def _bad_text(s: str) -> bool:
    if s.isascii():
        return "\x00" in s
    return unstorable_reason(s) is not None


def _why(s: str) -> str:
    return unstorable_reason(s) or "is not text"


def check_value(obj: Any, root: str = "") -> list[tuple[str, str]]:
    """(field path, message) for every strictness problem in a decoded value (none: safe to store).

    Iterative, so deep nesting cannot overflow the stack.
    """
    problems: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(obj, root)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            for k in getattr(value, "dups", ()):
                problems.append((f"{path}.{k}" if path else k, "key appears twice in the same object (which one is meant?)"))
            for k, v in value.items():
                sub = f"{path}.{k}" if path else str(k)
                if _bad_text(k):
                    problems.append((path or "(top)", f"a key {_why(k)}"))
                if isinstance(v, (dict, list)):
                    stack.append((v, sub))
                elif isinstance(v, str):
                    if _bad_text(v):
                        problems.append((sub, _why(v)))
                elif isinstance(v, _NonFinite):
                    problems.append((sub, f"{v.text} is not a finite number (use null for a missing number)"))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                sub = f"{path}[{i}]"
                if isinstance(v, (dict, list)):
                    stack.append((v, sub))
                elif isinstance(v, str) and _bad_text(v):
                    problems.append((sub, _why(v)))
                elif isinstance(v, _NonFinite):
                    problems.append((sub, f"{v.text} is not a finite number (use null for a missing number)"))
        elif isinstance(value, str) and _bad_text(value):
            problems.append((path or "(top)", _why(value)))
        elif isinstance(value, _NonFinite):
            problems.append((path or "(top)", f"{value.text} is not a finite number"))
    return problems


class JsonFileError(ValueError):
    """The file cannot be read as JSON from here on; ``position`` is the record where it failed."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


@dataclass
class Item:
    """One top-level element: its position and decoded value (``top_level`` for a non-list file)."""

    position: int
    value: Any
    top_level: str = "list"


class StreamReader:
    """Reads the elements of a top-level JSON list one by one from a binary stream (see module doc)."""

    def __init__(self, stream: IO[bytes], *, max_item_mb: float = 64.0, chunk: int = CHUNK) -> None:
        self.stream = stream
        self.chunk = chunk
        self.max_item_chars = int(max_item_mb * 1024 * 1024)
        self.sha = hashlib.sha256()
        self.bytes_read = 0
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.lines_dropped = 0
        self._dec = None
        self._started = False

    # -- buffer ---------------------------------------------------------------------------------
    def _fill(self, size: int | None = None) -> bool:
        if self.eof:
            return False
        data = self.stream.read(max(size or 0, self.chunk))
        if not self._started:
            self._started = True
            if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
                raise JsonFileError("the file is UTF-16 text; save it as UTF-8 and upload again")
            self._dec = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self.sha.update(data)
        final = not data
        try:
            text = self._dec.decode(data, final=final)
        except UnicodeDecodeError as exc:
            raise JsonFileError(f"the file is not UTF-8 text (byte {self.bytes_read + max(exc.start, 0)} cannot be "
                                "decoded); save it as UTF-8 and upload again") from exc
        self.bytes_read += len(data)
        if final:
            self.eof = True
        if self.pos > self.chunk and self.pos * 2 > len(self.buf):  # drop what is behind us
            self.lines_dropped += self.buf.count("\n", 0, self.pos)
            self.buf = self.buf[self.pos:]
            self.pos = 0
        self.buf += text
        return bool(data)

    def _skip_ws(self) -> str:
        """The next non-blank character ('' at the end of the file), without consuming it."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return ""

    def _where(self, at: int) -> str:
        line = self.lines_dropped + self.buf.count("\n", 0, at) + 1
        col = at - self.buf.rfind("\n", 0, at)
        return f"line {line}, column {col}"

    def _decode_value(self, position: int | None) -> Any:
        while True:
            try:
                value, end = DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                incomplete = exc.msg.startswith("Unterminated string") or exc.pos >= len(self.buf) - 6
                if not incomplete or self.eof:
                    at_end = exc.msg.startswith("Unterminated string") or exc.pos >= len(self.buf.rstrip())
                    hint = "; the file ends inside a value: is it truncated?" if self.eof and at_end else ""
                    raise JsonFileError(f"not valid JSON: {exc.msg} at {self._where(exc.pos)}{hint}", position) from None
                self._grow(position)
                continue
            except RecursionError:
                raise JsonFileError("the JSON is nested too deeply to read", position) from None
            except ValueError as exc:  # e.g. an integer with more digits than Python converts
                raise JsonFileError(f"a value cannot be read: {exc}", position) from None
            if end >= len(self.buf) and not self.eof:  # a number may continue in the next chunk
                self._grow(position)
                continue
            if end - self.pos > self.max_item_chars:
                raise JsonFileError(f"one record is larger than {self.max_item_chars / 1024 / 1024:g} MB", position)
            self.pos = end
            return value

    def _grow(self, position: int | None) -> None:
        have = len(self.buf) - self.pos
        if have > self.max_item_chars:
            raise JsonFileError(f"one record is larger than {self.max_item_chars / 1024 / 1024:g} MB "
                                "(or its JSON never closes)", position)
        target = max(2 * have, self.chunk)
        while len(self.buf) - self.pos < target and self._fill(target - (len(self.buf) - self.pos)):
            pass

    # -- elements -------------------------------------------------------------------------------
    def items(self) -> Iterator[Item]:
        """Every element of the top-level list, or the single top-level value (``top_level`` says which)."""
        first = self._skip_ws()
        if first == "":
            raise JsonFileError("the file is empty")
        if first != "[":
            value = self._decode_value(0)
            if self._skip_ws() != "":
                raise JsonFileError(f"not valid JSON: extra data after the value at {self._where(self.pos)}")
            yield Item(0, value, top_level=type(value).__name__ if not isinstance(value, dict) else "object")
            return
        self.pos += 1
        position = 0
        if self._skip_ws() == "]":
            self.pos += 1
        else:
            while True:
                value = self._decode_value(position)
                yield Item(position, value)
                position += 1
                c = self._skip_ws()
                if c == ",":
                    self.pos += 1
                    if self._skip_ws() == "]":
                        raise JsonFileError(f"not valid JSON: a comma before ']' at {self._where(self.pos)}", position)
                    continue
                if c == "]":
                    self.pos += 1
                    break
                if c == "":
                    raise JsonFileError("not valid JSON: the file ends inside the list; is it truncated?", position)
                raise JsonFileError(f"not valid JSON: expected ',' or ']' at {self._where(self.pos)}", position)
        if self._skip_ws() != "":
            raise JsonFileError(f"not valid JSON: extra data after the list at {self._where(self.pos)}")
        # read to the end so the hash covers every byte
        while self._fill():
            pass


def loads_strict(data: bytes) -> tuple[Any, list[tuple[str, str]]]:
    """Decode a whole small document strictly: (value, [(path, message)]). Raises JsonFileError."""
    import io

    reader = StreamReader(io.BytesIO(data), max_item_mb=max(64.0, len(data) / 1024 / 1024 + 1))
    items = list(reader.items())
    if len(items) == 1 and items[0].top_level != "list":
        value = items[0].value
    else:
        value = [it.value for it in items]
    return value, check_value(value)
