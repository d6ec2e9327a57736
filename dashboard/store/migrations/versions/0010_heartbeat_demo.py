"""An ingest node says whether it runs the simulated clinic: the site's screens are then a bannered demo.

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-01

Simulated and replayed sessions stay off the nurses' board and out of their sound. The one exception is a
server started with the simulated clinic (`python app.py`, or `ingest` without `--no-simulator`): its heartbeat
carries `demo`, and every screen of the site then says it is a demo, with the simulated chairs on the board.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("ingest_heartbeat")}
    if "demo" not in existing:
        op.add_column("ingest_heartbeat", sa.Column("demo", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("ingest_heartbeat") as batch:  # SQLite cannot drop a column in place
        batch.drop_column("demo")
