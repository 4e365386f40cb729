"""``vcr pubmed serve``: the original fast-search server contract over a native index.

* ``POST /find_matches {"query": str, "k": 1..100}`` -> list sorted by distance of
  ``{pmid, distance, authors, title, abstract, publication_year}``;
* ``POST /embed {"text": str}`` -> ``{"embedding": [floats], "binary_embedding": [byte values]}``;
* ``GET /health`` -> what is loaded.

Errors are plain text, as in the original: 400 for a bad request, 502 when the embedder (for an
original index, the embedding server) fails, 500 for anything else.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse

from .embed import EmbedderError
from .papers import PubmedError

MAX_K = 100
log = logging.getLogger(__name__)


class BadRequest(ValueError):
    """The request body is not what the contract asks for."""


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw or b"null")
    except ValueError as exc:
        raise BadRequest(f"the body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest('the body must be a JSON object, e.g. {"query": "imatinib, K562", "k": 40}')
    return data


def _parse_find(data: dict[str, Any]) -> tuple[str, int]:
    query = data.get("query")
    if not isinstance(query, str) or not query.strip():
        raise BadRequest('"query" must be a non-empty string')
    k = data.get("k", 40)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise BadRequest(f'"k" must be an integer from 1 to {MAX_K}')
    return query, k


def create_app(searcher) -> FastAPI:
    """The FastAPI app over ``searcher`` (a NativeSearcher or anything with search/embed/describe)."""
    app = FastAPI(title="VCR PubMed search", description="The original /find_matches contract over a native index.")

    async def guarded(fn, *args):
        try:
            return await run_in_threadpool(fn, *args)
        except BadRequest as exc:
            return PlainTextResponse(str(exc), status_code=400)
        except EmbedderError as exc:
            return PlainTextResponse(f"embedding failed: {exc}", status_code=502)
        except PubmedError as exc:
            return PlainTextResponse(str(exc), status_code=500)
        except Exception as exc:  # noqa: BLE001 - the contract is plain-text 500, never a traceback page
            log.exception("search failed")
            return PlainTextResponse(f"internal error: {type(exc).__name__}: {exc}", status_code=500)

    @app.post("/find_matches")
    async def find_matches(request: Request):
        try:
            query, k = _parse_find(await _body(request))
        except BadRequest as exc:
            return PlainTextResponse(str(exc), status_code=400)

        def run():
            return [p.to_match() for p in searcher.search(query, k)]

        result = await guarded(run)
        return result if isinstance(result, PlainTextResponse) else JSONResponse(result)

    @app.post("/embed")
    async def embed(request: Request):
        try:
            data = await _body(request)
        except BadRequest as exc:
            return PlainTextResponse(str(exc), status_code=400)
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            return PlainTextResponse('"text" must be a non-empty string', status_code=400)

        def run():
            vec, code = searcher.embed(text)
            return {"embedding": [round(float(x), 7) for x in vec], "binary_embedding": [int(b) for b in code]}

        result = await guarded(run)
        return result if isinstance(result, PlainTextResponse) else JSONResponse(result)

    @app.get("/health")
    async def health():
        return {"status": "ok", "index": searcher.describe()}

    return app


def serve(searcher, host: str = "127.0.0.1", port: int = 8003, log_level: str = "info") -> None:
    """Run the server in the foreground (Ctrl-C stops it)."""
    import uvicorn

    uvicorn.run(create_app(searcher), host=host, port=port, log_level=log_level)
