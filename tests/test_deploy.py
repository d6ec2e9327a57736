"""The deployment kit works as written: the README's production lines (`python3 /opt/monitor/app.py ...`) and the
systemd units' ExecStart lines (deploy/*.service) run as written, from a folder that is not the checkout, with the
stand-ins below; docs/deploy.md names only files that exist.

Stand-ins for what only a real installation has (as tests/test_readme.py does for the README's other lines):
- /opt/monitor/ -> this checkout (its .venv is the one app.py switches to: `python3` here is the system's);
- /srv/monitor/ and /etc/monitor/ -> folders in a scratch directory; the units' EnvironmentFile is
  deploy/monitor.env, localised the same way;
- the example PostgreSQL server -> a SQLite file; the ports 8050 and 2575 -> 0 (any free port) and a free port.
A line that runs until stopped (ingest, serve) is started, waited for until it is ready (the dashboard answers,
"Ingest running"), then stopped as its manager stops it (Ctrl-C for the README's, the unit's KillSignal for a
unit's), and must exit 0 without a traceback.
"""
from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.test_readme import EXAMPLE_SERVER, PASSWORD, _assert_clean, free_port, run_until_ready

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DEPLOY = ROOT / "deploy"
DEADLINE_S = 180
PYTHON3 = shutil.which("python3")
UNTIL_STOPPED = {"serve", "ingest"}


@dataclass
class Line:
    words: list[str]  # as written, after the environment assignments
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None  # the block's last `cd` before it

    @property
    def command(self) -> str:
        return next(word for word in self.words[2:] if not word.startswith("-"))


def readme_lines() -> list[Line]:
    """Every `python3 /opt/monitor/app.py` line of the README's code blocks, with the block's `cd` and `export`."""
    found = []
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", README.read_text(), flags=re.M | re.S):
        cwd, exported = None, {}
        for text in block.replace("\\\n", " ").splitlines():
            words = shlex.split(text, comments=True)
            if words[:1] == ["cd"]:
                cwd = words[1]
                continue
            if words[:1] == ["export"]:
                exported.update(word.split("=", 1) for word in words[1:])
                continue
            env = dict(exported)
            while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
                name, _, value = words.pop(0).partition("=")
                env[name] = value
            if words[:2] == ["python3", "/opt/monitor/app.py"]:
                found.append(Line(words, env, cwd))
    return found


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / name)
    return parser


LINES = readme_lines()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """The scratch directory standing in for the host's /srv/monitor and /etc/monitor."""
    (tmp_path / "srv" / "monitor").mkdir(parents=True)
    (tmp_path / "etc" / "monitor").mkdir(parents=True)
    (tmp_path / "srv" / "monitor" / "devices.toml").write_text(f"[hl7]\nport = {free_port()}\n")
    return tmp_path


def localised(word: str, site: Path) -> str:
    word = EXAMPLE_SERVER.sub(f"sqlite:///{site}/srv/monitor/network.db", word)
    word = word.replace("/opt/monitor/", f"{ROOT}/").replace("/srv/monitor", f"{site}/srv/monitor")
    word = word.replace("/etc/monitor/", f"{site}/etc/monitor/")
    return {"8050": "0", "2575": str(free_port())}.get(word, word)


def test_the_readme_shows_the_production_lines():
    commands = [line.command for line in LINES]
    for needed in ("users", "ingest", "serve", "db", "audit"):
        assert needed in commands, needed
    assert all(line.cwd and not line.cwd.startswith("/opt/monitor") for line in LINES if line.cwd)


@pytest.mark.skipif(PYTHON3 is None, reason="no python3 on PATH")
def test_the_readme_production_lines_run_as_written_outside_the_checkout(site: Path):
    env = {**os.environ, "PATH": _without_venv(os.environ.get("PATH", ""))}
    for line in LINES:
        cwd = Path(localised(line.cwd, site)) if line.cwd else site
        assert ROOT not in (cwd, *cwd.parents)
        words = [localised(word, site) for word in line.words]
        line_env = {**env, **{name: localised(value, site) for name, value in line.env.items()}}
        if line.command in UNTIL_STOPPED:
            run_until_ready(words, line.command, cwd, line_env, log=cwd / f"{line.command}.log")
        else:
            stdin = f"{PASSWORD}\n" if line.command == "users" else None
            done = subprocess.run(words, cwd=cwd, env=line_env, input=stdin, capture_output=True, text=True,
                                  timeout=DEADLINE_S)
            assert done.returncode == 0, f"{shlex.join(line.words)}\n{done.stdout}\n{done.stderr}"
            _assert_clean(done.stderr)
    assert (site / "srv" / "monitor" / "backup" / "clinic-copy.db").exists()
    assert (site / "srv" / "monitor" / "secret").exists() and (site / "srv" / "monitor" / "audit_key").exists()


