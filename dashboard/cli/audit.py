"""The audit log's integrity: every audit row and every person's action is chained to the row before by a keyed
hash (dashboard/store/chain.py), written with the row.

    python app.py audit verify     walk both chains; exit 1 at the first broken link, naming its row

Run it where the monitor's key is (MONITOR_AUDIT_KEY, or MONITOR_AUDIT_KEY_FILE, else var/audit_key): a row
written, changed or replaced without the key does not follow from the one before. The last link of each chain
is printed: note it somewhere else (a ticket, the system journal), and a later run that ends on another link
with fewer rows shows rows cut from the end.
"""
from __future__ import annotations

import argparse

from .options import add_database_options

HELP = "verify the audit log's and the actions' hash chains (exit 1 at the first broken link, naming it)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("verify",), help="what to do (above)")
    add_database_options(parser)


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from ..store import chain
    from .location import database_url, describe, missing_database, open_store

    missing = missing_database(args)
    if missing:
        print(f"audit verify: {missing}", file=sys.stderr)
        return 2
    print(f"Database: {describe(database_url(args))}", file=sys.stderr)
    if not os.environ.get(chain.KEY_ENV) and not chain.key_file().exists():
        print(f"audit verify: no audit key at {chain.key_file().resolve()}: run where the monitor runs, or name its "
              f"key file with {chain.KEY_FILE_ENV}", file=sys.stderr)
        return 2
    store = open_store(args)
    try:
        verdicts = chain.verify_all(store.engine)
        from ..auth.audit import record

        intact = all(v.intact for v in verdicts)
        for verdict in verdicts:
            print(verdict.describe(), file=sys.stdout if verdict.intact else sys.stderr)
        record(store, "command line", "audit_verified" if intact else "audit_broken",
               "; ".join(v.describe() for v in verdicts))
    finally:
        store.close()
    return 0 if intact else 1
