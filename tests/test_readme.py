"""Every `python app.py` and `make` line in the README's code blocks, run as written: its command's --help, then a
real short run in a subprocess, so the README cannot drift from the program.

A run happens in a scratch copy of the checkout (app.py, sample_data/ and the Makefile linked in; var/ of its own,
with one stored session so `export 1` has something to export), with these stand-ins for what only a real
installation has:
- the example database server (postgresql://monitor@db.clinics.example/...) -> a SQLite file in the scratch copy;
- /srv/monitor/ -> a folder in the scratch copy, with a devices.toml holding only an HL7 listener;
- the HL7 port 2575 -> a free port; `--port 0` is added to a command that serves the web (the README's 8050 or
  8060 may be in use); a password for `users add` comes on stdin, as the README says it may.
A command that runs until stopped (the clinic, serve, ingest, emulate) is started, waited for until it is ready
(the dashboard answers, "Ingest running", the emulator's pty), then stopped with Ctrl-C, and must exit 0.
`make` lines run as `make --dry-run` in the checkout, and the app.py command they would run is run as above;
`make test` is what CI runs (.ci/run), so it is not run again from inside the suite.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dashboard.cli import COMMANDS

from tests.sessions import severe_bp_session

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DEADLINE_S = 180  # generous: a clinic's first start imports Dash and catches up a simulated hour
PASSWORD = "amber-vessel-71-quietly"
EXAMPLE_SERVER = re.compile(r"postgresql://monitor@db\.clinics\.example/monitor(\?[^'\"\s]*)?")
SERVING = {None, "serve"}  # commands that serve the web: without a command, the clinic
UNTIL_STOPPED = {None, "serve", "ingest", "emulate"}


@dataclass
class Example:
    line: str  # as the README writes it (continuations joined)
    env: dict[str, str] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)  # after `python app.py`, or after `make`
    make: bool = False

    @property
    def command(self) -> str | None:
        words = [word for word in self.argv if not word.startswith("-")]
        return words[0] if words and words[0] in COMMANDS else None


def examples() -> list[Example]:
    found = []
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", README.read_text(), flags=re.M | re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            env = {}
            while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
                name, _, value = words.pop(0).partition("=")
                env[name] = value
            if words[:2] == ["python", "app.py"]:
                found.append(Example(line.strip(), env, words[2:]))
            elif words[:1] == ["make"]:
                found.append(Example(line.strip(), env, words[1:], make=True))
    return found


EXAMPLES = examples()


def test_the_readme_starts_with_its_two_commands_and_shows_every_command():
    first = README.read_text().split("\n## ")[0]
    assert "1. `make run`" in first and "2. `make test`" in first
    shown = {example.command for example in EXAMPLES if not example.make}
    assert set(COMMANDS) - {"record"} <= shown  # record needs a real device: docs/devices.md shows it
    assert any(e.make and e.argv[:1] == ["run"] and any(a.startswith("ARGS=") for a in e.argv) for e in EXAMPLES)


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("seed") / "clinic.db"
    severe_bp_session(db)  # session 1, for `export 1`
    return db


@pytest.fixture
def checkout(tmp_path: Path, seeded_db: Path) -> Path:
    """A scratch copy of the checkout to run README lines in (see the module docstring)."""
    for name in ("app.py", "sample_data", "Makefile", "requirements.txt", "requirements-dev.txt"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "var").mkdir()
    shutil.copy(seeded_db, tmp_path / "var" / "clinic.db")
    shutil.copy(seeded_db, tmp_path / "var" / "network.db")  # the example server's database, at the newest revision
    server = tmp_path / "srv" / "monitor"
    server.mkdir(parents=True)
    (server / "devices.toml").write_text(f"[hl7]\nport = {free_port()}\n")
    return tmp_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def localised(words: list[str], checkout: Path) -> list[str]:
    out = []
    for word in words:
        word = EXAMPLE_SERVER.sub(f"sqlite:///{checkout}/var/network.db", word)
        word = word.replace("/srv/monitor/", f"{checkout}/srv/monitor/")
        out.append(str(free_port()) if word == "2575" else word)
    return out


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.line[:70] for example in EXAMPLES])
def test_readme_line_runs_as_written(example: Example, checkout: Path):
    if example.make:
        argv = _through_make(example)
        if argv is None:
            return
    else:
        argv = example.argv
    env = {**os.environ, **{name: localised([value], checkout)[0] for name, value in example.env.items()}}
    argv = localised(argv, checkout)
    command = Example(example.line, argv=argv).command
    helped = _app(["--help"] if command is None else [command, "--help"], checkout, env)
    assert helped.returncode == 0 and "usage: app.py" in helped.stdout, helped.stderr
    if "--help" in argv:
        return  # the line was the help itself
    if command in SERVING:
        argv = [*argv, "--port", "0"]
    if command in UNTIL_STOPPED:
        _run_until_ready(argv, command, checkout, env)
    else:
        done = _app(argv, checkout, env, stdin=f"{PASSWORD}\n" if argv[:2] in (["users", "add"], ["users", "passwd"])
                    else None)
        assert done.returncode == 0, f"{example.line}\n{done.stdout}\n{done.stderr}"
        _assert_clean(done.stderr)
        if "--out" in argv:  # an export: the file it names, whole (a PDF starts with its header)
            out = argv[argv.index("--out") + 1]
            written = (checkout / out).read_bytes()
            assert written and (not out.endswith(".pdf") or written.startswith(b"%PDF"))


def _through_make(example: Example) -> list[str] | None:
    """The app.py arguments a `make` line runs (None when there is nothing to run here), after checking that
    make knows the target and passes the options."""
    if example.argv[:1] == ["test"]:
        assert "make test" in (ROOT / ".ci" / "run").read_text()  # CI runs exactly this line
        return None
    dry = subprocess.run(["make", "--dry-run", "--no-print-directory", *example.argv], cwd=ROOT, capture_output=True,
                         text=True, timeout=DEADLINE_S)
    assert dry.returncode == 0, dry.stderr
    runs = [shlex.split(line) for line in dry.stdout.splitlines() if " app.py" in line]
    if not runs:
        return None  # `make setup`: .venv only
    run = runs[-1]
    options = next((a.partition("=")[2] for a in example.argv if a.startswith("ARGS=")), "")
    assert run[1:] == ["app.py", *shlex.split(options)], dry.stdout  # make passes ARGS on unchanged
    return run[2:]


def _app(argv: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-W", "error::ResourceWarning", "app.py", *argv], cwd=cwd, env=env,
                          input=stdin, capture_output=True, text=True, timeout=DEADLINE_S)


def _run_until_ready(argv: list[str], command: str | None, cwd: Path, env: dict[str, str]) -> None:
    run_until_ready([sys.executable, "-W", "error::ResourceWarning", "app.py", *argv], command, cwd, env,
                    log=cwd / "var" / "run.log")


def run_until_ready(words: list[str], command: str | None, cwd: Path, env: dict[str, str], log: Path,
                    stop: int = signal.SIGINT) -> None:
    """Runs a long-running command until its output says it is ready, stops it with `stop`, and checks it ended
    cleanly (exit 0, no traceback or warning in its output)."""
    with log.open("w") as out:
        process = subprocess.Popen(words, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + DEADLINE_S
        while not _ready(command, log.read_text()):
            assert process.poll() is None, f"{words} stopped:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"{words} not ready after {DEADLINE_S} s:\n{log.read_text()}"
            time.sleep(0.3)
    finally:
        if process.poll() is None:
            process.send_signal(stop)
        try:
            process.wait(DEADLINE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    output = log.read_text()
    assert process.returncode == 0, f"{words}:\n{output}"
    _assert_clean(output)


def _ready(command: str | None, output: str) -> bool:
    if command == "ingest":
        return "Ingest running" in output
    if command == "emulate":
        return "emulator on" in output
    found = re.search(r"Dashboard: (http://\S+)", output)
    if not found:
        return False
    try:
        with urllib.request.urlopen(found.group(1), timeout=10) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


LIBRARY_INFO = re.compile(r"^[\d-]+ [\d:,]+ INFO (?!dashboard\.|devices\.)", re.M)  # e.g. alembic, werkzeug


def _assert_clean(output: str) -> None:
    """No traceback, no leaked resource, no library's INFO line (they speak from WARNING unless asked), and each
    start line once (Flask's banner and Dash's "Dash is running" not at all)."""
    assert "Traceback" not in output and "ResourceWarning" not in output, output
    assert not LIBRARY_INFO.search(output), output
    assert output.count("Dashboard: http") <= 1 and "Dash is running" not in output and "Serving Flask" not in output
