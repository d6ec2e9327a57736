"""Review: every session, finished ones included, and the chart of any of them."""
from __future__ import annotations

from typing import Any

from dash import dcc, html

from ..store import Store
from .format import PHASE_LABELS, bp_text, wall_clock

PAGE_SIZE = 50


def layout(store: Store, page: int = 0) -> Any:
    rows = store.list_sessions(limit=PAGE_SIZE + 1, offset=page * PAGE_SIZE)
    more = len(rows) > PAGE_SIZE
    body = []
    for row in rows[:PAGE_SIZE]:
        status = row.status or {}
        body.append(html.Tr([
            html.Td(dcc.Link(f"Session {row.id}", href=f"/review/{row.id}")),
            html.Td(row.chair), html.Td(row.patient_label), html.Td(status.get("protocol_label") or row.protocol),
            html.Td(wall_clock(row.started_at)), html.Td(wall_clock(row.ended_at) if row.ended_at else "open"),
            html.Td(PHASE_LABELS.get(row.phase, row.phase)), html.Td(bp_text(status.get("peak"))),
        ]))
    pager = [dcc.Link("← newer", href=f"/review?page={page - 1}") if page > 0 else html.Span(),
             dcc.Link("older →", href=f"/review?page={page + 1}") if more else html.Span()]
    return html.Div([
        html.H2("Sessions"),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in (
            "Session", "Chair", "Patient", "Protocol", "Started", "Ended", "Phase", "Peak BP")])),
            html.Tbody(body)], className="sessions-table") if body else html.P("No sessions yet."),
        html.Div(pager, className="pager"),
    ])
