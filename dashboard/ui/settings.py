"""The clinical settings in force, read-only: every limit with its unit and source, and each protocol's own; and
the alarm delay (IEC 60601-1-8 asks that it be disclosed): each alarm's condition delay from the settings, and the
signal generation delay measured on this installation's own stored alarms."""
from __future__ import annotations

import statistics
from typing import Any

from dash import html

from ..engine import PHYSIOLOGICAL, Config
from ..reports.format import alarm_label
from ..store import Store

MEASURED_ALARMS = 1000  # the newest alarms the signal delay is measured over


def layout(config: Config, store: Store | None = None, poll_ms: int = 1000) -> Any:
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
            html.P("Pulse oximetry watched (spo2.unmonitored): " + ("yes" if spec.spo2_required else "no")),
            _checklist(config, name),
        ], className="protocol-settings"))
    return html.Div([
        html.H2("Settings (read-only)"),
        html.P("Every clinical number the monitor uses, as configured for this clinic, with its source. Change them in "
               "the clinic's settings file (python app.py --config FILE); the file is checked at start."),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in ("Setting", "Value", "Unit", "Source")])),
                    html.Tbody(rows)], className="settings-table"),
        html.P(f"Baseline for the rise alarm (baseline.policy): {config.baseline_policy}"
               + (" — the label's: the last valid BP before the dose." if config.baseline_policy == "session" else
                  " — the lower of the pre-dose BP and the patient's usual pre-dose BP over earlier sessions."),
               id="baseline-policy"),
        html.H3("Alarm priorities"),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in ("Code", "Alarm", "Priority")])),
                    html.Tbody(priorities)], className="settings-table"),
        html.H3("Protocols"),
        *protocols,
        *(alarm_delay(config, store.signal_delays(MEASURED_ALARMS), poll_ms) if store is not None else []),
    ])


def _checklist(config: Config, protocol: str) -> Any:
    """The protocol's pre-dose checklist ([checklist.NAME]): each item with its basis and source."""
    checklist = config.checklist(protocol)
    if checklist is None or not checklist.items:
        return html.P("No pre-dose checklist: the dose is not gated.")
    return html.Table([
        html.Thead(html.Tr([html.Th(h) for h in (f"Pre-dose checklist ({checklist.name})", "Basis", "Source")])),
        html.Tbody([html.Tr([html.Td(item.text), html.Td(item.basis), html.Td(item.source)])
                    for item in checklist.items])], className="settings-table")


def alarm_delay(config: Config, delays: list[float], poll_ms: int) -> list[Any]:
    """Total alarm delay = condition delay + signal generation delay (docs/alarms.md)."""
    rows = [html.Tr([html.Td(alarm_label(code)), html.Td(_condition_delay(config, code))])
            for code in sorted(PHYSIOLOGICAL)]
    return [
        html.H3("Alarm delay"),
        html.P("Total alarm delay = the condition delay below + the signal generation delay: from the reading "
               "reaching the monitor's adapter to the alarm stored, then to the nurse's screen."),
        html.Table([html.Thead(html.Tr([html.Th("Alarm"), html.Th("Condition delay")])), html.Tbody(rows)],
                   className="settings-table"),
        html.P(_measured(delays), id="signal-delay"),
        html.P(f"Stored to screen: at most one board refresh ({poll_ms / 1000:g} s) plus drawing, measured from device "
               "to screen by bench/reading_latency.py (bench/RESULTS.md)."),
    ]


def _condition_delay(config: Config, code: str) -> str:
    hold = config.settings.get(f"{code}.hold")
    return f"{hold.value:g} {hold.unit} (held)" if hold else "none: each BP measurement is alarmed as it arrives"


def _measured(delays: list[float]) -> str:
    if not delays:
        return "Reading to alarm stored: not measured yet (no alarm raised by a reading here)."
    if len(delays) == 1:
        return f"Reading to alarm stored, measured here on the one alarm raised by a reading so far: {delays[0]:.2f} s."
    p95 = statistics.quantiles(delays, n=20)[-1]
    return (f"Reading to alarm stored, measured here over the last {len(delays)} alarms raised by a reading: median "
            f"{statistics.median(delays):.2f} s, p95 {p95:.2f} s, longest {max(delays):.2f} s.")
