"""The clinical settings in force, read-only: every limit with its unit and source, and each protocol's own."""
from __future__ import annotations

from typing import Any

from dash import html

from ..engine import Config
from .format import alarm_label


def layout(config: Config) -> Any:
    rows = [html.Tr([html.Td(key), html.Td(f"{s.value:g}"), html.Td(s.unit), html.Td(s.source)])
            for key, s in sorted(config.settings.items()) if not key.startswith("protocol.")]
    priorities = [html.Tr([html.Td(code), html.Td(alarm_label(code)), html.Td(priority)])
                  for code, priority in sorted(config.priorities.items())]
    protocols = []
    for name, spec in config.protocols.items():
        overrides = config.limits.get(name, {})
        protocols.append(html.Div([
            html.H4(f"{spec.label} ({name})"),
            html.P(f"Minimum observation {spec.observation_s / 60:g} min from {spec.observation_from.replace('_', ' ')}; "
                   f"{'infusion' if spec.is_infusion else 'administration'} {spec.dosing_s / 60:g} min."),
            html.Table(html.Tbody([html.Tr([html.Td(key), html.Td(f"{s.value:g}"), html.Td(s.unit), html.Td(s.source)])
                                   for key, s in sorted(overrides.items())]), className="settings-table")
            if overrides else html.P("No protocol-specific limits: the defaults above apply."),
        ], className="protocol-settings"))
    return html.Div([
        html.H2("Settings (read-only)"),
        html.P("Every clinical number the monitor uses, as configured for this clinic, with its source. Change them in "
               "the clinic's settings file (python app.py --config FILE); the file is checked at start."),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in ("Setting", "Value", "Unit", "Source")])),
                    html.Tbody(rows)], className="settings-table"),
        html.H3("Alarm priorities"),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in ("Code", "Alarm", "Priority")])),
                    html.Tbody(priorities)], className="settings-table"),
        html.H3("Protocols"),
        *protocols,
    ])
