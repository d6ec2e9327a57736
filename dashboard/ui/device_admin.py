"""The admin's view of device traffic: per sender (HL7: the whole MSH-3 with its EUI-64) and peer address, messages
received, readings stored, the monitors' own alarms kept, values discarded by reason (sentinels, OBX-11 statuses,
text that is not a number...), codes we do not read with their text (what a site's monitors send that we drop),
refused frames and when it was last seen; what the bounded tables hold and what was pruned; and the devices nurses
associated with chairs. No patient data."""
from __future__ import annotations

import time
from typing import Any

from dash import html

from ..reports.format import age, wall_clock
from ..store import Store, device_data, retention

UNKNOWN_SHOWN = 5  # codes listed per sender (the most frequent); the rest are counted


def layout(store: Store) -> Any:
    now = time.time()
    traffic = device_data.sender_traffic(store.engine, store.site)
    rows = [html.Tr([html.Td(t.sender or "(MSH-3 unreadable)"), html.Td(t.peer), html.Td(f"{t.messages:,}"),
                     html.Td(f"{t.readings:,}"), html.Td(f"{t.alarms:,}"),
                     html.Td(f"{t.refused:,}", className="refused" if t.refused else ""),
                     html.Td(", ".join(f"{reason}: {n:,}" for reason, n in t.discarded.items()) or "none"),
                     html.Td(_unknown_text(t.unknown), className="unknown-codes"),
                     html.Td(f"{wall_clock(t.last_seen)} ({age(now - t.last_seen)})")]) for t in traffic]
    associations = device_data.associations(store.engine, store.site)
    return html.Div([
        html.H2("Device traffic"),
        html.P("What each sender sent since the database was made: a sender whose refused frames, discarded "
               "values or codes not read grow needs its interface configured (docs/devices.md says what each "
               "vendor sends)."),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in ("Sender", "Address", "Messages", "Readings stored",
                                                             "Monitor alarms", "Refused",
                                                             "Values discarded, by reason",
                                                             "Codes not read (code^text: times)", "Last seen")])),
                    html.Tbody(rows)], className="sessions-table", id="sender-traffic")
        if rows else html.P("No device has sent anything yet.", id="sender-traffic"),
        _storage(store),
        html.H3("Devices associated with a chair by a nurse"),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in ("Device", "Chair", "By", "Since")])),
                    html.Tbody([html.Tr([html.Td(device), html.Td(a["chair"]), html.Td(a["who"]),
                                         html.Td(wall_clock(a["at"]))])
                                for device, a in sorted(associations.items())])],
                   className="sessions-table") if associations else html.P("None."),
    ])


def _unknown_text(unknown: dict[str, int]) -> str:
    if not unknown:
        return "none"
    shown = [f"{code}: {n:,}" for code, n in list(unknown.items())[:UNKNOWN_SHOWN]]
    rest = len(unknown) - UNKNOWN_SHOWN
    return ", ".join(shown) + (f" and {rest} more" if rest > 0 else "")


def _storage(store: Store) -> Any:
    use = retention.storage_use(store.engine, store.site)
    oldest = f", the oldest from {wall_clock(use.oldest_device_row)}" if use.oldest_device_row else ""
    return html.Div([
        html.H3("Bounded storage"),
        html.Ul([
            html.Li(f"Refused frames kept: {use.refused_frames:,} ({use.refused_bytes / 2**20:.1f} MB); "
                    f"{use.refused_pruned:,} older ones dropped to stay within [hl7] refused_keep_mb / "
                    "refused_keep_days."),
            html.Li(f"Readings kept outside sessions: {use.device_rows:,}{oldest}; {use.device_pruned:,} dropped "
                    "after [hl7] device_keep_days."),
        ]),
    ], id="device-storage")
