"""One session: its chart, active alarms with Acknowledge, and its log.

Live (`/session/<id>`) the page polls: new readings are appended to the chart
with `extendData`; the figure is re-sent only when an alarm transition or an
event adds a marker; alarms and log are redrawn only when they change. The
review (`/review/<id>`) shows the same parts without polling.
"""
from __future__ import annotations

import json
import time
from typing import Any, Mapping, Sequence

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from ..store import SessionRow, Store
from .figures import EVENT_LABELS, extend_payload, session_figure
from .format import PHASE_LABELS, PRIORITY_LABELS, alarm_label, bp_text, minutes, session_clock, wall_clock


def layout(store: Store, sid: int, poll_ms: int, live: bool) -> Any:
    row = store.session(sid)
    if row is None:
        return html.Div([html.H2("Session not found"), html.P(f"There is no session {sid}."),
                         dcc.Link("Back to the chairs", href="/")], className="not-found")
    view = SessionView.load(store, row)
    return html.Div([
        html.Div(header(row), id="session-header"),
        dcc.Graph(id="session-chart", figure=view.figure(), config={"displaylogo": False}),
        html.H3("Active alarms"),
        html.Div(view.alarm_panel(live), id="session-alarms"),
        html.Div(id="ack-message", className="form-message", role="status"),
        html.H3("Session log"),
        html.Div(view.log_table(), id="session-log"),
        dcc.Store(id="session-state", data=view.state()),
        dcc.Interval(id="session-poll", interval=poll_ms, disabled=not live or row.ended_at is not None),
    ], className="session-page")


def header(row: SessionRow) -> Any:
    status = row.status or {}
    now_s = row.session_now()
    phase = status.get("phase", row.phase)
    bits = [f"{row.chair} · {row.patient_label}", status.get("protocol_label") or row.protocol,
            f"{PHASE_LABELS.get(phase, phase)} for {minutes(now_s - (status.get('phase_since') or 0))}",
            f"session time {session_clock(now_s)}", f"started {wall_clock(row.started_at)}"]
    if status.get("baseline"):
        bits.append(f"baseline {bp_text(status['baseline'])}")
    return html.Div([html.H2(bits[0]), html.P(" · ".join(bits[1:]), className="session-meta")])


class SessionView:
    """What the page shows of one session, read from the store once per redraw."""

    def __init__(self, row: SessionRow, readings: list[dict[str, Any]], transitions: list[dict[str, Any]],
                 events: list[dict[str, Any]], acks: list[dict[str, Any]]) -> None:
        self.row, self.readings, self.transitions, self.events, self.acks = row, readings, transitions, events, acks

    @classmethod
    def load(cls, store: Store, row: SessionRow) -> SessionView:
        return cls(row, store.readings_after(row.id), store.alarms_of(row.id), store.events_of(row.id),
                   store.acknowledgements_of(row.id))

    def figure(self) -> Any:
        return session_figure(self.readings, self.transitions, self.events, self.row.status or {},
                              self.row.session_now())

    def state(self) -> dict[str, Any]:
        return {"sid": self.row.id, "rev": self.row.rev,
                "last_id": max((r["id"] for r in self.readings), default=0),
                "marks": len(self.transitions) + len(self.events),
                "alarms": _alarm_key(self.row, self.acks), "log": self.log_key()}

    def log_key(self) -> list[int]:
        return [len(self.transitions), len(self.events), len(self.acks),
                sum(1 for r in self.readings if r.get("sbp") is not None)]

    def alarm_panel(self, live: bool) -> Any:
        alarms = (self.row.status or {}).get("alarms") or []
        if not alarms:
            return html.P("No active alarm.", className="no-alarm")
        acked = {(a["code"], a["source"], a["raised_offset_s"]): a for a in self.acks}
        items = []
        for alarm in alarms:
            key = (alarm["code"], alarm["source"], alarm["since_s"])
            ack = acked.get(key)
            if ack:
                action: Any = html.Span(f"Acknowledged by {ack['who']} at {time.strftime('%H:%M:%S', time.localtime(ack['at']))}",
                                        className="acked")
            elif live:
                action = html.Button("Acknowledge", id={"type": "ack", "index": json.dumps(key)},
                                     className="ack-button")
            else:
                action = html.Span("not acknowledged", className="not-acked")
            items.append(html.Li([
                html.Span(PRIORITY_LABELS[alarm["priority"]], className=f"badge prio-{alarm['priority']}"),
                html.Span(f" {alarm_label(alarm['code'])}{' (' + alarm['source'] + ')' if alarm['source'] else ''}: ",
                          className="alarm-name", title=alarm["code"]),
                html.Span(alarm["message"], className="alarm-message"),
                html.Span(f" · since {session_clock(alarm['since_s'])} ", className="alarm-since"),
                action,
            ], className=f"alarm-item prio-{alarm['priority']}" + (" acknowledged" if ack else "")))
        return html.Ul(items, className="alarm-list")

    def log_table(self) -> Any:
        entries = log_entries(self.readings, self.transitions, self.events, self.acks)
        continuous = [r for r in self.readings if r.get("sbp") is None]
        summary = _continuous_summary(continuous)
        rows = [html.Tr([html.Td(session_clock(t)), html.Td(kind), html.Td(text), html.Td(who)])
                for t, kind, text, who in reversed(entries)]
        return html.Div([
            html.P(summary, className="log-summary"),
            html.Table([html.Thead(html.Tr([html.Th("Session time"), html.Th("What"), html.Th("Detail"),
                                            html.Th("Who")])), html.Tbody(rows)], className="log-table"),
        ])


