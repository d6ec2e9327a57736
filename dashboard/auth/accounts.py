"""Accounts in the store: add, reset a password, change a role, deactivate and reactivate, and sign-in.

A change to an account ends that user's signed-in sessions in the same transaction (sessions.py). A
deactivated user cannot sign in; their account row, and everything they did, stays.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..store import Store, chain
from ..store.security import audit, users
from . import sessions, throttle
from .audit import row as audit_row
from .credentials import (AuthError, check_password, check_username, dummy_hash, hash_password, needs_rehash,
                          normalised, password_matches, printable)
from .roles import ROLES

IDLE_MINUTES = 12 * 60  # a shift: a board that signed itself out would also stop sounding alarms
MAX_SESSION_HOURS = 13.0  # absolute lifetime of a sign-in: a 12 h shift and an hour's margin to hand over
# Sign-in throttling (throttle.py): failures free before the next try waits, and for how long at most.
LOCKOUT_AFTER = 5  # failed sign-ins for one name from one address
ADDRESS_LOCKOUT_AFTER = 20  # failed sign-ins from one address, whatever the names
ACCOUNT_LOCKOUT_AFTER = 10  # failed sign-ins for one name from anywhere
LOCKOUT_MINUTES = 15  # the window failures are counted over
MAX_WAIT_S = 60.0  # the longest wait after the last counted failure: nobody is kept out longer


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """Security settings, from the environment (MONITOR_*), with defaults a clinic can change."""

    idle_minutes: float = IDLE_MINUTES
    max_session_hours: float = MAX_SESSION_HOURS
    lockout_after: int = LOCKOUT_AFTER
    address_lockout_after: int = ADDRESS_LOCKOUT_AFTER
    account_lockout_after: int = ACCOUNT_LOCKOUT_AFTER
    lockout_minutes: float = LOCKOUT_MINUTES
    max_wait_s: float = MAX_WAIT_S
    trusted_proxies: int = 0  # reverse proxies in front whose X-Forwarded-For is believed (README: Security)

    @classmethod
    def from_env(cls) -> AuthSettings:
        env = os.environ.get
        return cls(idle_minutes=float(env("MONITOR_SESSION_IDLE_MIN", IDLE_MINUTES)),
                   max_session_hours=float(env("MONITOR_SESSION_MAX_HOURS", MAX_SESSION_HOURS)),
                   lockout_after=int(env("MONITOR_LOCKOUT_AFTER", LOCKOUT_AFTER)),
                   address_lockout_after=int(env("MONITOR_LOCKOUT_ADDRESS_AFTER", ADDRESS_LOCKOUT_AFTER)),
                   account_lockout_after=int(env("MONITOR_LOCKOUT_ACCOUNT_AFTER", ACCOUNT_LOCKOUT_AFTER)),
                   lockout_minutes=float(env("MONITOR_LOCKOUT_MIN", LOCKOUT_MINUTES)),
                   max_wait_s=float(env("MONITOR_LOCKOUT_MAX_WAIT_S", MAX_WAIT_S)),
                   trusted_proxies=int(env("MONITOR_TRUSTED_PROXIES", 0)))

    @property
    def limits(self) -> throttle.Limits:
        return throttle.Limits(self.lockout_after, self.address_lockout_after, self.account_lockout_after,
                               self.lockout_minutes * 60, max_wait_s=self.max_wait_s)

    def failure_message(self) -> str:
        return (f"Unknown user or wrong password. After {self.lockout_after} failed attempts, each next try "
                f"waits a little longer, at most {self.max_wait_s:g} seconds: wait and try again.")


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: str


def add_user(store: Store, username: str, role: str, password: str) -> None:
    _check_role(role)
    name = check_username(username)
    check_password(password, name)
    try:
        with store.engine.begin() as conn:
            if conn.scalar(sa.select(users.c.id).where(users.c.username == name)):
                raise AuthError(f"user {name} already exists")
            conn.execute(users.insert().values(username=name, role=role, password_hash=hash_password(password),
                                               created_at=time.time(), active=True))
    except sa.exc.IntegrityError:  # added a moment ago by another node starting at the same time
        raise AuthError(f"user {name} already exists") from None


def set_password(store: Store, username: str, password: str, role: str | None = None) -> None:
    """Replace a password (and optionally the role); forgets the name's failed sign-ins and ends its sessions."""
    check_password(password, username)
    values: dict[str, Any] = {"password_hash": hash_password(password)}
    if role is not None:
        _check_role(role)
        values["role"] = role
    with store.engine.begin() as conn:
        _change(conn, username, values, "password")
        throttle.forget(conn, username)


