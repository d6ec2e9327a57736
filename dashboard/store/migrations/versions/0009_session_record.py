"""What the esketamine REMS Patient Monitoring Form asks that a session did not yet keep, and the course at start.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-02

- `patient_identifier`: the identifier the site files the patient under (the REMS form's patient), beside the
  pseudonymous label the screens show; empty when not given.
- `first_treatment`: the nurse's confirmed answer to "first treatment?" (derived from the course, confirmable);
  NULL for sessions started before this revision (the form then derives it from the course).
- `concomitant`: the five medicine classes the form asks about, asked at session start, {class: true/false}.
- `lot`: the lot number of the dose.
- `course`: what the start page showed of the patient's earlier sessions (reports/course.py, `CourseAtStart`):
  the tile's course line and the per-patient baseline policy read it, never the store, so a restart folds the
  session exactly as before.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = (
    lambda: sa.Column("patient_identifier", sa.String(80), nullable=False, server_default=""),
    lambda: sa.Column("first_treatment", sa.Boolean(), nullable=True),
    lambda: sa.Column("concomitant", sa.JSON(), nullable=True),
    lambda: sa.Column("lot", sa.String(40), nullable=False, server_default=""),
    lambda: sa.Column("course", sa.JSON(), nullable=True),
)


def upgrade() -> None:
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("sessions")}
    for make in COLUMNS:  # a database 0001 adopted from `create_all` may have them already
        column = make()
        if column.name not in present:
            op.add_column("sessions", column)


def downgrade() -> None:
    for make in reversed(COLUMNS):
        op.drop_column("sessions", make().name)  # SQLite 3.35+ drops a column in place
