"""Which readings a clinical export carries: every NIBP reading, continuous samples thinned.

A 4-hour session at 1 Hz is 14,400 HR/SpO2 samples; as FHIR Observations that is
tens of megabytes nobody reads. By default the FHIR and HL7 exports carry every
BP reading exactly, one continuous sample per minute (the first of the minute),
and the sample behind every alarm raise, so each alarm's value is in the record.
`every_s=0` exports every sample; the CSV and feed exports always carry all.
"""
from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from ..record import SessionRecord

DEFAULT_EVERY_S = 60.0


def exported_readings(record: SessionRecord, every_s: float = DEFAULT_EVERY_S) -> list[dict[str, Any]]:
    """The readings to export, in session-time order."""
    if every_s <= 0:
        return list(record.readings)
    continuous = [r for r in record.readings if r["sbp"] is None]
    keep = {id(r) for r in record.bp_readings}
    keep |= {id(r) for r in _first_per_bucket(continuous, every_s)}
    keep |= {id(r) for r in _at_raises(continuous, record.transitions)}
    return [r for r in record.readings if id(r) in keep]


def _first_per_bucket(readings: Sequence[dict[str, Any]], every_s: float) -> list[dict[str, Any]]:
    out, last_bucket = [], None
    for r in readings:
        bucket = int(r["offset_s"] // every_s)
        if bucket != last_bucket:
            out.append(r)
            last_bucket = bucket
    return out


def _at_raises(readings: Sequence[dict[str, Any]], transitions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each raise of an HR or SpO2 alarm, the last continuous sample at or before it."""
    times = [r["offset_s"] for r in readings]
    out = []
    for t in transitions:
        if t["state"] == "raised" and t["code"].split(".")[0] in ("hr", "spo2"):
            i = bisect.bisect_right(times, t["offset_s"]) - 1
            if i >= 0:
                out.append(readings[i])
    return out
