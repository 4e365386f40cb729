"""Every failure a user meets is one line: bad settings, a full disk, paths that name no file."""
from __future__ import annotations

import errno

import pytest
import sqlalchemy as sa

from vcr_core.cli import main as cli
from vcr_core.kernel.failures import one_line, user_message
from vcr_core.kernel.settings import SettingsError, get_settings


@pytest.mark.parametrize("env, named", [({"CONSENSUS": "three"}, "CONSENSUS is 'three'"),
                                        ({"LEASE_S": "abc"}, "LEASE_S is 'abc'"),
                                        ({"LEASE_S": "-5"}, "LEASE_S is '-5'"),
                                        ({"MAX_UPLOAD_MB": "0"}, "MAX_UPLOAD_MB is '0'")])
def test_a_bad_setting_is_one_line_naming_it(monkeypatch, env, named):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    with pytest.raises(SettingsError) as info:
        get_settings()
    line = str(info.value)
    assert named in line and "\n" not in line and "errors.pydantic" not in line


@pytest.mark.parametrize("argv, env", [(["db", "rebuild-state"], {"CONSENSUS": "three"}),
                                       (["db", "info"], {"LEASE_S": "abc"})])
def test_cli_reports_bad_settings_without_a_traceback(monkeypatch, capsys, argv, env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and "Traceback" not in err
    assert list(env)[0] in err


def test_consensus_is_read_case_insensitively(monkeypatch):
    monkeypatch.setenv("CONSENSUS", " Two_Agree ")
    get_settings.cache_clear()
    assert get_settings().consensus == "two_agree"


def test_a_full_sqlite_database_is_one_line_without_sql_or_text(tmp_path):
    """A real 'database or disk is full': a database capped at a few pages (SQLite's max_page_count)."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'small.db'}")
    secret = "RECORD-TEXT-" + "x" * 5000
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v TEXT)")
    with pytest.raises(sa.exc.OperationalError) as info:
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA max_page_count = 3")
            for _ in range(50):
                conn.execute(sa.text("INSERT INTO t VALUES (:v)"), {"v": secret})
    line = user_message(info.value)
    assert line.startswith("the disk holding") and "free space and retry; nothing was lost" in line
    assert "INSERT" not in line and "RECORD-TEXT" not in line and "\n" not in line


@pytest.mark.parametrize("exc, expected", [
    (OSError(errno.ENOSPC, "No space left on device", "/data/out.jsonl"), "the disk holding /data/out.jsonl is full"),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "/tmp"), "/tmp is a directory"),
    (FileNotFoundError(errno.ENOENT, "No such file", "/no/such/dir/x.json"), "the directory /no/such/dir does not exist"),
    (FileExistsError(errno.EEXIST, "exists", "/tmp/x.jsonl"), "add --force"),
])
def test_os_errors_become_one_line(exc, expected):
    assert expected in user_message(exc)


def test_text_postgresql_cannot_store_is_one_line():
    class DataError(Exception):
        pass
    DataError.__module__ = "psycopg"
    err = sa.exc.DataError("INSERT INTO curation (note) VALUES (%(note)s)", {"note": "secret\x00"},
                           DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"))
    line = one_line(err)
    assert "cannot store this text" in line and "INSERT" not in line and "secret" not in line


def test_unknown_failures_are_one_line_too(monkeypatch, capsys):
    def boom(_args):
        raise RuntimeError("first line\nsecond line")
    monkeypatch.setattr(cli, "build_parser", _parser_with(boom))
    assert cli.main(["boom"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: unexpected RuntimeError: first line (set VCR_DEBUG=1 to see where)"


def _parser_with(func):
    import argparse

    def build():
        p = argparse.ArgumentParser(prog="vcr")
        sub = p.add_subparsers(dest="command")
        sub.add_parser("boom").set_defaults(func=func)
        return p
    return build
