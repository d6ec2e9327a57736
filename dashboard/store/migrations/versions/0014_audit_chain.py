"""The audit log and people's actions become tamper-evident: a keyed hash chain (dashboard/store/chain.py).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

- `audit.chain`, `actions.chain`: each row's link (HMAC-SHA256 of its contents and the link before). Rows
  written before this revision keep NULL: `audit verify` counts them as older than the chain.
- `chain_heads`: each chain's row count and last link; every append updates it first (the write lock that
  keeps two writers from chaining onto the same row).
- `actions`: what a person did can no longer be changed or removed (triggers; ingest still records whether it
  was folded in: `applied_at`, `error`). On PostgreSQL the same for TRUNCATE, as for the audit log (0008).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

FIXED = "session_id, kind, detail, who, at, offset_s, source, sbp, dbp, map, hr, spo2, chain"
SQLITE = [
    f"CREATE TRIGGER IF NOT EXISTS actions_fixed BEFORE UPDATE OF {FIXED} ON actions "
    "BEGIN SELECT RAISE(ABORT, 'what a person did is kept as done'); END",
    "CREATE TRIGGER IF NOT EXISTS actions_no_delete BEFORE DELETE ON actions "
    "BEGIN SELECT RAISE(ABORT, 'what a person did is kept as done'); END",
]
POSTGRES = [
    "CREATE OR REPLACE FUNCTION actions_kept() RETURNS trigger AS $$ BEGIN "
    "RAISE EXCEPTION 'what a person did is kept as done'; END; $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS actions_fixed ON actions",
    f"CREATE TRIGGER actions_fixed BEFORE UPDATE OF {FIXED} ON actions FOR EACH ROW EXECUTE FUNCTION actions_kept()",
    "DROP TRIGGER IF EXISTS actions_no_delete ON actions",
    "CREATE TRIGGER actions_no_delete BEFORE DELETE ON actions FOR EACH ROW EXECUTE FUNCTION actions_kept()",
    "DROP TRIGGER IF EXISTS actions_no_truncate ON actions",
    "CREATE TRIGGER actions_no_truncate BEFORE TRUNCATE ON actions FOR EACH STATEMENT EXECUTE FUNCTION actions_kept()",
]


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    for table in ("audit", "actions"):
        if "chain" not in {column["name"] for column in inspector.get_columns(table)}:
            op.add_column(table, sa.Column("chain", sa.String(64)))
    if "chain_heads" not in set(inspector.get_table_names()):
        heads = op.create_table(
            "chain_heads",
            sa.Column("name", sa.String(20), primary_key=True),
            sa.Column("rows", sa.Integer(), nullable=False),
            sa.Column("last", sa.String(64), nullable=False),
        )
        op.bulk_insert(heads, [{"name": "audit", "rows": 0, "last": ""}, {"name": "actions", "rows": 0, "last": ""}])
    for statement in POSTGRES if bind.dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for trigger in ("actions_fixed", "actions_no_delete", "actions_no_truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON actions")
        op.execute("DROP FUNCTION IF EXISTS actions_kept()")
    else:
        op.execute("DROP TRIGGER IF EXISTS actions_fixed")
        op.execute("DROP TRIGGER IF EXISTS actions_no_delete")
    op.drop_table("chain_heads")
    for table in ("audit", "actions"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("chain")
