"""IHE PCD-04 Report Alert: one alarm transition as an HL7 v2.6 ORU^R40 for an alarm manager. Pure: no I/O, no clock.

The forwarder (dashboard/service/forward.py) gives an `AlarmReport` of plain values; `compose_alarm` writes it:

- MSH-9 `ORU^R40^ORU_R40`, MSH-12 `2.6`, MSH-15 `AL` / MSH-16 `NE` and MSH-21 the IHE PCD ACM profile id, as the
  PCD-04 static definition wants. MSH-10 is the report's control id: one per transition and the same on every
  resend, so a manager that got it before our ACK was lost drops the copy.
- PID (when the session is known): PID-3 the site's patient identifier (MR) where the nurse gave one, and the
  pseudonymous label (PI); PID-5 the label as a pseudo-name (name type S), never a real name.
- PV1-3 the chair (PL-1 holds 20 characters: a longer name is cut there and written whole in PL-9).
- OBR-2 this update's id, OBR-3 the alarm's id (the same from its start to its end, so the manager updates or
  cancels what it sent), OBR-4 `196616^MDC_EVT_ALARM^MDC`, OBR-7 when the alarm started.
- OBX rows under one dotted OBX-4 path per alarm (MDS.VMD.channel.metric, then the facet):
  .1 the event (alarm_codes.py) with the alarm text in OBX-5, and in OBX-8 the abnormality (H/L), the priority
  (PH/PM/PL) and the source (SP physiological, ST technical); .2 the measured value with its MDC code and unit
  (a BP's diastolic under its own metric's path); .3 the event phase (`68481^MDC_ATTR_EVENT_PHASE`); .4 the alarm
  state (`68482^MDC_ATTR_ALARM_STATE`); .5 the inactivation state (`68483^MDC_ATTR_ALARM_INACTIVATION_STATE`);
  .6 the link to the session page (a local code: MDC has no term for it).

Sources: IHE PCD Technical Framework Vol. 2 (PCD TF-2), transaction PCD-04 Report Alert (rev. 5.0, 2015; rev. 9.0,
2019); IHE PCD Alarm Communication Management (ACM) supplement, Trial Implementation (2011, 2012), section
"Observation Sub-ID" on the facets and OBX-8; public PCD-04 samples from Masimo Patient SafetyNet and GE Mural
and an IHE ACM test tool (Draeger, EPL-2.0), read for the segment layout, none of their code copied.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .alarm_codes import Metric, event_code

PROFILE = "IHE_PCD_ACM_001^IHE PCD^1.3.6.1.4.1.19376.1.6.4.4^ISO"  # MSH-21: the ACM profile's id
ALARM = "196616^MDC_EVT_ALARM^MDC"
PHASE = "68481^MDC_ATTR_EVENT_PHASE^MDC"
STATE = "68482^MDC_ATTR_ALARM_STATE^MDC"
INACTIVATION = "68483^MDC_ATTR_ALARM_INACTIVATION_STATE^MDC"
LINK = "SESSION_PAGE^Session page^L"
PHASES = ("start", "update", "escalate", "end")  # PCD TF-2's event phases that our transitions are
STATES = ("active", "latched", "inactive")
INACTIVATIONS = ("enabled", "alert-acknowledged")
PRIORITIES = {"high": "PH", "medium": "PM", "low": "PL"}
IS_MAX = 20  # the IS data type's length (PL-1 point of care, HD-1 namespace id)
_ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("~", "\\R\\"), ("&", "\\T\\"))


@dataclass(frozen=True, slots=True)
class Reporter:
    """Who sends (MSH-3/4) and to whom (MSH-5/6)."""

    application: str = "DASH"
    facility: str = ""
    receiving_application: str = "ACM"
    receiving_facility: str = ""


@dataclass(frozen=True, slots=True)
class AlarmReport:
    """One alarm transition, in plain values."""

    control_id: str  # MSH-10: this transition's, the same on a resend
    alarm_id: str  # OBR-3: the same over the alarm's life
    update_id: str  # OBR-2: this transition
    code: str  # ours, e.g. "bp.severe" (alarm_codes.EVENTS)
    text: str  # what a nurse reads on the phone, e.g. "Chair 3: BP severe 192/121"
    priority: str  # high | medium | low
    technical: bool
    phase: str  # PHASES
    state: str  # STATES
    inactivation: str  # INACTIVATIONS
    chair: str
    started_at: float  # epoch seconds the alarm started (OBR-7)
    at: float  # epoch seconds of this transition (OBX-14)
    value: str = ""  # as the engine states it: "192/121", "86"; "" = none
    patient_id: str = ""  # the site's patient identifier, where the nurse gave one
    patient_label: str = ""  # pseudonymous; "" with no session (then no PID and no PV1)
    link: str = ""  # the session page (never a patient identifier in it)

    def __post_init__(self) -> None:
        for name, allowed in (("phase", PHASES), ("state", STATES), ("inactivation", INACTIVATIONS),
                              ("priority", tuple(PRIORITIES))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"AlarmReport.{name}: {getattr(self, name)!r} is not one of {', '.join(allowed)}")
        if not self.control_id or len(self.control_id) > 199:
            raise ValueError("AlarmReport.control_id: 1-199 characters (MSH-10)")


def compose_alarm(report: AlarmReport, reporter: Reporter, sent_at: float) -> str:
    """The ORU^R40 for `report`, segments ending in CR."""
    segments = [_msh(report, reporter, sent_at)]
    if report.patient_label or report.patient_id:
        segments += [_pid(report, reporter), _pv1(report.chair)]
    namespace = _escape(reporter.application[:IS_MAX])
    segments.append(f"OBR|1|{_escape(report.update_id)}^{namespace}|{_escape(report.alarm_id)}^{namespace}|{ALARM}"
                    f"|||{timestamp(report.started_at)}")
    segments += _observations(report)
    return "\r".join(segments) + "\r"


def timestamp(epoch: float) -> str:
    """HL7 DTM in UTC to the 1/10,000 s: YYYYMMDDHHMMSS.SSSS+0000."""
    moment = dt.datetime.fromtimestamp(epoch, dt.timezone.utc)
    return moment.strftime("%Y%m%d%H%M%S") + f".{moment.microsecond // 100:04d}+0000"


def _msh(report: AlarmReport, reporter: Reporter, sent_at: float) -> str:
    names = "|".join(_escape(name) for name in (reporter.application, reporter.facility,
                                                reporter.receiving_application, reporter.receiving_facility))
    return (f"MSH|^~\\&|{names}|{timestamp(sent_at)}||ORU^R40^ORU_R40|{_escape(report.control_id)}|P|2.6|||AL|NE"
            f"||UNICODE UTF-8|||{PROFILE}")


def _pid(report: AlarmReport, reporter: Reporter) -> str:
    label = _escape(report.patient_label)
    ids = [f"{label}^^^{_escape(reporter.application[:IS_MAX])}^PI"] if label else []
    if report.patient_id:
        ids.append(f"{_escape(report.patient_id)}^^^{_escape((reporter.facility or reporter.application)[:IS_MAX])}^MR")
    return f"PID|1||{'~'.join(ids)}||{label or 'UNKNOWN'}^^^^^^S"


def _pv1(chair: str) -> str:
    if len(chair) <= IS_MAX:
        return f"PV1|1|O|{_escape(chair)}"
    return f"PV1|1|O|{_escape(chair[:IS_MAX].rstrip())}^^^^^^^^{_escape(chair)}"


def _observations(report: AlarmReport) -> list[str]:
    event = event_code(report.code)
    base = f"1.1.1.{event.metrics[0].coded.code}" if event.metrics else "1.0.0.0"
    at = timestamp(report.at)
    flags = "~".join(flag for flag in (event.abnormal, PRIORITIES[report.priority],
                                       "ST" if report.technical else "SP") if flag)
    rows = [("ST", event.event.cwe, f"{base}.1", _escape(report.text), "", flags, at)]
    for metric in event.metrics:
        number = _part(report.value, metric)
        if number is not None:
            rows.append(("NM", metric.coded.cwe, f"1.1.1.{metric.coded.code}.2", number, metric.unit.cwe, "", at))
    rows += [("ST", PHASE, f"{base}.3", report.phase, "", "", ""),
             ("ST", STATE, f"{base}.4", report.state, "", "", ""),
             ("ST", INACTIVATION, f"{base}.5", report.inactivation, "", "", "")]
    if report.link:
        rows.append(("ST", LINK, f"{base}.6", _escape(report.link), "", "", ""))
    return [f"OBX|{n}|{kind}|{ident}|{sub}|{value}|{unit}||{abnormal}|||F|||{when}".rstrip("|")
            for n, (kind, ident, sub, value, unit, abnormal, when) in enumerate(rows, start=1)]


def _part(value: str, metric: Metric) -> str | None:
    """The number of `metric` in the engine's value ("192/121" -> 192 or 121), or None when there is none."""
    parts = value.split("/")
    if metric.part >= len(parts):
        return None
    try:
        number = float(parts[metric.part].strip())
    except ValueError:
        return None
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _escape(text: str) -> str:
    for char, escape in _ESCAPES:
        text = text.replace(char, escape)
    return text.replace("\r", " ").replace("\n", " ")
