"""The schema as it stood when migrations began.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Tables: sessions, readings, events, alarms, actions, refused_messages, replays, ingest_heartbeat
(schema.py), users and audit (security.py, with the audit log's append-only triggers), signoffs
(signoff.py).

A database made before migrations (by `metadata.create_all`) already has some of these tables: only
the missing ones are created, then it is at this revision like any other.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS audit_append_only ON audit",
        "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
    ],
}
DROP_APPEND_ONLY = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_no_update", "DROP TRIGGER IF EXISTS audit_no_delete"],
    "postgresql": ["DROP TRIGGER IF EXISTS audit_append_only ON audit", "DROP FUNCTION IF EXISTS audit_append_only()"],
}

TABLES = ("sessions", "readings", "events", "alarms", "actions", "refused_messages", "replays", "ingest_heartbeat",
          "users", "audit", "signoffs")


def upgrade() -> None:
    bind = op.get_bind()
    made_before = set(sa.inspect(bind).get_table_names())

    def table(name: str, *elements: sa.SchemaItem, indexes: dict[str, list[str]] | None = None) -> None:
        if name in made_before:
            return
        op.create_table(name, *elements)
        for index, columns in (indexes or {}).items():
            op.create_index(index, name, columns)

    def session_fk() -> sa.Column:
        return sa.Column("session_id", sa.Integer(), sa.ForeignKey("sessions.id"), nullable=False)

    table(
        "sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chair", sa.String(40), nullable=False),
        sa.Column("patient_label", sa.String(80), nullable=False),
        sa.Column("protocol", sa.String(40), nullable=False),
        sa.Column("dose", sa.String(40), nullable=False, server_default=""),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("speed", sa.Float(), nullable=False, server_default="1"),
        sa.Column("ended_at", sa.Float()),
        sa.Column("phase", sa.String(20), nullable=False, server_default="pre-dose"),
        sa.Column("status", sa.JSON(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("scenario", sa.String(60)),
        sa.Column("seed", sa.Integer()),
        sa.Column("clock", sa.String(10), nullable=False, server_default="wall"),
        indexes={"ix_sessions_open": ["ended_at", "chair"]},
    )
    table(
        "readings",
        sa.Column("id", sa.Integer(), primary_key=True),
        session_fk(),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("offset_s", sa.Float(), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("provenance", sa.String(10), nullable=False),
        sa.Column("device_time", sa.Float()),
        sa.Column("received_time", sa.Float()),
        sa.Column("sbp", sa.Float()), sa.Column("dbp", sa.Float()), sa.Column("map", sa.Float()),
        sa.Column("hr", sa.Float()), sa.Column("spo2", sa.Float()),
        indexes={"ix_readings_session_offset": ["session_id", "offset_s"]},
    )
    table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True),
        session_fk(),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("offset_s", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.Column("source", sa.String(40), nullable=False, server_default=""),
        sa.Column("who", sa.String(80), nullable=False, server_default=""),
        sa.Column("device_time", sa.Float()),
        sa.Column("received_time", sa.Float()),
        indexes={"ix_events_session_offset": ["session_id", "offset_s"]},
    )
    table(
        "alarms",
        sa.Column("id", sa.Integer(), primary_key=True),
        session_fk(),
        sa.Column("offset_s", sa.Float(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("source", sa.String(40), nullable=False, server_default=""),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("value", sa.String(40), nullable=False, server_default=""),
        sa.Column("message", sa.Text(), nullable=False, server_default=""),
        indexes={"ix_alarms_session_offset": ["session_id", "offset_s"]},
    )
    table(
        "actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        session_fk(),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.Column("who", sa.String(80), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("offset_s", sa.Float()),
        sa.Column("source", sa.String(40), nullable=False, server_default=""),
        sa.Column("sbp", sa.Float()), sa.Column("dbp", sa.Float()), sa.Column("map", sa.Float()),
        sa.Column("hr", sa.Float()), sa.Column("spo2", sa.Float()),
        sa.Column("applied_at", sa.Float()),
        sa.Column("error", sa.Text()),
        indexes={"ix_actions_pending": ["applied_at"]},
    )
    table(
        "refused_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("source", sa.String(80), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
    )
    table(
        "replays",
        sa.Column("id", sa.Integer(), primary_key=True),
        session_fk(),
        sa.Column("feed", sa.Text(), nullable=False),
        sa.Column("speed", sa.Float()),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("position_s", sa.Float(), nullable=False, server_default="0"),
        sa.Column("sent", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("who", sa.String(80), nullable=False, server_default=""),
    )
    table(
        "ingest_heartbeat",
        sa.Column("node", sa.String(80), primary_key=True),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("buffered", sa.Integer(), nullable=False, server_default="0"),
    )
    table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(80), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", sa.Float()),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    table(
        "audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("who", sa.String(80), nullable=False),
        sa.Column("role", sa.String(20), nullable=False, server_default=""),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.Column("remote", sa.String(64), nullable=False, server_default=""),
        sa.Column("session_id", sa.Integer()),
        indexes={"ix_audit_at": ["at"]},
    )
    for statement in APPEND_ONLY.get(bind.dialect.name, []):  # the database itself refuses to change history
        op.execute(statement)
    table(
        "signoffs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("sessions.id"), nullable=False, unique=True),
        sa.Column("clinician", sa.String(80), nullable=False),
        sa.Column("signed_at", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
    )


def downgrade() -> None:
    for statement in DROP_APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    for name in reversed(TABLES):
        op.drop_table(name)  # its indexes go with it
