"""The ``vcr`` command.

Each feature area registers its own sub-commands (``register(subparsers)``) in its own module, listed as
an entry point of the group ``vcr.commands`` in pyproject.toml (a plug-in package adds its own the same
way), so the command grows without one file everyone edits. A sub-command's handler takes the parsed
arguments and returns the exit code.
"""
from __future__ import annotations

import argparse
import sys

# The built-in command groups (``vcr.commands`` entry points) in --help order; plug-ins follow.
BUILTIN_ORDER = ("core", "preprocess", "tools", "pubmed", "jobs", "verify", "export")

EPILOG = """\
examples:
  vcr ingest records.json --name "Tahoe pilot"     store a file of perturbation records
  vcr preprocess --batch 1                          find entities and PubChem data
  vcr generate --batch 1 --tool_list '["kg-ner"]'   generate explanations
  vcr verify --run 1                                check every claim
  vcr export --verified-only -o approved.jsonl      export approved traces

Every command reads DATABASE_URL (default: an SQLite file in your user data directory) and the
other settings from the environment or a .env file; see the README."""


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="vcr",
        description="VCR Curation: generate, verify and curate mechanistic explanations of perturbations.",
        epilog=EPILOG,
        formatter_class=_Formatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from ..kernel.registry import COMMANDS, load, names

    found = names(COMMANDS)
    for name in [n for n in BUILTIN_ORDER if n in found] + [n for n in found if n not in BUILTIN_ORDER]:
        try:
            register = load(COMMANDS, name)
        except ModuleNotFoundError as exc:  # an area not in this build (its optional dependency is absent)
            print(f"note: `vcr` commands of {name!r} are unavailable: {exc}", file=sys.stderr)
            continue
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``vcr`` console script."""
    from ..kernel.redact import install_log_redaction

    install_log_redaction()  # no log line of any command carries a key fragment
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    import os

    from ..kernel.failures import one_line
    from .util import CommandError

    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `vcr ... | head`: the reader left; not an error of the command
        sys.stderr.close()
        return 0
    except Exception as exc:  # every failure a user meets is one line (kernel/failures.py); no traceback
        if os.environ.get("VCR_DEBUG"):
            raise
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
