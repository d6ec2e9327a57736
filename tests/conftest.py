from __future__ import annotations

import itertools
import os
import signal
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from dashboard.store import Store

POSTGRES_URL_FILE = ROOT / "var" / "test-postgres.url"  # written by tests/postgres.sh (make postgres)
os.environ.pop("MONITOR_DATABASE_URL", None)  # subprocesses the tests start use the database they are given
# Passwords hashed at argon2's lowest cost here and in every program the tests start (dashboard/auth/credentials.py;
# test_auth.py checks the full cost without it): hundreds of accounts and sign-ins would cost minutes of CPU.
os.environ["MONITOR_TEST_CHEAP_HASHES"] = "1"
# One audit chain key for the suite and every program it starts, whatever folder they run in (a real installation
# names its key file in deploy/monitor.env; dashboard/store/chain.py).
os.environ.setdefault("MONITOR_AUDIT_KEY_FILE", str(ROOT / "var" / "test-audit-key"))
# A suite started in the background by a shell without job control (`make test &`, some CI runners) inherits
# SIGINT ignored, and so would every program it starts: Ctrl-C (SIGINT) would not stop them, as it does for a
# person at a terminal. With a handler here, the programs the tests start get SIGINT's default again at exec.
signal.signal(signal.SIGINT, signal.default_int_handler)


# Files whose tests take tens of seconds (servers, browsers, several processes), heaviest first. Under pytest-xdist
# they are dealt out so that each worker starts with its share (see `_dealt`): none of them then starts last while
# the other workers sit idle. Add a file here when it is that slow. The files in TOGETHER share a costly module
# fixture (a clinic and its app, validated exports): their tests go to one worker, so that fixture is built once.
SLOW_FIRST = ("tests/auth/test_access_matrix.py", "tests/e2e/", "tests/test_readme.py",
              "tests/reports/test_export_validators.py", "tests/service/test_sites.py",
              "tests/devices/test_kill_ingest.py", "tests/devices/test_flapping_device.py",
              "tests/reports/test_exports.py", "tests/service/test_replay.py", "tests/cli/test_regress.py")
TOGETHER = ("tests/auth/test_access_matrix.py", "tests/reports/test_export_validators.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(SLOW_FIRST) if item.nodeid.startswith(prefix)), len(SLOW_FIRST))

    items.sort(key=rank)  # stable: otherwise in file order
    workers = getattr(config, "workerinput", {}).get("workercount", 1)  # set on pytest-xdist's workers
    if workers > 1:
        slow = next((i for i, item in enumerate(items) if rank(item) == len(SLOW_FIRST)), len(items))  # sorted
        items[:] = _dealt(items, slow, workers)


def _dealt(items: list[pytest.Item], slow: int, workers: int) -> list[pytest.Item]:
    """The order whose consecutive chunks, as pytest-xdist's worksteal scheduler first hands them out (the n-th
    of `workers` gets len(rest) // (workers - n)), each begin with a fair share of the `slow` first items; idle
    workers then steal from the other queues' ends, where the quick tests are."""
    units: list[list[pytest.Item]] = []
    for item in items[:slow]:
        if item.nodeid.startswith(TOGETHER) and units and units[-1][0].path == item.path:
            units[-1].append(item)
        else:
            units.append([item])
    heads: list[list[pytest.Item]] = [[] for _ in range(workers)]
    for index, unit in enumerate(units):
        heads[index % workers] += unit
    quick, out, left = iter(items[slow:]), [], len(items)
    for n, head in enumerate(heads):
        size = left // (workers - n)
        out += head + list(itertools.islice(quick, max(0, size - len(head))))
        left -= size
    return out + list(quick)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The test PostgreSQL server's URL (MONITOR_TEST_POSTGRES_URL, or the file `make postgres` writes); skips the
    test, saying why, when there is none or it does not answer. With MONITOR_TEST_REQUIRE_POSTGRES=1 (set by
    `make test`) that fails instead."""
    import sqlalchemy as sa

    url = os.environ.get("MONITOR_TEST_POSTGRES_URL") or (
        POSTGRES_URL_FILE.read_text().strip() if POSTGRES_URL_FILE.exists() else "")
    problem = "" if url else "no PostgreSQL server for the tests: run `make postgres` (or set MONITOR_TEST_POSTGRES_URL)"
    if url:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 5})
        try:
            with engine.connect():
                pass
        except sa.exc.OperationalError as exc:
            problem = f"the test PostgreSQL server at {url} does not answer ({exc.orig}): run `make postgres`"
        finally:
            engine.dispose()
    if problem:
        if os.environ.get("MONITOR_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a schema of its own on the test PostgreSQL server (dropped after).
    Skipped on PostgreSQL only when no server is available (never under `make test`)."""
    from dashboard.store import sqlite_url

    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "clinic.db")
        return
    server = request.getfixturevalue("postgres_server_url")
    import sqlalchemy as sa

    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(server, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.engine.make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")  # a store left open fails the test, never hangs it
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def open_store(store_url: str) -> Iterator[Callable[[], Store]]:
    """Opens the test's database (again, for a 'restart'); every store opened is closed after the test."""
    from dashboard.store import Store

    opened: list[Store] = []

    def open_() -> Store:
        opened.append(Store(store_url))
        return opened[-1]

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A fresh SQLite store in the test's folder, closed after."""
    from dashboard.store import Store

    store = Store.open(tmp_path / "clinic.db")
    yield store
    store.close()
