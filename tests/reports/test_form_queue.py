"""The REMS form queue (dashboard/reports/form_queue.py): the 7-day countdown in the site's dates, across midnight,
time zones and a daylight-saving change; the order (overdue, due today, then by due date); draft, complete and
submitted; a submission recorded with its audit row, and the refusals. A real SQLite store, sessions folded by
the real Ingest, an injected clock (never the real now)."""
from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest

from dashboard.auth.audit import AuditFilter, audit_log
from dashboard.engine import load_config
from dashboard.reports.form_queue import (COMPLETE, DRAFT, SUBMITTED, Recorder, Submission, SubmissionRefused, Urgent,
                                          deadline, form_queue, form_record, forms_of_day, submit, urgent)
from dashboard.reports.record import load_record
from dashboard.store import chain
from dashboard.store.rems_submissions import AUDIT_ACTION, submissions_of

from ..review_sessions import recorded_session
from .form_sessions import esketamine_session, iv_session, nurse_items

CONFIG = load_config()
NEW_YORK, PARIS, TOKYO = ZoneInfo("America/New_York"), ZoneInfo("Europe/Paris"), ZoneInfo("Asia/Tokyo")


def at(zone: dt.tzinfo, *fields: int) -> float:
    """Epoch seconds of a wall-clock time in `zone`."""
    return dt.datetime(*fields, tzinfo=zone).timestamp()


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


# ---- the countdown ----------------------------------------------------------------------------------------


def test_the_countdown_counts_dates_so_midnight_turns_it():
    treated = at(NEW_YORK, 2026, 12, 1, 23, 50)
    before = deadline(treated, at(NEW_YORK, 2026, 12, 1, 23, 59), 7, NEW_YORK)
    after = deadline(treated, at(NEW_YORK, 2026, 12, 2, 0, 10), 7, NEW_YORK)  # 20 minutes later, a new date
    assert (before.treatment_day, before.due) == (dt.date(2026, 12, 1), dt.date(2026, 12, 8))
    assert (before.days_left, after.days_left) == (7, 6)
    last = deadline(treated, at(NEW_YORK, 2026, 12, 8, 23, 59, 59), 7, NEW_YORK)
    late = deadline(treated, at(NEW_YORK, 2026, 12, 9, 0, 0, 1), 7, NEW_YORK)
    assert (last.days_left, last.describe(), last.due_today) == (0, "due today", True)
    assert (late.days_left, late.describe(), late.overdue) == (-1, "overdue 1 day", True)
    assert deadline(treated, at(NEW_YORK, 2026, 12, 3, 12), 7, NEW_YORK).describe() == "5 days left"


def test_the_same_moment_has_the_date_of_the_sites_time_zone():
    treated = at(NEW_YORK, 2026, 12, 1, 23, 30)  # already 2 December in Paris and Tokyo
    now = at(NEW_YORK, 2026, 12, 8, 20, 0)  # 2:00 on the 9th in Paris
    in_new_york, in_paris = deadline(treated, now, 7, NEW_YORK), deadline(treated, now, 7, PARIS)
    assert (in_new_york.treatment_day, in_new_york.due, in_new_york.days_left) == (
        dt.date(2026, 12, 1), dt.date(2026, 12, 8), 0)
    assert (in_paris.treatment_day, in_paris.due, in_paris.days_left) == (dt.date(2026, 12, 2), dt.date(2026, 12, 9), 0)
    assert deadline(treated, at(NEW_YORK, 2026, 12, 9, 1, 0), 7, NEW_YORK).overdue


def test_a_daylight_saving_change_moves_nothing():
    # US clocks go back on 1 November 2026: the week holds 7 days and 1 hour
    treated = at(NEW_YORK, 2026, 10, 31, 0, 30)
    now = at(NEW_YORK, 2026, 11, 7, 23, 59)  # 8 days and 29 minutes of elapsed time: 24-hour periods say overdue
    assert now - treated > 8 * 86400
    limit = deadline(treated, now, 7, NEW_YORK)
    assert (limit.due, limit.days_left, limit.describe()) == (dt.date(2026, 11, 7), 0, "due today")


