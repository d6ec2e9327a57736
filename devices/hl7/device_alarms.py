"""A monitor's own alarms (IHE PCD-04, ORU^R40) -> `DeviceAlarm` values. Pure.

Mindray, Philips, GE, Dräger and Masimo gateways report their alarms (lead off, probe off, their own limit
alarms) as ORU^R40. Each alarm is a run of OBX rows sharing an OBX-4 prefix (`1.1.0.1.` + facet number):

| facet | OBX-3                                   | what we take                                           |
|-------|-----------------------------------------|--------------------------------------------------------|
| .1    | the event (`196674^MDC_EVT_LO_VAL_LT_LIM`;  | its code, its text (OBX-5 when text), OBX-8 flags     |
|       | `196616^MDC_EVT_ALARM`: the event in OBX-5) | (PH/PM/PL/PN priority, SP/ST/SA type)                 |
| .3    | 68481/68165 MDC_ATTR_EVENT_PHASE        | start, continue, update, end                           |
| .4    | 68482/68166 MDC_ATTR_ALARM_STATE        | active, inactive, latched                              |
| .6    | 68484/68168 MDC_ATTR_ALARM_PRIORITY     | PH/PM/PL/PN -> high/medium/low/none                    |
| .8    | 68546 MDC_ATTR_ALERT_TEXT               | the monitor's own text (preferred)                     |

The alarm is the device's, never ours: it is shown as "the monitor says", never raises an alarm of this
application, and is kept in the record as a `device_alarm` event. A watchdog/heartbeat (`MDC_EVT_ACTIVE`,
`MDC_EVT_WATCHDOG`: Dräger's keep-alive) is read as "the alarm source is alive", not as an alarm.
Values the monitor attaches to an alarm (the SpO2 that crossed its limit) are not readings: they are the
monitor's record of the alarm, and its periodic ORU^R01 carries the readings.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

PRIORITIES = {"PH": "high", "PM": "medium", "PL": "low", "PN": "none"}
_PHASE_NAMES = ("MDC_ATTR_EVENT_PHASE", "68481", "68165")
_STATE_NAMES = ("MDC_ATTR_ALARM_STATE", "MDC_ATTR_ALERT_STATE", "68482", "68166")
_PRIORITY_NAMES = ("MDC_ATTR_ALARM_PRIORITY", "68484", "68168")
_TEXT_NAMES = ("MDC_ATTR_ALERT_TEXT", "68546")
_ATTRIBUTE_NAMES = _PHASE_NAMES + _STATE_NAMES + _PRIORITY_NAMES + _TEXT_NAMES + (
    "MDC_ATTR_ALERT_SOURCE", "68480", "68164", "MDC_ATTR_ALERT_TYPE", "68485",
    "MDC_ATTR_ALARM_INACTIVATION_STATE", "68483", "68167")
_WATCHDOG = ("MDC_EVT_ACTIVE", "MDC_EVT_WATCHDOG", "258047")
EVENT_KIND = "device_alarm"


@dataclass(frozen=True, slots=True)
class DeviceAlarm:
    """One alarm the monitor reports about itself or the patient, as it says it."""

    code: str  # the event as sent ("196674^MDC_EVT_LO_VAL_LT_LIM"), '' when it names none
    text: str  # the monitor's words ("SPO2 LOW"), else the event's name
    priority: str  # high | medium | low | none | unknown (what the monitor said, never re-graded)
    state: str  # active | inactive | latched | '' (not said)
    phase: str  # start | continue | update | end | '' (not said)
    time: float | None  # OBX-14 of the event row, else OBR-7
    watchdog: bool = False  # a keep-alive of the alarm source, not an alarm

    @property
    def active(self) -> bool:
        return not self.watchdog and self.state.lower() != "inactive" and self.phase.lower() != "end"

    def detail(self) -> str:
        """The stored event detail (JSON: the tile and the record read it back with `from_detail`)."""
        return json.dumps({"code": self.code, "text": self.text, "priority": self.priority, "state": self.state,
                           "phase": self.phase, "active": self.active}, ensure_ascii=False, sort_keys=True)


def from_detail(detail: str) -> dict[str, Any]:
    """A stored `device_alarm` detail as a dict (a detail that is not ours: its text, priority unknown)."""
    try:
        value = json.loads(detail)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        return {"code": "", "text": detail, "priority": "unknown", "state": "", "phase": "", "active": True}
    return value


Field = Callable[[Any, int, int], str]  # (segment, field, component) -> text


def read_alarms(obx_rows: list[Any], obr_time: float | None, field: Field, whole: Callable[[Any, int], str],
                time_of: Callable[[str], float | None]) -> tuple[DeviceAlarm, ...]:
    """The alarms in an ORU^R40's OBX rows (in the order they start)."""
    runs: dict[str, list[Any]] = {}
    for obx in obx_rows:
        parts = field(obx, 4, 1).split(".")
        if len(parts) >= 5:
            runs.setdefault(".".join(parts[:-1]), []).append(obx)
    return tuple(alarm for rows in runs.values() if (alarm := _alarm(rows, obr_time, field, whole, time_of)))


def _alarm(rows: list[Any], obr_time: float | None, field: Field, whole: Callable[[Any, int], str],
           time_of: Callable[[str], float | None]) -> DeviceAlarm | None:
    event = next((r for r in rows if field(r, 4, 1).endswith(".1") and not _is_attribute(field(r, 3, 1),
                                                                                         field(r, 3, 2))), None)
    if event is None:
        return None
    code_id, code_name = field(event, 3, 1), field(event, 3, 2)
    value_type, value = field(event, 2, 1).upper(), whole(event, 5)
    if code_name.upper() == "MDC_EVT_ALARM" or code_id == "196616":  # the event is in OBX-5
        code_id, code_name = field(event, 5, 1), field(event, 5, 2)
        value = ""
    code = f"{code_id}^{code_name}" if code_name else code_id
    attributes = {_attribute(field(r, 3, 1), field(r, 3, 2)): whole(r, 5) for r in rows if r is not event}
    flags = {part.strip().upper() for part in whole(event, 8).replace("^", "~").split("~")}
    priority = attributes.get("priority", "").upper() or next((f for f in flags if f in PRIORITIES), "")
    text = attributes.get("text") or (value if value_type in ("ST", "TX", "FT", "") and value else "") \
        or _humanise(code_name or code_id)
    watchdog = any(w in (code_id, code_name.upper()) for w in _WATCHDOG)
    return DeviceAlarm(code=code, text=text[:200], priority=PRIORITIES.get(priority, "unknown"),
                       state=attributes.get("state", "").lower(), phase=attributes.get("phase", "").lower(),
                       time=time_of(field(event, 14, 1)) or obr_time, watchdog=watchdog)


def _is_attribute(identifier: str, name: str) -> bool:
    return identifier in _ATTRIBUTE_NAMES or name.upper() in _ATTRIBUTE_NAMES


def _attribute(identifier: str, name: str) -> str:
    for key, names in (("phase", _PHASE_NAMES), ("state", _STATE_NAMES), ("priority", _PRIORITY_NAMES),
                       ("text", _TEXT_NAMES)):
        if identifier in names or name.upper() in names:
            return key
    return "other"


def _humanise(name: str) -> str:
    """`MDC_EVT_LEAD_OFF` -> "lead off"; a bare number stays as it is."""
    text = name.upper()
    for prefix in ("MDC_EVT_", "MDCX_EVT_", "MNDRY_EVT_"):
        text = text.removeprefix(prefix)
    return text.replace("_", " ").lower() or "alarm"
