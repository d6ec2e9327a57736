"""The parts of a session page, drawn from the status snapshot and the stored record. Pure rendering."""
from __future__ import annotations

import json
from typing import Any, Callable, Mapping, Sequence

from dash import html

from ..engine import Config
from ..reports.format import (PHASE_LABELS, PRIORITY_LABELS, alarm_label, bp_text, clock, clock_and_session, minutes,
                               session_clock, wall_clock, zone_name)
from ..reports.record import log_entries, session_wall_time
from ..reports.rems import MEDICINES, rems_form
from ..store import SessionRow
from . import alarm_view
from .scope import mark

# The escalation advice of the Spravato label of 03/2026 (Warnings and Precautions: Increases in Blood Pressure),
# shown with the high-priority BP alarm.
ESCALATION_CHECKLIST = (
    "Chest pain", "Shortness of breath", "Sudden severe headache", "Visual disturbance", "Seizure",
    "Reduced consciousness",
)
ESCALATION_ADVICE = ("Any of these: emergency care now. BP that stays high: call a clinician experienced in "
                     "BP management.")
BP_ALARMS_WITH_CHECKLIST = frozenset({"bp.severe"})
# After the 40-min check, in the words of the label of 03/2026 (Dosage and Administration).
BP_AFTER_THE_CHECK = "as clinically warranted until values remain consistent at a safe level"


def clock_at(row: SessionRow) -> Callable[[float], str]:
    """A session time as its clock time ('14:32'), by the session's own clock (a replay's feed, a simulation's
    speed)."""
    return lambda offset_s: clock(session_wall_time(row, offset_s))


def header(row: SessionRow) -> Any:
    """Chair, patient, protocol, phase; the clock now with the session time beside it, and the start with the time
    zone every clock time on the page is in (said once, here)."""
    status = row.status or {}
    now_s = row.session_now()
    phase = status.get("phase", row.phase)
    start = session_wall_time(row, 0.0)
    bits = [f"{row.chair} · {row.patient_label}", status.get("protocol_label") or row.protocol,
            f"{PHASE_LABELS.get(phase, phase)} for {minutes(now_s - (status.get('phase_since') or 0))}",
            _now_or_discharged(row, now_s),
            f"started {wall_clock(start)} (clock times in {zone_name(start)})"]
    if row.dose:
        bits.insert(2, f"dose {row.dose}")
    if status.get("baseline"):
        baseline = status["baseline"]  # one from before the session says so: the nurse checks it is this patient's
        before = (f" (before the session, {clock(session_wall_time(row, baseline['offset_s']))})"
                  if baseline["offset_s"] < 0 else "")
        bits.append(f"baseline {bp_text(baseline)}{before}")
    test = [html.Span(mark(row), className="test-mark", title="test data: no real patient")] if mark(row) else []
    paused = alarm_view.pause_text(alarm_view.pause_left(status, now_s, row.speed)) if row.ended_at is None else ""
    return html.Div([html.H2([bits[0], *test]), html.P(" · ".join(bits[1:]), className="session-meta"),
                     *([html.P(paused, className="audio-paused", id="audio-paused")] if paused else [])])


def _now_or_discharged(row: SessionRow, now_s: float) -> str:
    """The clock now, the session time beside it; once discharged, when that was."""
    done = (row.status or {}).get("discharged_at")
    if done is not None:
        return f"discharged {clock_and_session(session_wall_time(row, done), done)}"
    return f"now {clock_and_session(session_wall_time(row, now_s), now_s)}"


