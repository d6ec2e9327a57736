"""The review chart: continuous series reduced with their peaks kept, NIBP never reduced, zoom in full detail."""
from __future__ import annotations

import json

import numpy as np
import plotly.io as pio
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.reports.alarm_table import alarm_episodes
from dashboard.store import Store
from dashboard.store.review_queries import continuous_between
from dashboard.reports.charts import review as review_chart
from dashboard.reports.charts.decimate import GAP_S, POINTS_PER_TRACE, reduce_series
from dashboard.reports.charts.figures import TRACE

from ..clock_zone import local_zone, utc_epoch
from ..review_sessions import recorded_session


def _values(reduced):
    return [v for v in reduced.y if v is not None]


def test_a_four_hour_series_keeps_its_one_second_spike_and_dip():
    x = np.arange(4 * 3600, dtype=float)
    y = 80 + 5 * np.sin(x / 200)
    y[7001], y[9000] = 171, 31
    out = reduce_series(x, y)
    assert len(out.x) <= POINTS_PER_TRACE + 4
    assert max(_values(out)) == 171 and min(_values(out)) == 31
    assert out.x[0] == 0 and out.x[-1] == round(x[-1] / 60, 4)


def test_a_gap_stays_a_gap():
    x = np.r_[np.arange(0, 600.0), np.arange(600 + GAP_S * 4, 1200.0)]
    out = reduce_series(x, np.full(len(x), 97.0))
    assert out.x.count(None) == 1
    cut = out.x.index(None)
    assert out.x[cut - 1] == round(599 / 60, 4) and out.x[cut + 1] == round((600 + GAP_S * 4) / 60, 4)


def test_a_zoomed_window_is_exact_and_the_rest_is_context():
    x = np.arange(14_400, dtype=float)
    y = np.arange(14_400, dtype=float) % 97
    out = reduce_series(x, y, 3000, 3600)
    inside = [(a, b) for a, b in zip(out.x, out.y) if a is not None and 50 <= a <= 60]
    assert inside == [(round(t / 60, 4), float(t % 97)) for t in range(3000, 3601)]
    assert len(out.x) < 601 + POINTS_PER_TRACE


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=20, max_value=250, allow_nan=False), min_size=1, max_size=5000),
       st.integers(min_value=4, max_value=400))
def test_min_and_max_always_survive(values, budget):
    y = np.array(values)
    out = reduce_series(np.arange(len(y), dtype=float), y, budget=budget)
    assert max(_values(out)) == y.max() and min(_values(out)) == y.min()
    xs = [v for v in out.x if v is not None]
    assert xs == sorted(xs)


def test_the_figure_draws_every_nibp_reading_and_zoom_replaces_only_hr_and_spo2(tmp_path):
    with local_zone("America/New_York"):
        _figure_and_zoom(tmp_path)


def _figure_and_zoom(tmp_path):
    store = Store.open(tmp_path / "clinic.db")
    sid = recorded_session(store, started=utc_epoch("2026-12-08T14:00:00"))  # 09:00 EST
    row, transitions, events = store.session(sid), store.alarms_of(sid), store.events_of(sid)
    bps = store.readings_after(sid, bp_only=True)
    fig = review_chart.figure(row, bps, continuous_between(store, sid), transitions, events,
                              alarm_episodes(transitions), row.status["discharged_at"])
    data = json.loads(pio.to_json(fig))
    assert data["data"][TRACE["sbp"]]["y"] == [r["sbp"] for r in bps]
    assert data["data"][TRACE["dbp"]]["y"] == [r["dbp"] for r in bps]
    assert data["layout"]["xaxis3"]["rangeslider"]["visible"] and data["layout"]["hovermode"] == "x unified"
    lanes = [s for s in data["layout"]["shapes"] if s["yref"] == "y"]
    assert len(lanes) == 4  # bp.high twice, bp.rise, bp.severe
    assert {s["fillcolor"] for s in lanes} == {"#d62728", "#f2b705"}
    assert any("RN-AB at 09:42:30" in text for text in data["data"][TRACE["alarms"]]["customdata"])

    # the axis is the clock: plotly reports a zoom as local date-times
    patch = review_chart.zoom_patch(store, sid, {"xaxis.range[0]": "2026-12-08 09:30:00",
                                                 "xaxis.range[1]": "2026-12-08 09:31:00"}).to_plotly_json()
    changed = {op["location"][1] for op in patch["operations"]}
    assert changed == {TRACE["hr"], TRACE["spo2"]}
    hr_x = next(op["params"]["value"] for op in patch["operations"]
                if op["location"] == ["data", TRACE["hr"], "x"])
    nine_thirty = (utc_epoch("2026-12-08T09:30:00")) * 1000  # 09:30 on the (zone-less) axis, in ms
    assert sum(1 for v in hr_x if v is not None and nine_thirty <= v <= nine_thirty + 60_000) >= 60  # every 1 Hz sample
    assert review_chart.zoom_patch(store, sid, {"yaxis.range[0]": 50}) is None
    assert review_chart.visible_window({"xaxis3.range": [2, 1]}) == (60.0, 120.0)
    assert review_chart.visible_window({"xaxis.autorange": True}) == "all"
    assert review_chart.visible_window({"xaxis.range[0]": "nonsense", "xaxis.range[1]": 3}) is None
