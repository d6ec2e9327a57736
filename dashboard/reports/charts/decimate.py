"""Fewer points for display, peaks kept: min/max per time bucket.

A 4-hour session at 1 Hz has 14,400 HR and SpO2 samples; a chart 1,400 px wide
cannot show more than about two values per pixel column. Keeping, per bucket,
the lowest and the highest sample (at their own times) draws the same envelope
as the full series, so a short desaturation or a tachycardic spike is never
averaged away (LTTB would also keep shape, but can drop a one-sample extreme).
Gaps in the data stay gaps: both edges of a gap are kept and a break is drawn.

Only continuous series go through here; NIBP readings are always drawn exact.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .axis import SessionMinutes, TimeAxis

GAP_S = 30.0  # no sample for this long: the line breaks (the stale-data limit for continuous sources)
POINTS_PER_TRACE = 1600  # about two per pixel column of a wide chart


@dataclass(frozen=True)
class Reduced:
    """A series ready to plot: x on the chart's time axis (axis.py) and values, None where the line breaks."""

    x: list[float | None]
    y: list[float | None]


def min_max_indices(x: np.ndarray, y: np.ndarray, start: float, end: float, buckets: int) -> np.ndarray:
    """Sorted indices of the lowest and highest sample of each time bucket of [start, end]."""
    if len(x) == 0:
        return np.empty(0, dtype=int)
    width = max(end - start, 1e-9) / buckets
    bucket = np.clip(((x - start) / width).astype(int), 0, buckets - 1)
    order = np.lexsort((y, bucket))  # by bucket, then value: a bucket's first is its min, its last its max
    ranked = bucket[order]
    firsts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    lasts = np.r_[firsts[1:] - 1, len(order) - 1]
    return np.unique(np.r_[order[firsts], order[lasts], 0, len(x) - 1])


def reduce_series(x_s: np.ndarray, y: np.ndarray, start_s: float | None = None, end_s: float | None = None,
                  budget: int = POINTS_PER_TRACE, axis: TimeAxis = SessionMinutes()) -> Reduced:
    """`(session seconds, values)` -> about `budget` points on the time axis (session minutes unless given),
    NaNs dropped.

    Without a window the whole series shares the budget. With the visible window
    [start_s, end_s] the window gets the budget (every sample once it fits) and the
    rest of the session a quarter each side: enough for panning and the range slider."""
    keep = ~np.isnan(y)
    x_s, y = x_s[keep], y[keep]
    if len(x_s) == 0:
        return Reduced([], [])
    if start_s is None or end_s is None:
        regions = [(np.ones(len(x_s), dtype=bool), budget)]
    else:
        context = max(budget // 4, 2)
        regions = [(x_s < start_s, context), ((x_s >= start_s) & (x_s <= end_s), budget), (x_s > end_s, context)]
    gaps = np.flatnonzero(np.diff(x_s) > GAP_S)
    chosen = [gaps, gaps + 1]  # both edges of every gap, so the break is drawn where it was
    for mask, n in regions:
        idx = np.flatnonzero(mask)
        if len(idx) > n:
            idx = idx[min_max_indices(x_s[idx], y[idx], float(x_s[idx[0]]), float(x_s[idx[-1]]), max(n // 2, 1))]
        chosen.append(idx)
    return _with_breaks(x_s, y, np.unique(np.concatenate(chosen)), set(gaps.tolist()), axis)


def _with_breaks(x_s: np.ndarray, y: np.ndarray, chosen: np.ndarray, gap_starts: set[int], axis: TimeAxis
                 ) -> Reduced:
    xs: list[float | None] = []
    ys: list[float | None] = []
    values = y[chosen].tolist()
    for i, x, value in zip(chosen.tolist(), axis.xs(x_s[chosen]), values):
        xs.append(x)
        ys.append(value)
        if i in gap_starts:
            xs.append(None)
            ys.append(None)
    return Reduced(xs, ys)
