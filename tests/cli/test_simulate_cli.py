"""`python app.py simulate`: deterministic feeds per seed, one file or a batch, clear errors."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.cli import main as cli_main
from dashboard.cli.check import run_check
from devices.feed import read_feed
from devices.readings import Reading, SessionEvent
from devices.simulator import SCENARIOS
from tests.waits import DEADLINE_S

ROOT = Path(__file__).resolve().parents[2]


def simulate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "app.py", "simulate", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=DEADLINE_S)


def run(tmp_path: Path, *args: str, seed: int = 0, name: str = "feed.csv") -> bytes:
    """`simulate ARGS --seed SEED --out tmp/NAME` in this process; the file's bytes."""
    out = tmp_path / name
    assert cli_main(["simulate", *args, "--seed", str(seed), "--out", str(out)]) == 0
    return out.read_bytes()


def test_same_seed_gives_the_same_bytes_and_another_seed_different_ones(tmp_path):
    first = run(tmp_path, "--scenario", "esketamine-84-typical", seed=5, name="a.csv")
    assert run(tmp_path, "--scenario", "esketamine-84-typical", seed=5, name="b.csv") == first
    assert run(tmp_path, "--scenario", "esketamine-84-typical", seed=6, name="c.csv") != first
    done = simulate("--scenario", "esketamine-84-typical", "--seed", "5")  # another process, to stdout
    assert done.returncode == 0, done.stderr
    assert done.stdout.encode() == first


def test_the_file_is_a_valid_feed_of_the_scenario(tmp_path):
    run(tmp_path, "--scenario", "bradycardia", seed=3)
    feed = read_feed(tmp_path / "feed.csv")
    assert feed.problems == [] and feed.protocol == SCENARIOS["bradycardia"].protocol
    assert "hr.low" in {t.code for t in run_check(tmp_path / "feed.csv").transitions}
    assert not list(tmp_path.glob("*.part"))  # written via a temporary name, nothing left over


def test_batch_writes_one_valid_feed_per_seed_named_to_sort(tmp_path):
    out_dir = tmp_path / "batch"
    done = simulate("--scenario", "esketamine-56-quiet", "--seed", "8", "--count", "3", "--out-dir", str(out_dir),
                    "--jobs", "2")
    assert done.returncode == 0, done.stderr
    names = sorted(path.name for path in out_dir.iterdir())
    assert names == ["esketamine-56-quiet-08.csv", "esketamine-56-quiet-09.csv", "esketamine-56-quiet-10.csv"]
    assert "3/3" in done.stderr and "wrote 3 feed(s)" in done.stderr  # the progress bar and the summary
    for seed, name in zip((8, 9, 10), names):
        feed = read_feed(out_dir / name)
        assert feed.problems == [] and feed.protocol == "esketamine-56"
        assert (out_dir / name).read_bytes() == run(tmp_path, "--scenario", "esketamine-56-quiet", seed=seed)
    again = tmp_path / "again"  # one process or two: the same files
    assert cli_main(["simulate", "--scenario", "esketamine-56-quiet", "--seed", "8", "--count", "3",
                     "--out-dir", str(again), "--jobs", "1"]) == 0
    assert [(again / n).read_bytes() for n in names] == [(out_dir / n).read_bytes() for n in names]


def test_list_prints_every_scenario_with_its_description(capsys):
    assert cli_main(["simulate", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(SCENARIOS)
    for line, scn in zip(lines, SCENARIOS.values()):
        assert line.endswith(scn.description)


def test_protocol_and_knobs_shape_the_session(tmp_path):
    run(tmp_path, "--protocol", "esketamine-84", "--baseline-sbp", "120", "--baseline-dbp", "76",
        "--rise-sbp", "46", "--rise-dbp", "28", "--baseline-hr", "70:74", "--hr-change", "0", "--hr-trend", "-2")
    codes = {t.code for t in run_check(tmp_path / "feed.csv").transitions if t.state == "raised"}
    assert codes == {"bp.rise", "bp.high"}
    run(tmp_path, "--protocol", "iv-ketamine", "--minutes", "150", "--oximeter-period", "5", "--no-discharge",
        name="iv.csv")
    items = read_feed(tmp_path / "iv.csv").items
    assert isinstance(items[0], SessionEvent) and items[0].detail == "iv-ketamine"
    assert not [i for i in items if isinstance(i, SessionEvent) and i.kind == "discharge"]
    oximeter = [i.offset_s or 0 for i in items if isinstance(i, Reading) and i.source == "oximeter"]
    assert {b - a for a, b in zip(oximeter, oximeter[1:])} == {5.0} and oximeter[-1] >= 150 * 60 - 5


def test_artifact_rate_and_dropout_are_knobs(tmp_path):
    run(tmp_path, "--scenario", "esketamine-84-quiet", "--artifact-rate", "0.5", "--dropout", "0.2")
    items = read_feed(tmp_path / "feed.csv").items
    assert [i for i in items if isinstance(i, SessionEvent) and i.kind == "nibp_failed"]
    seconds = [i.offset_s or 0 for i in items if isinstance(i, Reading) and i.source == "oximeter"]
    assert 0.1 < 1 - len(seconds) / seconds[-1] < 0.3


@pytest.mark.parametrize("args,message", [
    (["--scenario", "propofol"], "unknown scenario 'propofol'"),
    (["--count", "3", "--out", "x.csv"], "give --out-dir"),
    (["--count", "0", "--out-dir", "x"], "--count must be at least 1"),
    (["--seed", "-1"], "--seed must be 0 or more"),
    (["--dose-at", "60"], "no room for two pre-dose BP readings"),
    (["--rise-sbp", "50:40"], "runs backwards"),
    (["--rise-sbp", "lots"], "neither a number nor a range"),
    (["--artifact-rate", "1.5"], "a rate is a fraction in [0, 1)"),
    (["--oximeter-period", "0"], "--oximeter-period must be positive"),
    (["--scenario", "bradycardia", "--protocol", "iv-ketamine"], "not allowed with argument"),
    (["--out", "a.csv", "--out-dir", "b"], "not allowed with argument"),
    (["--config", "missing.toml"], "missing.toml"),
])
def test_bad_arguments_exit_2_with_a_clear_message(args, message, capsys, monkeypatch):
    """In this process (a subprocess each costs seconds of start-up; test_help_... and the batch test run it as one)."""
    monkeypatch.chdir(ROOT)
    try:
        code = cli_main(["simulate", *args])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert message in err


def test_help_explains_the_command():
    done = simulate("--help")
    assert done.returncode == 0
    assert "--count" in done.stdout and "--out-dir" in done.stdout and "same bytes" in done.stdout
