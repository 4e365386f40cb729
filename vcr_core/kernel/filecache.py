"""Files that several processes read and write at once: atomic writes and pickled build caches.

Workers, the app and the CLI share ``settings.cache_dir``. A file is always written beside its final
name and renamed into place, so a reader in another process sees the old file or the new one, never
half of one; a cache file that cannot be read (an older class, a crash in a former version) is
built again, never an error.
"""
from __future__ import annotations

import os
import pickle
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator, TypeVar

T = TypeVar("T")


@contextmanager
def atomic_file(path: Path, mode: str = "wb") -> Iterator[IO]:
    """A file to write ``path`` through: a temporary of this process and thread, renamed into place
    when the block ends (and removed when it fails)."""
    path = Path(path)
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


def load_or_build(path: Path, build: Callable[[], T], stamp: Any = None) -> T:
    """The object pickled at ``path`` when it was saved with the same ``stamp`` (a version, the
    sources' modification times, ...); otherwise ``build()``, pickled there for the next time."""
    path = Path(path)
    if path.exists():
        try:
            with open(path, "rb") as fh:
                saved = pickle.load(fh)
            if isinstance(saved, dict) and saved.keys() == {"stamp", "data"} and saved["stamp"] == stamp:
                return saved["data"]
        except Exception:  # noqa: BLE001 - a broken or outdated cache is rebuilt
            pass
    data = build()
    with atomic_file(path) as fh:  # streamed: the NER automaton is hundreds of MB
        pickle.dump({"stamp": stamp, "data": data}, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return data
