"""The session's people's actions as a `check --actions` CSV (offset_s,action,who,detail).

The feed export (dashboard/reports/exports/feed_file.py) leaves acknowledgements, audio pauses and
overrides out, since the feed contract has no row for them; with this file beside
it, `python app.py check FEED --actions ACTIONS` replays the alarm lifecycle too.
"""
from __future__ import annotations

import csv
import io

from devices.csv_safety import safe_row
from devices.feed import ACTION_COLUMNS, ACTIONS, TEST_DATA_COLUMN

from ...store.test_data import mark
from ..record import SessionRecord


def session_actions(record: SessionRecord) -> bytes:
    """A test session's (replay, simulated) rows carry a last column, test_data, as its feed's do."""
    test = mark(record.row)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow((*ACTION_COLUMNS, TEST_DATA_COLUMN) if test else ACTION_COLUMNS)
    for e in record.events:
        if e["kind"] in ACTIONS:
            row = [_number(e["offset_s"]), e["kind"], e["who"] or "unknown", e["detail"]]
            writer.writerow(safe_row(row + [test] if test else row))
    return buffer.getvalue().encode("utf-8")


def _number(value: float) -> str:
    """To the millisecond, as the feed writes its offsets: an action and a reading in the same millisecond keep
    the order `check` gives them (the feed's row first), and none swap places by rounding."""
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}".rstrip("0").rstrip(".")
