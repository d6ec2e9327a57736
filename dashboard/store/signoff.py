"""A clinician's sign-off of a finished session: after it the record is read-only.

The table (`signoffs`) is in schema.py like every other; the migrations (migrations/versions)
create it. One sign-off per session, never changed.

Read-only means: the web refuses any further action on a signed session, and ingest
refuses to fold one (see `is_signed`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from .schema import MAX_SIGNOFF_COMMENT, NAME_LENGTH, sessions, signoffs
from .store import Store


class SignOffError(ValueError):
    """The sign-off was refused; the message says why, for the clinician."""


@dataclass(frozen=True, slots=True)
class SignOff:
    session_id: int
    clinician: str
    signed_at: float
    comment: str


def sign_off(store: Store, session_id: int, clinician: str, comment: str = "", at: float | None = None) -> SignOff:
    """Record the sign-off of a finished session; refuse an open, unknown or already signed one."""
    clinician, comment = clinician.strip(), comment.strip()
    if not clinician:
        raise SignOffError("Enter the signing clinician's name.")
    if len(clinician) > NAME_LENGTH or len(comment) > MAX_SIGNOFF_COMMENT:
        raise SignOffError(f"The name is limited to {NAME_LENGTH} and the comment to {MAX_SIGNOFF_COMMENT} characters.")
    with store.engine.begin() as conn:
        ended = conn.execute(sa.select(sessions.c.ended_at).where(sessions.c.id == session_id)).first()
        if ended is None:
            raise SignOffError(f"There is no session {session_id}.")
        if ended[0] is None:
            raise SignOffError("The session is still open: it can be signed off once it has ended.")
        if conn.scalar(sa.select(signoffs.c.id).where(signoffs.c.session_id == session_id)) is not None:
            raise SignOffError("The session is already signed off.")
        values = SignOff(session_id, clinician, time.time() if at is None else at, comment)
        conn.execute(signoffs.insert().values(session_id=session_id, clinician=values.clinician,
                                              signed_at=values.signed_at, comment=values.comment))
    return values


def signoff_of(store: Store, session_id: int) -> SignOff | None:
    """The session's sign-off, or None (also when the table does not exist yet)."""
    query = sa.select(signoffs.c.clinician, signoffs.c.signed_at, signoffs.c.comment).where(
        signoffs.c.session_id == session_id)
    try:
        with store.engine.connect() as conn:
            row = conn.execute(query).first()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):  # a database from before sign-offs: none signed
        return None
    return None if row is None else SignOff(session_id, row.clinician, row.signed_at, row.comment)


def is_signed(store: Store, session_id: int) -> bool:
    """True once the session is signed off: the gate every writer checks before touching it."""
    return signoff_of(store, session_id) is not None
