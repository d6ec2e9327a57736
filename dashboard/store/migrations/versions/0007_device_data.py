"""Device data outside any session: readings for a chair with no open session or a device with no chair, demo/test
data kept apart, each device's latest values, nurses' device associations, and per-sender traffic counts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Nothing a device sends is refused for lack of a session (docs/placement.md): `readings.session_id` is NOT NULL, so such
readings wait in `device_readings` until a session opens on their chair (the pre-session window joins it) or a nurse
associates their device with a chair.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())  # 0001 may have adopted them from `create_all`
    if "device_readings" not in existing:
        op.create_table(
            "device_readings",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("site", sa.String(40), nullable=False),
            sa.Column("chair", sa.String(40)),
            sa.Column("device_id", sa.String(80), nullable=False, server_default=""),
            sa.Column("kind", sa.String(30), nullable=False),
            sa.Column("detail", sa.Text(), nullable=False, server_default=""),
            sa.Column("source", sa.String(40), nullable=False, server_default=""),
            sa.Column("device_time", sa.Float()),
            sa.Column("received_time", sa.Float(), nullable=False),
            sa.Column("sbp", sa.Float()), sa.Column("dbp", sa.Float()), sa.Column("map", sa.Float()),
            sa.Column("hr", sa.Float()), sa.Column("spo2", sa.Float()),
            sa.Column("demo", sa.Boolean(), nullable=False, server_default=sa.false()),
            sa.Column("session_id", sa.Integer(), sa.ForeignKey("sessions.id")),
        )
        op.create_index("ix_device_readings_chair", "device_readings", ["site", "chair", "received_time"])
        op.create_index("ix_device_readings_device", "device_readings", ["site", "device_id", "received_time"])
    if "device_status" not in existing:
        op.create_table(
            "device_status",
            sa.Column("site", sa.String(40), primary_key=True),
            sa.Column("chair", sa.String(40), primary_key=True),
            sa.Column("device_id", sa.String(80), primary_key=True),
            sa.Column("demo", sa.Boolean(), nullable=False),
            sa.Column("latest", sa.JSON(), nullable=False),
            sa.Column("first_at", sa.Float(), nullable=False),
            sa.Column("last_at", sa.Float(), nullable=False),
            sa.Column("readings", sa.Integer(), nullable=False),
        )
    if "device_associations" not in existing:
        op.create_table(
            "device_associations",
            sa.Column("site", sa.String(40), primary_key=True),
            sa.Column("device_id", sa.String(80), primary_key=True),
            sa.Column("chair", sa.String(40), nullable=False),
            sa.Column("who", sa.String(80), nullable=False),
            sa.Column("at", sa.Float(), nullable=False),
        )
    if "sender_counts" not in existing:
        op.create_table(
            "sender_counts",
            sa.Column("site", sa.String(40), primary_key=True),
            sa.Column("sender", sa.String(250), primary_key=True),
            sa.Column("peer", sa.String(64), primary_key=True),
            sa.Column("counter", sa.String(120), primary_key=True),
            sa.Column("count", sa.Integer(), nullable=False),
            sa.Column("last_at", sa.Float(), nullable=False),
        )


def downgrade() -> None:
    op.drop_table("sender_counts")
    op.drop_table("device_associations")
    op.drop_table("device_status")
    op.drop_index("ix_device_readings_device", table_name="device_readings")
    op.drop_index("ix_device_readings_chair", table_name="device_readings")
    op.drop_table("device_readings")