def countdowns(row: SessionRow, config: Config) -> list[Any]:
    """The clocks a nurse works to: infusion end, the 40-min BP check, the end of the minimum observation, each at
    its clock time."""
    status = row.status or {}
    now_s = row.session_now()
    dose = status.get("dose_at")
    if dose is None:
        return [html.Li("Waiting for the dose: the clocks start at dose start.")]
    at = clock_at(row)
    items = []
    if status.get("phase") == "infusion":
        items.append(_countdown("Planned infusion end", dose + config.protocols[row.protocol].dosing_s, now_s, at))
    start = dose + config.value("bp.check_due.window_start") * 60
    end = dose + config.value("bp.check_due.window_end") * 60
    done = status.get("check_done_at")
    if done is not None:
        items.append(html.Li(f"40-min BP check: done at {at(done)}; then BP {BP_AFTER_THE_CHECK}",
                             className="countdown done"))
    else:
        items.append(html.Li(f"40-min BP check: take a BP between {at(start)} and {at(end)}"
                             f" ({config.value('bp.check_due.window_start'):.0f}–{config.value('bp.check_due.window_end'):.0f}"
                             " min after the dose)"
                             f" ({_until(start, now_s) if now_s < start else 'due now' if now_s <= end else 'missed'})",
                             className="countdown"))
    observation_end = status.get("observation_end_at")
    if observation_end is not None:
        items.append(_countdown("End of the minimum observation", observation_end, now_s, at))
    elif status.get("phase") == "infusion":
        items.append(html.Li("The minimum observation starts at infusion end.", className="countdown"))
    return items


def _countdown(label: str, at: float, now_s: float, clock_at: Callable[[float], str]) -> Any:
    return html.Li(f"{label}: {clock_at(at)} ({_until(at, now_s)})", className="countdown")


def _until(at: float, now_s: float) -> str:
    left = at - now_s
    return f"in {minutes(left)}" if left > 60 else ("now" if left > -60 else f"{minutes(-left)} ago")


def readiness_checklist(row: SessionRow) -> Any:
    status = row.status or {}
    checks = status.get("readiness") or {}
    title = ("Ready for discharge" if status.get("phase") == "ready" else "Discharge criteria")
    return html.Div([
        html.H4(title),
        html.Ul([html.Li(("✔ " if ok else "✘ ") + name, className="met" if ok else "unmet")
                 for name, ok in checks.items()], className="readiness"),
    ], className="readiness-box")


def rems_table(row: SessionRow, readings: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]],
               config: Config, first_treatment: bool | None = None, spo2: Mapping[str, Any] | None = None) -> Any:
    """The REMS Patient Monitoring Form in the order and wording of the session's revision of it (esketamine
    sessions only). `readings`: the BP readings; `spo2`: the store's count of the SpO2 (spo2_overview)."""
    if not row.protocol.startswith("esketamine"):
        return html.Div()
    form = rems_form(row, readings, events, config, lambda offset: session_wall_time(row, offset), first_treatment,
                     spo2)
    body = []
    for section, rows in form.sections():
        body.append(html.Tr(html.Th(section, colSpan=2, className="rems-section")))
        if section == MEDICINES:
            body.append(html.Tr(html.Td(form.medicines_question, colSpan=2, className="rems-question")))
        body.extend(html.Tr([html.Th(q), html.Td(a)]) for q, a in rows)
    return html.Div([
        html.H4(f"REMS Patient Monitoring Form (revision {form.revision.date})"),
        html.Table(html.Tbody(body), className="rems", id="rems-form"),
    ], className="rems-box")


def alarm_panel(row: SessionRow, live: bool) -> Any:
    """The active alarms (the audio pause and its time left are in the header, which every poll redraws)."""
    status = row.status or {}
    alarms = status.get("alarms") or []
    if not alarms:
        return html.Div([html.P("No active alarm.", className="no-alarm")])
    now_s = row.session_now()
    at = clock_at(row)
    return html.Div([html.Ul([_alarm_item(alarm, status, now_s, live, at) for alarm in alarms],
                             className="alarm-list")])


