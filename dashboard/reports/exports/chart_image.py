"""The review chart as a PNG for the PDF report, rendered by Kaleido in a headless Chromium.

Kaleido 1.x drives the Chromium it finds (Debian's /usr/bin/chromium here; it works
offline). Each call starts the browser: about 2 s, measured; fine for an export a
person asks for, and nothing stays running in the web process. When no browser
can be started the report is still made, saying the chart is missing and why.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import plotly.graph_objects as go
import plotly.io as pio

log = logging.getLogger(__name__)

WIDTH_PX, HEIGHT_PX = 1600, 820


@dataclass(frozen=True, slots=True)
class ChartImage:
    png: bytes | None
    problem: str = ""  # why there is no image


def chart_png(fig: go.Figure, width: int = WIDTH_PX, height: int = HEIGHT_PX) -> ChartImage:
    try:
        return ChartImage(pio.to_image(fig, format="png", width=width, height=height))
    except Exception as exc:  # kaleido raises its own and Chromium's errors: the report goes on without the image
        log.warning("chart image not rendered: %s", exc.__class__.__name__)
        return ChartImage(None, f"the chart image could not be rendered ({exc.__class__.__name__})")
