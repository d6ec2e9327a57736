"""The REMS Patient Monitoring Form is versioned: each session keeps the revision it was filled under.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08

- `rems_revision`: the form revision (its date, e.g. "11/2021") the session was started under
  (dashboard/reports/rems/revisions.py). Sessions stored before this revision were filled under the 11/2021
  form and keep it; NULL only for sessions opened without one (the simulator's, a replay's: test data), which
  print the current revision.
- `rems_enrolled`: for a first treatment, the nurse's answer at the start to "is the patient enrolled in the
  SPRAVATO REMS?"; NULL when not asked (not a first treatment, or started before this revision).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

FILLED_BEFORE = "11/2021"  # the revision every earlier session was printed under


def upgrade() -> None:
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("sessions")}
    if "rems_revision" not in present:
        op.add_column("sessions", sa.Column("rems_revision", sa.String(10), nullable=True))
    if "rems_enrolled" not in present:
        op.add_column("sessions", sa.Column("rems_enrolled", sa.Boolean(), nullable=True))
    sessions = sa.table("sessions", sa.column("rems_revision", sa.String))
    op.execute(sessions.update().where(sessions.c.rems_revision.is_(None)).values(rems_revision=FILLED_BEFORE))


def downgrade() -> None:
    op.drop_column("sessions", "rems_enrolled")
    op.drop_column("sessions", "rems_revision")
