"""Write the sample feeds in sample_data/feeds/, the testers' scenario library in
sample_data/scenarios/, and the alarms each is expected to raise.

    .venv/bin/python sample_data/make_samples.py

Deterministic: the simulated feeds use fixed seeds, the others are built by hand
below. Each `<name>.expected.jsonl` holds exactly the lines
`python app.py check <name>.csv --json [--actions <name>.actions.csv]` prints;
review a changed one against docs/clinical.md before committing it.
"""
from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.cli.check import run_check  # noqa: E402
from dashboard.engine import Config, load_config  # noqa: E402
from devices.feed import write_feed  # noqa: E402
from devices.readings import Item, Reading, SessionEvent  # noqa: E402
from devices.simulator import scenario, session_items  # noqa: E402

FEEDS = ROOT / "sample_data" / "feeds"
SCENARIOS = ROOT / "sample_data" / "scenarios"

# name -> (scenario, seed) for the feeds the simulator makes
SIMULATED = {
    "iv-quiet": ("iv-quiet", 1),
    "esketamine-severe-peak": ("esketamine-84-severe", 3),
    "predose-high": ("predose-high", 2),
}

# The malformed row put into implausible-readings.csv in its place by offset.
MALFORMED_ROW = "425,nibp,abc,82,,75,,,"


def event(t: float, kind: str, detail: str = "", source: str = "") -> SessionEvent:
    return SessionEvent(kind, detail=detail, source=source, offset_s=t)


def bp(t: float, sbp: float, dbp: float, hr: float | None = None) -> Reading:
    plausible = 50 <= sbp <= 300 and 20 <= dbp < sbp
    return Reading("nibp", sbp=sbp, dbp=dbp, map=round(dbp + (sbp - dbp) / 3) if plausible else None, hr=hr,
                   offset_s=t)


def ox(t: float, hr: float = 76, spo2: float = 97) -> Reading:
    return Reading("oximeter", hr=hr, spo2=spo2, offset_s=t)


def steady(start: float, stop: float, step: float = 5) -> list[Reading]:
    """Unremarkable oximetry every `step` s in [start, stop): often enough that no data goes stale."""
    out, t = [], start
    while t < stop:
        out.append(ox(t))
        t += step
    return out


def run(start: float, seconds: int, **vitals: float) -> list[Reading]:
    """1 Hz oximetry holding `vitals` from `start` for `seconds` samples."""
    return [ox(start + i, **vitals) for i in range(seconds)]


def implausible_readings() -> list[Item]:
    """Esketamine 56 mg; after the dose every kind of reading no device can measure, each
    followed by a sound one. Nothing here should raise a physiological alarm."""
    return sorted([
        event(0, "session_start", "esketamine-56"),
        *steady(10, 800, step=10),
        bp(60, 124, 78, hr=72), bp(240, 126, 80, hr=74),
        event(300, "dose_start", "56 mg"),
        bp(420, 320, 90, hr=74),  # systolic above 300: cuff overpressure
        bp(480, 131, 82, hr=75),
        bp(540, 118, 124, hr=76),  # diastolic above systolic
        bp(600, 132, 83, hr=75),
        ox(605, hr=15, spo2=97),  # HR 15: below 20
        ox(615, hr=350, spo2=101),  # HR 350 and SpO2 101 in one sample
        ox(625, hr=76, spo2=40),  # SpO2 40: below 50
        bp(700, 45, 30, hr=74),  # systolic 45: below 50
        bp(760, 130, 82, hr=74),
    ], key=lambda item: item.offset_s or 0.0)


def oximeter_hold() -> list[Item]:
    """Esketamine 84 mg; SpO2 and HR episodes either side of the 10 s hold.

    "Held n s" = from the first to the last abnormal 1 Hz sample, as the engine counts it."""
    return [
        event(0, "session_start", "esketamine-84"),
        bp(60, 122, 76, hr=74), *steady(65, 240), bp(240, 124, 78, hr=75), *steady(245, 300),
        event(300, "dose_start", "84 mg"), *steady(300, 400),
        *run(400, 10, spo2=91), *steady(410, 500),  # SpO2 91 held 9 s: no alarm
        *run(500, 15, spo2=90),  # SpO2 90 held 14 s: spo2.low medium at 510
        *run(515, 15, spo2=86),  # then 86 held 14 s: high at 525
        *run(530, 3, spo2=90),  # back to 90: medium again at 530
        *steady(533, 600), bp(600, 128, 80, hr=78), *steady(600, 700),
        *run(700, 10, hr=115), *steady(710, 800),  # HR 115 held 9 s: no alarm
        *run(800, 11, hr=115), *steady(811, 900),  # HR 115 held 10 s: hr.high at 810, cleared at 811
        bp(900, 126, 79, hr=76), ox(900), *steady(905, 930),
    ]


