"""How times, values, alarms and events read on screen and on paper: one place, so every page and export says it
alike."""
from __future__ import annotations

import time
from typing import Any, Mapping

from devices.readings import Assessment

from ..engine import ChecklistAnswer

from ..store import DEFAULT_SITE

PHASE_LABELS = {
    "pre-dose": "Pre-dose", "dosing": "Dosing", "infusion": "Infusion", "observation": "Observation",
    "ready": "Ready for discharge", "discharged": "Discharged",
}
ALARM_LABELS = {
    "bp.predose_high": "Pre-dose BP above guide", "bp.high": "BP elevated", "bp.severe": "BP severe",
    "bp.rise": "BP rise over baseline", "hr.high": "Tachycardia", "hr.low": "Bradycardia", "spo2.low": "SpO2 low",
    "bp.check_due": "40-min BP check due", "data.stale": "No data", "reading.implausible": "Implausible reading",
    "device.disconnected": "Device disconnected", "nibp.failed": "NIBP cycle failed",
    "spo2.unmonitored": "No pulse oximetry",
    "observation.ready": "Ready for discharge", "observation.complete": "Session complete",
}
EVENT_LABELS = {"dose_start": "Dose", "infusion_end": "Infusion end", "assessment": "Assessment",
                "discharge": "Discharge", "nibp_failed": "NIBP failed", "sensor_off": "Sensor off",
                "device_disconnect": "Disconnected", "device_reconnect": "Reconnected", "note": "Note",
                "checklist": "Pre-dose checklist", "serious_adverse_event": "Serious adverse event?"}
PRIORITY_LABELS = {"high": "HIGH", "medium": "MEDIUM", "low": "LOW", "info": "info"}


def chair_at(chair: str, site: str) -> str:
    """A chair as a network-wide list shows it: with its site, unless it is the single clinic's default."""
    return chair if site == DEFAULT_SITE else f"{chair} ({site})"


def session_clock(offset_s: float | None) -> str:
    """Session time as m:ss (or h:mm:ss past the hour); before the start (a pre-session reading) as -m:ss."""
    if offset_s is None:
        return "–"
    total = int(abs(offset_s))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    sign = "-" if offset_s <= -1 else ""
    return f"{sign}{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{sign}{minutes}:{seconds:02d}"


def minutes(seconds: float) -> str:
    return f"{int(max(seconds, 0) // 60)} min"


def age(seconds: float) -> str:
    """How long ago, coarse enough that it changes rarely: seconds below a minute, then minutes."""
    seconds = max(seconds, 0)
    if seconds < 60:
        return f"{int(seconds)} s ago"
    return f"{int(seconds // 60)} min ago"


def wall_clock(epoch: float | None) -> str:
    return "–" if epoch is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))


# Clock time is what clinicians write (the chart, the log, the REMS form): every page and export shows it first,
# in the server's local time zone, said once per page or report (`zone_name`); session time beside it where it
# helps (how long after the start). A session time becomes a clock time by the session's own clock
# (reports/record.py session_wall_time: a replay's feed clock, a simulation's speed), never by adding it to now.


def clock(epoch: float | None, seconds: bool = False) -> str:
    """'14:32' (or '14:32:05' where seconds matter), local time. The date is said once, where the session's start
    is."""
    if epoch is None:
        return "–"
    return time.strftime("%H:%M:%S" if seconds else "%H:%M", time.localtime(epoch))


def clock_and_session(epoch: float | None, offset_s: float | None, seconds: bool = False) -> str:
    """'14:32 (session 40:05)': the clock first, the session time beside it."""
    if epoch is None or offset_s is None:
        return "–"
    return f"{clock(epoch, seconds)} (session {session_clock(offset_s)})"


def zone_name(epoch: float | None = None) -> str:
    """The local time zone's name at `epoch` (now if None), e.g. 'CET' or 'CEST': said once where times are shown."""
    return time.strftime("%Z", time.localtime(epoch)) or "local time"


def zone_note(epoch: float | None = None) -> str:
    """Said once per report: which clock the times are."""
    return f"Times are clock times ({zone_name(epoch)}); session time counts from the session's start."


def number(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def bp_text(bp: Mapping[str, Any] | None) -> str:
    return "–/–" if not bp else f"{bp['sbp']:.0f}/{bp['dbp']:.0f}"


def alarm_label(code: str) -> str:
    return ALARM_LABELS.get(code, code)


def assessment_words(detail: str) -> str:
    """An assessment as a nurse says it ('MOAA/S 4, dissociated, breathing normal'), not `moaas=4;...`; a detail
    that does not parse is shown as written."""
    try:
        a = Assessment.parse(detail)
    except ValueError:
        return detail
    return (f"MOAA/S {a.moaas}, {'dissociated' if a.dissociation else 'not dissociated'}, "
            f"breathing {'normal' if a.breathing_ok else 'depressed'}")


def event_detail(event: Mapping[str, Any]) -> str:
    """An event's detail as words (an assessment: 'MOAA/S 4, dissociated, breathing normal')."""
    if event["kind"] == "checklist":
        return checklist_words(event["detail"])
    return assessment_words(event["detail"]) if event["kind"] == "assessment" else event["detail"]


def checklist_words(detail: str) -> str:
    """A pre-dose checklist answer as words ('No food for 2 h ...: done'); as written when it does not parse."""
    try:
        return ChecklistAnswer.parse(detail).words
    except ValueError:
        return detail
