"""The alarm table is derived from the stored transitions: raised, acknowledged by whom and when, cleared."""
from __future__ import annotations

from dashboard.cli.check import run_check
from dashboard.reports.alarm_table import alarm_episodes, counts_by_code

from ..review_sessions import SEVERE_ACTIONS, SEVERE_FEED


def _t(offset, code, state, priority="medium", value="", source=""):
    return {"offset_s": offset, "code": code, "state": state, "priority": priority, "value": value,
            "message": "", "source": source}


def test_the_severe_peak_sample_as_episodes():
    transitions = [t.to_dict() for t in run_check(SEVERE_FEED, actions_path=SEVERE_ACTIONS).transitions]
    episodes = alarm_episodes(transitions)
    assert [(e.code, e.raised_at, e.cleared_at) for e in episodes] == [
        ("bp.high", 1530, 2430), ("bp.rise", 1830, 4230), ("bp.severe", 2430, 3930), ("bp.high", 3930, 4830)]
    severe = episodes[2]
    assert severe.acks == (("RN-AB", 2550), ("RN-CD", 3990)) and severe.time_to_acknowledge == 120
    assert severe.latched and severe.escalated_at == 2490 and severe.realarms == 1
    assert severe.notes() == "latched, escalated, re-alarmed 1×"
    assert counts_by_code(episodes) == {"bp.high": 2, "bp.rise": 1, "bp.severe": 1}


def test_a_reprioritised_alarm_is_one_episode_at_its_highest():
    episodes = alarm_episodes([_t(10, "spo2.low", "raised"), _t(20, "spo2.low", "raised", "high"),
                               _t(30, "spo2.low", "raised", "medium"), _t(40, "spo2.low", "cleared")])
    assert [(e.priority, e.raised_at, e.cleared_at) for e in episodes] == [("high", 10, 40)]


def test_a_latched_alarm_left_unseen_at_discharge():
    episodes = alarm_episodes([_t(10, "bp.severe", "raised", "high"), _t(50, "bp.severe", "cleared", "high"),
                               _t(50, "bp.severe", "latched", "high"), _t(90, "bp.severe", "cleared", "high"),
                               _t(95, "observation.complete", "event", "info")])
    assert len(episodes) == 1 and episodes[0].cleared_at == 50 and episodes[0].unacknowledged_at_end
    assert episodes[0].acknowledged_at is None and episodes[0].time_to_acknowledge is None


def test_sources_are_separate_alarms_and_a_clear_starts_over():
    episodes = alarm_episodes([_t(1, "device.disconnected", "raised", source="nibp"),
                               _t(2, "device.disconnected", "raised", source="oximeter"),
                               _t(3, "device.disconnected", "cleared", source="nibp"),
                               _t(4, "device.disconnected", "raised", source="nibp"),
                               _t(5, "data.stale", "acknowledged", value="AB")])  # no raise: ignored
    assert [(e.source, e.raised_at, e.cleared_at) for e in episodes] == [("nibp", 1, 3), ("oximeter", 2, None),
                                                                        ("nibp", 4, None)]
