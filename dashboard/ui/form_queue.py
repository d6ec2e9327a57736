"""The REMS forms to send, on the clinician's review page (their home among the pages): overdue and due-today
forms first, each with its days left and state, a link to its session (by id only), its one-page PDF, and a
row to record that it was sent (portal or fax, with the REMS's confirmation), audited. A day's forms print in one
file. Test sessions are never listed (reports/form_queue.py).

Who recorded it comes from the signed-in session, never from a field. A refused entry (no confirmation, a draft
not filled by hand, a form already sent) is said in the page's error notice and loses nothing already typed.
"""
from __future__ import annotations

import datetime as dt
import time
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from ..auth.web import client_address
from ..engine import Config
from ..reports.exports.form_pdf import form_pdf, forms_pdf
from ..auth.roles import REVIEW as CLINICIANS
from ..reports.form_queue import (DRAFT, FormQueue, QueuedForm, Recorder, Submission, SubmissionRefused, form_queue,
                                  forms_of_day, local_day, submit, urgent)
from ..reports.format import wall_clock
from ..reports.record import SessionNotFound, load_record
from ..store import Store
from .controls import choice_group
from .identity import audit, role, signed_in
from .notice import error, ok

CHANNELS = ({"label": "portal (SPRAVATOrems.com)", "value": "portal"}, {"label": "fax", "value": "fax"})


def board_reminder(store: Store, config: Config) -> Any:
    """A clinician's board (their home) says when forms are overdue or due today, linking to the queue; None when
    none is, or for anyone else."""
    if role() not in CLINICIANS:
        return None
    due = urgent(store, config, time.time())
    if not due:
        return None
    return html.P(dcc.Link(f"REMS forms to send: {due.overdue} overdue, {due.due_today} due today. Send them from "
                           "Review.", href="/review"), className="notice error rq-reminder", role="status")


def panel(store: Store, config: Config) -> Any:
    queue = form_queue(store, config, time.time())
    return html.Section([
        html.H2("REMS forms to send"),
        html.Div(queue_view(queue), id="rq-table"),
        html.Div([
            html.Label(["A day's forms, one file: ",
                        dcc.DatePickerSingle(id="rq-day", display_format="YYYY-MM-DD",
                                             date=local_day(time.time()).isoformat())]),
            html.Button("Print the day's forms (PDF)", id="rq-day-pdf", className="act"),
            dcc.Download(id="rq-download"),
            html.Span(id="rq-download-message", className="form-message", role="status"),
        ], className="rq-day no-print"),
        html.Div(id="rq-message", role="status"),
    ], className="rems-queue", id="rems-queue")


def queue_view(queue: FormQueue) -> Any:
    unsent = queue.unsent()
    overdue = sum(f.deadline.overdue for f in unsent)
    today = sum(f.deadline.due_today for f in unsent)
    summary = (f"{len(unsent)} to send: {overdue} overdue, {today} due today. Due by the end of the treatment date "
               "+ 7 days." if unsent else "Every form of the last weeks is recorded as sent.")
    older = ([html.P(f"{queue.older_unsent} older form(s), treated before {queue.window_start.isoformat()}, are not "
                     "recorded as sent (python app.py rems list --due --days N).", className="notice error")]
             if queue.older_unsent else [])
    return [html.P(summary, id="rq-summary"), *older, _table(queue.forms) if queue.forms else
            html.P("No esketamine session in this window.", className="no-sessions")]


def _table(forms: tuple[QueuedForm, ...]) -> Any:
    head = html.Thead(html.Tr([html.Th(h) for h in ("Session", "Chair", "Patient", "Treated", "Due", "State",
                                                     "Days left", "Form", "Sent")]))
    return html.Table([head, html.Tbody([_row(f) for f in forms])], className="log-table rq-forms")


def _row(f: QueuedForm) -> Any:
    urgency = "" if f.sent else "overdue" if f.deadline.overdue else "due-today" if f.deadline.due_today else ""
    state = f.state + (f" ({len(f.missing)} missing)" if f.state == DRAFT and f.missing else "") + (
        ", running" if f.open else "")
    return html.Tr([
        html.Td(dcc.Link(f"Session {f.session_id}", href=f"/review/{f.session_id}")),
        html.Td(f.chair), html.Td(f.patient_label),
        html.Td(f.deadline.treatment_day.isoformat()), html.Td(f.deadline.due.isoformat()),
        html.Td(state, title="; ".join(f.missing) or None, className=f"rq-state {f.state}"),
        html.Td(f.days_text(), className=f"rq-days {urgency}".strip()),
        html.Td(html.Button("PDF", id={"type": "rq-pdf", "sid": f.session_id}, className="act",
                            title="the form alone, one page, to fax")),
        html.Td(_sent(f) if f.sent else _record_form(f)),
    ], className=f"rq-row {urgency}".strip(), id=f"rq-row-{f.session_id}")