def test_without_a_zone_the_servers_time_zone_gives_the_forms_own_date(store, monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        dosed = at(TOKYO, 2026, 12, 1, 0, 20)  # 30 November in UTC and in New York
        sid = esketamine_session(store, dosed)
        queue = form_queue(store, CONFIG, now=at(TOKYO, 2026, 12, 8, 23, 0))
        (form,) = queue.forms
        assert form.deadline.treatment_day == dt.date(2026, 12, 1) and form.deadline.days_left == 0
        assert load_record(store, sid).rems(CONFIG).treatment_date == "2026-12-01"  # the form says the same date
        in_new_york = form_queue(store, CONFIG, now=at(TOKYO, 2026, 12, 8, 23, 0), zone=NEW_YORK)
        assert in_new_york.forms[0].deadline.treatment_day == dt.date(2026, 11, 30)
        assert in_new_york.forms[0].deadline.overdue  # 8 December 9:00 in New York: due the 7th
    finally:
        monkeypatch.undo()
        time.tzset()


# ---- the queue ------------------------------------------------------------------------------------------


def test_overdue_first_then_due_today_then_by_due_date_then_the_sent(store):
    now = at(PARIS, 2026, 12, 8, 9, 0)
    day = 86400.0
    ids = {
        "in five days": esketamine_session(store, now - 2 * day, chair="Chair 1"),
        "overdue 1": esketamine_session(store, now - 8 * day, chair="Chair 2"),
        "due today": esketamine_session(store, now - 7 * day, chair="Chair 3"),
        "overdue 3": esketamine_session(store, now - 10 * day, chair="Chair 4", complete=False),
        "in six days": esketamine_session(store, now - 1 * day, chair="Chair 5"),
        "sent": esketamine_session(store, now - 9 * day, chair="Chair 6"),
    }
    submit(store, CONFIG, Submission(ids["sent"], "RN-AB", now - 3600, "portal", "PMF-1"), Recorder("RN-AB"))
    queue = form_queue(store, CONFIG, now, PARIS)
    order = [f.session_id for f in queue.forms]
    assert order == [ids[k] for k in ("overdue 3", "overdue 1", "due today", "in five days", "in six days", "sent")]
    by_id = {f.session_id: f for f in queue.forms}
    assert [by_id[ids[k]].days_text() for k in ("overdue 3", "overdue 1", "due today", "in five days")] == [
        "overdue 3 days", "overdue 1 day", "due today", "5 days left"]
    assert by_id[ids["overdue 3"]].state == DRAFT and by_id[ids["overdue 3"]].missing == ("Lot Number",)
    assert by_id[ids["due today"]].state == COMPLETE and by_id[ids["due today"]].missing == ()
    sent = by_id[ids["sent"]]
    assert sent.state == SUBMITTED and (sent.submission.submitted_by, sent.submission.channel,
                                        sent.submission.confirmation) == ("RN-AB", "portal", "PMF-1")
    assert [f.session_id for f in queue.unsent()] == order[:-1]
    # The board's count (no form built) agrees; a form from before the window is overdue too.
    assert urgent(store, CONFIG, now, PARIS) == Urgent(overdue=2, due_today=1)
    esketamine_session(store, now - 40 * day, chair="Chair 7")
    assert urgent(store, CONFIG, now, PARIS) == Urgent(overdue=3, due_today=1)


def test_test_sessions_and_iv_sessions_never_enter_the_queue(store):
    now = at(PARIS, 2026, 12, 8, 9, 0)
    real = esketamine_session(store, now - 86400)
    simulated = esketamine_session(store, now - 86400, chair="Chair 7", scenario="severe-peak", seed=3)
    replayed = esketamine_session(store, now - 86400, chair="Chair 8", clock="feed")
    iv_session(store, now - 86400)
    assert [f.session_id for f in form_queue(store, CONFIG, now, PARIS).forms] == [real]
    day = dt.date(2026, 12, 7)
    assert [r.id for r in forms_of_day(store, day, PARIS)] == [real]
    for sid in (simulated, replayed):
        with pytest.raises(SubmissionRefused, match="test data"):
            submit(store, CONFIG, Submission(sid, "RN-AB", now, "fax", "F-1"), Recorder("RN-AB"))
    assert submissions_of(store, [simulated, replayed]) == {}


def test_forms_older_than_the_window_are_counted_not_built(store):
    now = at(PARIS, 2026, 12, 8, 9, 0)
    old = esketamine_session(store, now - 40 * 86400)
    recent = esketamine_session(store, now - 86400)
    queue = form_queue(store, CONFIG, now, PARIS)
    assert [f.session_id for f in queue.forms] == [recent] and queue.older_unsent == 1
    assert queue.window_start == dt.date(2026, 11, 8)
    wider = form_queue(store, CONFIG, now, PARIS, days=60)
    assert [f.session_id for f in wider.forms] == [old, recent] and wider.older_unsent == 0
    assert wider.forms[0].days_text() == "overdue 33 days"


def test_the_queue_builds_the_same_form_as_the_whole_record(store):
    """form_record has the store count the 1 Hz stream: the form built from it is the whole record's, with the
    oximeter (the sample's 8,000 SpO2 readings, a desaturation), and without any SpO2 at all."""
    now = at(PARIS, 2026, 12, 8, 9, 0)
    with_oximeter = esketamine_session(store, now - 86400)
    without = recorded_session(store, items=[i for i in nurse_items() if getattr(i, "spo2", None) is None],
                               chair="Chair 6", started=now - 86400 - 600, patient_identifier="MRN-7", lot="L-1")
    for sid in (with_oximeter, without):
        whole, row = load_record(store, sid), store.session(sid)
        slim = form_record(store, row, CONFIG)
        assert len(slim.readings) < len(whole.readings) or sid == without
        assert slim.rems(CONFIG) == whole.rems(CONFIG)
    assert len(load_record(store, with_oximeter).readings) > 8000 and len(form_record(
        store, store.session(with_oximeter), CONFIG).readings) < 100


# ---- recording a submission -------------------------------------------------------------------------------


def test_a_submission_is_recorded_with_its_audit_row_in_the_chain(store):
    now = at(PARIS, 2026, 12, 8, 9, 0)
    sid = esketamine_session(store, now - 3 * 86400)
    done = submit(store, CONFIG, Submission(sid, "  dr  lee ", now, "fax", " FAX-0099 "),
                  Recorder("dr lee", "clinician", "10.0.0.7"))
    assert (done.submitted_by, done.confirmation) == ("dr lee", "FAX-0099")  # spaces tidied
    assert submissions_of(store, [sid]) == {sid: done}
    (row,) = audit_log(store, where=AuditFilter(action=AUDIT_ACTION))
    assert (row["who"], row["role"], row["remote"], row["session_id"], row["at"]) == (
        "dr lee", "clinician", "10.0.0.7", sid, now)
    assert row["detail"] == "fax, confirmation FAX-0099"
    assert all(verdict.intact for verdict in chain.verify_all(store.engine))
    assert form_queue(store, CONFIG, now, PARIS).forms[0].state == SUBMITTED


def test_a_second_submission_is_refused_and_writes_nothing(store):
    now = at(PARIS, 2026, 12, 8, 9, 0)
    sid = esketamine_session(store, now - 3 * 86400)
    submit(store, CONFIG, Submission(sid, "RN-AB", now, "portal", "PMF-1"), Recorder("command line"))
    with pytest.raises(SubmissionRefused, match=r"already recorded as submitted by RN-AB .*portal, confirmation PMF-1"):
        submit(store, CONFIG, Submission(sid, "RN-CD", now + 60, "fax", "F-2"), Recorder("RN-CD"))
    (row,) = audit_log(store, where=AuditFilter(action=AUDIT_ACTION))
    assert (row["who"], row["detail"]) == ("command line", "portal, confirmation PMF-1, sent by RN-AB")
    assert submissions_of(store, [sid])[sid].confirmation == "PMF-1"


def test_unknown_iv_open_and_draft_sessions_and_bad_entries_are_refused(store):
    now = at(PARIS, 2026, 12, 8, 9, 0)
    iv = iv_session(store, now - 86400)
    draft = esketamine_session(store, now - 86400, complete=False)
    running = store.create_session(chair="Chair 5", patient_label="P-9", protocol="esketamine-56", started_at=now)
    complete = esketamine_session(store, now - 86400)
    cases = [
        (Submission(999, "RN-AB", now, "portal", "P-1"), "There is no session 999"),
        (Submission(iv, "RN-AB", now, "portal", "P-1"), "iv-ketamine: only esketamine sessions"),
        (Submission(running, "RN-AB", now, "portal", "P-1"), "still running"),
        (Submission(draft, "RN-AB", now, "portal", "P-1"), r"a draft: 1 answer is not in the record \(Lot Number\)"),
        (Submission(complete, "RN-AB", now, "email", "P-1"), "portal or fax"),
        (Submission(complete, "RN-AB", now, "portal", "   "), "Enter the confirmation"),
        (Submission(complete, "RN-AB", now, "portal", "x" * 81), "limited to 80"),
        (Submission(complete, "", now, "portal", "P-1"), "Name who sent"),
    ]
    for submission, why in cases:
        with pytest.raises(SubmissionRefused, match=why):
            submit(store, CONFIG, submission, Recorder("RN-AB"))
    assert audit_log(store, where=AuditFilter(action=AUDIT_ACTION)) == []
    hand = submit(store, CONFIG, Submission(draft, "RN-AB", now, "fax", "F-7", hand_filled=True), Recorder("RN-AB"))
    assert hand.hand_filled and "added by hand" in audit_log(store, where=AuditFilter(action=AUDIT_ACTION))[0]["detail"]
