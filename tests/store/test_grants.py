"""On PostgreSQL the monitor's role cannot change or remove the record: deploy/postgres-grants.sql, applied by psql
as docs/deploy.md says, leaves a role that runs the monitor (opens the store, signs in, queues and folds actions,
all chained) but is refused UPDATE, DELETE and TRUNCATE on the audit log and the actions, whatever it tries.
Needs the test PostgreSQL server (`make postgres`); skipped without it."""
from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from dashboard.auth import add_user, verify
from dashboard.store import Store, chain
from dashboard.store.schema import actions

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "violet kettle harbour"


@pytest.fixture
def owner_and_app(postgres_server_url: str) -> Iterator[tuple[str, str]]:
    """(the owner's URL, the app role's URL) on a schema of their own, the grants applied with psql."""
    if shutil.which("psql") is None:
        pytest.skip("no psql here")
    schema, role = f"test_{uuid.uuid4().hex[:12]}", f"app_{uuid.uuid4().hex[:12]}"
    server = sa.engine.make_url(postgres_server_url)
    admin = sa.create_engine(server, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
    owner = server.update_query_dict({"options": f"-csearch_path={schema}"})
    app = owner.set(username=role)
    try:
        Store(owner.render_as_string(hide_password=False)).close()  # the owner migrates: db upgrade
        libpq = owner.set(drivername="postgresql").render_as_string(hide_password=False)
        done = subprocess.run(["psql", "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--set", f"role={role}",
                               "--file", str(ROOT / "deploy" / "postgres-grants.sql"), libpq],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        yield owner.render_as_string(hide_password=False), app.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


def test_the_monitor_s_role_runs_the_monitor_but_cannot_change_or_remove_the_record(owner_and_app):
    owner_url, app_url = owner_and_app
    store = Store(app_url)  # as every service opens it: the schema is current, nothing to migrate
    add_user(store, "nurse1", "nurse", PASSWORD)
    verify(store, "nurse1", PASSWORD, remote="10.0.0.7")
    sid = store.create_session(chair="C1", patient_label="P", protocol="esketamine", started_at=time.time())
    action_id = store.submit_action(sid, "note", "nurse1", detail="calm")
    with store.engine.begin() as conn:  # ingest folds it in
        conn.execute(actions.update().where(actions.c.id == action_id).values(applied_at=time.time()))
    for statement in ("UPDATE audit SET detail = 'nothing'", "DELETE FROM audit", "TRUNCATE audit",
                      "UPDATE actions SET detail = 'nothing'", "DELETE FROM actions", "TRUNCATE actions CASCADE",
                      "DELETE FROM chain_heads", "DELETE FROM alembic_version"):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            with store.engine.begin() as conn:
                conn.exec_driver_sql(statement)
    assert all(verdict.intact for verdict in chain.verify_all(store.engine))
    store.close()
