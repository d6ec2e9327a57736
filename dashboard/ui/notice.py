"""A form's answer as the nurse sees it: an error styled as an error (and announced), a confirmation as one."""
from __future__ import annotations

from typing import Any

from dash import html


def error(message: str) -> Any:
    return html.Span(message, className="notice error", role="alert")


def ok(message: str) -> Any:
    return html.Span(message, className="notice ok")
