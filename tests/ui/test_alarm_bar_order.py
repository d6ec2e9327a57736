"""The alarm bar's order (issue 22): highest priority first; within it what needs someone now, then a latched alarm
(awaiting acknowledgement), then an acknowledged one; the one waiting longest first, on the wall clock. An
unacknowledged HIGH alarm is marked never-hidden for the browser's fitting (assets/alarm_bar.js, tested in
tests/e2e/test_alarm_bar_in_browser.py), and the counter button closes the bar."""
from __future__ import annotations

from pathlib import Path

from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.store import Store
from dashboard.ui import alarm_view
from dashboard.ui.board import alarm_bar, bar_items
from devices.readings import Reading, SessionEvent

START = 1_800_000_000.0


def _alarm(priority: str, acked_by: str = "", latched: bool = False) -> dict:
    return {"code": "x", "source": "", "priority": priority, "since_s": 0.0, "acked_by": acked_by, "latched": latched}


def test_priority_first_then_what_needs_someone_then_the_longest_waiting():
    alarms = {
        "high acked, 9 min": (_alarm("high", acked_by="nurse1"), 540.0),
        "high latched, 8 min": (_alarm("high", latched=True), 480.0),
        "high, 1 min": (_alarm("high"), 60.0),
        "high, 5 min": (_alarm("high"), 300.0),
        "medium, 20 min": (_alarm("medium"), 1200.0),
        "medium acked, 30 min": (_alarm("medium", acked_by="nurse1"), 1800.0),
        "low, 40 min": (_alarm("low"), 2400.0),
    }
    order = sorted(alarms, key=lambda name: alarm_view.bar_order(*alarms[name]))
    assert order == ["high, 5 min", "high, 1 min", "high latched, 8 min", "high acked, 9 min", "medium, 20 min",
                     "medium acked, 30 min", "low, 40 min"]


def test_only_an_unacknowledged_high_alarm_is_never_hidden():
    assert alarm_view.never_hidden(_alarm("high")) and alarm_view.never_hidden(_alarm("high", latched=True))
    assert not alarm_view.never_hidden(_alarm("high", acked_by="nurse1"))
    assert not alarm_view.never_hidden(_alarm("medium")) and not alarm_view.never_hidden(_alarm("low"))


def _ward(tmp_path: Path) -> tuple[Store, list[int]]:
    """Chair 1 (a session at 1x) with a severe BP 100 wall seconds old; Chair 2 (a session at 4x) with one 600 session
    seconds old (150 wall seconds: the older, though its session time is the later) and a tachycardia; Chair 3
    with a severe BP acknowledged."""
    store = Store.open(tmp_path / "clinic.db")
    sids = [store.create_session(chair=f"Chair {n}", patient_label=f"P {n}", protocol="esketamine-56",
                                 started_at=START, speed=speed) for n, speed in ((1, 1.0), (2, 4.0), (3, 1.0))]
    wall = START + 400
    ingest = Ingest(store, load_config(), clock=lambda: wall)
    ingest.refresh()
    for chair in ("Chair 1", "Chair 2", "Chair 3"):
        ingest.submit(chair, [SessionEvent("session_start", "esketamine-56", offset_s=0),
                              Reading("nibp", sbp=124, dbp=78, hr=70, offset_s=100)])
    ingest.submit("Chair 1", [Reading("nibp", sbp=186, dbp=114, hr=90, offset_s=300)])  # 100 s before the wall
    ingest.submit("Chair 3", [Reading("nibp", sbp=186, dbp=114, hr=90, offset_s=200)])
    # Chair 2's clock runs at 4x: at the wall it is at 1600 s; its severe BP 600 session seconds earlier
    ingest.submit("Chair 2", [Reading("nibp", sbp=190, dbp=118, hr=90, offset_s=1000)])
    ingest.submit("Chair 2", [Reading("oximeter", hr=130, spo2=98, offset_s=float(t)) for t in range(1500, 1551)])
    ingest.step()
    store.submit_action(sids[2], "acknowledge", "nurse1", "bp.severe")
    ingest.step()
    return store, sids


def test_the_bar_orders_chairs_on_the_wall_clock_and_marks_what_it_never_hides(tmp_path: Path):
    store, _ = _ward(tmp_path)
    items = bar_items(store.open_sessions(), START + 400)
    labels = [(item["label"], "never-hidden" in item["css"]) for item in items]
    # Chair 2's severe BP began 1000 session seconds in and Chair 1's at 300: on the wall clock Chair 2's is older
    assert labels[:3] == [("Chair 2 · BP severe", True), ("Chair 1 · BP severe", True),
                          ("Chair 3 · BP severe", False)]
    assert "is-acked" in items[2]["css"] and not items[2]["ackable"]
    priorities = [item["css"].split()[1] for item in items]
    assert priorities == sorted(priorities, key=["prio-high", "prio-medium", "prio-low"].index)


def test_the_counter_closes_the_bar_and_is_a_labelled_button(tmp_path: Path):
    store, _ = _ward(tmp_path)
    items = bar_items(store.open_sessions(), START + 400)
    bar = alarm_bar(items).to_plotly_json()["props"]
    children = bar["children"]
    more = children[-1].to_plotly_json()["props"]
    assert len(children) == len(items) + 1  # the items keep their places: the poll patches them by index
    assert more["id"] == "alarm-bar-more" and more["hidden"] is True  # the browser shows it when something is hidden
    assert more["aria-expanded"] == "false" and more["aria-controls"] == "alarm-bar" and more["type"] == "button"
    ack = children[0].to_plotly_json()["props"]["children"][-1].to_plotly_json()["props"]
    assert ack["aria-label"] == "Acknowledge Chair 2 · BP severe"
    calm = alarm_bar([]).to_plotly_json()["props"]["children"]
    assert len(calm) == 1 and "No active alarm" in str(calm)
