"""--database PATH, --database-url URL and MONITOR_DATABASE_URL on the commands that open the store."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard.cli import main as cli_main, parser as cli_parser
from dashboard.store import sqlite_url
from dashboard.cli.location import database_url, describe, masked
from dashboard.store.migrate import heads

PG = "postgresql://monitor:s3cret@db.clinic.example:5432/monitor"


def _args(*argv: str):
    return cli_parser().parse_args(list(argv))


@pytest.mark.parametrize("command", [["serve"], ["ingest"], ["replay", "feed.csv"], ["users", "list"],
                                     ["export", "1"], ["db", "current"], []])
def test_every_command_that_opens_the_store_takes_a_url(command, monkeypatch):
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    assert database_url(_args(*command, "--database-url", PG)) == PG
    assert database_url(_args(*command, "--database", "x.db", "--database-url", PG)) == PG  # the URL wins
    assert database_url(_args(*command)) == sqlite_url("var/clinic.db")


def test_the_environment_names_the_database_unless_the_command_line_does(monkeypatch):
    monkeypatch.setenv("MONITOR_DATABASE_URL", PG)
    assert database_url(_args("ingest")) == PG
    assert database_url(_args("ingest", "--database", "other.db")) == sqlite_url("other.db")
    assert database_url(_args("ingest", "--database-url", "sqlite:///a.db")) == "sqlite:///a.db"


def test_a_password_is_never_shown():
    assert "s3cret" not in masked(PG) and "s3cret" not in describe(PG)
    assert describe(PG) == "postgresql://monitor:***@db.clinic.example:5432/monitor (PostgreSQL)"
    assert describe(sqlite_url("var/clinic.db")) == f"{Path('var/clinic.db').resolve()} (SQLite, WAL)"


def test_the_database_line_at_start_masks_the_password(store_url: str, capsys):
    from dashboard.cli.runner import _open_store

    url = sa.engine.make_url(store_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(password="s3cret")  # the test server trusts loopback: any password will do
    store = _open_store(_args("ingest", "--database-url", url.render_as_string(hide_password=False)))
    store.close()
    line = capsys.readouterr().out
    assert line.startswith("Database: ") and "s3cret" not in line


def test_db_upgrade_and_current_on_the_command_line(store_url: str, capsys):
    assert cli_main(["db", "upgrade", "--database-url", store_url]) == 0
    assert f"At revision {heads()[0]}" in capsys.readouterr().out
    assert cli_main(["db", "current", "--database-url", store_url]) == 0
    assert heads()[0] in capsys.readouterr().out
    assert cli_main(["users", "list", "--database-url", store_url]) == 0


def test_a_database_from_a_newer_version_stops_the_command_with_a_message(store_url: str, capsys):
    assert cli_main(["db", "upgrade", "--database-url", store_url]) == 0
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    assert cli_main(["users", "list", "--database-url", store_url]) == 2
    assert "newer version" in capsys.readouterr().err
