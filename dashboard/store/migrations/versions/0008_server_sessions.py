"""Signed-in sessions on the server (revocable), failed sign-ins per address, the audit log's filters.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01

- `user_sessions`: a sign-in is a row; logout, a password reset, a role change or deactivation ends it at once.
- `sign_in_failures`: throttling per client address and per name from an address, so guessing at a name from
  one computer cannot lock its owner out from another. The per-account counters of `users`
  (`failed_logins`, `locked_until`) go.
- `audit`: indexes for the admin's filters (user, session, action); on PostgreSQL TRUNCATE is refused too
  (the row triggers of 0001 do not fire on it).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

AUDIT_INDEXES = {"ix_audit_who": ["who", "at"], "ix_audit_session": ["session_id", "at"],
                 "ix_audit_action": ["action", "at"]}
NO_TRUNCATE = [
    "CREATE OR REPLACE FUNCTION audit_no_truncate() RETURNS trigger AS $$ BEGIN "
    "RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS audit_no_truncate ON audit",
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate()",
]


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    tables = set(inspector.get_table_names())  # a database made by `create_all` may have these already
    old = {column["name"] for column in inspector.get_columns("users")} & {"failed_logins", "locked_until"}
    if old:  # first, while no table refers to users (SQLite copies the table to drop a column)
        with op.batch_alter_table("users") as batch:
            for column in sorted(old):
                batch.drop_column(column)
    if "user_sessions" not in tables:
        op.create_table(
            "user_sessions",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
            sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
            sa.Column("started_at", sa.Float(), nullable=False),
            sa.Column("active_at", sa.Float(), nullable=False),
            sa.Column("ended_at", sa.Float()),
            sa.Column("end_reason", sa.String(20), nullable=False, server_default=""),
            sa.Column("remote", sa.String(64), nullable=False, server_default=""),
        )
        op.create_index("ix_user_sessions_user", "user_sessions", ["user_id", "ended_at"])
    if "sign_in_failures" not in tables:
        op.create_table(
            "sign_in_failures",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("at", sa.Float(), nullable=False),
            sa.Column("username", sa.String(80), nullable=False),
            sa.Column("remote", sa.String(64), nullable=False),
        )
        op.create_index("ix_sign_in_failures_remote", "sign_in_failures", ["remote", "at"])
    present = {index["name"] for index in inspector.get_indexes("audit")}
    for name, columns in AUDIT_INDEXES.items():
        if name not in present:
            op.create_index(name, "audit", columns)
    if bind.dialect.name == "postgresql":
        for statement in NO_TRUNCATE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_no_truncate ON audit")
        op.execute("DROP FUNCTION IF EXISTS audit_no_truncate()")
    for name in AUDIT_INDEXES:
        op.drop_index(name, table_name="audit")
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.Float()))
    op.drop_index("ix_sign_in_failures_remote", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
    op.drop_index("ix_user_sessions_user", table_name="user_sessions")
    op.drop_table("user_sessions")