def log_entries(readings: Sequence[Mapping[str, Any]], transitions: Sequence[Mapping[str, Any]],
                events: Sequence[Mapping[str, Any]], acks: Sequence[Mapping[str, Any]]) -> list[tuple[float, str, str, str]]:
    """The session's log in session-time order: every BP, event, alarm transition and acknowledgement."""
    out: list[tuple[float, str, str, str]] = []
    for r in readings:
        if r.get("sbp") is not None:
            hr = f", HR {r['hr']:.0f}" if r.get("hr") is not None else ""
            out.append((r["offset_s"], "BP", f"{r['sbp']:.0f}/{r['dbp']:.0f} mmHg{hr} ({r['source']}, {r['provenance']})", ""))
    for e in events:
        label = EVENT_LABELS.get(e["kind"], e["kind"].replace("_", " ").capitalize())
        out.append((e["offset_s"], label, e["detail"], e["who"]))
    for t in transitions:
        what = f"{t['code']} {t['state']}" if t["state"] != "event" else t["code"]
        out.append((t["offset_s"], f"Alarm ({t['priority']})" if t["state"] != "event" else "Status",
                    f"{what}: {t['value']} {t['message']}".strip(), ""))
    for a in acks:
        out.append((a["offset_s"], "Acknowledged", f"{a['code']} raised at {session_clock(a['raised_offset_s'])}", a["who"]))
    out.sort(key=lambda entry: entry[0])
    return out


def _continuous_summary(continuous: Sequence[Mapping[str, Any]]) -> str:
    hrs = [r["hr"] for r in continuous if r.get("hr") is not None]
    sats = [r["spo2"] for r in continuous if r.get("spo2") is not None]
    if not continuous:
        return "No continuous HR/SpO2 readings."
    parts = [f"Continuous readings: {len(continuous):,}"]
    if hrs:
        parts.append(f"HR {min(hrs):.0f}–{max(hrs):.0f}/min")
    if sats:
        parts.append(f"SpO2 {min(sats):.0f}–{max(sats):.0f} %")
    return " · ".join(parts)


def _alarm_key(row: SessionRow, acks: Sequence[Mapping[str, Any]]) -> str:
    alarms = (row.status or {}).get("alarms") or []
    return json.dumps([[a["code"], a["source"], a["since_s"], a["priority"], a["value"]] for a in alarms]
                      + [[a["code"], a["source"], a["raised_offset_s"]] for a in acks])


def poll_session(store: Store, state: Mapping[str, Any]) -> tuple[Any, ...]:
    """(extendData, figure, header, alarms, log, state): no_update wherever nothing changed."""
    row = store.session(state["sid"])
    if row is None:
        return (no_update,) * 6
    head = header(row)
    if row.rev == state["rev"]:
        return no_update, no_update, head, no_update, no_update, no_update
    new_state = dict(state, rev=row.rev)
    transitions, events = store.alarms_of(row.id), store.events_of(row.id)
    if len(transitions) + len(events) != state["marks"]:  # a new marker: re-send the whole figure
        view = SessionView(row, store.readings_after(row.id), transitions, events, store.acknowledgements_of(row.id))
        new_state.update(view.state())
        return no_update, view.figure(), head, view.alarm_panel(True), view.log_table(), new_state
    fresh = store.readings_after(row.id, state["last_id"])
    extend = extend_payload(fresh) if fresh else None
    if fresh:
        new_state["last_id"] = max(r["id"] for r in fresh)
    acks = store.acknowledgements_of(row.id)
    alarms_out: Any = no_update
    if _alarm_key(row, acks) != state["alarms"]:
        new_state["alarms"] = _alarm_key(row, acks)
        alarms_out = SessionView(row, [], transitions, events, acks).alarm_panel(True)
    log_out: Any = no_update
    bp_count = state["log"][3] + sum(1 for r in fresh if r.get("sbp") is not None)
    log_key = [len(transitions), len(events), len(acks), bp_count]
    if log_key != state["log"]:
        view = SessionView(row, store.readings_after(row.id), transitions, events, acks)
        new_state["log"] = view.log_key()
        log_out = view.log_table()
    return extend or no_update, no_update, head, alarms_out, log_out, new_state


def acknowledge(store: Store, state: Mapping[str, Any], key_json: str, who: str | None) -> tuple[str, Any]:
    """Record an acknowledgement; (message for the nurse, redrawn alarm panel or no_update)."""
    who = (who or "").strip()
    if not who:
        return "Enter your name or initials (top right) to acknowledge an alarm.", no_update
    if len(who) > 40:
        return "Name or initials: at most 40 characters.", no_update
    code, source, raised = json.loads(key_json)
    first = store.acknowledge(state["sid"], code, source, float(raised), who)
    row = store.session(state["sid"])
    assert row is not None
    panel = SessionView(row, [], [], [], store.acknowledgements_of(row.id)).alarm_panel(True)
    return (f"{code} acknowledged by {who}." if first else f"{code} was already acknowledged."), panel


def register(app: Dash, store: Store) -> None:
    @app.callback(Output("session-chart", "extendData"), Output("session-chart", "figure"),
                  Output("session-header", "children"), Output("session-alarms", "children"),
                  Output("session-log", "children"), Output("session-state", "data"),
                  Input("session-poll", "n_intervals"), State("session-state", "data"), prevent_initial_call=True)
    def _poll(_n: int | None, state: dict[str, Any]):
        return poll_session(store, state)

    @app.callback(Output("ack-message", "children"), Output("session-alarms", "children", allow_duplicate=True),
                  Input({"type": "ack", "index": ALL}, "n_clicks"), State("who", "value"),
                  State("session-state", "data"), prevent_initial_call=True)
    def _acknowledge(clicks: list[int | None], who: str | None, state: dict[str, Any]):
        if not ctx.triggered_id or not any(clicks):
            return no_update, no_update
        return acknowledge(store, state, ctx.triggered_id["index"], who)
