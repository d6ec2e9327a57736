"""Accounts and the audit log in the store: argon2id hashes, lockout after repeated failures."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..store import Store
from ..store.security import audit, users
from .roles import ROLES

HASHER = PasswordHasher()  # argon2id with the library's current recommended cost
MIN_PASSWORD = 10


class AuthError(ValueError):
    """A login or account change that cannot be done; the message is safe to show."""


IDLE_MINUTES = 12 * 60  # a shift: a board that signed itself out would also stop sounding alarms
LOCKOUT_AFTER = 5  # failed logins in a row
LOCKOUT_MINUTES = 15


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """Security settings, from the environment (MONITOR_*), with defaults a clinic can change."""

    idle_minutes: float = IDLE_MINUTES
    lockout_after: int = LOCKOUT_AFTER
    lockout_minutes: float = LOCKOUT_MINUTES

    @classmethod
    def from_env(cls) -> AuthSettings:
        env = os.environ.get
        return cls(idle_minutes=float(env("MONITOR_SESSION_IDLE_MIN", IDLE_MINUTES)),
                   lockout_after=int(env("MONITOR_LOCKOUT_AFTER", LOCKOUT_AFTER)),
                   lockout_minutes=float(env("MONITOR_LOCKOUT_MIN", LOCKOUT_MINUTES)))


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: str


def add_user(store: Store, username: str, role: str, password: str) -> None:
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}")
    name = username.strip()
    if not name or len(name) > 80:
        raise AuthError("a username of 1 to 80 characters is needed")
    _check_password(password)
    try:
        with store.engine.begin() as conn:
            if conn.scalar(sa.select(users.c.id).where(users.c.username == name)):
                raise AuthError(f"user {name} already exists")
            conn.execute(users.insert().values(username=name, role=role, password_hash=HASHER.hash(password),
                                               created_at=time.time(), active=True, failed_logins=0))
    except sa.exc.IntegrityError:  # added a moment ago by another node starting at the same time
        raise AuthError(f"user {name} already exists") from None


def set_password(store: Store, username: str, password: str, role: str | None = None) -> None:
    """Replace a password (and optionally the role); unlocks the account."""
    _check_password(password)
    values: dict[str, Any] = {"password_hash": HASHER.hash(password), "failed_logins": 0, "locked_until": None}
    if role is not None:
        values["role"] = role
    with store.engine.begin() as conn:
        done = conn.execute(users.update().where(users.c.username == username).values(**values)).rowcount
    if not done:
        raise AuthError(f"no user {username}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"a password needs at least {MIN_PASSWORD} characters")


def verify(store: Store, username: str, password: str, remote: str = "", settings: AuthSettings | None = None,
           now: float | None = None) -> User:
    """The user, or AuthError with one message for every failure (no hint which part was wrong)."""
    settings = settings or AuthSettings.from_env()
    now = time.time() if now is None else now
    with store.engine.begin() as conn:
        row = conn.execute(users.select().where(users.c.username == username)).mappings().first()
        if row is None or not row["active"]:
            HASHER.hash(password)  # spend the same time as a real check
            _failed(store, username, remote, "unknown or inactive user")
        if row["locked_until"] and row["locked_until"] > now:
            _failed(store, username, remote, "account locked")
        try:
            HASHER.verify(row["password_hash"], password)
        except (VerificationError, InvalidHashError):
            failures = row["failed_logins"] + 1
            locked = now + settings.lockout_minutes * 60 if failures >= settings.lockout_after else None
            conn.execute(users.update().where(users.c.id == row["id"]).values(
                failed_logins=0 if locked else failures, locked_until=locked))
            conn.commit()
            _failed(store, username, remote, "wrong password" + ("; account locked" if locked else ""))
        conn.execute(users.update().where(users.c.id == row["id"]).values(failed_logins=0, locked_until=None))
    record(store, username, "login", "", role=row["role"], remote=remote)
    return User(username, row["role"])


def _failed(store: Store, username: str, remote: str, why: str) -> None:
    record(store, username[:80], "login_failed", why, remote=remote)
    raise AuthError("Unknown user or wrong password, or the account is locked.")


def record(store: Store, who: str, action: str, detail: str = "", role: str = "", remote: str = "",
           session_id: int | None = None) -> None:
    """Append to the audit log. There is deliberately no way to change or remove a row."""
    with store.engine.begin() as conn:
        conn.execute(audit.insert().values(at=time.time(), who=who, role=role, action=action, detail=detail[:2000],
                                           remote=remote[:64], session_id=session_id))


def audit_log(store: Store, limit: int = 500) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        query = audit.select().order_by(audit.c.id.desc()).limit(limit)
        return [dict(row) for row in conn.execute(query).mappings()]
