"""How an active alarm reads on the board, the alarm bar, the escalation banner and the session page.

An alarm from the status snapshot (engine/status.py) is shown with the *current* value of its parameter (the BP
now, not the BP that raised it), the time elapsed since it began, and its state: unacknowledged (a flashing
marker, steady text), acknowledged ("ack'd by NAME", steady), latched after its condition cleared, and the
chair's audio pause with the time left. Pure functions of the snapshot and the session time.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..engine import PRIORITY_RANK
from ..reports.format import PRIORITY_LABELS, alarm_label, bp_text, number

# The numeral an alarm colours on the tile (IEC 60601-1-8: the parameter takes its alarm's colour).
PARAMETER_OF = {
    "bp.predose_high": "bp", "bp.high": "bp", "bp.severe": "bp", "bp.rise": "bp",
    "hr.high": "hr", "hr.low": "hr", "spo2.low": "spo2",
}
PARAMETERS = ("bp", "hr", "spo2")
UNITS = {"hr": "/min", "spo2": " %"}


def current_value(alarm: Mapping[str, Any], status: Mapping[str, Any]) -> str:
    """The alarmed parameter's latest value (a technical alarm: what it was raised with)."""
    parameter = PARAMETER_OF.get(alarm["code"])
    latest = status.get(parameter) if parameter else None
    if not latest:
        return str(alarm.get("value") or "")
    if parameter == "bp":
        return bp_text(latest)
    return f"{number(latest['value'])}{UNITS[parameter]}"


def elapsed(seconds: float) -> str:
    """A duration as a nurse says it, to the minute ('under 1 min', '3 min', '1 h 05 min'): the board's texts then
    change once a minute, not every second."""
    total = int(max(seconds, 0))
    if total < 60:
        return "under 1 min"
    if total < 3600:
        return f"{total // 60} min"
    return f"{total // 3600} h {total % 3600 // 60:02d} min"


def state(alarm: Mapping[str, Any]) -> str:
    """The alarm's state as a CSS class: 'is-latched' (condition over, awaiting acknowledgement), 'is-acked' or
    'is-unacked'."""
    if alarm.get("latched"):
        return "is-latched"
    return "is-acked" if alarm.get("acked_by") else "is-unacked"


def state_text(alarm: Mapping[str, Any]) -> str:
    """What the words add to the marker: who acknowledged it, that it latched, that it escalated. An
    unacknowledged alarm's flashing marker says the rest."""
    if alarm.get("latched"):
        return "ended · latched"
    if alarm.get("acked_by"):
        return f"ack'd by {alarm['acked_by']}"
    return "ESCALATED" if alarm.get("escalated") else ""


def describe(alarm: Mapping[str, Any], status: Mapping[str, Any], now_s: float) -> str:
    """'HIGH · BP severe 189/116 · 3 min 20 s': priority, alarm, current value, time since it began."""
    value = current_value(alarm, status)
    return (f"{PRIORITY_LABELS[alarm['priority']]} · {alarm_label(alarm['code'])}{' ' + value if value else ''}"
            f" · {elapsed(now_s - alarm['since_s'])}")


def parameter_priorities(alarms: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Each parameter's highest alarm priority among the alarms whose condition holds, 'none' when it does not
    alarm (a latched alarm's value is back in range: it says so on the alarm line, not on the numeral)."""
    out = dict.fromkeys(PARAMETERS, "none")
    for alarm in alarms:
        parameter = PARAMETER_OF.get(alarm["code"]) if alarm.get("condition", True) else None
        if parameter and (out[parameter] == "none"
                          or PRIORITY_RANK[alarm["priority"]] > PRIORITY_RANK[out[parameter]]):
            out[parameter] = alarm["priority"]
    return out


def pause_left(status: Mapping[str, Any], now_s: float, speed: float) -> float | None:
    """Wall seconds left of the chair's audio pause, None when it is not paused."""
    until = status.get("audio_paused_until")
    if until is None or until <= now_s:
        return None
    return (until - now_s) / (speed or 1.0)


def pause_text(left: float | None) -> str:
    if left is None:
        return ""
    total = int(left + 0.999)  # never says 0:00 while still paused
    return f"AUDIO PAUSED {total // 60}:{total % 60:02d}"


# Within a priority: what needs someone now, then what needs someone though its condition has ended, then what
# has been seen.
NEEDS_SOMEONE = {"is-unacked": 0, "is-latched": 1, "is-acked": 2}


def bar_order(alarm: Mapping[str, Any], waiting_s: float) -> tuple[int, int, float]:
    """The alarm bar's order. Highest priority first; within it an alarm whose condition holds and nobody has
    acknowledged, then a latched one (its condition ended: still awaiting acknowledgement), then an acknowledged
    one; within each, the one waiting longest first. `waiting_s` is in wall seconds since the alarm began (a
    session's own clock can run at another speed, so the chairs are compared on the wall clock)."""
    return -PRIORITY_RANK[alarm["priority"]], NEEDS_SOMEONE[state(alarm)], -waiting_s


def never_hidden(alarm: Mapping[str, Any]) -> bool:
    """An unacknowledged HIGH alarm (latched ones too): the bar always shows it, growing as it must."""
    return alarm["priority"] == "high" and not alarm.get("acked_by")
