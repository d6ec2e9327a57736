"""Review: every session, finished ones included, filtered, sorted and paged in SQL.

Filters live in the page (component state), never in the URL: a patient filter
would otherwise put part of a patient label into browser history and server logs.
Each session links to its review (`/review/<id>`) and its patient's course
(`/course/<id>`), both by session id only.
"""
from __future__ import annotations

import datetime as dt
import time
from typing import Any

from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from ..engine import Config
from ..reports.format import PHASE_LABELS, chair_at, wall_clock
from ..store import Store
from ..store.review_queries import PAGE_SIZES, SessionFilter, SessionPage, filter_choices, list_sessions
from . import form_queue
from .controls import choice_group
from .scope import mark

PAGE_SIZE = 50
MAX_PAGE = 1_000_000  # a page number from the URL is clamped: SQLite's integers overflow long before
SORT_OPTIONS = [{"label": label, "value": key} for key, label in (
    ("started", "start time"), ("chair", "chair"), ("patient", "patient"), ("protocol", "protocol"),
    ("peak", "peak systolic"), ("alarms", "number of alarms"), ("id", "session number"))]
FILTER_INPUTS = ("rv-dates.start_date", "rv-dates.end_date", "rv-site.value", "rv-chair.value", "rv-protocol.value",
                 "rv-patient.value", "rv-alarms.value", "rv-state.value", "rv-sort.value", "rv-order.value",
                 "rv-size.value")


def layout(store: Store, page: int = 0, config: Config | None = None) -> Any:
    """The sessions list; with `config`, the REMS forms to send above it (form_queue.py)."""
    choices = filter_choices(store)
    page = min(max(page, 0), MAX_PAGE)
    first = list_sessions(store, SessionFilter(page=page, page_size=PAGE_SIZE))
    return html.Div([
        *([form_queue.panel(store, config)] if config is not None else []),
        html.H2("Sessions"),
        html.Div([
            html.Label(["Started ", dcc.DatePickerRange(id="rv-dates", display_format="YYYY-MM-DD",
                                                        clearable=True, start_date_placeholder_text="from",
                                                        end_date_placeholder_text="to")]),
            _dropdown("rv-site", "Site", choices["site"], shown=len(choices["site"]) > 1),  # several clinics
            _dropdown("rv-chair", "Chair", choices["chair"]),
            _dropdown("rv-protocol", "Protocol", choices["protocol"]),
            html.Label(["Patient ", dcc.Input(id="rv-patient", placeholder="label contains", debounce=True,
                                              maxLength=80, autoComplete="off")]),
            choice_group("Alarms", dcc.RadioItems(id="rv-alarms", value="any", inline=True, options=[
                {"label": "any", "value": "any"}, {"label": "had alarms", "value": "yes"},
                {"label": "none", "value": "no"}])),
            choice_group("State", dcc.RadioItems(id="rv-state", value="all", inline=True, options=[
                {"label": "all", "value": "all"}, {"label": "open", "value": "open"},
                {"label": "finished", "value": "finished"}])),
            html.Label(["Sort by ", dcc.Dropdown(id="rv-sort", options=SORT_OPTIONS, value="started",
                                                 clearable=False, className="rv-dropdown")]),
            choice_group("Order", dcc.RadioItems(id="rv-order", value="desc", inline=True, options=[
                {"label": "descending", "value": "desc"}, {"label": "ascending", "value": "asc"}]), spoken_only=True),
            html.Label(["Per page ", dcc.Dropdown(id="rv-size", options=list(PAGE_SIZES), value=PAGE_SIZE,
                                                  clearable=False, className="rv-dropdown small")]),
        ], className="review-filters"),
        html.Div(table(first), id="rv-table"),
        html.Div([html.Button("← previous", id="rv-prev", disabled=page == 0),
                  html.Span(_count(first), id="rv-count"),
                  html.Button("next →", id="rv-next", disabled=page + 1 >= first.pages)], className="pager"),
        dcc.Store(id="rv-page", data=page),
    ], className="review-list")


