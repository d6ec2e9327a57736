"""A reading keeps the device's own mark that it was disturbed (Nonin "artifact": motion, poor signal).

Revision ID: 0011
Revises: 0006
Create Date: 2026-12-02

A pulse oximeter flags a measurement taken through an artifact without withholding its numbers; the reading is
stored as measured and marked, so a review can tell a desaturation seen through motion from a clean one. Rows
stored before this revision are unmarked (false).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "artifact" not in {column["name"] for column in sa.inspect(op.get_bind()).get_columns("readings")}:
        op.add_column("readings", sa.Column("artifact", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("readings", "artifact")