def set_role(store: Store, username: str, role: str) -> None:
    """A new role; the user's sessions end (they sign in again with it)."""
    _check_role(role)
    with store.engine.begin() as conn:
        _change(conn, username, {"role": role}, "role")


def set_active(store: Store, username: str, active: bool) -> None:
    """Deactivate (sessions end, sign-in refused, history kept) or reactivate a user."""
    with store.engine.begin() as conn:
        _change(conn, username, {"active": active}, "" if active else "deactivated")


def _change(conn: sa.Connection, username: str, values: dict[str, Any], end_reason: str) -> None:
    """Update the user and end their sessions (unless `end_reason` is empty). A change that would leave no
    active admin is refused: nobody could manage the accounts any more."""
    before = conn.execute(sa.select(users.c.id, users.c.role, users.c.active).where(
        users.c.username == username)).first()
    if before is None:
        raise AuthError(f"no user {username}")
    conn.execute(users.update().where(users.c.id == before.id).values(**values))
    if before.role == "admin" and before.active and not conn.scalar(
            sa.select(sa.func.count()).where(users.c.role == "admin", users.c.active.is_(True))):
        raise AuthError("at least one active admin must remain")  # rolls the transaction back
    if end_reason:
        sessions.end_all(conn, before.id, end_reason, time.time())


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}")


def verify(store: Store, username: str, password: str, remote: str = "", settings: AuthSettings | None = None,
           now: float | None = None) -> User:
    """The user, or AuthError with one message for every failure (no hint which part was wrong).

    Every answer costs one argon2 verification (an unknown, inactive or refused name is checked against a
    dummy hash), one read and one write, so its time does not tell which names exist or are refused."""
    settings = settings or AuthSettings.from_env()
    now = time.time() if now is None else now
    name = normalised(username)
    with store.engine.connect() as conn:  # no write lock is held while argon2 runs
        account = conn.execute(sa.select(users.c.id, users.c.username, users.c.role, users.c.password_hash,
                                         users.c.active).where(users.c.username == name)).first()
        refused = throttle.wait_s(conn, name, remote, account.id if account else None, settings.limits, now) > 0
    usable = account is not None and account.active and not refused
    matched = password_matches(account.password_hash if usable else dummy_hash(), password) and usable
    with store.engine.begin() as conn:
        if not matched:
            if not refused:  # a try made while waiting does not count: hammering cannot lengthen the wait
                throttle.failed(conn, name, remote, settings.limits, now)
            why = ("refused: too many failures" if refused else "unknown user" if account is None else
                   "inactive user" if not account.active else "wrong password")
            chain.append(conn, audit, [audit_row(printable(name), "login_failed", why, remote=remote)])
        else:
            throttle.succeeded(conn, name, remote)
            chain.append(conn, audit, [audit_row(account.username, "login", role=account.role, remote=remote)])
            if needs_rehash(account.password_hash):  # the library's recommended cost went up
                conn.execute(users.update().where(users.c.id == account.id).values(
                    password_hash=hash_password(password)))
    if not matched:
        raise AuthError(settings.failure_message())
    return User(account.username, account.role)


def user_id(store: Store, username: str) -> int | None:
    with store.engine.connect() as conn:
        return conn.scalar(sa.select(users.c.id).where(users.c.username == username))


def accounts(store: Store) -> list[dict[str, Any]]:
    """Every account with its state, failed sign-ins in the last window and open sessions (the admin's list)."""
    settings = AuthSettings.from_env()
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(users.c.username, users.c.role, users.c.active).order_by(users.c.username))
        failures = throttle.recent_failures(conn, time.time() - settings.limits.window_s)
        found = [dict(r._mapping) for r in rows]
    signed_in = sessions.open_count(store)
    return [{**r, "failures": failures.get(r["username"], 0), "sessions": signed_in.get(r["username"], 0)}
            for r in found]
