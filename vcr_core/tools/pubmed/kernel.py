"""Exact Hamming top-k over packed binary codes.

Codes are an ``(N, W)`` array of ``uint64`` (W = bytes per vector / 8). A scan keeps a small
candidate buffer per query: every row whose distance is at most the current k-th best enters the
buffer; when the buffer is full it is compacted to the best k by (distance, PMID), which lowers the
threshold. The scan reads the index once, so it runs at memory speed: the compiled kernel (numba,
with the CPU's popcount instruction) is as fast as a plain read of the array.

Without numba the same algorithm runs in numpy over cache-sized chunks (``np.bitwise_count``),
several times slower but exact.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

# PMIDs share an int64 sort key with the distance (distance << 52 | pmid); real PMIDs are < 2**27.
ID_BITS = 52
ID_LIMIT = 1 << ID_BITS
NUMPY_CHUNK_ROWS = 16384  # 1 MiB of 64-byte codes: stays in L2 while numpy makes its passes

try:  # the compiled kernel; numba is a declared dependency, the numpy path keeps working without it
    from numba import njit, types
    from numba.extending import intrinsic

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only where numba is missing
    HAVE_NUMBA = False


def _buffer_size(k: int) -> int:
    return max(4 * k, 1024)


if HAVE_NUMBA:
    @intrinsic
    def _popcount(typingctx, x):
        """LLVM's ctpop on a uint64: one POPCNT instruction on x86-64 (typed int64 so sums stay integers)."""
        sig = types.int64(types.uint64)

        def codegen(context, builder, signature, args):
            return builder.ctpop(args[0])

        return sig, codegen

    @njit(nogil=True, cache=True)
    def _compact(buf_d, buf_r, n, k, ids):
        """Sort the n buffered candidates by (distance, PMID) and keep the best k in front."""
        keys = np.empty(n, dtype=np.int64)
        for i in range(n):
            keys[i] = (buf_d[i] << 52) | ids[buf_r[i]]
        order = np.argsort(keys, kind="mergesort")
        keep = min(n, k)
        new_d = np.empty(keep, dtype=np.int64)
        new_r = np.empty(keep, dtype=np.int64)
        for i in range(keep):
            new_d[i] = buf_d[order[i]]
            new_r[i] = buf_r[order[i]]
        buf_d[:keep] = new_d
        buf_r[:keep] = new_r
        return keep

    @njit(nogil=True, cache=True)
    def _scan_one(codes, q, start, stop, k, ids, buf_d, buf_r):
        """Top-k rows of codes[start:stop] for one query; returns how many are in the buffers."""
        n_words = codes.shape[1]
        cap = buf_d.shape[0]
        n = 0
        thr = n_words * 64
        for r in range(start, stop):
            d = 0
            for w in range(n_words):
                d += _popcount(codes[r, w] ^ q[w])
            if d <= thr:
                buf_d[n] = d
                buf_r[n] = r
                n += 1
                if n == cap:
                    n = _compact(buf_d, buf_r, n, k, ids)
                    if n >= k:
                        thr = buf_d[k - 1]
        return _compact(buf_d, buf_r, n, k, ids)

    @njit(nogil=True, cache=True)
    def _scan_batch(codes, qs, start, stop, k, ids, buf_d, buf_r, counts):
        """Top-k for several queries in one pass over the rows.

        Rows go through in blocks of 4096, transposed to word-major order so that the distance loop
        over a block runs on contiguous words (SIMD popcount); every query reuses the block from cache.
        """
        n_words = codes.shape[1]
        n_q = qs.shape[0]
        cap = buf_d.shape[1]
        block_rows = 4096
        thr = np.full(n_q, n_words * 64, dtype=np.int64)
        block = np.empty((n_words, block_rows), dtype=np.uint64)
        dist = np.empty(block_rows, dtype=np.int64)
        counts[:] = 0
        for first in range(start, stop, block_rows):
            m = min(block_rows, stop - first)
            for i in range(m):
                for w in range(n_words):
                    block[w, i] = codes[first + i, w]
            for j in range(n_q):
                dist[:m] = 0
                for w in range(n_words):
                    qw = qs[j, w]
                    for i in range(m):
                        dist[i] += _popcount(block[w, i] ^ qw)
                t = thr[j]
                n = counts[j]
                for i in range(m):
                    if dist[i] <= t:
                        buf_d[j, n] = dist[i]
                        buf_r[j, n] = first + i
                        n += 1
                        if n == cap:
                            n = _compact(buf_d[j], buf_r[j], n, k, ids)
                            if n >= k:
                                t = buf_d[j, k - 1]
                thr[j] = t
                counts[j] = n
        for j in range(n_q):
            counts[j] = _compact(buf_d[j], buf_r[j], counts[j], k, ids)

    @njit(nogil=True, cache=True)
    def _read_pass(codes, start, stop):
        """A plain sequential read of codes[start:stop] (the memory-bandwidth floor of a scan)."""
        n_words = codes.shape[1]
        acc = np.zeros(n_words, dtype=np.uint64)
        for r in range(start, stop):
            for w in range(n_words):
                acc[w] ^= codes[r, w]
        return acc[0]


