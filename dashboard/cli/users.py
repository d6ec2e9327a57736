"""Accounts from the command line: the first admin comes from here (there is no default password).

    python app.py users add NAME --role ROLE     a new account
    python app.py users passwd NAME [--role R]   a new password (and optionally a new role)
    python app.py users deactivate NAME          signed out everywhere at once, cannot sign in; history kept
    python app.py users reactivate NAME          may sign in again
    python app.py users list                     every account, its role, and whether it is deactivated

The password is never an option: it is read without echo from the terminal (asked twice), or, when standard
input is not a terminal (a script, a pipe), from its first line, e.g. `printf '%s\\n' "$PASSWORD" | python app.py
users add alice --role admin`. It never appears in the command line, the logs or the audit log, which records
who was added or changed, when, and by the command line. Passwords are at least 12 characters and not among
common ones. A new password, a role change and deactivation end that user's sessions at once.
"""
from __future__ import annotations

import argparse

from ..auth import roles
from .options import add_database_options

HELP = "add users, set passwords, deactivate or reactivate, list accounts (password from the terminal or stdin)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("add", "passwd", "deactivate", "reactivate", "list"), help="what to do (above)")
    parser.add_argument("username", nargs="?", metavar="NAME", help="the account (all but list)")
    parser.add_argument("--role", choices=roles.ROLES,
                        help="role of a new user (add: required), or a changed role (passwd); roles below")
    add_database_options(parser)
    # What each role may do, as dashboard/auth/roles.py says it ("- role: what it may do" lines).
    parser.epilog = "roles:\n" + "\n".join(f"  {line[2:]}" for line in (roles.__doc__ or "").splitlines()
                                            if line.startswith("- "))


def run(args: argparse.Namespace) -> int:
    import sys

    import sqlalchemy as sa

    from ..auth import AuthError, add_user, record, set_password, vocabulary
    from ..auth.credentials import check_password, check_username
    from ..store.security import users
    from .location import missing_database, open_store

    if args.action != "list" and (not args.username or (args.action == "add" and not args.role)):
        print("users: give NAME, and --role ROLE to add (users add NAME --role ROLE | users passwd NAME | "
              "users deactivate|reactivate NAME)", file=sys.stderr)
        return 2
    if args.action in ("add", "passwd"):  # the password is asked and checked before the database is touched
        try:
            password = _password()
            check_password(password, args.username)
            if args.action == "add":
                check_username(args.username)
        except AuthError as exc:
            print(f"users: {exc}", file=sys.stderr)
            return 2
    if args.action != "add" and missing_database(args):  # only adding the first admin makes a new database
        print(f"users: {missing_database(args)}", file=sys.stderr)
        return 2
    store = open_store(args)
    try:
        if args.action == "list":
            with store.engine.connect() as conn:
                query = sa.select(users.c.username, users.c.role, users.c.active).order_by(users.c.username)
                for row in conn.execute(query):
                    print(f"{row.username}\t{row.role}" + ("" if row.active else "\tdeactivated"))
            return 0
        if args.action in ("deactivate", "reactivate"):
            return _set_active(store, args.username, args.action == "reactivate")
        try:
            if args.action == "add":
                add_user(store, args.username, args.role, password)
            else:
                set_password(store, args.username, password, role=args.role)
        except AuthError as exc:
            print(f"users: {exc}", file=sys.stderr)
            return 2
        action, detail = (vocabulary.user_added(args.username, args.role) if args.action == "add" else
                          vocabulary.password_reset(args.username, args.role))
        record(store, "command line", action, detail)
        print(f"{args.username}: {'added' if args.action == 'add' else 'password set'}")
        return 0
    finally:
        store.close()


def _set_active(store, username: str, active: bool) -> int:
    import sys

    from ..auth import AuthError, record, set_active, vocabulary

    try:
        set_active(store, username, active)
    except AuthError as exc:
        print(f"users: {exc}", file=sys.stderr)
        return 2
    record(store, "command line", *vocabulary.activity(username, active))
    print(f"{username}: {'reactivated' if active else 'deactivated (signed out everywhere)'}")
    return 0


def _password() -> str:
    import getpass
    import sys

    from ..auth import AuthError

    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise AuthError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")
