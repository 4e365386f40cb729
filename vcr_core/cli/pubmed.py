"""``vcr pubmed``: build a native index, serve it, search, and show which backend is in use."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .util import USAGE, CommandError, add_command, add_group, fails_with

EPILOG = """\
examples:
  vcr pubmed build-index --db pubmed_data.db --out pubmed_index
        embed every article (title + abstract) with all-MiniLM-L6-v2; Ctrl-C and run again to resume
  vcr pubmed serve --index pubmed_index --db pubmed_data.db --port 8003
        answer POST /find_matches {"query", "k"} and POST /embed as the original servers did
  vcr pubmed search "imatinib, ABL1, K562" -k 5
        search with the configured backend (PUBMED_BACKEND, PUBMED_SERVER_URL, PUBMED_INDEX_DIR + PUBMED_DB)
  vcr pubmed status
        which backend would run, or why none can"""


def register(subparsers) -> None:
    """Add ``vcr pubmed ...`` to the ``vcr`` command."""
    _, sub = add_group(subparsers, "pubmed", "PubMed literature search: build/serve a native index, search",
                       dest="pubmed_command", epilog=EPILOG,
                       description="PubMed literature search without Julia: a native binary index in the original "
                                   "pubmed-vectors layout, its /find_matches server, and search through the configured "
                                   "backend.")

    b = add_command(sub, "build-index", "embed an SQLite articles database into a binary index (resumable)",
                    func=cmd_build,
                    description="Embed the articles of an SQLite file with the table articles(pmid TEXT PRIMARY KEY, "
                                "title, authors, abstract, publication_year) and write data.bin (16-byte header, "
                                "packed bits), ids.bin (int64 PMIDs), floats.f16 (for re-ranking) and meta.json. "
                                "Every batch is committed: after an interruption, the same command resumes.",
                    examples=("vcr pubmed build-index --db pubmed_data.db --out pubmed_index",
                              "vcr pubmed build-index --db small.db --out idx --embedder hashing:256 --no-floats"))
    b.add_argument("--db", required=True, type=Path, help="SQLite articles database")
    b.add_argument("--out", required=True, type=Path, help="index directory (created; resumed when unfinished)")
    b.add_argument("--embedder", default="minilm",
                   help="'minilm' (all-MiniLM-L6-v2, 48-byte codes; default), 'hashing:D', or an embed server URL")
    b.add_argument("--batch-size", type=int, default=256, help="articles embedded and committed at a time (default 256)")
    b.add_argument("--no-floats", action="store_true",
                   help="do not store float16 vectors (saves dims x 2 bytes per article; disables re-ranking)")
    b.add_argument("--restart", action="store_true", help="discard an unfinished or different index in --out")
    b.add_argument("--limit", type=int, default=None, help="index at most this many more articles (for trials)")

    s = add_command(sub, "serve", "serve /find_matches and /embed over a native index", func=cmd_serve,
                    description="Serve the original fast-search contract: POST /find_matches {\"query\": str, "
                                "\"k\": 1..100} -> [{pmid, distance, authors, title, abstract, publication_year}], "
                                "POST /embed {\"text\"} -> {embedding, binary_embedding}, GET /health. Errors are "
                                "plain text (400 bad request, 502 embedder failed, 500 other).",
                    examples=("vcr pubmed serve --index pubmed_index --db pubmed_data.db",
                              "PUBMED_SERVER_URL=http://127.0.0.1:8003 vcr pubmed search \"tamoxifen, MCF7\""))
    s.add_argument("--index", required=True, type=Path, help="index directory (data.bin, ids.bin)")
    s.add_argument("--db", required=True, type=Path, help="SQLite articles database")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8003, help="port (default 8003, as the original)")
    s.add_argument("--embedder", default=None,
                   help="query embedder; default: the one in meta.json (an original index needs its embed server URL)")
    s.add_argument("--no-rerank", action="store_true", help="plain Hamming ranking even when float vectors exist")
    s.add_argument("--threads", type=int, default=2, help="search threads (default 2)")
    s.add_argument("--in-memory", action="store_true", help="read the index into RAM instead of memory-mapping it")

    q = add_command(sub, "search", "search PubMed with the configured backend (or the one given)", func=cmd_search,
                    description="Search with PUBMED_BACKEND (auto: server, native, or E-utilities) unless "
                                "--server or --index/--db is given.",
                    examples=('vcr pubmed search "imatinib, ABL1, K562" -k 5 --json',))
    q.add_argument("query", help="entity names joined by commas, or free text")
    q.add_argument("-k", type=int, default=10, help="number of papers (default 10)")
    q.add_argument("--server", default=None, help="a /find_matches server URL")
    q.add_argument("--index", type=Path, default=None, help="a native index directory (with --db)")
    q.add_argument("--db", type=Path, default=None, help="the articles database (with --index)")
    q.add_argument("--json", action="store_true", help="print JSON rows instead of a table")

    add_command(sub, "status", "which PubMed backend runs here, or why none can", func=cmd_status,
                examples=("OFFLINE=true vcr pubmed status",))


def cmd_build(args: argparse.Namespace) -> int:
    from ..tools.pubmed.build import build_index
    from ..tools.pubmed.embed import EmbedderError
    from ..tools.pubmed.index import IndexFormatError
    from ..tools.pubmed.papers import PubmedUnavailable

    if args.batch_size < 1:
        raise CommandError("--batch-size must be at least 1", USAGE)
    try:
        with fails_with(PubmedUnavailable, IndexFormatError, EmbedderError):
            summary = build_index(args.db, args.out, embedder=args.embedder, batch_size=args.batch_size,
                                  store_floats=not args.no_floats, restart=args.restart, limit=args.limit,
                                  progress=True)
    except KeyboardInterrupt:
        print(f"\ninterrupted: every finished batch is saved; run the same command again to resume ({args.out})",
              file=sys.stderr)
        return 130
    state = "complete" if summary.complete else "partial (run again to continue)"
    print(f"{summary.out}: {summary.count:,} articles indexed ({summary.added:,} added now, {summary.skipped:,} "
          f"skipped without text or numeric PMID) in {summary.seconds:.1f} s; index {state}.")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ..tools.pubmed.native import NativeSearcher
    from ..tools.pubmed.papers import PubmedUnavailable
    from ..tools.pubmed.server import serve

    with fails_with(PubmedUnavailable):
        searcher = NativeSearcher(args.index, args.db, embedder=args.embedder, rerank=not args.no_rerank,
                                  threads=args.threads, in_memory=args.in_memory)
    print(f"serving {searcher.describe()} on http://{args.host}:{args.port}", file=sys.stderr)
    serve(searcher, host=args.host, port=args.port)
    return 0


def _backend_from_args(args: argparse.Namespace):
    if args.server:
        from ..tools.pubmed.client import FindMatchesClient

        return FindMatchesClient(args.server)
    if args.index or args.db:
        if not (args.index and args.db):
            raise ValueError("--index and --db go together")
        from ..tools.pubmed.native import NativeSearcher

        return NativeSearcher(args.index, args.db)
    return None


def cmd_search(args: argparse.Namespace) -> int:
    from ..tools.pubmed.papers import PubmedError
    from ..tools.pubmed.search import pubmed_status, search_papers

    with fails_with(ValueError, code=USAGE), fails_with(PubmedError):
        backend = _backend_from_args(args)
        papers = search_papers(args.query, args.k, backend=backend)
    if args.json:
        print(json.dumps([p.to_dict() for p in papers], indent=2, ensure_ascii=False))
        return 0
    if not papers:
        print("no papers found")
        return 0
    if backend is None:
        print(f"# {pubmed_status().detail or ''}")
    for i, p in enumerate(papers, 1):
        dist = "" if p.distance is None else f"  d={p.distance:g}"
        print(f"{i:>3}. PMID {p.pmid} ({p.year or 'n.d.'}){dist}  {p.title}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from ..tools.pubmed.search import get_backend, pubmed_status

    backend = get_backend()
    st = pubmed_status(backend)
    if st.available:
        print(f"PubMed search available: {st.detail}")
        return 0
    print(f"PubMed search unavailable: {st.reason}")
    return 1
