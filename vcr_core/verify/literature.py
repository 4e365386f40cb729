"""The literature verifier: abstracts for a claim's entities, the sentences where both occur, and
(with a model) a judge whose every citation must be found verbatim in its abstract."""
from __future__ import annotations

import re
from typing import Any, Callable

from .base import CONTRADICTED, SUPPORTED, UNVERIFIABLE, ClaimContext, ClaimVerdict, entity_names, json_object_in
from .evidence import PmidSentence, RejectedCitation

NAME, VERSION = "literature", "1"
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])")

JUDGE_PROMPT = """You check one mechanistic claim against sentences from PubMed abstracts.
Claim: {claim}

Sentences (each with the PMID of its abstract):
{sentences}

Answer with JSON only: {{"verdict": "supports" | "contradicts" | "no evidence", "citations": [{{"pmid": "...", "sentence": "..."}}]}}.
Cite only sentences listed above, copied exactly. If none of them decides the claim, answer "no evidence"."""


def sentences_with(abstract: str, a: str, b: str) -> list[str]:
    """Sentences of ``abstract`` that mention both ``a`` and ``b`` (case-insensitive, whole words)."""
    pa = re.compile(rf"(?<!\w){re.escape(a)}(?!\w)", re.IGNORECASE)
    pb = re.compile(rf"(?<!\w){re.escape(b)}(?!\w)", re.IGNORECASE)
    return [s.strip() for s in _SENT.split(abstract or "") if pa.search(s) and pb.search(s)]


def _default_search() -> Callable | None:
    try:
        from ..tools.pubmed import search_papers
    except ImportError:
        return None
    return search_papers


def _default_judge() -> Callable | None:
    try:
        from ..llm import complete, model_available
    except ImportError:
        return None
    choice = model_available()
    if choice is None or choice.is_local:  # the tiny local model cannot judge evidence; co-occurrence is more honest
        return None

    def judge(prompt: str) -> str:
        return complete([{"role": "user", "content": prompt}], model_choice=choice, purpose="judge", max_tokens=600).text

    return judge


class LiteratureVerifier:
    """Co-occurrence evidence from abstracts, judged by a model when one is available."""

    name, version = NAME, VERSION
    source = 'PubMed abstracts (the configured literature backend)'  # named in every unverifiable verdict (runner.note_sources)

    def __init__(self, search: Callable | None = None, judge: Callable[[str], str] | None | bool = True, k: int = 20) -> None:
        self.search = search if search is not None else _default_search()
        self.judge = _default_judge() if judge is True else (judge or None)
        self.k = k

    def applies(self, node) -> bool:
        return len({n.lower() for _, n in entity_names(node) if _ != "ontology_id"}) >= 2

    def _pair(self, node) -> tuple[str, str]:
        names: list[str] = []
        for _, n in entity_names(node):
            if n.lower() not in [x.lower() for x in names]:
                names.append(n)
        return names[0], names[1]

    def verify(self, ctx: ClaimContext) -> ClaimVerdict:
        if self.search is None:
            return ClaimVerdict(UNVERIFIABLE, 0.0, [], "no literature backend is installed")
        a, b = self._pair(ctx.node)
        try:
            papers = self.search(f"{a} {b}", self.k)
        except Exception as exc:  # noqa: BLE001 - PubmedUnavailable / PubmedError / network: say why
            return ClaimVerdict(UNVERIFIABLE, 0.0, [], f"literature search unavailable: {exc}")
        found: list[dict[str, Any]] = []
        abstracts: dict[str, str] = {}
        for p in papers or []:
            pmid, abstract = str(getattr(p, "pmid", "") or p.get("pmid")), getattr(p, "abstract", None) or ""
            abstracts[pmid] = abstract
            for s in sentences_with(abstract, a, b):
                found.append(PmidSentence(pmid=pmid, sentence=s, title=getattr(p, "title", "")).store())
        if not found:
            return ClaimVerdict(UNVERIFIABLE, 0.0, [], f"no abstract among {len(papers or [])} mentions both {a} and {b}")
        if self.judge is None:
            return ClaimVerdict(SUPPORTED, min(0.4, 0.1 * len(found)), found[:10],
                                f"{len(found)} sentence(s) mention both {a} and {b} (co-occurrence only; no model to judge)")
        return self._judged(ctx, found, abstracts)

    def _judged(self, ctx: ClaimContext, found: list[dict], abstracts: dict[str, str]) -> ClaimVerdict:
        from ..formalism import node_to_text

        listing = "\n".join(f"- PMID {f['pmid']}: {f['sentence']}" for f in found[:15])
        try:
            answer = json_object_in(self.judge(JUDGE_PROMPT.format(claim=node_to_text(ctx.node), sentences=listing)))
        except Exception as exc:  # noqa: BLE001 - judge failed: keep co-occurrence evidence, scored low
            return ClaimVerdict(SUPPORTED, min(0.3, 0.1 * len(found)), found[:10], f"the judge failed ({exc}); co-occurrence only")
        if not answer:
            return ClaimVerdict(UNVERIFIABLE, 0.0, found[:10], "the judge's answer was not readable JSON")
        accepted, rejected = [], []
        for c in answer.get("citations") or []:
            pmid, sent = str(c.get("pmid", "")).replace("PMID", "").strip(), str(c.get("sentence", "")).strip()
            if sent and sent in abstracts.get(pmid, ""):
                accepted.append(PmidSentence(pmid=pmid, sentence=sent, cited_by="judge").store())
            else:
                rejected.append(RejectedCitation(pmid=pmid, sentence=sent, reason="not found verbatim in that abstract").store())
        verdict = str(answer.get("verdict", "")).lower()
        if verdict.startswith("support") and accepted:
            return ClaimVerdict(SUPPORTED, min(0.9, 0.5 + 0.1 * len(accepted)), accepted + rejected, f"the judge cites {len(accepted)} sentence(s) in support")
        if verdict.startswith("contradict") and accepted:
            return ClaimVerdict(CONTRADICTED, min(0.9, 0.5 + 0.1 * len(accepted)), accepted + rejected, f"the judge cites {len(accepted)} sentence(s) against the claim")
        why = "every citation was rejected" if rejected and not accepted else "the judge found no evidence"
        return ClaimVerdict(UNVERIFIABLE, 0.0, found[:5] + rejected, why)
