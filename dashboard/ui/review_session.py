"""The clinician's review of one session (`/review/<id>`): chart, alarm table, REMS summary, log,
exports and the sign-off, after which the record is read-only.

Nothing here polls. The chart starts with the whole session, continuous series
reduced; zooming fetches the visible range in full detail (reports/charts/review.py).
Element ids `session-chart` and `session-log` wrap the chart and log as on the
live page, so a link or test that finds them there finds them here.
"""
from __future__ import annotations

from typing import Any, Callable

from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from ..engine import Config
from ..reports.alarm_table import AlarmEpisode, alarm_episodes
from ..reports.charts import review as review_chart
from ..reports.charts.marks import limit_lines
from ..reports.exports import FORMATS, SessionNotFound, export_session
from ..reports.format import PRIORITY_LABELS, alarm_label, clock, session_clock, wall_clock
from ..reports.record import session_wall_time
from ..reports.patient_course import first_treatment
from ..reports.rems import spo2_bounds
from ..store import SessionRow, Store
from ..store.review_queries import continuous_between, spo2_overview
from ..store.signoff import SignOff, SignOffError, sign_off, signoff_of
from . import panels
from .identity import audit, signed_in
from .notice import error

EXPORT_BUTTONS = ("csv", "feed", "actions", "pdf", "fhir", "hl7")
MAX_ID = 2**63 - 1  # larger numbers are no session (and overflow SQLite's integer)
EXPORT_LABELS = {"csv": "CSV", "feed": "Feed CSV", "actions": "Actions CSV", "pdf": "PDF report", "fhir": "FHIR R4", "hl7": "HL7 v2"}


def layout(store: Store, config: Config, sid: int) -> Any:
    row = store.session(sid) if sid <= MAX_ID else None
    if row is None:
        return html.Div([html.H2("Session not found"), html.P(f"There is no session {sid}."),
                         dcc.Link("Back to the sessions", href="/review")], className="not-found")
    transitions, events = store.alarms_of(sid), store.events_of(sid)
    bp_readings = store.readings_after(sid, bp_only=True)
    episodes = alarm_episodes(transitions)
    end_s = _end_s(row)
    fig = review_chart.figure(row, bp_readings, continuous_between(store, sid), transitions, events, episodes, end_s,
                              limits=limit_lines(config, row.protocol))
    return html.Div([
        html.Div([dcc.Link("← Sessions", href="/review"), dcc.Link("Patient course", href=f"/course/{sid}"),
                  *([dcc.Link("Live page", href=f"/session/{sid}")] if row.ended_at is None else [])],
                 className="review-links no-print"),
        html.Div(panels.header(row), id="session-header"),
        html.Div(signoff_box(row, signoff_of(store, sid)), id="review-signoff"),
        export_bar(),
        html.Div(dcc.Graph(id="review-chart", figure=fig, config={"displaylogo": False, "scrollZoom": True}),
                 id="session-chart"),
        html.H3("Alarms"), alarm_table(row, episodes),
        panels.rems_table(row, bp_readings, events, config,
                          first_treatment(store, row) if row.protocol.startswith("esketamine") else None,
                          spo2_overview(store, sid, *spo2_bounds(config))),
        html.H3("Session log"),
        html.Div(panels.log_table(row, bp_readings + store.spot_checks(sid), transitions, events,
                                  store.reading_summary(sid)), id="session-log"),
        dcc.Store(id="review-sid", data=sid),
    ], className="session-page review-page")


def _end_s(row: SessionRow) -> float:
    status = row.status or {}
    return float(status.get("discharged_at") or status.get("now") or row.session_now())


def export_bar() -> Any:
    return html.Div([
        html.Strong("Export "),
        *(html.Button(EXPORT_LABELS[f], id=f"export-{f}", className="act", title=FORMATS[f].what)
          for f in EXPORT_BUTTONS),
        html.Button("Print", id="review-print", className="act", title="the page, laid out for paper"),
        dcc.Download(id="review-download"),
        dcc.Loading(html.Span(id="review-export-message", className="form-message", role="status"), type="dot"),
    ], className="export-bar no-print")