def pre_session_baseline() -> list[Item]:
    """Esketamine 84 mg; the chair's monitor measured before the nurse opened the session (negative session times:
    the pre-session readings that joined it). The last of them is the baseline the rise is measured from."""
    return sorted([
        bp(-1500, 152, 94, hr=80),  # high, 25 min before the start: bp.predose_high
        bp(-600, 128, 82, hr=74), *steady(-300, 0, step=10),  # 10 min before: the baseline
        event(0, "session_start", "esketamine-84"), *steady(0, 300, step=10),
        event(300, "dose_start", "84 mg"), *steady(300, 2400, step=10), bp(1200, 134, 86, hr=76),
        bp(1800, 150, 96, hr=80),
        bp(2400, 170, 108, hr=82),  # +42/+26 over the pre-session baseline: bp.rise and bp.high
        *steady(2400, 2700, step=10), bp(2700, 140, 88, hr=78), ox(2700),
    ], key=lambda item: item.offset_s or 0.0)


def esketamine_no_oximeter() -> list[Item]:
    """Esketamine 56 mg monitored by the cuff alone: no SpO2 for 15 min from the dose raises spo2.unmonitored
    (technical, low); an oximeter put on at 35:00 clears it with its first sample."""
    return sorted([
        event(0, "session_start", "esketamine-56"),
        *(bp(t, 124, 78, hr=72) for t in range(60, 2700 + 1, 300)),
        event(300, "dose_start", "56 mg"),  # no SpO2 by 20:00 (d+15): spo2.unmonitored
        *steady(2100, 2701, step=5),  # the oximeter from 35:00: cleared
    ], key=lambda item: item.offset_s or 0.0)


def expected_lines(feed: Path, actions: Path | None = None) -> list[str]:
    """What `app.py check FEED --json [--actions ACTIONS]` prints, one JSON object a line."""
    return [json.dumps(t.to_dict()) for t in run_check(feed, load_config(), actions).transitions]


# ---- the testers' scenario library (sample_data/scenarios/, described in its index.toml) ----------

Action = tuple[float, str, str, str]  # offset_s, action, who, detail


@dataclass(frozen=True)
class Entry:
    """One library feed: the simulator scenario and seed it comes from, and what people do in it."""

    scenario: str
    seed: int
    actions: tuple[Action, ...] = ()
    description: str = ""  # default: the scenario's own


LIBRARY: dict[str, Entry] = {
    "iv-infusion-quiet": Entry("iv-quiet", 11),
    "esketamine-56-quiet": Entry("esketamine-56-quiet", 0),
    "esketamine-84-outlier": Entry("esketamine-84-outlier", 0),
    "esketamine-84-severe": Entry("esketamine-84-severe", 0, actions=(
        (2480, "acknowledge", "RN-AB", "bp.severe"),  # at the bedside within a minute: silenced, still shown
        (3960, "acknowledge", "RN-AB", "bp.severe"),  # the latched alarm, once the BP is below 180/110
    ), description="Esketamine 84 mg peaking near 190/115 about 40 min after the dose: high, then severe, then "
                   "clearing; the nurse acknowledges the severe alarm within a minute (it sounds again and escalates "
                   "while it lasts) and the latched alarm once the BP is down"),
    "predose-override": Entry("predose-high", 0, actions=(
        (570, "override", "MD-KL", "pre-dose BP 144/94 rechecked; usual for this patient; dose approved"),
    ), description="Pre-dose BP about 147/92, above the label's 140/90 guide; the prescriber records an override "
                   "reason before the dose; small rise"),
    "bradycardia": Entry("bradycardia", 0),
    "tachycardia": Entry("tachycardia", 0),
    "respiratory-depression": Entry("respiratory-depression", 0, actions=(
        (2690, "acknowledge", "RN-AB", "spo2.low"),  # stimulating the patient, oxygen on
    ), description="Esketamine 84 mg; deep sedation (MOAA/S 2) with breathing depressed at the 30 and 45 min "
                   "assessments and SpO2 falling to 85 % for 2 min from 33 min after the dose; the nurse "
                   "acknowledges the high SpO2 alarm at the bedside"),
    "cuff-artifacts": Entry("esketamine-84-artifacts", 1),
    "probe-off": Entry("probe-off", 0),
    "device-disconnect": Entry("device-disconnect", 0),
    "missed-40min-check": Entry("missed-40min-check", 0),
    "clock-jump": Entry("clock-jump", 0),
    **{f"iv-induction-{n}": Entry(f"iv-induction-{n}", 1) for n in range(1, 7)},
}


