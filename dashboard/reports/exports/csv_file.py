"""CSV of the whole record: every reading, event and alarm transition, one row each, in session-time order.

pandas reads it as is (`pd.read_csv`). The `record` column says what a row is;
columns that do not apply to it are empty. Times: `offset_s` (session seconds,
what the engine uses), `utc` (wall time), `local_time` (the same instant as the clinic's clock read it, with its
UTC offset: what a clinician compares with a paper chart), and each reading's own
`device_time` and `received_time` (epoch seconds) as stored. No patient label:
the file is about the session, named by its id. `test_data` is REPLAY or
SIMULATED on every row of a session that is no real patient's.
"""
from __future__ import annotations

import csv
import io
from typing import Any, Iterator

from devices.csv_safety import safe_dict

from ...store.test_data import mark
from ..record import SessionRecord

COLUMNS = ("session_id", "record", "offset_s", "utc", "local_time", "source", "provenance", "device_time", "received_time",
           "sbp", "dbp", "map", "hr", "spo2", "event", "detail", "who", "code", "priority", "state", "value",
           "message", "test_data")


def session_csv(record: SessionRecord) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    rows = sorted(_rows(record), key=lambda pair: pair[0])  # stable: readings, events, alarms at one instant
    for _, row in rows:
        writer.writerow(safe_dict({key: "" if row.get(key) is None else row[key] for key in COLUMNS}))
    return buffer.getvalue().encode("utf-8")


def _rows(record: SessionRecord) -> Iterator[tuple[float, dict[str, Any]]]:
    base = {"session_id": record.id, "test_data": mark(record.row)}
    for r in record.readings:
        yield r["offset_s"], {**base, **r, "record": "reading", **_times(record, r["offset_s"])}
    for e in record.events:
        yield e["offset_s"], {**base, "record": "event", "offset_s": e["offset_s"], **_times(record, e["offset_s"]),
                              "source": e["source"], "device_time": e["device_time"],
                              "received_time": e["received_time"], "event": e["kind"], "detail": e["detail"],
                              "who": e["who"]}
    for t in record.transitions:
        yield t["offset_s"], {**base, "record": "alarm", "offset_s": t["offset_s"], **_times(record, t["offset_s"]),
                              "source": t["source"], "code": t["code"], "priority": t["priority"],
                              "state": t["state"], "value": t["value"], "message": t["message"],
                              "who": t["value"] if t["state"] == "acknowledged" else ""}


def _times(record: SessionRecord, offset_s: float) -> dict[str, str]:
    utc = record.utc(offset_s)
    return {"utc": utc.isoformat(timespec="milliseconds"),
            "local_time": utc.astimezone().isoformat(timespec="milliseconds")}
