"""Alarm forwarding (IHE PCD-04): how far each site's forwarder has got in the alarm history, and its health.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

The forwarder (dashboard/service/forward/) sends each alarm transition to an alarm manager and moves its cursor
past it only once the manager has acknowledged it, in the same row that tells every web process whether
forwarding works: a restart resumes after the last acknowledged transition, and a failure shows on every board.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "alarm_forwarding" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "alarm_forwarding",
        sa.Column("site", sa.String(40), primary_key=True),
        sa.Column("cursor", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("sent", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("rejected", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("waiting", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("failing_since", sa.Float()),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
        sa.Column("running", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alarm_forwarding")
