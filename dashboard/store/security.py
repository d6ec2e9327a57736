"""Tables of who may use the monitor and what they did: users, their signed-in sessions, failed sign-ins and
the append-only audit log."""
from __future__ import annotations

import sqlalchemy as sa

from .schema import NAME_LENGTH, metadata

ADDRESS_LENGTH = 64  # a client address as the audit keeps it (IPv6 with a zone fits)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(NAME_LENGTH), nullable=False, unique=True),
    sa.Column("role", sa.String(20), nullable=False),  # nurse | clinician | tester | admin | display
    sa.Column("password_hash", sa.Text, nullable=False),  # argon2id, never the password
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),  # false: deactivated, history kept
    sa.Column("created_at", sa.Float, nullable=False),
)

user_sessions = sa.Table(  # one per sign-in: the cookie carries a random token, the database only its digest
    "user_sessions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),  # sha256 hex of the cookie's token
    sa.Column("user_id", sa.ForeignKey("users.id"), nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),  # epoch seconds: the absolute lifetime counts from here
    sa.Column("active_at", sa.Float, nullable=False),  # the person's last action (polls do not count)
    sa.Column("ended_at", sa.Float),  # NULL while signed in
    sa.Column("end_reason", sa.String(20), nullable=False, server_default=""),  # logout, idle, expired, password...
    sa.Column("remote", sa.String(ADDRESS_LENGTH), nullable=False, server_default=""),  # where it signed in from
    sa.Index("ix_user_sessions_user", "user_id", "ended_at"),
)

sign_in_failures = sa.Table(  # recent failed sign-ins, for throttling per address and per name from an address
    "sign_in_failures", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False),  # epoch seconds; rows older than the lockout window are pruned
    sa.Column("username", sa.String(NAME_LENGTH), nullable=False),  # as typed (clipped), known or not
    sa.Column("remote", sa.String(ADDRESS_LENGTH), nullable=False),
    sa.Index("ix_sign_in_failures_remote", "remote", "at"),
)

audit = sa.Table(  # append-only (triggers of migrations 0001, 0008 refuse changes) and chained (chain.py)
    "audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False),  # epoch seconds
    sa.Column("who", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("role", sa.String(20), nullable=False, server_default=""),
    sa.Column("action", sa.String(40), nullable=False),  # login, login_failed, acknowledge, open_session, ...
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Column("remote", sa.String(ADDRESS_LENGTH), nullable=False, server_default=""),  # where from (address)
    sa.Column("session_id", sa.Integer),  # the treatment session concerned, if any
    sa.Column("chain", sa.String(64)),  # HMAC of this row and the one before (chain.py); NULL before migration 0014
    sa.Index("ix_audit_at", "at"),
    sa.Index("ix_audit_who", "who", "at"),  # the admin's filters (migration 0008)
    sa.Index("ix_audit_session", "session_id", "at"),
    sa.Index("ix_audit_action", "action", "at"),
)

chain_heads = sa.Table(  # each tamper-evident chain's row count and last link (chain.py; migration 0014)
    "chain_heads", metadata,
    sa.Column("name", sa.String(20), primary_key=True),  # the table: audit | actions
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("last", sa.String(64), nullable=False),  # "" before the first row
)
