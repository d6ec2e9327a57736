"""Indexes for the clinicians' sessions list (newest first) and a patient's course.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Measured on 10,000 sessions (bench/bench_review.py): list page 1 from 12-36 ms to 1.3 ms, the last page
from 18 ms to 2 ms; the course query from 1.0 ms to 0.18 ms.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


INDEXES = {"ix_sessions_started": ["started_at"], "ix_sessions_patient": ["patient_label", "started_at"]}


def upgrade() -> None:
    existing = {index["name"] for index in sa.inspect(op.get_bind()).get_indexes("sessions")}
    for name, columns in INDEXES.items():
        if name not in existing:  # a database adopted from before migrations may have them already
            op.create_index(name, "sessions", columns)


def downgrade() -> None:
    op.drop_index("ix_sessions_patient", table_name="sessions")
    op.drop_index("ix_sessions_started", table_name="sessions")