@pytest.mark.parametrize("name", ["monitor-ingest.service", "monitor-web.service"])
def test_a_unit_runs_as_written_and_stops_on_its_kill_signal(name: str, site: Path):
    service = unit(name)["Service"]
    assert service["Restart"] == "on-failure" and service["User"] == "monitor"
    assert service["StandardOutput"] == service["StandardError"] == "journal"
    env_file = Path(localised(service["EnvironmentFile"], site))
    env_file.write_text(localised_text((DEPLOY / "monitor.env").read_text(), site))
    env = {**os.environ, "PATH": _without_venv(os.environ.get("PATH", "")), **_env_file(env_file)}
    env.pop("MONITOR_TRUSTED_PROXIES")  # the test reaches the web directly, without the proxy
    cwd = Path(localised(service["WorkingDirectory"], site))
    words = [localised(word, site) for word in shlex.split(service["ExecStart"])]
    assert Path(words[0]).exists(), words[0]  # the checkout's .venv python, as the unit names it
    command = "serve" if "serve" in words else "ingest"
    run_until_ready(words, command, cwd, env, log=cwd / f"{command}.log", stop=getattr(signal, service["KillSignal"]))
    assert (cwd / "secret").exists() or command == "ingest"


def test_the_backup_unit_runs_as_written(site: Path, monkeypatch: pytest.MonkeyPatch):
    """Its commands in order, as systemd runs them (%% is a percent sign), on a clinic with a session: a dated
    copy in backup/, the old ones pruned, the audit chains verified."""
    from dashboard.store import Store

    service = unit("monitor-backup.service")["Service"]
    assert service["Type"] == "oneshot" and unit("monitor-backup.timer")["Timer"]["Persistent"] == "true"
    env_file = Path(localised(service["EnvironmentFile"], site))
    env_file.write_text(localised_text((DEPLOY / "monitor.env").read_text(), site))
    env = {**os.environ, "PATH": _without_venv(os.environ.get("PATH", "")), **_env_file(env_file)}
    cwd = Path(localised(service["WorkingDirectory"], site))
    (cwd / "backup").mkdir()
    monkeypatch.setenv("MONITOR_AUDIT_KEY_FILE", env["MONITOR_AUDIT_KEY_FILE"])  # the site's key, as ingest has it
    store = Store.open(cwd / "clinic.db")
    store.submit_action(store.create_session(chair="C1", patient_label="P", protocol="esketamine",
                                             started_at=1.0e9), "note", "nurse1")
    store.close()
    commands = [line.split("=", 1)[1] for line in (DEPLOY / "monitor-backup.service").read_text().splitlines()
                if line.startswith("ExecStart=")]
    assert [c for c in commands if "db backup" in c] and commands[-1].split()[2:4] == ["audit", "verify"]
    for text in commands:
        words = [localised(word, site) for word in shlex.split(text.replace("%%", "%"))]
        done = subprocess.run(words, cwd=cwd, env=env, capture_output=True, text=True, timeout=DEADLINE_S)
        assert done.returncode == 0, f"{text}\n{done.stdout}\n{done.stderr}"
    [copy] = (cwd / "backup").glob("clinic-*.db")
    assert re.fullmatch(r"clinic-\d{8}-\d{4}\.db", copy.name)


def test_the_files_the_docs_name_exist():
    named = set(re.findall(r"deploy/[\w.*-]+", (ROOT / "docs" / "deploy.md").read_text() + README.read_text()))
    assert {"deploy/monitor-web.service", "deploy/postgres-grants.sql"} <= named
    assert all(list(ROOT.glob(path.rstrip("."))) for path in named), named  # a pattern: at least one file


def localised_text(text: str, site: Path) -> str:
    return "\n".join(" ".join(localised(word, site) for word in line.split(" ")) for line in text.splitlines())


def _env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {name: value for name, value in pairs}


def _without_venv(path: str) -> str:
    """PATH as a service or an administrator's shell has it: no virtualenv's bin first."""
    return os.pathsep.join(part for part in path.split(os.pathsep) if not (Path(part) / "activate").exists())
