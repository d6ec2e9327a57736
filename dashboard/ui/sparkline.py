"""A tile's trend as a tiny inline SVG image: no plotly figure per tile, so the board stays light."""
from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import quote

WIDTH, HEIGHT = 160, 40
HR_RANGE = (40.0, 140.0)  # display scale of the sparkline, not an alarm limit
BP_RANGE = (40.0, 220.0)


def sparkline_src(trend: Mapping[str, Any] | None, window_s: float = 3600.0) -> str:
    """A data: URI of the last hour: HR per minute as a line, each BP as a bar from DBP to SBP."""
    trend = trend or {}
    hr = trend.get("hr") or []
    bp = trend.get("bp") or []
    latest = max([p[0] for p in hr] + [p[0] for p in bp] + [0.0])
    start = latest - window_s

    def x(t: float) -> float:
        return round((t - start) / window_s * (WIDTH - 4) + 2, 1)

    def y(v: float, lo: float, hi: float) -> float:
        return round(HEIGHT - 2 - (min(max(v, lo), hi) - lo) / (hi - lo) * (HEIGHT - 4), 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}">']
    for t, sbp, dbp in bp:
        parts.append(f'<line x1="{x(t)}" x2="{x(t)}" y1="{y(sbp, *BP_RANGE)}" y2="{y(dbp, *BP_RANGE)}" '
                     'stroke="#c0392b" stroke-width="3"/>')
    if len(hr) > 1:
        points = " ".join(f"{x(t)},{y(v, *HR_RANGE)}" for t, v in hr)
        parts.append(f'<polyline points="{points}" fill="none" stroke="#1f6feb" stroke-width="1.5"/>')
    parts.append("</svg>")
    return "data:image/svg+xml;utf8," + quote("".join(parts))