def _alarm_item(alarm: Mapping[str, Any], status: Mapping[str, Any], now_s: float, live: bool,
                at: Callable[[float], str]) -> Any:
    state = []
    if alarm.get("latched"):
        state.append(html.Span("condition ended · latched until acknowledged", className="latched"))
    if alarm.get("escalated"):
        state.append(html.Span("ESCALATED", className="escalated"))
    if alarm.get("acked_by"):
        state.append(html.Span(f"Acknowledged by {alarm['acked_by']} at {at(alarm['acked_at'])}",
                               className="acked"))
    elif live:
        key = json.dumps([alarm["code"], alarm["source"]])
        state.append(html.Button("Acknowledge", id={"type": "ack", "index": key}, className="ack-button"))
    else:
        state.append(html.Span("not acknowledged", className="not-acked"))
    now = alarm_view.current_value(alarm, status)
    children = [
        html.Span(className="alarm-marker", **{"aria-hidden": "true"}),
        html.Span(PRIORITY_LABELS[alarm["priority"]], className=f"badge prio-{alarm['priority']}"),
        html.Span(f" {alarm_label(alarm['code'])}{' (' + alarm['source'] + ')' if alarm['source'] else ''}: ",
                  className="alarm-name", title=alarm["code"]),
        html.Span(f"now {now} · " if now and now != alarm["value"] else "", className="alarm-now"),
        html.Span(alarm["message"], className="alarm-message"),
        html.Span(f" · since {at(alarm['since_s'])} (for {minutes(now_s - alarm['since_s'])})",
                  className="alarm-since"),
        *state,
    ]
    if alarm["code"] in BP_ALARMS_WITH_CHECKLIST:
        children.append(html.Div([html.Strong("Ask and look for: "), html.Ul([html.Li(x) for x in ESCALATION_CHECKLIST]),
                                  html.P(ESCALATION_ADVICE)], className="escalation-checklist"))
    return html.Li(children, className=f"alarm-item prio-{alarm['priority']} {alarm_view.state(alarm)}")


def alarm_key(row: SessionRow) -> str:
    """What the alarm panel depends on: it is redrawn only when this changes (each minute at most for the time
    an alarm has lasted), so an Acknowledge button stays where it is."""
    status = row.status or {}
    now_s = row.session_now()
    shown = [[alarm, alarm_view.current_value(alarm, status), int((now_s - alarm["since_s"]) // 60)]
             for alarm in status.get("alarms") or []]
    return json.dumps(shown, sort_keys=True)


def log_table(row: SessionRow, bp_readings: Sequence[Mapping[str, Any]], transitions: Sequence[Mapping[str, Any]],
              events: Sequence[Mapping[str, Any]], continuous: Mapping[str, Any]) -> Any:
    """The log, newest first: the clock time (to the second: the order of a BP and an alarm matters), then the
    session time."""
    entries = log_entries(bp_readings, transitions, events)
    rows = [html.Tr([html.Td(clock(session_wall_time(row, t), seconds=True), className="log-clock"),
                     html.Td(session_clock(t), className="log-session"), html.Td(kind), html.Td(text), html.Td(who)])
            for t, kind, text, who in reversed(entries)]
    return html.Div([
        html.P(_continuous_summary(continuous), className="log-summary"),
        html.Table([html.Thead(html.Tr([html.Th(f"Time ({zone_name(row.started_at)})"), html.Th("Session time"),
                                        html.Th("What"), html.Th("Detail"), html.Th("Who")])),
                    html.Tbody(rows)], className="log-table"),
    ])


def _continuous_summary(summary: Mapping[str, Any]) -> str:
    if not summary.get("count"):
        return "No continuous HR/SpO2 readings."
    parts = [f"Continuous readings: {summary['count']:,}"]
    if summary.get("hr_min") is not None:
        parts.append(f"HR {summary['hr_min']:.0f}–{summary['hr_max']:.0f}/min")
    if summary.get("spo2_min") is not None:
        parts.append(f"SpO2 {summary['spo2_min']:.0f}–{summary['spo2_max']:.0f} %")
    return " · ".join(parts)
