"""The one way a `vcr` sub-command is declared and fails (vcr_core/cliutil.py)."""
from __future__ import annotations

import argparse

import pytest

from vcr_core.cli import main as cli
from vcr_core.cli.util import USAGE, CommandError, add_command, add_group, fails_with


def test_fails_with_turns_expected_errors_into_command_errors():
    with pytest.raises(CommandError) as info:
        with fails_with(KeyError, code=USAGE, prefix="lookup: "):
            raise KeyError("x")
    assert info.value.code == USAGE and str(info.value) == "lookup: 'x'"
    with pytest.raises(ZeroDivisionError):  # an unexpected error is not hidden
        with fails_with(KeyError):
            1 / 0


def test_add_command_declares_help_examples_and_handler():
    parser = argparse.ArgumentParser(prog="vcr")
    sub = parser.add_subparsers(dest="command")
    p = add_command(sub, "thing", "do a thing", func=lambda a: 7, examples=("vcr thing", "vcr thing --x"))
    assert p.description == "Do a thing." and p.epilog == "examples:\n  vcr thing\n  vcr thing --x"
    assert parser.parse_args(["thing"]).func(None) == 7
    group, gsub = add_group(sub, "grp", "a group", dest="grp_command", examples=("vcr grp one",))
    gsub.add_parser("one")
    assert group.epilog == "example:\n  vcr grp one"


def test_main_prints_the_error_and_exits_with_its_code(monkeypatch, capsys):
    def build_parser():
        parser = argparse.ArgumentParser(prog="vcr")
        sub = parser.add_subparsers(dest="command")

        def handler(_args):
            raise CommandError("there is no batch 9", USAGE)

        add_command(sub, "boom", "fail on purpose", func=handler)
        return parser

    monkeypatch.setattr(cli, "build_parser", build_parser)
    assert cli.main(["boom"]) == USAGE
    assert capsys.readouterr().err.strip() == "error: there is no batch 9"
