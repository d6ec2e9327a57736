"""The REMS form queue: every esketamine session's Patient Monitoring Form at a site, with its state and the days
left to send it, most urgent first; and recording that a form was sent.

The deadline. The REMS asks outpatient settings to submit the form "within 7 days" of the session
(`rems.submit_within`, in calendar days). Here: the treatment date is the calendar date, in the site's time zone,
of the first device administration (the form's own "Treatment Date"); the form is due by the end of the treatment
date + 7 days, in the same time zone. Days left = that due date - today's date (both in the site's time zone):
7 on the treatment day, 0 "due today", below 0 overdue. Counting whole dates, never 24-hour periods, keeps the
countdown right across midnight and across a daylight-saving change. The site's time zone is the one the server
runs in (each site runs its own web and ingest, with TZ set to the clinic's) unless a caller names one.

States: draft (the form still has unanswered questions: RemsForm.missing()), complete (nothing missing, not yet
sent), submitted (who, when, portal or fax, the confirmation). Test sessions (a replay or a simulated clinic:
store/test_data.py) never enter the queue.

Cost: the queue builds the form only of sessions in its window (`rems.queue_window` days of treatment dates) that
are not yet sent; a sent form needs only its session row. Older unsent forms are counted, not built. And it builds
each from the part of the record a form reads (`form_record`): a 2-hour session's 1 Hz oximetry is 8,000 rows the
store counts for the form instead (bench/RESULTS.md, "The REMS form queue").
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import sqlalchemy as sa

from ..engine import Config
from ..store import SessionRow, Store
from ..store.rems_submissions import Recorder, Submission, SubmissionRefused, record_submission, refusal, submissions_of
from ..store.review_queries import spo2_overview
from ..store.schema import readings, rems_submissions, sessions
from ..store.signoff import signoff_of
from ..store.test_data import is_real
from .patient_course import first_treatment
from .record import SessionNotFound, SessionRecord, load_record, session_wall_time
from .rems import spo2_bounds

DRAFT, COMPLETE, SUBMITTED = "draft", "complete", "submitted"


@dataclass(frozen=True, slots=True)
class Deadline:
    treatment_day: dt.date  # in the site's time zone
    due: dt.date  # due by the end of this day
    days_left: int  # due - today; negative: overdue by that many days

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def due_today(self) -> bool:
        return self.days_left == 0

    def describe(self) -> str:
        """"5 days left", "1 day left", "due today", "overdue 2 days"."""
        if self.days_left == 0:
            return "due today"
        days = abs(self.days_left)
        count = f"{days} day{'s' if days != 1 else ''}"
        return f"overdue {count}" if self.days_left < 0 else f"{count} left"


def local_day(epoch: float, zone: dt.tzinfo | None = None) -> dt.date:
    """The calendar date of an instant in `zone` (None: the server's local time, TZ, daylight saving included)."""
    return dt.datetime.fromtimestamp(epoch, zone).date()


def day_start(day: dt.date, zone: dt.tzinfo | None = None) -> float:
    """Epoch seconds of the midnight that starts `day` in `zone` (None: local time)."""
    if zone is None:
        return time.mktime((day.year, day.month, day.day, 0, 0, 0, 0, 0, -1))
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).timestamp()


def deadline(treated_at: float, now: float, within_days: int, zone: dt.tzinfo | None = None) -> Deadline:
    """The deadline of a form whose first device was given at `treated_at` (epoch seconds), seen at `now`."""
    treated = local_day(treated_at, zone)
    due = treated + dt.timedelta(days=within_days)
    return Deadline(treated, due, (due - local_day(now, zone)).days)


def treated_at(row: SessionRow) -> float:
    """Epoch seconds of the first device (the session start before a dose): the moment the form's date is of."""
    dose_at = (row.status or {}).get("dose_at")
    return session_wall_time(row, float(dose_at) if dose_at is not None else 0.0)


