"""Failed sign-ins slow the next try down (a progressive delay); they never shut a ward computer or an
account for long.

Three counts over a sliding window (`window_s`), each free up to a number of failures, then a wait after the
last failure that doubles with every further one, from `first_wait_s` up to `max_wait_s` (a minute):

- a name from one address (`per_name` free): someone guessing at `demo-nurse` on one computer waits there;
- an address (`per_address` free): once an address has failed that often, every name that has failed from it
  waits from its first failure on. A name nobody has got wrong from that address never waits because of it:
  25 made-up names typed on a shared ward computer leave the nurse who signs in there next untouched;
- an account from anywhere (`per_account` free): guessing at one name from many addresses. An address the
  account signed in from lately (`familiar_s`: the owner's own ward computer) is exempt, so a stranger's
  guesses cannot keep the owner out there at all, and elsewhere for at most `max_wait_s`.

A try made while it must wait is answered like a wrong password (the same words, the same argon2 cost) and is
not counted: hammering does not lengthen the wait, so 1,000 tries keep no one out for more than a minute after
they stop. Unknown names are counted like known ones, so a wait says nothing about which names exist.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..store.schema import NAME_LENGTH
from ..store.security import ADDRESS_LENGTH, sign_in_failures, user_sessions


@dataclass(frozen=True, slots=True)
class Limits:
    per_name: int  # failures of one name from one address before its tries there wait
    per_address: int  # failures from one address, any names, before each name that failed there waits
    per_account: int  # failures of one name from anywhere before unfamiliar addresses wait for it
    window_s: float  # how long a failure counts
    first_wait_s: float = 1.0
    max_wait_s: float = 60.0  # the longest anyone waits after the last counted failure
    familiar_s: float = 30 * 86400  # a sign-in from an address this recent makes it the account's own


def wait_s(conn: sa.Connection, username: str, remote: str, user_id: int | None, limits: Limits,
           now: float) -> float:
    """How long this name must still wait before a try from this address is checked (0: check it now)."""
    name, address, since = username[:NAME_LENGTH], remote[:ADDRESS_LENGTH], now - limits.window_s
    from_here = list(conn.execute(sa.select(sign_in_failures.c.username, sign_in_failures.c.at).where(
        sign_in_failures.c.remote == address, sign_in_failures.c.at > since)))
    mine = [at for who, at in from_here if who == name]
    until = 0.0
    if mine:
        doublings = max(len(mine) - limits.per_name, len(from_here) - limits.per_address) + 1
        until = max(mine) + _delay(doublings, limits)
    count, last = conn.execute(sa.select(sa.func.count(), sa.func.max(sign_in_failures.c.at)).where(
        sign_in_failures.c.username == name, sign_in_failures.c.at > since)).one()
    if count >= limits.per_account and not _familiar(conn, user_id, address, now - limits.familiar_s):
        until = max(until, last + _delay(count - limits.per_account + 1, limits))
    return max(0.0, until - now)


def _delay(doublings: int, limits: Limits) -> float:
    return 0.0 if doublings <= 0 else min(limits.first_wait_s * 2 ** min(doublings - 1, 30), limits.max_wait_s)


def _familiar(conn: sa.Connection, user_id: int | None, address: str, since: float) -> bool:
    """The account signed in from this address lately (asked for unknown names too: the same work for all)."""
    return conn.scalar(sa.select(user_sessions.c.id).where(
        user_sessions.c.user_id == (user_id if user_id is not None else -1), user_sessions.c.remote == address,
        user_sessions.c.started_at > since).limit(1)) is not None


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
