"""The sample feeds give the alarms their expected files record, and those make clinical sense."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.cli.check import CheckResult, run_check
from dashboard.engine import PHYSIOLOGICAL
from devices.feed import read_feed
from devices.readings import Reading, SessionEvent
from tests.waits import DEADLINE_S

ROOT = Path(__file__).resolve().parent.parent
FEEDS = ROOT / "sample_data" / "feeds"
ALL_FEEDS = sorted(FEEDS.glob("*.csv"))
REQUIRED = {"iv-quiet", "esketamine-severe-peak", "predose-high", "implausible-readings", "oximeter-hold"}
KEY = ("offset_s", "code", "state", "priority", "source")
MIN = 60.0


def expected(feed: Path) -> list[dict]:
    lines = feed.with_suffix(".expected.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def check(name: str) -> CheckResult:
    return run_check(FEEDS / f"{name}.csv")


def transitions(name: str) -> list[tuple]:
    return [(t.offset_s, t.code, t.state, t.priority) for t in check(name).transitions]


def event_at(name: str, kind: str) -> float:
    items = read_feed(FEEDS / f"{name}.csv").items
    return next(i.offset_s for i in items if isinstance(i, SessionEvent) and i.kind == kind) or 0.0


def test_every_required_feed_is_there_with_its_expected_file():
    assert REQUIRED <= {feed.stem for feed in ALL_FEEDS}
    assert all(feed.with_suffix(".expected.jsonl").is_file() for feed in ALL_FEEDS)
    assert all(feed.stat().st_size < 1_000_000 for feed in ALL_FEEDS)


@pytest.mark.parametrize("feed", ALL_FEEDS, ids=lambda p: p.stem)
def test_check_gives_the_expected_transitions_in_order(feed):
    got = [tuple(t.to_dict()[k] for k in KEY) for t in run_check(feed).transitions]
    assert got == [tuple(row[k] for k in KEY) for row in expected(feed)]


@pytest.mark.parametrize("feed", ALL_FEEDS, ids=lambda p: p.stem)
def test_cli_prints_the_expected_lines_and_exits_0(feed):
    done = subprocess.run([sys.executable, "app.py", "check", str(feed), "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=DEADLINE_S)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == feed.with_suffix(".expected.jsonl").read_text().splitlines()


def test_the_malformed_row_is_reported_with_its_line_and_the_rest_used():
    feed = FEEDS / "implausible-readings.csv"
    lines = feed.read_text().splitlines()
    bad_line = next(n for n, line in enumerate(lines, start=1) if ",abc," in line)
    assert bad_line == 49
    result = run_check(feed)
    assert [(p.line, p.reason) for p in result.problems] == [(49, "sbp 'abc' is not a number")]
    assert len(read_feed(feed).items) == len(lines) - 2  # all but the header and the bad row
    done = subprocess.run([sys.executable, "app.py", "check", str(feed)], cwd=ROOT, capture_output=True,
                          text=True, timeout=DEADLINE_S)
    assert done.returncode == 0 and "line 49: sbp 'abc' is not a number (row skipped)" in done.stderr


@pytest.mark.parametrize("content,message", [
    ("hello, this is a note\nnot a feed\n", "header lacks column"),
    ("offset_s,source,sbp,dbp,map,hr,spo2,event,detail\n60,nibp,120,80,,,,,\n", "no valid session_start"),
])
def test_cli_exits_2_with_a_message_for_a_file_that_is_not_a_feed(tmp_path, content, message):
    path = tmp_path / "notes.csv"
    path.write_text(content)
    done = subprocess.run([sys.executable, "app.py", "check", str(path), "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=DEADLINE_S)
    assert done.returncode == 2 and done.stdout == ""
    assert str(path) in done.stderr and message in done.stderr


# ---- the expected files, read clinically (docs/clinical.md) -----------------------------------


def test_iv_quiet_raises_nothing_and_is_ready_an_hour_after_the_infusion():
    infusion_end = event_at("iv-quiet", "infusion_end")
    assert transitions("iv-quiet") == [
        (infusion_end + 60 * MIN, "observation.ready", "event", "info"),
        (event_at("iv-quiet", "discharge"), "observation.complete", "event", "info"),
    ]


def test_severe_peak_is_high_then_severe_and_clears_as_it_decays():
    name = "esketamine-severe-peak"
    dose = event_at(name, "dose_start")
    out = check(name).transitions
    bps = [i for i in read_feed(FEEDS / f"{name}.csv").items if isinstance(i, Reading) and i.sbp is not None]
    peak = max(bps, key=lambda r: r.sbp or 0)
    assert 30 * MIN <= (peak.offset_s or 0) - dose <= 50 * MIN and (peak.sbp or 0) >= 185
    severe = [(t.offset_s, t.state) for t in out if t.code == "bp.severe"]
    assert [state for _, state in severe] == ["raised", "escalated", "cleared", "latched", "cleared"]
    assert severe[0][0] <= (peak.offset_s or 0) < severe[2][0]  # the condition holds at the peak reading
    assert severe[1][0] == severe[0][0] + 60  # nobody acknowledged it within a minute
    assert severe[3][0] == severe[2][0]  # high priority: still shown once the BP is below 180/110
    raised = {t.code: t.offset_s for t in reversed(out) if t.state == "raised"}  # first raise of each
    assert raised["bp.high"] < raised["bp.severe"] and "bp.rise" in raised
    cleared = {t.code: t.offset_s for t in out if t.state == "cleared" and "session ended" not in t.message}
    assert {"bp.high", "bp.severe", "bp.rise"} <= set(cleared)  # the last condition clear of each
    assert max(cleared.values()) - dose <= 90 * MIN  # back down within about 1.5 h
    # nobody acknowledged the latched severe alarm: never ready, and the discharge logs it left unacknowledged
    assert not [t for t in out if t.code == "observation.ready"]
    assert "latched alarm unacknowledged" in [t for t in out if t.code == "bp.severe"][-1].message
    assert not [t for t in out if t.code in ("bp.predose_high", "hr.high", "hr.low", "spo2.low")]


def test_predose_high_alarms_before_the_dose_and_clears_at_it():
    dose = event_at("predose-high", "dose_start")
    out = transitions("predose-high")
    assert out[0][1:] == ("bp.predose_high", "raised", "medium") and out[0][0] < dose
    assert out[1] == (dose, "bp.predose_high", "cleared", "medium")
    assert [t[1] for t in out[2:]] == ["observation.ready", "observation.complete"]


def test_implausible_readings_raise_only_the_technical_alarm_and_each_clears():
    out = check("implausible-readings").transitions
    assert {t.code for t in out} == {"reading.implausible"}
    assert {t.priority for t in out} == {"low"}
    for channel in ("bp", "hr", "spo2"):
        states = [t.state for t in out if t.source == channel]
        assert states and states == ["raised", "cleared"] * (len(states) // 2)
    assert not [t for t in out if t.code in PHYSIOLOGICAL]


def test_oximeter_hold_alarms_only_for_conditions_held_10_seconds():
    conditions = [t for t in transitions("oximeter-hold") if t[2] in ("raised", "cleared")]
    assert conditions == [
        (510, "spo2.low", "raised", "medium"),  # 90 % from 500
        (525, "spo2.low", "raised", "high"),  # 86 % from 515; back to 90 % at 530 it stays high until seen
        (533, "spo2.low", "cleared", "high"),
        (810, "hr.high", "raised", "medium"),  # 115 from 800 to 810; the 400 dip and 700 run were 9 s
        (811, "hr.high", "cleared", "medium"),
    ]


ACTIONS = ROOT / "sample_data" / "actions"


def test_actions_file_gives_the_acknowledged_history_and_readiness():
    feed, actions = FEEDS / "esketamine-severe-peak.csv", ACTIONS / "esketamine-severe-peak.csv"
    out = run_check(feed, actions_path=actions).transitions
    want = [json.loads(line) for line in (ACTIONS / "esketamine-severe-peak.expected.jsonl").read_text().splitlines()]
    assert [t.to_dict() for t in out] == want
    severe = [(t.offset_s, t.state, t.value) for t in out if t.code == "bp.severe" and t.state != "escalated"]
    assert severe == [(2430, "raised", "183/106"), (2550, "acknowledged", "RN-AB"),
                      (2670, "realarm", "183/106"),  # still severe two minutes after the acknowledgement
                      (3930, "cleared", "177/103"), (3930, "latched", "177/103"), (3990, "acknowledged", "RN-CD")]
    dose = event_at("esketamine-severe-peak", "dose_start")
    assert [t.offset_s for t in out if t.code == "observation.ready"] == [dose + 120 * MIN]


def test_a_bad_actions_row_is_reported_and_the_rest_used(tmp_path):
    actions = tmp_path / "actions.csv"
    actions.write_text("offset_s,action,who,detail\n2550,acknowledge,,bp.severe\n2560,silence,AB,\n"
                       "3990,acknowledge,CD,bp.severe\n")
    result = run_check(FEEDS / "esketamine-severe-peak.csv", actions_path=actions)
    assert [(p.line, p.reason) for p in result.problems] == [
        (2, "actions: who is empty: every action is someone's"),
        (3, "actions: unknown action 'silence'; expected one of acknowledge, audio_pause, override")]
    assert [t.value for t in result.transitions if t.state == "acknowledged"] == ["CD"]
