"""REMS Patient Monitoring Forms recorded as submitted: who sent each session's form, when, by portal or fax,
and the confirmation the REMS gave.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08

One row per session at most (a second submission is refused: dashboard/store/rems_submissions.py). Every row
is written with its audit row in one transaction.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "rems_submissions" in sa.inspect(op.get_bind()).get_table_names():  # a database made by `create_all`
        return
    op.create_table(
        "rems_submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id"), nullable=False, unique=True),
        sa.Column("submitted_by", sa.String(80), nullable=False),
        sa.Column("submitted_at", sa.Float(), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("confirmation", sa.String(80), nullable=False),
        sa.Column("hand_filled", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_table("rems_submissions")
