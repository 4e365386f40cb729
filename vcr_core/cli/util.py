"""What every ``vcr`` sub-command shares: how it is declared, how it fails, and the database it uses.

One way for each: :func:`add_command` declares a sub-command with its help, description and examples;
a handler that cannot go on raises :class:`CommandError` (or lets an expected exception through
:func:`fails_with`), and :func:`vcr_core.cli.main.main` prints ``error: ...`` and exits with its code.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

# Exit codes: 1 for work that failed, 2 for a command line that names nothing usable (argparse's own).
FAILED, USAGE = 1, 2


class CommandError(Exception):
    """A sub-command stops: ``message`` is printed as ``error: message`` and the exit code is ``code``."""

    def __init__(self, message: str, code: int = FAILED) -> None:
        super().__init__(message)
        self.code = code


@contextmanager
def fails_with(*errors: type[BaseException], code: int = FAILED, prefix: str = "") -> Iterator[None]:
    """Turn the expected ``errors`` raised inside the block into a :class:`CommandError` with ``code``."""
    try:
        yield
    except errors as exc:
        raise CommandError(f"{prefix}{exc}", code) from exc


def examples_epilog(examples: Sequence[str]) -> str | None:
    """An argparse epilog listing example command lines."""
    if not examples:
        return None
    return ("example:\n" if len(examples) == 1 else "examples:\n") + "\n".join(f"  {e}" for e in examples)


def add_command(sub: Any, name: str, help: str, *, func: Callable[[argparse.Namespace], int] | None = None,
                description: str | None = None, examples: Sequence[str] = (), epilog: str | None = None,
                ) -> argparse.ArgumentParser:
    """Declare sub-command ``name``: help line, description (defaults to the help line), examples, handler."""
    parser = sub.add_parser(name, help=help, description=description or help[:1].upper() + help[1:] + ".",
                            epilog=epilog or examples_epilog(examples),
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    if func is not None:
        parser.set_defaults(func=func)
    return parser


def add_group(sub: Any, name: str, help: str, *, dest: str, description: str | None = None,
              examples: Sequence[str] = (), epilog: str | None = None) -> tuple[argparse.ArgumentParser, Any]:
    """Declare a command with sub-commands (``vcr db ...``); without one it prints its help."""
    parser = add_command(sub, name, help, description=description, examples=examples, epilog=epilog)
    parser.set_defaults(func=lambda _args: (parser.print_help(), 0)[1])
    return parser, parser.add_subparsers(dest=dest, metavar="SUBCOMMAND")


def require_selection(engine, *, run_id: int | None = None, batch_id: int | None = None,
                      trace_ids: list[int] | None = None) -> None:
    """Stop with a usage error when a named run, batch or trace does not exist."""
    from ..store import missing_selection

    missing = missing_selection(engine, run_id=run_id, batch_id=batch_id, trace_ids=trace_ids)
    if missing:
        raise CommandError(f"there is no {missing}; `vcr runs` and `vcr db batches` list what there is", USAGE)


def engine():
    """The database engine of DATABASE_URL (migrated on first use)."""
    from ..store import get_engine

    return get_engine()
