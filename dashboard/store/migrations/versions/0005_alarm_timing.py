"""Alarm transitions keep when their input reached ingest and when they were stored: the signal generation delay.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

docs/alarms.md: total alarm delay = condition delay (the configured holds) + signal generation delay (device ->
adapter -> store -> browser), which the software measures and reports. `received_at` is NULL for a transition a
timer or a replay's clock made (no input triggered it).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = ("received_at", "stored_at")


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())  # a database 0001 adopted from `create_all` may have them already
    existing = {column["name"] for column in inspector.get_columns("alarms")}
    for name in COLUMNS:
        if name not in existing:
            op.add_column("alarms", sa.Column(name, sa.Float()))


def downgrade() -> None:
    for name in COLUMNS:
        op.drop_column("alarms", name)
