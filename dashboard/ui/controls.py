"""Form controls named for assistive technology: a choice of radio buttons or checkboxes is a <fieldset> whose
<legend> names it (WCAG 1.3.1 / 4.1.2; Dash's RadioItems takes no name of its own: assets/accessible_controls.js).
A legend the row's own words make redundant is kept for screen readers only (`spoken_only`)."""
from __future__ import annotations

from typing import Any

from dash import html


def choice_group(legend: str, *controls: Any, spoken_only: bool = False, className: str = "") -> Any:
    """`controls` (a RadioItems or Checklist, and what goes with it) named `legend`."""
    return html.Fieldset([html.Legend(legend, className="sr-only" if spoken_only else None), *controls],
                         className=f"choice-group {className}".strip())
