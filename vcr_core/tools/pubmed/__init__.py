"""PubMed literature search: the original server, a native binary index, or NCBI E-utilities.

``search_papers(query, k=40)`` uses the configured backend (``PUBMED_BACKEND``) and returns
:class:`Paper` records; ``pubmed_status()`` says whether it can run and which backend is in use.
Heavy parts (numba, the embedding model) load only when the native backend is used.
"""
from .papers import Paper, PubmedError, PubmedUnavailable
from .search import get_backend, pubmed_status, reset_backends, search_papers

__all__ = ["Paper", "PubmedError", "PubmedUnavailable", "get_backend", "pubmed_status", "reset_backends",
           "search_papers"]
