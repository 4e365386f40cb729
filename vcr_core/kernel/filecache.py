"""Files that several processes read and write at once: atomic writes and pickled build caches.

Workers, the app and the CLI share ``settings.cache_dir``. A file is always written beside its final
name and renamed into place, so a reader in another process sees the old file or the new one, never
half of one; a cache file that cannot be read (an older class, a crash in a former version) is
built again, never an error.
"""
from __future__ import annotations

import errno
import gc
import os
import pickle
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator, TypeVar

T = TypeVar("T")


@contextmanager
def atomic_file(path: Path, mode: str = "wb", *, make_parents: bool = True) -> Iterator[IO]:
    """A file to write ``path`` through: a temporary of this process and thread, renamed into place
    when the block ends (and removed when it fails, so a failure part-way keeps the old file).
    ``make_parents=False``: a missing directory is an error (``FileNotFoundError``) rather than created."""
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as fh:
            yield fh
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` atomically."""
    with atomic_file(path, "w" if isinstance(data, str) else "wb") as fh:
        fh.write(data)


_GC_LOCK = threading.Lock()
_GC_PAUSES = [0]


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while the block builds or unpickles millions of small objects
    (name indexes, vocabularies): each collection would walk all of them again, which took more than half
    of such a load (the matcher's indexes: 3.2 s with, 0.7 s without). Nested and threaded uses count, so
    the collector is on again only when the last block ends (and only if it was on before the first)."""
    with _GC_LOCK:
        if _GC_PAUSES[0] == 0:
            _GC_PAUSES.append(gc.isenabled())
            gc.disable()
        _GC_PAUSES[0] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_PAUSES[0] -= 1
            if _GC_PAUSES[0] == 0 and _GC_PAUSES.pop():
                gc.enable()


def file_stamp(*paths: Path) -> tuple:
    """(path, size, modification time in ns) of each file: a cache key that changes when a source does
    (a missing file is keyed as missing, so its later appearance rebuilds too)."""
    out = []
    for p in paths:
        try:
            st = Path(p).stat()
            out.append((str(p), st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((str(p), None, None))
    return tuple(out)


def load_or_build(path: Path, build: Callable[[], T], stamp: Any = None) -> T:
    """The object pickled at ``path`` when it was saved with the same ``stamp`` (a version, the
    sources' modification times, ...); otherwise ``build()``, pickled there for the next time.
    The file is read with the garbage collector paused (:func:`gc_paused`); ``build`` pauses it itself
    where that helps (a build may make garbage the collector should find)."""
    path = Path(path)
    if path.exists():
        try:
            with open(path, "rb") as fh, gc_paused():
                saved = pickle.load(fh)
            if isinstance(saved, dict) and saved.keys() == {"stamp", "data"} and saved["stamp"] == stamp:
                return saved["data"]
        except Exception:  # noqa: BLE001 - a broken or outdated cache is rebuilt
            pass
    data = build()
    with atomic_file(path) as fh:  # streamed: the NER automaton is hundreds of MB
        pickle.dump({"stamp": stamp, "data": data}, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return data


@contextmanager
def output_file(path: Path, *, force: bool = False, mode: str = "wb") -> Iterator[IO]:
    """An output a user named (``vcr export -o``): written through a temporary beside it and moved into
    place, so a failure part-way (a full disk) keeps the old file and leaves no partial one.

    Refused with the ordinary ``OSError`` kinds (``kernel.failures`` gives each one line): an existing
    file unless ``force`` (``FileExistsError``), a directory (``IsADirectoryError``), a missing directory
    (``FileNotFoundError``; never created). A device or pipe (``/dev/stdout``, ``/dev/full``) is written
    directly: there is no file to keep and no directory to put a temporary in."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
    if path.exists() and not path.is_file():
        with open(path, mode) as fh:
            yield fh
        return
    if not path.parent.is_dir():
        raise (NotADirectoryError(errno.ENOTDIR, "not a directory", str(path)) if path.parent.exists()
               else FileNotFoundError(errno.ENOENT, "no such directory", str(path)))
    if path.exists() and not force:
        raise FileExistsError(errno.EEXIST, "exists", str(path))
    with atomic_file(path, mode, make_parents=False) as fh:
        yield fh