def write_actions(actions: tuple[Action, ...], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("offset_s", "action", "who", "detail"))
        writer.writerows((f"{offset:g}", action, who, detail) for offset, action, who, detail in actions)


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def index_toml() -> str:
    """sample_data/scenarios/index.toml: one table per library feed."""
    lines = ["# The testers' scenario library: `<name>.csv` with `<name>.expected.jsonl` (what",
             "# `python app.py check <name>.csv --json [--actions <name>.actions.csv]` prints).",
             "# Written by sample_data/make_samples.py from the simulator's scenarios (devices/simulator/session.py);",
             "# `python app.py simulate --scenario <scenario> --seed <seed>` writes the same feed.", ""]
    for name, entry in LIBRARY.items():
        scn = scenario(entry.scenario)
        lines.append(f"[{name}]")
        lines.append(f"description = {_toml_string(entry.description or scn.description)}")
        lines.append(f"scenario = {_toml_string(entry.scenario)}")
        lines.append(f"seed = {entry.seed}")
        if entry.actions:
            lines.append(f"actions = {_toml_string(name + '.actions.csv')}")
        if scn.patient:
            lines.append(f"patient = {_toml_string(scn.patient)}")
        lines.append("")
    return "\n".join(lines)


def write_library(config: Config) -> None:
    SCENARIOS.mkdir(parents=True, exist_ok=True)
    written = {SCENARIOS / "index.toml"}
    for name, entry in LIBRARY.items():
        feed, actions = SCENARIOS / f"{name}.csv", SCENARIOS / f"{name}.actions.csv"
        write_feed(session_items(entry.scenario, entry.seed, config), feed)
        written.add(feed)
        if entry.actions:
            write_actions(entry.actions, actions)
            written.add(actions)
        lines = expected_lines(feed, actions if entry.actions else None)
        feed.with_suffix(".expected.jsonl").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        written.add(feed.with_suffix(".expected.jsonl"))
        print(f"{feed.relative_to(ROOT)}: {feed.stat().st_size // 1024} KB, {len(lines)} transitions")
    (SCENARIOS / "index.toml").write_text(index_toml(), encoding="utf-8")
    for stale in (set(SCENARIOS.glob("*.csv")) | set(SCENARIOS.glob("*.jsonl"))) - written:
        stale.unlink()  # a scenario renamed or dropped from LIBRARY


def write_with_malformed_row(items: list[Item], path: Path) -> None:
    """A valid feed with MALFORMED_ROW among its rows, in offset order (check must skip and report it)."""
    buffer = io.StringIO()
    write_feed(items, buffer)
    lines = buffer.getvalue().splitlines()
    offset = float(MALFORMED_ROW.split(",")[0])
    before = next(i for i, line in enumerate(lines[1:], start=1) if float(line.split(",")[0]) > offset)
    lines.insert(before, MALFORMED_ROW)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    FEEDS.mkdir(parents=True, exist_ok=True)
    config = load_config()
    for name, (scenario_name, seed) in SIMULATED.items():
        write_feed(session_items(scenario_name, seed, config), FEEDS / f"{name}.csv")
    write_with_malformed_row(implausible_readings(), FEEDS / "implausible-readings.csv")
    write_feed(oximeter_hold(), FEEDS / "oximeter-hold.csv")
    write_feed(pre_session_baseline(), FEEDS / "pre-session-baseline.csv")
    write_feed(esketamine_no_oximeter(), FEEDS / "esketamine-no-oximeter.csv")
    for feed in sorted(FEEDS.glob("*.csv")):
        lines = expected_lines(feed)
        feed.with_suffix(".expected.jsonl").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        print(f"{feed.relative_to(ROOT)}: {feed.stat().st_size // 1024} KB, {len(lines)} transitions")
    write_library(config)


if __name__ == "__main__":
    main()