def _dropdown(component_id: str, label: str, values: list[str], shown: bool = True) -> Any:
    return html.Label([f"{label} ", dcc.Dropdown(id=component_id, options=values, placeholder="any",
                                                 className="rv-dropdown")], hidden=not shown)


def table(page: SessionPage) -> Any:
    if not page.rows:
        return html.P("No session matches.", className="no-sessions")
    body = [html.Tr([
        html.Td([dcc.Link(f"Session {r.id}", href=f"/review/{r.id}"), *_test_mark(r)]), html.Td(wall_clock(r.started_at)),
        html.Td(wall_clock(r.ended_at) if r.ended_at else "open"), html.Td(chair_at(r.chair, r.site)),
        html.Td(r.patient_label),
        html.Td(r.protocol), html.Td(PHASE_LABELS.get(r.phase, r.phase)),
        html.Td("–/–" if r.peak_sbp is None else f"{r.peak_sbp:.0f}/{r.peak_dbp:.0f}"),
        html.Td(str(r.alarms) if r.alarms else "–", className="alarm-count" if r.alarms else ""),
        html.Td("signed" if r.signed else ""), html.Td(dcc.Link("course", href=f"/course/{r.id}")),
    ]) for r in page.rows]
    head = html.Thead(html.Tr([html.Th(h) for h in ("Session", "Started", "Ended", "Chair", "Patient", "Protocol",
                                                     "Phase", "Peak BP", "Alarms", "Sign-off", "")]))
    return html.Table([head, html.Tbody(body)], className="sessions-table")


def _test_mark(row: Any) -> list[Any]:
    """REPLAY or SIMULATED beside a session that is no real patient's."""
    return [html.Span(mark(row), className="test-mark")] if mark(row) else []


def _count(page: SessionPage) -> str:
    return f"page {page.filter.page + 1} of {page.pages} · {page.total:,} sessions"


def session_filter(values: dict[str, Any], page: int) -> SessionFilter:
    """The filter from the controls' values (keys as in FILTER_INPUTS, without the component id)."""
    return SessionFilter(
        started_from=_day_start(values.get("start_date")),
        started_before=_day_start(values.get("end_date"), plus_days=1),  # the end day is included
        site=values.get("site") or None, chair=values.get("chair") or None, protocol=values.get("protocol") or None,
        patient=values.get("patient") or None,
        had_alarms={"yes": True, "no": False}.get(values.get("alarms") or "any"),
        state=values.get("state") if values.get("state") in ("open", "finished") else None,
        sort=values.get("sort") or "started", descending=values.get("order") != "asc",
        page=page, page_size=int(values.get("size") or PAGE_SIZE))


def _day_start(text: str | None, plus_days: int = 0) -> float | None:
    """Local midnight of a YYYY-MM-DD date as epoch seconds."""
    if not text:
        return None
    day = dt.date.fromisoformat(text[:10]) + dt.timedelta(days=plus_days)
    return time.mktime(day.timetuple())


def register(app: Dash, store: Store) -> None:
    @app.callback(Output("rv-table", "children"), Output("rv-count", "children"), Output("rv-page", "data"),
                  Output("rv-prev", "disabled"), Output("rv-next", "disabled"),
                  *(Input(*name.split(".")) for name in FILTER_INPUTS),
                  Input("rv-prev", "n_clicks"), Input("rv-next", "n_clicks"), State("rv-page", "data"),
                  prevent_initial_call=True)
    def _refresh(*args: Any):
        values = {name.split(".")[0][3:] if not name.endswith("_date") else name.split(".")[1]: value
                  for name, value in zip(FILTER_INPUTS, args)}
        page = args[-1] or 0
        if ctx.triggered_id == "rv-prev":
            page = max(page - 1, 0)
        elif ctx.triggered_id == "rv-next":
            page = min(page + 1, MAX_PAGE)
        else:
            page = 0  # a new filter starts at its first page
        result = list_sessions(store, session_filter(values, page))
        if result.rows == () and page > 0 and result.total:
            return no_update, no_update, no_update, no_update, no_update
        return table(result), _count(result), page, page == 0, page + 1 >= result.pages
