"""The command line as people meet it: every --help light and complete, a taken port refused before anything is
written, replay stored whether or not an ingest runs, one log line per fact, and app.py finding its Python."""
from __future__ import annotations

import ast
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dashboard.cli.check import run_check
from dashboard.cli import COMMANDS, main
from dashboard.cli.logs import levels
from dashboard.store import Store
from devices.feed import COLUMNS

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
FEED = ROOT / "sample_data" / "feeds" / "esketamine-severe-peak.csv"
HEAVY = ("dash", "pandas", "sqlalchemy", "plotly", "numpy", "serial", "flask", "alembic")
DEADLINE_S = 120  # generous: these tests must pass with both cores busy


def app(*args: str, cwd: Path = ROOT, **kwargs) -> subprocess.CompletedProcess:
    """`python app.py ARGS` to the end, with ResourceWarnings made errors (printed if any leaks)."""
    return subprocess.run([sys.executable, "-W", "error::ResourceWarning", str(APP), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=DEADLINE_S, **kwargs)


def test_help_of_every_command_answers_and_loads_no_heavy_library():
    """What --help costs is what it imports: none of the heavy libraries, for the top level and every command."""
    code = ("import sys\nfrom dashboard.cli import COMMANDS, main\n"
            "for args in [['--help']] + [[name, '--help'] for name in COMMANDS]:\n"
            "    try:\n        main(args)\n    except SystemExit as done:\n        assert done.code == 0, args\n"
            f"print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=DEADLINE_S)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "LOADED []"
    for name in COMMANDS:
        assert f"\n    {name} " in done.stdout or f"\n    {name}\n" in done.stdout  # listed by the top-level help


def _help(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as done:
        main([*args, "--help"])
    assert done.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines: compare words


def test_users_help_says_how_the_password_is_read_and_what_each_role_may_do(capsys):
    text = _help(capsys, "users")
    assert "without echo from the terminal" in text and "first line" in text and "standard input" in text
    assert "never appears in the command line" in text
    for role in ("nurse", "clinician", "tester", "admin"):
        assert f"{role}:" in text


def test_check_help_gives_the_feed_format_and_where_it_is_written_down(capsys):
    text = _help(capsys, "check")
    assert ",".join(COLUMNS) in text and "docs/feed-format.md" in text
    assert "session_start" in text and "esketamine-84" in text and "--actions" in text


def test_replay_help_says_who_stores_the_replay(capsys):
    text = _help(capsys, "replay")
    assert "heartbeat" in text and "runs the site's ingest itself" in text and "everything it sent is stored" in text


def test_emulate_offers_the_styles_and_segment_ends_the_hl7_sender_knows():
    from dashboard.cli import emulate
    from devices.hl7 import oru

    assert emulate.STYLES == oru.STYLES and emulate.SEGMENT_ENDS == tuple(oru.SEGMENT_ENDS)


def _taken_port() -> socket.socket:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    return holder


@pytest.mark.parametrize("command", [[], ["serve", "--no-simulator"]])
def test_a_taken_web_port_stops_the_program_before_it_writes_anything(command, tmp_path: Path):
    with _taken_port() as holder:
        port = holder.getsockname()[1]
        done = app(*command, "--port", str(port), "--database", str(tmp_path / "var" / "clinic.db"), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]  # one line
    assert f"port {port} is in use" in done.stderr and "--port N" in done.stderr
    assert list(tmp_path.iterdir()) == []  # no database, no folder, no secret file: nothing written
    assert done.stdout == ""  # and nothing started


def test_a_taken_hl7_port_stops_ingest_before_it_writes_anything(tmp_path: Path):
    with _taken_port() as holder:
        port = holder.getsockname()[1]
        done = app("ingest", "--no-simulator", "--hl7-port", str(port), "--database", str(tmp_path / "x.db"),
                   cwd=tmp_path)
    assert done.returncode == 2 and f"port {port} is in use" in done.stderr and "--hl7-port N" in done.stderr
    assert list(tmp_path.iterdir()) == []


def _stored_history(db: Path, sid: int) -> list[tuple]:
    store = Store.open(db)
    try:
        return [(a["offset_s"], a["code"], a["state"], a["priority"], a["value"]) for a in store.alarms_of(sid)]
    finally:
        store.close()


EXPECTED = [(t.offset_s, t.code, t.state, t.priority, t.value) for t in run_check(FEED).transitions]


def test_replay_with_no_ingest_running_runs_the_fold_itself_and_stores_what_check_prints(tmp_path: Path):
    db = tmp_path / "clinic.db"
    done = app("replay", str(FEED), "--speed", "max", "--chair", "Chair 9", "--database", str(db))
    assert done.returncode == 0, done.stderr
    assert "no ingest is running for site main" in done.stderr and "ResourceWarning" not in done.stderr
    assert "Chair 9: session 1 done" in done.stdout and f"{len(EXPECTED)} alarm transitions stored" in done.stdout
    assert _stored_history(db, 1) == EXPECTED


def test_replay_leaves_the_fold_to_the_site_ingest_that_runs(tmp_path: Path):
    db = tmp_path / "clinic.db"
    ingest = subprocess.Popen([sys.executable, str(APP), "ingest", "--no-simulator", "--database", str(db)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + DEADLINE_S
        line = ""
        while "Ingest running" not in line:
            line = ingest.stdout.readline()
            assert line and time.monotonic() < deadline, "ingest did not start"
        while not _heartbeat(db):  # its first commit: from now on it is seen as alive
            assert ingest.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        done = app("replay", str(FEED), "--speed", "max", "--chair", "Chair 9", "--database", str(db))
    finally:
        ingest.send_signal(signal.SIGINT)
        output = ingest.communicate(timeout=DEADLINE_S)[0]
    assert done.returncode == 0, done.stderr
    assert "no ingest is running" not in done.stderr
    assert f"{len(EXPECTED)} alarm transitions stored" in done.stdout
    assert _stored_history(db, 1) == EXPECTED
    assert ingest.returncode == 0, output


def _heartbeat(db: Path) -> bool:
    if not db.exists():
        return False
    store = Store.open(db)
    try:
        return bool(store.heartbeats())
    finally:
        store.close()


def test_a_migration_is_one_line_when_it_runs_and_none_when_the_database_is_current(tmp_path: Path):
    db = str(tmp_path / "clinic.db")
    first = app("db", "upgrade", "--database", db)
    assert first.returncode == 0, first.stderr
    lines = [line for line in first.stderr.splitlines() if "INFO" in line]
    assert len(lines) == 1 and "database schema created at revision" in lines[0], first.stderr
    assert "alembic" not in first.stderr  # the library's own lines only with -v
    again = app("db", "upgrade", "--database", db)
    assert again.returncode == 0 and "INFO" not in again.stderr, again.stderr
    verbose = app("-v", "db", "current", "--database", db)
    assert "alembic.runtime.migration" in verbose.stderr  # asked for: the library speaks


def test_log_levels_from_the_options_and_the_environment(capsys):
    assert levels(0, None) == (logging.INFO, logging.WARNING)  # ours at INFO, libraries from WARNING
    assert levels(1, None) == (logging.INFO, logging.INFO)
    assert levels(2, "ERROR") == (logging.DEBUG, logging.DEBUG)  # the option wins
    assert levels(0, "debug") == (logging.DEBUG, logging.DEBUG)
    assert levels(0, "loud") == (logging.INFO, logging.WARNING) and "MONITOR_LOG_LEVEL" in capsys.readouterr().err


def test_a_missing_feed_is_one_line_and_status_2(tmp_path: Path):
    done = app("check", str(tmp_path / "none.csv"))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "cannot read feed" in done.stderr


def test_check_prints_a_reading_before_the_session_start_at_its_own_negative_time(tmp_path: Path):
    """A BP taken 16 s before session_start reads -0:16, not -1:44 (divmod floors a negative)."""
    feed = tmp_path / "presession.csv"
    feed.write_text(",".join(COLUMNS) + "\n-16,nibp,192,121,,88,,,\n0,,,,,,,session_start,esketamine-84\n"
                    "30,oximeter,,,,80,97,,\n", encoding="utf-8")
    done = app("check", str(feed))
    assert done.returncode == 0, done.stderr
    lines = [line.split() for line in done.stdout.splitlines()]
    assert {line[0] for line in lines if "bp.severe" in line} == {"-0:16"}
    from dashboard.cli.check import clock

    assert [clock(s) for s in (-16, -60, -61.5, -0.4, 0, 59.9, 3725)] == ["-0:16", "-1:00", "-1:01", "0:00", "0:00",
                                                                           "0:59", "62:05"]


# ---- app.py finds its Python ------------------------------------------------------------------------------

def test_app_py_stays_readable_by_old_pythons():
    ast.parse(APP.read_text(), feature_version=(3, 4))  # no f-strings, walrus or match at its top level...
    assert "from __future__ import annotations" not in APP.read_text()  # ...which 3.6 and older cannot compile


def test_an_old_python_gets_one_line():
    code = ("import runpy, sys\nsys.version_info = (3, 10, 13)\nsys.argv = ['app.py', '--help']\n"
            f"runpy.run_path({str(APP)!r}, run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=DEADLINE_S)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "needs Python 3.11 or newer" in done.stderr
    assert "make setup" in done.stderr


BASE_PYTHON = Path(sys.base_prefix, "bin", "python3")  # an interpreter that is not a virtual environment


@pytest.mark.skipif(not BASE_PYTHON.exists(), reason="no base interpreter beside this virtual environment")
def test_app_py_runs_itself_with_the_project_venv_keeping_its_arguments_and_flags(tmp_path: Path):
    shutil.copy(APP, tmp_path / "app.py")
    venv_python = tmp_path / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text('#!/bin/sh\necho ".venv python:" "$@"\n')
    venv_python.chmod(0o755)
    done = subprocess.run([str(BASE_PYTHON), "-W", "error::ResourceWarning", "app.py", "--port", "8060", "--speed", "10"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=DEADLINE_S, env=_without_venv())
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [".venv", "python:", "-Werror::ResourceWarning", str(tmp_path / "app.py"),
                                   "--port", "8060", "--speed", "10"]


@pytest.mark.skipif(not BASE_PYTHON.exists(), reason="no base interpreter beside this virtual environment")
def test_without_a_venv_or_the_packages_app_py_says_to_run_make_setup(tmp_path: Path):
    lacks = subprocess.run([str(BASE_PYTHON), "-c", "import dash"], capture_output=True, env=_without_venv())
    if lacks.returncode == 0:
        pytest.skip("the base interpreter has the monitor's packages itself")
    shutil.copy(APP, tmp_path / "app.py")
    done = subprocess.run([str(BASE_PYTHON), "app.py", "--help"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=DEADLINE_S, env=_without_venv())
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "make setup" in done.stderr


def _without_venv() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
