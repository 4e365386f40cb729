"""The HunFlair2 backend: flair's SequenceTagger loaded from a model name or path.

The default model, ``hunflair/hunflair2-ner``, lives on the Hugging Face hub (~434 MB) and cannot be
downloaded on machines without internet; download it elsewhere and set ``HUNFLAIR2_MODEL`` to the
file path. Any flair SequenceTagger with ``ner`` tags works through the same code.
"""
from __future__ import annotations

from pathlib import Path

from .entities import TYPES, Entity


class ModelUnavailable(RuntimeError):
    """The flair model cannot be loaded; the message names it and says how to get it."""


def _type(label: str) -> str:
    low = label.lower()
    for t in TYPES:
        if t.lower() in low.replace("_", "").replace(" ", "") or (t == "CellLine" and "cell" in low):
            return t
    return label


class HunFlairBackend:
    """Tags text with a flair SequenceTagger (HunFlair2 by default)."""

    name = "hunflair2"

    def __init__(self, model: str) -> None:
        try:
            from flair.models import SequenceTagger
        except ImportError as exc:  # pragma: no cover - flair is a dependency
            raise ModelUnavailable(f"flair is not installed: {exc}") from exc
        try:
            self.tagger = SequenceTagger.load(str(model))
        except Exception as exc:  # noqa: BLE001 - any loading failure becomes a plain message
            hint = ("download it on a machine with internet (e.g. python -c \"from flair.models import SequenceTagger; "
                    "SequenceTagger.load('hunflair/hunflair2-ner').save('hunflair2.pt')\") and set HUNFLAIR2_MODEL to the .pt file")
            where = "file" if Path(str(model)).suffix else "model"
            raise ModelUnavailable(f"the HunFlair2 {where} {model!r} could not be loaded ({type(exc).__name__}: {exc}); {hint}") from exc

    def tag(self, text: str) -> list[Entity]:
        from flair.data import Sentence

        if not text.strip():
            return []
        sentence = Sentence(text)
        self.tagger.predict(sentence)
        out = []
        for span in sentence.get_spans(self.tagger.tag_type if hasattr(self.tagger, "tag_type") else "ner"):
            label = span.get_label(self.tagger.tag_type).value if hasattr(self.tagger, "tag_type") else span.tag
            out.append(Entity(span.text, _type(label), span.start_position, span.end_position))
        return out
