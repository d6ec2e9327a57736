"""`app.py regress`: every scenario against its expected file; a changed expectation is caught and named."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.waits import DEADLINE_S

ROOT = Path(__file__).resolve().parents[2]
FEEDS = ROOT / "sample_data" / "feeds"


def regress(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "app.py", "regress", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=DEADLINE_S)


def test_the_shipped_scenarios_pass():
    result = regress()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed" in result.stdout and "esketamine-severe-peak" in result.stdout


def test_an_altered_expected_file_fails_with_its_first_difference(tmp_path: Path):
    for name in ("oximeter-hold", "iv-quiet"):
        shutil.copy(FEEDS / f"{name}.csv", tmp_path)
        shutil.copy(FEEDS / f"{name}.expected.jsonl", tmp_path)
    expected = tmp_path / "oximeter-hold.expected.jsonl"
    lines = [json.loads(line) for line in expected.read_text().splitlines()]
    lines[0]["offset_s"] += 1  # the spo2.low raise one second later than the engine says
    expected.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    report = tmp_path / "report.html"
    result = regress(str(tmp_path), "--html", str(report))
    assert result.returncode == 1
    row = next(line for line in result.stdout.splitlines() if line.startswith("oximeter-hold"))
    assert "FAIL" in row and "#1: expected 511s spo2.low raised (medium)" in row and "got 510s" in row
    assert next(line for line in result.stdout.splitlines() if line.startswith("iv-quiet")).split()[3] == "pass"
    text = report.read_text()
    assert "FAIL" in text and text.count("plotly") > 1 and "oximeter-hold" in text


def test_a_missing_transition_is_reported(tmp_path: Path):
    shutil.copy(FEEDS / "predose-high.csv", tmp_path)
    lines = (FEEDS / "predose-high.expected.jsonl").read_text().splitlines()
    (tmp_path / "predose-high.expected.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    result = regress(str(tmp_path))
    assert result.returncode == 1 and "extra" in result.stdout


def test_nothing_to_run_exits_2(tmp_path: Path):
    assert regress(str(tmp_path)).returncode == 2
