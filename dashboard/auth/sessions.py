"""Signed-in sessions, kept on the server so they can be ended at once.

The browser's cookie holds a random token; the database holds only its SHA-256 (someone who reads the
database cannot sign in with it). Each request looks its session up: ended, past its idle limit or past its
absolute lifetime, it is no session (a ward display's has neither limit: web.py). Logout ends one session; a password reset, a role change or a
deactivation ends every session of that user, in the same transaction as the change.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from ..store import Store
from ..store.security import ADDRESS_LENGTH, user_sessions, users

ACTIVITY_GRAIN_S = 5.0  # a person's activity is written at most this often (a page load is a dozen requests)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A session found by its token, with its user as the users table has them now."""

    id: int
    username: str
    role: str
    started_at: float
    active_at: float
    remote: str  # the address it signed in from


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(conn: sa.Connection, username: str, remote: str, now: float) -> str:
    """A new session for the user; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    user_id = sa.select(users.c.id).where(users.c.username == username).scalar_subquery()
    conn.execute(user_sessions.insert().values(token_hash=_digest(token), user_id=user_id, started_at=now,
                                               active_at=now, remote=remote[:ADDRESS_LENGTH]))
    return token


def find(store: Store, token: str) -> SignedIn | None:
    """The open session of an active user with this token, or None."""
    query = (sa.select(user_sessions.c.id, users.c.username, users.c.role, user_sessions.c.started_at,
                       user_sessions.c.active_at, user_sessions.c.remote)
             .join(users, users.c.id == user_sessions.c.user_id)
             .where(user_sessions.c.token_hash == _digest(token), user_sessions.c.ended_at.is_(None),
                    users.c.active.is_(True)))
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    return SignedIn(*row) if row else None


def touch(store: Store, session: SignedIn, now: float) -> None:
    """The person did something: the idle clock starts again."""
    if now - session.active_at >= ACTIVITY_GRAIN_S:
        with store.engine.begin() as conn:
            conn.execute(user_sessions.update().where(user_sessions.c.id == session.id).values(active_at=now))


def end(store: Store, session_id: int, reason: str, now: float) -> bool:
    """End one session; False when it had ended already (another request got there first)."""
    with store.engine.begin() as conn:
        return bool(conn.execute(user_sessions.update().where(
            user_sessions.c.id == session_id, user_sessions.c.ended_at.is_(None)).values(
            ended_at=now, end_reason=reason)).rowcount)


def end_all(conn: sa.Connection, user_id: int, reason: str, now: float) -> int:
    """End every open session of a user (inside the transaction that changed the account)."""
    return int(conn.execute(user_sessions.update().where(
        user_sessions.c.user_id == user_id, user_sessions.c.ended_at.is_(None)).values(
        ended_at=now, end_reason=reason)).rowcount)


def open_count(store: Store) -> dict[str, int]:
    """Open sessions per user name (the admin's users page)."""
    query = (sa.select(users.c.username, sa.func.count()).join(users, users.c.id == user_sessions.c.user_id)
             .where(user_sessions.c.ended_at.is_(None)).group_by(users.c.username))
    with store.engine.connect() as conn:
        return {name: int(count) for name, count in conn.execute(query)}