def signoff_box(row: SessionRow, signed: SignOff | None) -> Any:
    if signed is not None:
        comment = [html.P(["Comment: ", signed.comment])] if signed.comment else []
        return html.Div([html.Strong(f"Signed off by {signed.clinician} on {wall_clock(signed.signed_at)}."),
                         html.Span(" This record is read-only.", className="read-only"), *comment],
                        className="signoff signed")
    if row.ended_at is None:
        return html.Div(html.P("Sign-off opens once the session has ended."), className="signoff no-print")
    return html.Div([
        html.Strong("Sign-off "),
        html.Span(f"as {signed_in() or '–'} ", className="signoff-who"),  # who signs is who is signed in
        dcc.Input(id="signoff-comment", placeholder="comment (optional)", maxLength=2000, className="wide"),
        html.Button("Sign off", id="signoff-button", className="act"),
        html.Span(id="signoff-message", className="form-message", role="status"),
    ], className="signoff no-print")


def alarm_table(row: SessionRow, episodes: list[AlarmEpisode]) -> Any:
    """Each alarm episode with its clock times (to the second: time to acknowledge is in seconds); the session time
    of its raise as the cell's title."""
    if not episodes:
        return html.P("No alarm was raised.", className="no-alarm")
    head = ("Alarm", "Priority", "Raised", "Value", "Acknowledged", "Time to acknowledge", "Cleared", "Notes")
    rows = []
    at = _clock_seconds(row)
    for ep in episodes:
        acks = "; ".join(f"{who} at {at(when)}" for who, when in ep.acks) or "–"
        took = ep.time_to_acknowledge
        rows.append(html.Tr([
            html.Td(f"{alarm_label(ep.code)}{' (' + ep.source + ')' if ep.source else ''}", title=ep.code),
            html.Td(html.Span(PRIORITY_LABELS.get(ep.priority, ep.priority), className=f"badge prio-{ep.priority}")),
            html.Td(at(ep.raised_at), title=f"session {session_clock(ep.raised_at)}"), html.Td(ep.value),
            html.Td(acks), html.Td("–" if took is None else f"{took:.0f} s"),
            html.Td("–" if ep.cleared_at is None else at(ep.cleared_at)),
            html.Td(ep.notes())], className=f"prio-{ep.priority}"))
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)],
                      className="alarm-table", id="review-alarms")


def _clock_seconds(row: SessionRow) -> Callable[[float], str]:
    return lambda offset_s: clock(session_wall_time(row, offset_s), seconds=True)


def register(app: Dash, store: Store, config: Config) -> None:
    @app.callback(Output("review-chart", "figure"), Input("review-chart", "relayoutData"),
                  State("review-sid", "data"), prevent_initial_call=True)
    def _zoom(relayout: dict[str, Any] | None, sid: int):
        return review_chart.zoom_patch(store, sid, relayout) or no_update

    @app.callback(Output("review-signoff", "children"), Output("signoff-message", "children"),
                  Input("signoff-button", "n_clicks"), State("signoff-comment", "value"), State("review-sid", "data"),
                  prevent_initial_call=True)
    def _sign(clicks: int | None, comment: str | None, sid: int):
        who = signed_in()
        if not clicks or who is None:
            return no_update, no_update
        try:
            signed = sign_off(store, sid, who, comment or "")
        except SignOffError as exc:
            return no_update, error(str(exc))
        audit(store, who, "sign_off", "the session record is now read-only", session_id=sid)
        return signoff_box(store.session(sid), signed), no_update  # type: ignore[arg-type]

    @app.callback(Output("review-download", "data"), Output("review-export-message", "children"),
                  *(Input(f"export-{f}", "n_clicks") for f in EXPORT_BUTTONS), State("review-sid", "data"),
                  prevent_initial_call=True)
    def _export(*args: Any):
        fmt = (ctx.triggered_id or "").removeprefix("export-")
        if fmt not in EXPORT_BUTTONS or not ctx.triggered[0]["value"]:
            return no_update, no_update
        try:
            done = export_session(store, config, args[-1], fmt)
        except SessionNotFound:
            return no_update, error("This session no longer exists.")
        audit(store, signed_in() or "", "export", f"{fmt}: {done.filename}", session_id=args[-1])
        return (dcc.send_bytes(done.content, done.filename, type=done.media_type),
                f"{EXPORT_LABELS[fmt]}: {done.filename} ({len(done.content):,} bytes)")

    app.clientside_callback("function (n) { if (n) { window.print(); } return window.dash_clientside.no_update; }",
                            Output("review-print", "title"), Input("review-print", "n_clicks"),
                            prevent_initial_call=True)
