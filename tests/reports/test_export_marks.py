"""Test data marked in every export as plainly as on screen, read back from each file; a replay's PDF with its
own times and dose. The replay goes through the real replay path (open_replay_session, drive, Ingest) into a store.
"""
from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from dashboard.cli.check import run_check
from dashboard.engine import load_config
from dashboard.reports.exports import FORMATS, export_session
from dashboard.service.ingest import Ingest
from dashboard.service.replay import Replayer, drive, load_items, open_replay_session
from dashboard.store import Store
from dashboard.store.schema import sessions
from devices.feed import COLUMNS, read_actions, read_feed

from ..review_sessions import SEVERE_ACTIONS, SEVERE_FEED, recorded_session

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config()
WORDS = "TEST DATA - REPLAY, NOT A PATIENT"
DEADLINE_S = 120


def _replay(store: Store, speed: float | None) -> int:
    items = load_items(SEVERE_FEED)
    ingest = Ingest(store, CONFIG)
    sid = open_replay_session(store, items, "Chair 9", "Replay severe-peak", speed)
    drive(store, sid, Replayer(items, None), threading.Event())
    deadline = time.monotonic() + DEADLINE_S
    while store.pending_actions():
        ingest.step()
        assert time.monotonic() < deadline
    return sid


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """A replayed feed, a real patient's session, and a session with people's actions stored as a replay."""
    folder = tmp_path_factory.mktemp("marks")
    store = Store.open(folder / "clinic.db")
    ids = {"replay": _replay(store, 60.0), "real": recorded_session(store),
           "acted": recorded_session(store, patient="Replay with actions")}
    with store.engine.begin() as conn:
        conn.execute(sa.update(sessions).where(sessions.c.id == ids["acted"]).values(clock="feed"))
    yield store, ids, folder
    store.close()


def test_every_exports_file_name_carries_the_mark(stores):
    store, ids, _ = stores
    for fmt, spec in FORMATS.items():
        replay = export_session(store, CONFIG, ids["replay"], fmt).filename
        assert replay == f"session-{ids['replay']}-REPLAY-{spec.suffix}"
        assert export_session(store, CONFIG, ids["real"], fmt).filename == f"session-{ids['real']}-{spec.suffix}"


def _csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def test_the_csv_marks_every_row(stores):
    store, ids, _ = stores
    rows = _csv(export_session(store, CONFIG, ids["replay"], "csv").content)
    assert len(rows) > 8000 and {r["test_data"] for r in rows} == {"REPLAY"}
    assert {r["test_data"] for r in _csv(export_session(store, CONFIG, ids["real"], "csv").content)} == {""}


def test_the_feed_marks_every_row_and_still_replays_and_checks_alike(stores, tmp_path):
    """The feed contract (docs/feed-format.md) gains a last column for test data only: `check` and `replay` read
    it as before and find the same alarms as in the original feed; a real session's feed is unchanged."""
    store, ids, _ = stores
    exported = tmp_path / "replayed-feed.csv"
    exported.write_bytes(export_session(store, CONFIG, ids["replay"], "feed").content)
    rows = _csv(exported.read_bytes())
    assert list(rows[0]) == [*COLUMNS, "test_data"] and {r["test_data"] for r in rows} == {"REPLAY"}
    feed = read_feed(exported)
    assert not feed.problems and feed.protocol == "esketamine-84"
    assert len(load_items(exported)) == len(load_items(SEVERE_FEED))  # the replay page's reader
    key = [(t.offset_s, t.code, t.state) for t in run_check(SEVERE_FEED).transitions]
    assert [(t.offset_s, t.code, t.state) for t in run_check(exported).transitions] == key
    done = subprocess.run([sys.executable, "app.py", "check", str(exported)], cwd=ROOT, capture_output=True,
                          text=True, timeout=DEADLINE_S)
    assert done.returncode == 0 and not done.stderr and "bp.severe" in done.stdout
    real = export_session(store, CONFIG, ids["real"], "feed").content.decode()
    assert real.splitlines()[0] == ",".join(COLUMNS)


def test_the_actions_file_marks_every_row_and_check_still_reads_it(stores, tmp_path):
    store, ids, _ = stores
    feed, actions = tmp_path / "feed.csv", tmp_path / "actions.csv"
    feed.write_bytes(export_session(store, CONFIG, ids["acted"], "feed").content)
    actions.write_bytes(export_session(store, CONFIG, ids["acted"], "actions").content)
    rows = _csv(actions.read_bytes())
    assert rows and {r["test_data"] for r in rows} == {"REPLAY"}
    read, problems = read_actions(actions)
    assert not problems and len(read) == len(read_actions(SEVERE_ACTIONS)[0])
    acks = [t for t in run_check(feed, actions_path=actions).transitions if t.state == "acknowledged"]
    assert acks and acks == [t for t in run_check(SEVERE_FEED, actions_path=SEVERE_ACTIONS).transitions
                             if t.state == "acknowledged"]
    assert "test_data" not in export_session(store, CONFIG, ids["real"], "actions").content.decode().splitlines()[0]


def _rotated_texts(page) -> list[str]:
    """The text drawn under a rotation (a cm matrix with a shear part): the watermark."""
    found: list[str] = []

    def visit(text, cm, tm, font, size):
        if text.strip() and abs(cm[1]) > 0.1 and abs(cm[2]) > 0.1:
            found.append(text)
    page.extract_text(visitor_text=visit)
    return found


def test_the_pdf_says_test_data_on_every_page_in_a_banner_and_a_diagonal_watermark(stores):
    store, ids, _ = stores
    pages = PdfReader(io.BytesIO(export_session(store, CONFIG, ids["replay"], "pdf").content)).pages
    assert len(pages) >= 3
    for page in pages:
        text = page.extract_text()
        assert text.startswith(WORDS)  # the banner heads the page
        assert WORDS in "".join(_rotated_texts(page))  # and across it
    real = PdfReader(io.BytesIO(export_session(store, CONFIG, ids["real"], "pdf").content)).pages
    assert not any("TEST DATA" in page.extract_text() + "".join(_rotated_texts(page)) for page in real)


def test_a_replays_pdf_has_its_own_times_and_its_feeds_dose(stores):
    """Replayed at 60x, 2 h 15 min of feed in about 2 min: the report says when it was replayed and how long its
    feed runs, no time after it was printed, and the dose of the feed's dose_start (the replay's row has none)."""
    store, ids, _ = stores
    row = store.session(ids["replay"])
    assert row.dose == "" and row.ended_at is not None
    printed_before = time.time()
    text = " ".join(" ".join(page.extract_text().split()) for page in
                    PdfReader(io.BytesIO(export_session(store, CONFIG, ids["replay"], "pdf").content)).pages)
    local = "%Y-%m-%d %H:%M %Z"
    assert "Dose 84 mg" in text
    assert f"Started {time.strftime(local, time.localtime(row.started_at))} (replay of a feed at 60x)" in text
    assert (f"Ended 2:15:00 into the feed; the replay ended {time.strftime(local, time.localtime(row.ended_at))}"
            in text)
    stamps = re.findall(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text)
    printed = time.strftime("%Y-%m-%d %H:%M", time.localtime(time.time()))
    assert stamps and max(stamps) <= printed  # nothing after the printing
    assert time.strftime("%Y-%m-%d %H:%M", time.localtime(printed_before)) <= printed
    assert "time into the replayed feed (h:mm)" in text and "2:00" in text  # the chart's axis: feed time
    assert "clock time (minutes from session start)" not in text