@dataclass(frozen=True, slots=True)
class QueuedForm:
    session_id: int
    chair: str
    patient_label: str
    deadline: Deadline
    state: str  # draft | complete | submitted
    missing: tuple[str, ...] = ()  # a draft's unanswered questions
    submission: Submission | None = None
    open: bool = False  # the session is still running (its form is a draft until it ends)

    @property
    def sent(self) -> bool:
        return self.submission is not None

    def days_text(self) -> str:
        return "sent" if self.sent else self.deadline.describe()


@dataclass(frozen=True, slots=True)
class FormQueue:
    forms: tuple[QueuedForm, ...]  # unsent first, most urgent first; then sent, newest first
    window_start: dt.date  # treatment dates from this day on are listed
    older_unsent: int  # esketamine sessions before the window whose form is not recorded as sent

    def unsent(self) -> tuple[QueuedForm, ...]:
        return tuple(f for f in self.forms if not f.sent)


def form_queue(store: Store, config: Config, now: float, zone: dt.tzinfo | None = None, site: str | None = None,
               days: int | None = None) -> FormQueue:
    """The site's forms (default: the store's site) with treatment dates from `days` ago (default
    rems.queue_window) to today, as seen at `now`."""
    within = int(config.value("rems.submit_within"))
    window = int(config.value("rems.queue_window") if days is None else days)
    window_start = local_day(now, zone) - dt.timedelta(days=window)
    cutoff = day_start(window_start - dt.timedelta(days=1), zone)  # a session may start the evening before its dose
    rows = _esketamine_rows(store, site or store.site, cutoff)
    sent = submissions_of(store, [r.id for r in rows])
    forms, older = [], 0
    for row in rows:
        limit = deadline(treated_at(row), now, within, zone)
        if limit.treatment_day < window_start:
            older += row.id not in sent
            continue
        forms.append(_queued(store, config, row, limit, sent.get(row.id)))
    older += _older_unsent(store, site or store.site, cutoff)
    return FormQueue(tuple(sorted(forms, key=_urgency)), window_start, older)


@dataclass(frozen=True, slots=True)
class Urgent:
    """The forms not yet sent that are overdue or due today: what the clinician's board says at a glance."""
    overdue: int
    due_today: int

    def __bool__(self) -> bool:
        return bool(self.overdue or self.due_today)


def urgent(store: Store, config: Config, now: float, zone: dt.tzinfo | None = None, site: str | None = None) -> Urgent:
    """How many unsent forms are overdue or due today, from the sessions' dates alone (no form is built: cheap
    enough for a page load): every unsent form older than the deadline counts, in the window or before it."""
    within = int(config.value("rems.submit_within"))
    cutoff = day_start(local_day(now, zone) - dt.timedelta(days=within + 1), zone)
    rows = _esketamine_rows(store, site or store.site, cutoff)
    sent = submissions_of(store, [r.id for r in rows])
    days_left = [deadline(treated_at(r), now, within, zone).days_left for r in rows if r.id not in sent]
    older = _older_unsent(store, site or store.site, cutoff)  # started before the cutoff: past their deadline
    return Urgent(sum(1 for d in days_left if d < 0) + older, sum(1 for d in days_left if d == 0))


def _queued(store: Store, config: Config, row: SessionRow, limit: Deadline, sent: Submission | None) -> QueuedForm:
    if sent is not None:  # nothing to build: the form has gone
        return QueuedForm(row.id, row.chair, row.patient_label, limit, SUBMITTED, submission=sent)
    form = form_record(store, row, config).rems(config)
    missing = tuple(form.missing()) if form is not None else ()
    still_open = row.ended_at is None
    return QueuedForm(row.id, row.chair, row.patient_label, limit, DRAFT if missing or still_open else COMPLETE,
                      missing, open=still_open)


