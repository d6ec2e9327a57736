"""REMS Patient Monitoring Forms recorded as submitted: by whom, when, by portal or fax, with the REMS's
confirmation. An outpatient site sends the form within 7 days of every esketamine session; this table is how
the monitor knows which forms are still to send (reports/form_queue.py).

A session's form is recorded as submitted once. A second submission is refused, not kept as a correction: the
REMS itself holds what was sent, and a clinic that sends a corrected form has its own confirmation for it; here
the question is only whether the form has gone. Each row is written with its audit row in one transaction (no
submission without its row in the chain, and never two), as people's actions are (auth/audit.py).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Iterable

import sqlalchemy as sa

from . import chain, test_data
from .schema import MAX_CONFIRMATION, NAME_LENGTH, REMS_CHANNELS, rems_submissions, sessions
from .security import ADDRESS_LENGTH, audit
from .store import Store

AUDIT_ACTION = "rems_submitted"


class SubmissionRefused(ValueError):
    """The submission was not recorded; the message says why, for the person who entered it."""


@dataclass(frozen=True, slots=True)
class Submission:
    session_id: int
    submitted_by: str
    submitted_at: float  # epoch seconds
    channel: str  # portal | fax
    confirmation: str
    hand_filled: bool = False  # answers the record lacked were written on the form by hand

    def describe(self) -> str:
        """`portal, confirmation ABC-123` (and what was added by hand): what the audit row keeps too."""
        return f"{self.channel}, confirmation {self.confirmation}" + (
            "; answers missing from the record added by hand" if self.hand_filled else "")


@dataclass(frozen=True, slots=True)
class Recorder:
    """Who records it, as the audit names them: a signed-in user, or "command line" with the machine's user."""

    who: str
    role: str = ""
    remote: str = ""


def record_submission(store: Store, submission: Submission, recorder: Recorder) -> Submission:
    """Record the submission of a session's form and its audit row; refuse bad input, an unknown, IV or test
    session, and a form already recorded as submitted. Returns what was recorded (names and text tidied)."""
    submission = _checked(submission)
    try:
        _insert(store, submission, recorder)
    except sa.exc.IntegrityError:  # recorded by someone else between the read and the write
        raise SubmissionRefused(f"Session {submission.session_id}'s form was recorded as submitted a moment "
                                "ago.") from None
    return submission


def _insert(store: Store, submission: Submission, recorder: Recorder) -> None:
    session_id = submission.session_id
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(sessions.c.protocol, sessions.c.clock, sessions.c.scenario)
                           .where(sessions.c.id == session_id)).first()
        why = refusal(row, session_id)
        if why:
            raise SubmissionRefused(why)
        earlier = _submitted(conn, [session_id]).get(session_id)
        if earlier is not None:
            raise SubmissionRefused(f"Session {session_id}'s form was already recorded as submitted by "
                                    f"{earlier.submitted_by} on {_local(earlier.submitted_at)} "
                                    f"({earlier.describe()}). A recorded submission is kept as recorded.")
        conn.execute(rems_submissions.insert().values(
            session_id=session_id, submitted_by=submission.submitted_by, submitted_at=submission.submitted_at,
            channel=submission.channel, confirmation=submission.confirmation, hand_filled=submission.hand_filled))
        detail = submission.describe() + ("" if submission.submitted_by == recorder.who
                                          else f", sent by {submission.submitted_by}")
        chain.append(conn, audit, [{"at": submission.submitted_at, "who": recorder.who[:NAME_LENGTH],
                                    "role": recorder.role, "action": AUDIT_ACTION, "detail": detail,
                                    "remote": recorder.remote[:ADDRESS_LENGTH], "session_id": session_id}])


def refusal(row: Any, session_id: int) -> str | None:
    """Why a session's form cannot be recorded as sent, of anything with its protocol, clock and scenario (None:
    no session): unknown, not esketamine (IV ketamine has no REMS form), or test data (never sent to the REMS)."""
    if row is None:
        return f"There is no session {session_id}."
    if not row.protocol.startswith("esketamine"):
        return (f"Session {session_id} is {row.protocol}: only esketamine sessions have a REMS Patient Monitoring "
                "Form.")
    if test_data.mark(row):
        return (f"Session {session_id} is test data ({test_data.mark(row)}): its form is never sent to the REMS and "
                "never enters the queue.")
    return None


def _checked(s: Submission) -> Submission:
    by, confirmation = " ".join(s.submitted_by.split()), " ".join(s.confirmation.split())
    if s.channel not in REMS_CHANNELS:
        raise SubmissionRefused(f"Choose how the form was sent: {' or '.join(REMS_CHANNELS)}.")
    if not confirmation:
        raise SubmissionRefused("Enter the confirmation the REMS gave (the portal's number, or the fax's report).")
    if len(confirmation) > MAX_CONFIRMATION:
        raise SubmissionRefused(f"The confirmation is limited to {MAX_CONFIRMATION} characters.")
    if not by or len(by) > NAME_LENGTH:
        raise SubmissionRefused(f"Name who sent the form (up to {NAME_LENGTH} characters).")
    return Submission(s.session_id, by, s.submitted_at, s.channel, confirmation, s.hand_filled)


def submissions_of(store: Store, session_ids: Iterable[int]) -> dict[int, Submission]:
    """The recorded submissions of these sessions, by session id (one query)."""
    ids = list(session_ids)
    if not ids:
        return {}
    with store.engine.connect() as conn:
        return _submitted(conn, ids)


def _submitted(conn: sa.Connection, ids: list[int]) -> dict[int, Submission]:
    found: dict[int, Submission] = {}
    for start in range(0, len(ids), 500):  # bound the IN list
        query = rems_submissions.select().where(rems_submissions.c.session_id.in_(ids[start:start + 500]))
        for r in conn.execute(query).mappings():
            found[r["session_id"]] = Submission(r["session_id"], r["submitted_by"], r["submitted_at"], r["channel"],
                                                r["confirmation"], bool(r["hand_filled"]))
    return found


def _local(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))
