"""How device values read on screen: the heart rate with its source, and a device's latest values. One place, so the
board, the chairs without a session and the Devices page say it alike (docs/placement.md)."""
from __future__ import annotations

from typing import Any, Mapping

from ..reports.format import number

# The status snapshot's rate source (engine/vitals.py, rate_source) -> how a monitor labels it: HR is the ECG's heart
# rate, PR a pulse rate (the oximeter's, the cuff's).
RATE_LABELS = {"ecg": "HR (ECG)", "oximeter": "PR (SpO2)", "pulse": "Pulse", "nibp": "PR (NIBP)",
               "manual": "HR (manual)"}


def rate_text(rate: Mapping[str, Any] | None) -> str:
    """'HR (ECG) 72', 'PR (SpO2) 71'...; 'HR –' when none."""
    if not rate:
        return "HR –"
    return f"{RATE_LABELS.get(rate.get('source', ''), 'HR')} {number(rate['value'])}"


def rate_class(rate: Mapping[str, Any] | None) -> str:
    """The tile's class naming the rate's source: the stylesheet labels the numeral by it ("HR (ECG)", "PR (SpO2)")."""
    source = (rate or {}).get("source", "")
    return f"rate-{source}" if source in RATE_LABELS else "rate-unstated"


def latest_parts(latest: Mapping[str, Any], wall: float) -> dict[str, str]:
    """A device's latest values as the tile and the Devices page show them (device_status.latest)."""
    bp, hr, spo2 = latest.get("bp"), latest.get("hr"), latest.get("spo2")
    event = latest.get("event")
    return {
        "bp": f"{number(bp['sbp'])}/{number(bp['dbp'])}" if bp and bp.get("sbp") is not None else "–/–",
        "bp_age": f"BP {since(wall - bp['at'])}" if bp else "no BP",
        "hr": rate_text(hr),
        "spo2": f"SpO2 {number(spo2['value'])} %" if spo2 else "SpO2 – %",
        "event": f"{event['kind'].replace('_', ' ')}{': ' + event['detail'] if event.get('detail') else ''}"
                 if event else "",
    }


def since(seconds: float) -> str:
    """How long ago, by the minute: a tile redrawn every second would move under the nurse's pointer."""
    return "under a minute ago" if seconds < 60 else f"{int(seconds // 60)} min ago"


def merge_latest(rows: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The newest of each value over several devices' statuses (one chair's monitor, cuff and oximeter)."""
    merged: dict[str, Any] = {}
    for row in rows:
        for name, value in (row.get("latest") or {}).items():
            if name not in merged or value.get("at", 0) > merged[name].get("at", 0):
                merged[name] = value
    return merged


def values_line(latest: Mapping[str, Any], wall: float) -> str:
    """One line of a device's latest values, for a table."""
    parts = latest_parts(latest, wall)
    shown = [f"BP {parts['bp']}" if latest.get("bp") else "", parts["hr"] if latest.get("hr") else "",
             parts["spo2"] if latest.get("spo2") else "", parts["event"]]
    return " · ".join(part for part in shown if part) or "no values yet"