def form_record(store: Store, row: SessionRow, config: Config) -> SessionRecord:
    """The session's record as its REMS form reads it: its BP readings, events and alarm transitions, its sign-off
    and course answer, and its SpO2 counted by the store (spo2_overview, as the session page's form does) instead of
    the 1 Hz stream. A test holds the form built from it equal to the form built from the whole record
    (tests/reports/test_form_queue.py)."""
    query = readings.select().where(readings.c.session_id == row.id, readings.c.sbp.is_not(None)).order_by(
        readings.c.offset_s, readings.c.seq)
    with store.engine.connect() as conn:
        bps = tuple(dict(r) for r in conn.execute(query).mappings())
    esketamine = row.protocol.startswith("esketamine")
    return SessionRecord(row, bps, tuple(store.events_of(row.id)), tuple(store.alarms_of(row.id)),
                         signoff_of(store, row.id), first_treatment(store, row) if esketamine else None,
                         spo2=spo2_overview(store, row.id, *spo2_bounds(config)))


def _urgency(form: QueuedForm) -> tuple:
    """Unsent before sent; unsent by due date (the overdue, oldest first, then due today, then the rest); sent
    forms newest treatment first."""
    if form.sent:
        return (1, -form.deadline.treatment_day.toordinal(), -form.session_id)
    return (0, form.deadline.due.toordinal(), form.session_id)


def _esketamine_rows(store: Store, site: str, since: float) -> list[SessionRow]:
    query = (sessions.select().where(sessions.c.site == site, sessions.c.protocol.like("esketamine%"), is_real(),
                                     sessions.c.started_at >= since).order_by(sessions.c.started_at))
    with store.engine.connect() as conn:
        return [SessionRow(**r) for r in conn.execute(query).mappings()]


def _older_unsent(store: Store, site: str, before: float) -> int:
    query = (sa.select(sa.func.count()).select_from(sessions.outerjoin(
        rems_submissions, rems_submissions.c.session_id == sessions.c.id))
        .where(sessions.c.site == site, sessions.c.protocol.like("esketamine%"), is_real(),
               sessions.c.started_at < before, rems_submissions.c.id.is_(None)))
    with store.engine.connect() as conn:
        return int(conn.scalar(query) or 0)


def submit(store: Store, config: Config, submission: Submission, recorder: Recorder) -> Submission:
    """Record that a session's form was sent (store/rems_submissions.py audits it). Refused besides what the store
    refuses: a session still open, and a draft unless its missing answers were written on the form by hand
    (`submission.hand_filled`)."""
    row = store.session(submission.session_id)
    why = refusal(row, submission.session_id)
    if why:
        raise SubmissionRefused(why)
    assert row is not None
    if row.ended_at is None:
        raise SubmissionRefused(f"Session {row.id} is still running: send its form once the session has ended.")
    form = form_record(store, row, config).rems(config)  # what the queue reads of it (the same form)
    missing = form.missing() if form is not None else []
    if missing and not submission.hand_filled:
        raise SubmissionRefused(
            f"Session {row.id}'s form is a draft: {len(missing)} answer{'s are' if len(missing) != 1 else ' is'} "
            f"not in the record ({'; '.join(_short(q) for q in missing)}). Record a submission of it only if those "
            "answers were written on the form by hand (say so), else complete the record first.")
    return record_submission(store, submission, recorder)


def _short(question: str) -> str:
    return question if len(question) <= 60 else question[:57].rstrip() + "..."


def forms_of_day(store: Store, day: dt.date, zone: dt.tzinfo | None = None,
                 site: str | None = None) -> list[SessionRecord]:
    """The records of the site's esketamine sessions treated on `day` (in `zone`), in treatment order: a day's
    forms to print in one file. Test sessions are left out."""
    rows = [r for r in _esketamine_rows(store, site or store.site, day_start(day - dt.timedelta(days=1), zone))
            if local_day(treated_at(r), zone) == day]
    return [load_record(store, r.id) for r in sorted(rows, key=treated_at)]


__all__ = ["COMPLETE", "DRAFT", "Deadline", "FormQueue", "QueuedForm", "Recorder", "SUBMITTED", "SessionNotFound",
           "Submission", "SubmissionRefused", "Urgent", "deadline", "day_start", "form_queue", "form_record",
           "forms_of_day", "local_day", "submit", "treated_at", "urgent"]