def _sent(f: QueuedForm) -> Any:
    s = f.submission
    assert s is not None
    return html.Span(f"{wall_clock(s.submitted_at)} by {s.submitted_by}: {s.describe()}", className="rq-sent")


def _record_form(f: QueuedForm) -> Any:
    key = f.session_id
    return html.Div([
        choice_group(f"How session {key}'s form was sent", dcc.RadioItems(
            id={"type": "rq-channel", "sid": key}, options=list(CHANNELS), inline=True), spoken_only=True,
            className="rq-channel"),
        html.Label([html.Span(f"Confirmation of session {key}'s form", className="sr-only"),
                    dcc.Input(id={"type": "rq-confirmation", "sid": key}, placeholder="confirmation", maxLength=80,
                              autoComplete="off")], className="rq-confirmation"),
        choice_group(f"Session {key}'s draft", dcc.Checklist(id={"type": "rq-hand", "sid": key}, options=[{
            "label": "missing answers written on the form by hand", "value": "yes"}], value=[]), spoken_only=True,
            className="rq-hand" + ("" if f.state == DRAFT else " hidden")),
        html.Button("Record as sent", id={"type": "rq-record", "sid": key}, className="act"),
    ], className="rq-record")


def _value_of(kind: str, sid: int, states: list[list[dict[str, Any]]]) -> Any:
    for group in states:
        for item in group:
            if item["id"].get("type") == kind and item["id"].get("sid") == sid:
                return item.get("value")
    return None


def register(app: Dash, store: Store, config: Config) -> None:
    @app.callback(Output("rq-message", "children"), Output("rq-table", "children"),
                  Input({"type": "rq-record", "sid": ALL}, "n_clicks"),
                  State({"type": "rq-channel", "sid": ALL}, "value"),
                  State({"type": "rq-confirmation", "sid": ALL}, "value"),
                  State({"type": "rq-hand", "sid": ALL}, "value"), prevent_initial_call=True)
    def _record(clicks: list[int | None], *_: Any):
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not any(clicks) or not ctx.triggered[0]["value"]:
            return no_update, no_update
        sid, who = int(trigger["sid"]), signed_in()
        if who is None:
            return error("Sign in first."), no_update
        states = ctx.states_list
        submission = Submission(sid, who, time.time(), _value_of("rq-channel", sid, states) or "",
                                _value_of("rq-confirmation", sid, states) or "",
                                "yes" in (_value_of("rq-hand", sid, states) or []))
        try:
            done = submit(store, config, submission, Recorder(who, role() or "", client_address()))
        except SubmissionRefused as exc:
            return error(str(exc)), no_update  # the row keeps what was typed
        return (ok(f"Session {sid}: form recorded as sent ({done.describe()})."),
                queue_view(form_queue(store, config, time.time())))

    @app.callback(Output("rq-download", "data"), Output("rq-download-message", "children"),
                  Input({"type": "rq-pdf", "sid": ALL}, "n_clicks"), Input("rq-day-pdf", "n_clicks"),
                  State("rq-day", "date"), prevent_initial_call=True)
    def _print(_clicks: list[int | None], _day_clicks: int | None, day: str | None):
        trigger = ctx.triggered_id
        if trigger is None or not ctx.triggered[0]["value"]:
            return no_update, no_update
        who = signed_in() or ""
        if isinstance(trigger, dict):
            sid = int(trigger["sid"])
            try:
                content = form_pdf(load_record(store, sid), config)
            except SessionNotFound as exc:
                return no_update, error(f"{str(exc).capitalize()}.")
            name = f"session-{sid}-rems-form.pdf"
            audit(store, who, "export", f"rems form: {name}", session_id=sid)
            return dcc.send_bytes(content, name, type="application/pdf"), f"{name} ({len(content):,} bytes)"
        return _day_file(store, config, who, day)


def _day_file(store: Store, config: Config, who: str, day: str | None) -> tuple[Any, Any]:
    try:
        date = dt.date.fromisoformat((day or "")[:10])
    except ValueError:
        return no_update, error("Choose a date.")
    records = forms_of_day(store, date)
    if not records:
        return no_update, error(f"No esketamine session was treated on {date.isoformat()}.")
    content, name = forms_pdf(records, config), f"rems-forms-{date.isoformat()}.pdf"
    for record in records:
        audit(store, who, "export", f"rems day: {name}", session_id=record.id)
    return (dcc.send_bytes(content, name, type="application/pdf"),
            f"{name}: {len(records)} form(s) ({len(content):,} bytes)")
