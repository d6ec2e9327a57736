"""Failed sign-ins, counted per client address and per name from an address, over a sliding window.

- A name is refused from an address after `lockout_after` failures for it from there within the window:
  someone guessing at `demo-nurse` from one computer cannot lock the real nurse out on another.
- An address is refused for every name after `address_lockout_after` failures from it within the window:
  guessing across many names from one computer stops too.
Unknown names are counted like known ones, so a refusal says nothing about which names exist. Failures keep
counting while refused, so a guesser who carries on stays refused.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..store.schema import NAME_LENGTH
from ..store.security import ADDRESS_LENGTH, sign_in_failures


@dataclass(frozen=True, slots=True)
class Limits:
    lockout_after: int  # failures for one name from one address
    address_lockout_after: int  # failures from one address, any names
    window_s: float


def refused(conn: sa.Connection, username: str, remote: str, limits: Limits, now: float) -> bool:
    """Whether this name from this address, or this address at all, has failed too often lately."""
    since = now - limits.window_s
    recent = sa.select(sign_in_failures.c.username).where(
        sign_in_failures.c.remote == remote[:ADDRESS_LENGTH], sign_in_failures.c.at > since)
    names = list(conn.scalars(recent.limit(limits.address_lockout_after)))
    return len(names) >= limits.address_lockout_after or \
        names.count(username[:NAME_LENGTH]) >= limits.lockout_after


def failed(conn: sa.Connection, username: str, remote: str, limits: Limits, now: float) -> None:
    conn.execute(sign_in_failures.delete().where(sign_in_failures.c.at <= now - limits.window_s))
    conn.execute(sign_in_failures.insert().values(at=now, username=username[:NAME_LENGTH],
                                                  remote=remote[:ADDRESS_LENGTH]))


def succeeded(conn: sa.Connection, username: str, remote: str) -> None:
    """A right password from this address: its earlier failures for this name no longer count."""
    conn.execute(sign_in_failures.delete().where(sign_in_failures.c.username == username[:NAME_LENGTH],
                                                 sign_in_failures.c.remote == remote[:ADDRESS_LENGTH]))


def forget(conn: sa.Connection, username: str) -> None:
    """An admin set a new password: the name's failures from everywhere are forgotten."""
    conn.execute(sign_in_failures.delete().where(sign_in_failures.c.username == username[:NAME_LENGTH]))


def recent_failures(conn: sa.Connection, since: float) -> dict[str, int]:
    """Failed sign-ins per name since `since` (the admin's users page)."""
    query = (sa.select(sign_in_failures.c.username, sa.func.count()).where(sign_in_failures.c.at > since)
             .group_by(sign_in_failures.c.username))
    return {name: int(count) for name, count in conn.execute(query)}
