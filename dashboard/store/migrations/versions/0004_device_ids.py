"""Readings and events keep the id of the device that sent them (HL7 OBX-18 / MSH-3, a serial device's label).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Which monitor measured a value is part of the record: a review can tell two devices at one chair apart, and a
device found faulty can be traced to the sessions it served. Rows stored before this revision have "".
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("readings", "events")


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())  # a database 0001 adopted from `create_all` may have them already
    for table in TABLES:
        if "device_id" not in {column["name"] for column in inspector.get_columns(table)}:
            op.add_column(table, sa.Column("device_id", sa.String(80), nullable=False, server_default=""))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "device_id")
