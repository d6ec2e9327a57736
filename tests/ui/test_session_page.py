"""A live session page comes without its figure, which follows by a callback of its own (issue 22: a cold link
opens on a phone with the alarms first); the poll leaves the chart and its state to that callback."""
from __future__ import annotations

import json
from pathlib import Path

import plotly
from dash import no_update

from dashboard.engine import load_config
from dashboard.store import Store
from dashboard.ui import session_page

from tests.sessions import severe_bp_session


def _find(component, component_id: str):
    if getattr(component, "id", None) == component_id:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        if (found := _find(child, component_id)) is not None:
            return found
    return None


def test_the_live_page_comes_first_and_its_chart_after(tmp_path: Path):
    sid = severe_bp_session(tmp_path / "clinic.db", oximeter=True)
    store, config = Store.open(tmp_path / "clinic.db"), load_config()
    page = session_page.layout(store, config, sid, 1000, live=True)
    state = _find(page, "session-state").data
    assert _find(page, "session-chart").figure is session_page.CHART_COMING and state["marks"] is None
    assert "BP severe" in json.dumps(_find(page, "session-alarms"), cls=plotly.utils.PlotlyJSONEncoder)
    assert len(json.dumps(page, cls=plotly.utils.PlotlyJSONEncoder)) < 60_000  # no figure in it

    # A poll before the chart came: the header only; neither the chart nor the state.
    extend, figure, head, *_, new_state = session_page.poll_session(store, config, {**state, "rev": -1})
    assert extend is no_update and figure is no_update and new_state is no_update and head is not no_update

    figure, drawn = session_page.chart_now(store, config, state)
    assert [p for p in figure.data[1].y if p is not None] == [128, 185] and drawn["marks"] is not None
    assert drawn["last_id"] == max(r["id"] for r in store.readings_after(sid))
    assert session_page.chart_now(store, config, drawn) == (no_update, no_update)  # once

    ended = session_page.layout(store, config, sid, 1000, live=False)  # not live: the figure in the page
    assert _find(ended, "session-chart").figure is not session_page.CHART_COMING
    store.close()
