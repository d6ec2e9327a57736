"""The screens that show the monitor: which are live and which of them can sound.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Each page load reports through the shell's poll (its own random id, the page it shows, its AudioContext's state);
the web keeps one row per page load, written when something changed and at least every few seconds. A chair in
session that no live, sounding screen covers is a technical alarm (dashboard/service/coverage.py).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "screens" in sa.inspect(op.get_bind()).get_table_names():  # a database made by `create_all`
        return
    op.create_table(
        "screens",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("site", sa.String(40), nullable=False),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("page", sa.String(200), nullable=False, server_default=""),
        sa.Column("audio", sa.String(20), nullable=False, server_default="none"),
        sa.Column("seen_at", sa.Float(), nullable=False),
        sa.Column("sounding_at", sa.Float()),
    )
    op.create_index("ix_screens_site_seen", "screens", ["site", "seen_at"])


def downgrade() -> None:
    op.drop_index("ix_screens_site_seen", table_name="screens")
    op.drop_table("screens")
