"""Tables of who may use the monitor and what they did: users and the append-only audit log."""
from __future__ import annotations

import sqlalchemy as sa

from .schema import metadata

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(80), nullable=False, unique=True),
    sa.Column("role", sa.String(20), nullable=False),  # nurse | clinician | tester | admin
    sa.Column("password_hash", sa.Text, nullable=False),  # argon2id, never the password
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.Float),  # epoch seconds; NULL when not locked
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.Float, nullable=False),
)

audit = sa.Table(  # append-only: no code updates or deletes it, and triggers (migration 0001) refuse both
    "audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False),  # epoch seconds
    sa.Column("who", sa.String(80), nullable=False),
    sa.Column("role", sa.String(20), nullable=False, server_default=""),
    sa.Column("action", sa.String(40), nullable=False),  # login, login_failed, acknowledge, override, ...
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Column("remote", sa.String(64), nullable=False, server_default=""),  # where from (address)
    sa.Column("session_id", sa.Integer),  # the treatment session concerned, if any
    sa.Index("ix_audit_at", "at"),
)
