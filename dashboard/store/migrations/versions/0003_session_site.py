"""Sessions belong to a site: several clinics (and their ingest nodes) share one database.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Each ingest node folds only its site's open sessions, inbox and replays, and each clinic's board shows only
its own chairs; reviews see every site. Sessions stored before this revision belong to the site `main`,
the default of every program, so a single-clinic installation carries on unchanged.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())  # a database 0001 adopted from `create_all` may have both already
    if "site" not in {column["name"] for column in inspector.get_columns("sessions")}:
        op.add_column("sessions", sa.Column("site", sa.String(40), nullable=False, server_default="main"))
    if "ix_sessions_site_open" not in {index["name"] for index in inspector.get_indexes("sessions")}:
        op.create_index("ix_sessions_site_open", "sessions", ["site", "ended_at", "chair"])


def downgrade() -> None:
    op.drop_index("ix_sessions_site_open", table_name="sessions")
    op.drop_column("sessions", "site")  # SQLite 3.35+ drops a column in place
