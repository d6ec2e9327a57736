"""Why the session page refuses a dose or a discharge, in a nurse's words, before it offers the override.

A bare "not ready" makes the override the easy way out; naming what holds the chair ("a latched HIGH alarm awaits
acknowledgement", "the minimum observation ends at 14:32") points at what to do first. Times are clock times
(`at`: the session page's clock, panels.clock_at), session times where none is given. Pure: each function reads
the session's engine status (what the board shows), its events and the configuration, and returns the text.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from devices.readings import Assessment

from ..engine import PHYSIOLOGICAL, Config
from ..reports.format import PRIORITY_LABELS, alarm_label, minutes, session_clock

OVERRIDE_OFFER = "To discharge anyway, give an override reason: it is kept in the session log."


def dose_refusal(bp_text: str, config: Config) -> str:
    """The pre-dose BP above the label's guide (bp.predose_high), with the guide's figures from the settings."""
    guide = f"{config.value('bp.predose_high.sbp_above'):.0f}/{config.value('bp.predose_high.dbp_above'):.0f}"
    return f"BP {bp_text} is above the label's pre-dose guide ({guide}): give an override reason to dose anyway."


def checklist_refusal(unanswered: Sequence[str]) -> str:
    """The pre-dose checklist items not yet answered or overridden (dashboard/ui/checklist.py)."""
    count = f"{len(unanswered)} item{'s' if len(unanswered) != 1 else ''}"
    return (f"Not ready to dose: {count} of the pre-dose checklist not answered ({'; '.join(unanswered)}). "
            "Mark each one done, or override it with a reason.")


def discharge_refusal(status: Mapping[str, Any], events: Sequence[Mapping[str, Any]], now_s: float,
                      config: Config, at: Callable[[float], str] = session_clock) -> str:
    """"Not ready for discharge: <what holds it>. <the override offer>"."""
    holds = discharge_holds(status, events, now_s, config, at)
    return f"Not ready for discharge: {'; '.join(holds) or 'the discharge criteria are not met'}. {OVERRIDE_OFFER}"


def discharge_holds(status: Mapping[str, Any], events: Sequence[Mapping[str, Any]], now_s: float,
                    config: Config, at: Callable[[float], str] = session_clock) -> list[str]:
    """What keeps each unmet discharge criterion (SessionEngine.readiness) from being met, most urgent first."""
    readiness = status.get("readiness") or {}
    holds = _alarm_holds(status) if not readiness.get("no physiological alarm active", True) else []
    if not readiness.get("minimum observation passed", True):
        holds.append(_observation_hold(status, now_s, at))
    if not readiness.get("BP below the elevated limit and not rising", True):
        holds.append(_bp_hold(status, config))
    if not readiness.get("sedation and dissociation resolved, breathing normal", True):
        holds.append(_assessment_hold(status, events, config, at))
    return holds


def _alarm_holds(status: Mapping[str, Any]) -> list[str]:
    shown = [a for a in status.get("alarms") or [] if a["code"] in PHYSIOLOGICAL]
    holds = []
    for alarm in shown:
        what = f"{PRIORITY_LABELS[alarm['priority']]} alarm ({alarm_label(alarm['code'])})"
        if alarm.get("latched") and not alarm.get("condition"):
            holds.append(f"a latched {what} awaits acknowledgement")
        else:
            holds.append(f"a {what} is active" + (f" at {alarm['value']}" if alarm.get("value") else ""))
    return holds or ["a physiological alarm is active"]


def _observation_hold(status: Mapping[str, Any], now_s: float, at: Callable[[float], str]) -> str:
    end = status.get("observation_end_at")
    if end is None:
        start = "infusion end" if status.get("phase") == "infusion" else "the dose"
        return f"the minimum observation has not started (it starts at {start})"
    return f"the minimum observation ends at {at(end)} (in {minutes(max(end - now_s, 60))})"


def _bp_hold(status: Mapping[str, Any], config: Config) -> str:
    bp, dose = status.get("bp"), status.get("dose_at")
    if bp is None or dose is None or bp["offset_s"] < dose:
        return "no BP since the dose"
    limit = (config.value("bp.high.sbp"), config.value("bp.high.dbp"))
    if bp["sbp"] >= limit[0] or bp["dbp"] >= limit[1]:
        return f"the latest BP {bp['text']} is at or above the elevated limit ({limit[0]:.0f}/{limit[1]:.0f})"
    return f"the latest BP {bp['text']} is the highest since the dose: wait for a lower one"


def _assessment_hold(status: Mapping[str, Any], events: Sequence[Mapping[str, Any]], config: Config,
                     at: Callable[[float], str]) -> str:
    dose = status.get("dose_at")
    latest = next((e for e in reversed(events) if e.get("kind") == "assessment" and dose is not None
                   and e["offset_s"] >= dose), None)
    if latest is None:
        return "no assessment since the dose"
    try:
        answer = Assessment.parse(latest["detail"])
    except ValueError:
        return "the latest assessment cannot be read: record a new one"
    found = []
    if answer.dissociation:
        found.append("dissociation")
    if answer.moaas < config.value("readiness.moaas_min"):
        found.append(f"MOAA/S {answer.moaas} (discharge needs {config.value('readiness.moaas_min'):.0f})")
    if not answer.breathing_ok:
        found.append("depressed breathing")
    return f"the latest assessment ({at(latest['offset_s'])}) shows " + " and ".join(found or ["no change"])
