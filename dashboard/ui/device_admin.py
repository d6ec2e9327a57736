"""The admin's view of device traffic: per sender (HL7: the whole MSH-3 with its EUI-64) and peer address, messages
received, readings stored, values discarded by reason (sentinels, OBX-11 statuses, text that is not a number...),
refused frames and when it was last seen; and the devices nurses associated with chairs. No patient data."""
from __future__ import annotations

import time
from typing import Any

from dash import html

from ..reports.format import age, wall_clock
from ..store import Store, device_data


def layout(store: Store) -> Any:
    now = time.time()
    traffic = device_data.sender_traffic(store.engine, store.site)
    rows = [html.Tr([html.Td(t.sender or "(MSH-3 unreadable)"), html.Td(t.peer), html.Td(f"{t.messages:,}"),
                     html.Td(f"{t.readings:,}"), html.Td(f"{t.refused:,}", className="refused" if t.refused else ""),
                     html.Td(", ".join(f"{reason}: {n:,}" for reason, n in t.discarded.items()) or "none"),
                     html.Td(f"{wall_clock(t.last_seen)} ({age(now - t.last_seen)})")]) for t in traffic]
    associations = device_data.associations(store.engine, store.site)
    return html.Div([
        html.H2("Device traffic"),
        html.P("What each sender sent since the database was made: a sender whose refused frames or discarded "
               "values grow needs its interface configured (docs/devices.md says what each vendor sends)."),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in ("Sender", "Address", "Messages", "Readings stored",
                                                             "Refused", "Values discarded, by reason",
                                                             "Last seen")])),
                    html.Tbody(rows)], className="sessions-table", id="sender-traffic")
        if rows else html.P("No device has sent anything yet.", id="sender-traffic"),
        html.H3("Devices associated with a chair by a nurse"),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in ("Device", "Chair", "By", "Since")])),
                    html.Tbody([html.Tr([html.Td(device), html.Td(a["chair"]), html.Td(a["who"]),
                                         html.Td(wall_clock(a["at"]))])
                                for device, a in sorted(associations.items())])],
                   className="sessions-table") if associations else html.P("None."),
    ])