def _split(n: int, parts: int) -> list[tuple[int, int]]:
    bounds = np.linspace(0, n, max(1, parts) + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _merge(parts: list[tuple[np.ndarray, np.ndarray]], ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Merge per-thread (distances, rows) into the global best k by (distance, PMID)."""
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    d = np.concatenate([p[0] for p in parts])
    r = np.concatenate([p[1] for p in parts])
    order = np.lexsort((ids[r], d))[:k]
    return d[order], r[order]


def _check_ids(ids: np.ndarray) -> None:
    if len(ids) and (int(ids.min()) < 0 or int(ids.max()) >= ID_LIMIT):
        raise ValueError(f"PMIDs must lie in [0, 2**{ID_BITS}) for the top-k sort key")


class HammingScanner:
    """Exact top-k search by Hamming distance over ``codes`` (N x W uint64) with ``ids`` (N int64).

    ``threads`` splits the rows into that many contiguous parts searched concurrently (numba releases
    the GIL). ``backend`` is "numba" (default when installed) or "numpy".
    """

    def __init__(self, codes: np.ndarray, ids: np.ndarray, *, threads: int = 2, backend: str | None = None,
                 check_ids: bool = True):
        if codes.ndim != 2 or codes.dtype != np.uint64:
            raise ValueError("codes must be a 2-D uint64 array (rows x 64-bit words)")
        if len(ids) != len(codes):
            raise ValueError(f"{len(codes)} codes but {len(ids)} ids")
        if check_ids:
            _check_ids(ids)
        self.codes = np.asarray(codes)  # a plain ndarray view of a memmap: what the kernel expects
        self.ids = np.asarray(ids)
        self.threads = max(1, threads)
        self.backend = backend or ("numba" if HAVE_NUMBA else "numpy")
        if self.backend == "numba" and not HAVE_NUMBA:
            raise RuntimeError("the numba kernel was asked for but numba is not installed")
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="hamming") if self.threads > 1 else None

    @property
    def n(self) -> int:
        return len(self.codes)

    def _map(self, fn, ranges):
        if self._pool and len(ranges) > 1:
            return list(self._pool.map(lambda ab: fn(*ab), ranges))
        return [fn(*ab) for ab in ranges]

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(distances, rows) of the k nearest codes to ``query`` (W uint64), ties by ascending PMID."""
        q = np.ascontiguousarray(query, dtype=np.uint64).reshape(-1)
        if q.shape[0] != self.codes.shape[1]:
            raise ValueError(f"query has {q.shape[0] * 8} bytes, the index {self.codes.shape[1] * 8}")
        k = max(0, min(int(k), self.n))
        if k == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        scan = self._numba_one if self.backend == "numba" else self._numpy_one
        parts = self._map(lambda a, b: scan(q, a, b, k), _split(self.n, self.threads))
        return _merge(parts, self.ids, k)

    def search_batch(self, queries: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """``search`` for each row of ``queries`` (Q x W) with one pass over the index."""
        qs = np.ascontiguousarray(queries, dtype=np.uint64)
        if qs.ndim != 2 or qs.shape[1] != self.codes.shape[1]:
            raise ValueError("queries must be Q x W uint64 with the index's W")
        k = max(0, min(int(k), self.n))
        if k == 0 or len(qs) == 0:
            return [(np.empty(0, np.int64), np.empty(0, np.int64)) for _ in range(len(qs))]
        if self.backend != "numba":
            return [self.search(q, k) for q in qs]
        parts = self._map(lambda a, b: self._numba_batch(qs, a, b, k), _split(self.n, self.threads))
        return [_merge([p[j] for p in parts], self.ids, k) for j in range(len(qs))]

    def read_pass(self) -> None:
        """Read the whole index once with the same threads (the floor a scan can reach)."""
        if self.backend == "numba":
            self._map(lambda a, b: _read_pass(self.codes, a, b), _split(self.n, self.threads))
        else:
            self._map(lambda a, b: np.bitwise_xor.reduce(self.codes[a:b], axis=0), _split(self.n, self.threads))

    # -- backends
    def _numba_one(self, q, start, stop, k):
        cap = _buffer_size(k)
        buf_d = np.empty(cap, np.int64)
        buf_r = np.empty(cap, np.int64)
        n = _scan_one(self.codes, q, start, stop, k, self.ids, buf_d, buf_r)
        return buf_d[:n].copy(), buf_r[:n].copy()

    def _numba_batch(self, qs, start, stop, k):
        cap = _buffer_size(k)
        buf_d = np.empty((len(qs), cap), np.int64)
        buf_r = np.empty((len(qs), cap), np.int64)
        counts = np.zeros(len(qs), np.int64)
        _scan_batch(self.codes, qs, start, stop, k, self.ids, buf_d, buf_r, counts)
        return [(buf_d[j, :counts[j]].copy(), buf_r[j, :counts[j]].copy()) for j in range(len(qs))]

    def _numpy_one(self, q, start, stop, k):
        best_d = np.empty(0, np.int64)
        best_r = np.empty(0, np.int64)
        thr = self.codes.shape[1] * 64
        scratch = np.empty((NUMPY_CHUNK_ROWS, self.codes.shape[1]), np.uint64)
        for a in range(start, stop, NUMPY_CHUNK_ROWS):
            b = min(a + NUMPY_CHUNK_ROWS, stop)
            x = np.bitwise_xor(self.codes[a:b], q, out=scratch[: b - a])
            d = _popcount_rows(x)
            hit = np.flatnonzero(d <= thr)
            if hit.size == 0:
                continue
            best_d = np.concatenate([best_d, d[hit].astype(np.int64)])
            best_r = np.concatenate([best_r, hit + a])
            if len(best_d) >= k:
                order = np.lexsort((self.ids[best_r], best_d))[:k]
                best_d, best_r = best_d[order], best_r[order]
                thr = int(best_d[-1])
        order = np.lexsort((self.ids[best_r], best_d))[:k]
        return best_d[order], best_r[order]


_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount_rows(x: np.ndarray) -> np.ndarray:
    """Bits set per row of a uint64 matrix, as int32."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).sum(axis=1, dtype=np.int32)
    return _BYTE_POPCOUNT[x.view(np.uint8)].sum(axis=1, dtype=np.int32)  # numpy < 2.0


def hamming_distances(codes: np.ndarray, query: np.ndarray) -> np.ndarray:
    """All distances from ``query`` to every row (brute force; for checks and small indexes)."""
    return _popcount_rows(np.bitwise_xor(codes, np.asarray(query, dtype=np.uint64).reshape(1, -1)))
