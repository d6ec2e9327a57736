"""A tile's trend as a tiny inline SVG image: no plotly figure per tile, so the board stays light.

Every board poll of every screen asks for every tile's image, but a trend changes once a minute (ingest keeps
HR per minute), so each distinct trend is drawn once and then served from a bounded cache. Drawing is cheap
too, for the poll that first sees a new minute on every chair: coordinates repeat (minute marks, HR to 0.1),
so each is formatted once, and the URL quoting is a few replacements.
"""
from __future__ import annotations

import string
from functools import lru_cache
from typing import Any, Mapping
from urllib.parse import quote

WIDTH, HEIGHT = 160, 40
HR_RANGE = (40.0, 140.0)  # display scale of the sparkline, not an alarm limit
BP_RANGE = (40.0, 220.0)
CACHED_TRENDS = 256  # every chair's current trend and the one before, for a clinic of 100+ chairs
CACHED_COORDINATES = 4096  # x: ~60 minute marks a window; y: HR to 0.1 in range, BP in whole mmHg
# What quote() makes of the characters a drawing is made of: "%" first, as it starts every escape.
_ESCAPES = tuple((char, f"%{ord(char):02X}") for char in '% "#,:<=>')
_DRAWN_WITH = frozenset(string.ascii_letters + string.digits + "_.-~/" + "".join(char for char, _ in _ESCAPES))

Points = tuple[tuple[float, ...], ...]


def sparkline_src(trend: Mapping[str, Any] | None, window_s: float = 3600.0) -> str:
    """A data: URI of the last hour: HR per minute as a line, each BP as a bar from DBP to SBP."""
    trend = trend or {}
    return _drawn(_points(trend.get("hr")), _points(trend.get("bp")), window_s)


def _points(series: Any) -> Points:
    return tuple(map(tuple, series or ()))  # hashable, so the trend is its own cache key


@lru_cache(maxsize=CACHED_TRENDS)
def _drawn(hr: Points, bp: Points, window_s: float) -> str:
    latest = max([p[0] for p in hr] + [p[0] for p in bp] + [0.0])
    start = latest - window_s
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '  # stretches to its tile
             f'viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="none">']
    for t, sbp, dbp in bp:
        at = _x(t - start, window_s)
        parts.append(f'<line x1="{at}" x2="{at}" y1="{_y(sbp, *BP_RANGE)}" y2="{_y(dbp, *BP_RANGE)}" '
                     'stroke="#c0392b" stroke-width="3"/>')
    if len(hr) > 1:
        points = " ".join([f"{_x(t - start, window_s)},{_y(v, *HR_RANGE)}" for t, v in hr])
        parts.append(f'<polyline points="{points}" fill="none" stroke="#1f6feb" stroke-width="1.5"/>')
    parts.append("</svg>")
    return "data:image/svg+xml;utf8," + _quoted("".join(parts))


@lru_cache(maxsize=CACHED_COORDINATES)
def _x(since_start: float, window_s: float) -> str:
    return str(round(since_start / window_s * (WIDTH - 4) + 2, 1))


@lru_cache(maxsize=CACHED_COORDINATES)
def _y(value: float, lo: float, hi: float) -> str:
    return str(round(HEIGHT - 2 - (min(max(value, lo), hi) - lo) / (hi - lo) * (HEIGHT - 4), 1))


def _quoted(svg: str) -> str:
    """Exactly `quote(svg)`, without its per-character loop when only the expected characters occur."""
    if not _DRAWN_WITH.issuperset(svg):
        return quote(svg)
    for char, escape in _ESCAPES:
        svg = svg.replace(char, escape)
    return svg
