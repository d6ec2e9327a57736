"""Schema migrations (dashboard/store/migrations), on SQLite and on PostgreSQL (`store_url` runs each on both)."""
from __future__ import annotations

import threading
from typing import Callable

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dashboard.store import Store, StoreError
from dashboard.store.migrate import alembic_config, current_revisions, full_metadata, heads
from tests.waits import DEADLINE_S

OpenStore = Callable[[], Store]


def _differences(store: Store) -> list:
    """What alembic's autogenerate would write to bring the database to `metadata`: tables, columns, types,
    indexes, constraints, and on PostgreSQL server defaults too (alembic misreads SQLite's DEFAULT '')."""
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "compare_server_default": conn.dialect.name == "postgresql"})
        return compare_metadata(context, full_metadata())


def test_the_migrations_make_exactly_the_tables_in_metadata(open_store: OpenStore):
    """Every table and column in `metadata` (schema.py and every module that adds tables to it: security.py,
    signoff.py) exactly as the migrations make it. A table, column, index or type added to the code without a
    migration fails here: write one with `python app.py db revision -m "..." --autogenerate` (see migrate.py)."""
    store = open_store()
    assert _differences(store) == []
    with store.engine.connect() as conn:
        assert current_revisions(conn) == heads()


def test_downgrade_to_nothing_and_back(open_store: OpenStore, store_url: str):
    store = open_store()
    store.close()
    command.downgrade(alembic_config(url=store_url), "base")
    with store.engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == ["alembic_version"]
    again = open_store()
    assert _differences(again) == [] and again.open_sessions() == []


def test_a_database_newer_than_the_program_is_refused(open_store: OpenStore):
    store = open_store()
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="revision 9999.*newer version"):
        open_store()


def test_a_database_made_before_migrations_is_adopted_with_its_data(store_url: str, open_store: OpenStore):
    """What `metadata.create_all` made before migrations existed (the sign-off table missing, as when the review
    pages had not run yet) is brought to the newest revision, its rows kept."""
    from dashboard.store.signoff import signoffs

    engine = sa.create_engine(store_url)
    old_tables = [table for table in full_metadata().sorted_tables if table is not signoffs]
    full_metadata().create_all(engine, tables=old_tables)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO sessions (chair, patient_label, protocol, started_at, status) "
                             "VALUES ('Chair 1', 'P-1', 'iv-ketamine', 1.0, '{}')"))
    engine.dispose()
    store = open_store()
    assert [row.chair for row in store.open_sessions()] == ["Chair 1"]
    assert _differences(store) == []


def test_the_audit_log_is_append_only_in_the_database(open_store: OpenStore):
    store = open_store()
    with store.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO audit (at, who, action) VALUES (1.0, 'AB', 'login')"))
    for statement in ("UPDATE audit SET who = 'CD'", "DELETE FROM audit"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with store.engine.begin() as conn:
                conn.execute(sa.text(statement))


def test_several_nodes_starting_at_once_migrate_the_database_once(store_url: str):
    """Ingest nodes and web workers started together on an empty database: one migrates, the others wait."""
    opened: list[Store] = []
    errors: list[Exception] = []
    start = threading.Barrier(4)

    def open_one() -> None:
        start.wait()
        try:
            opened.append(Store(store_url))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == [] and len(opened) == 4
        with opened[0].engine.connect() as conn:
            assert current_revisions(conn) == heads()
    finally:
        for store in opened:
            store.close()


def test_several_processes_starting_at_once_migrate_the_database_once(store_url: str, tmp_path):
    """The same across processes (gunicorn workers, ingest nodes on other hosts): PostgreSQL's advisory lock,
    SQLite's write lock."""
    import subprocess
    import sys
    from pathlib import Path

    script = ("import sys, time, pathlib\n"
              "from dashboard.store import Store\n"
              "ready = pathlib.Path(sys.argv[2]); (ready / sys.argv[3]).touch()\n"
              "while len(list(ready.iterdir())) < 3: time.sleep(0.01)\n"
              "Store(sys.argv[1]).close()\n")
    root = Path(__file__).resolve().parents[2]
    procs = [subprocess.Popen([sys.executable, "-c", script, store_url, str(tmp_path), str(n)], cwd=root,
                              stderr=subprocess.PIPE, text=True) for n in range(3)]
    failures = [err for proc in procs for err in [proc.communicate(timeout=DEADLINE_S)[1]] if proc.returncode]
    assert failures == []
    store = Store(store_url)
    try:
        with store.engine.connect() as conn:
            assert current_revisions(conn) == heads()
    finally:
        store.close()


def test_a_table_added_without_a_migration_is_caught(open_store: OpenStore):
    """The check above really looks: a table the migrations do not make shows up as a difference."""
    store = open_store()
    with_extra = sa.MetaData()
    for table in full_metadata().tables.values():
        table.to_metadata(with_extra)
    sa.Table("chairs", with_extra, sa.Column("id", sa.Integer, primary_key=True))
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), with_extra)
    assert [d[0] for d in differences] == ["add_table"]
