"""`python app.py users add|passwd|deactivate|reactivate|list`: accounts, from the command line (the first admin
comes from here).

The password is read without echo from the terminal, or from the first line of standard input when it is not
a terminal (for scripts); it never appears in the command line or the logs. `passwd` (and a role change with
it) and `deactivate` sign the user out everywhere at once; a deactivated user keeps their history.
"""
from __future__ import annotations

import argparse
import getpass
import secrets
import sys

import sqlalchemy as sa

from .auth import ROLES, AuthError, add_user, record, set_active, set_password
from .store import Store
from .store.location import add_database_options, open_store
from .store.security import users

DEMO_ROLES = ROLES


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("users", help="add users, set passwords, deactivate or reactivate, list accounts")
    parser.add_argument("action", choices=("add", "passwd", "deactivate", "reactivate", "list"))
    parser.add_argument("username", nargs="?")
    parser.add_argument("--role", choices=ROLES, help="role of a new user (or a changed role with passwd)")
    add_database_options(parser)  # --database PATH or --database-url URL
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = open_store(args)
    if args.action == "list":
        with store.engine.connect() as conn:
            for row in conn.execute(sa.select(users.c.username, users.c.role, users.c.active).order_by(users.c.username)):
                print(f"{row.username}\t{row.role}" + ("" if row.active else "\tdeactivated"))
        return 0
    if not args.username or (args.action == "add" and not args.role):
        print("users add NAME --role ROLE | users passwd NAME | users deactivate|reactivate NAME", file=sys.stderr)
        return 2
    if args.action in ("deactivate", "reactivate"):
        return _set_active(store, args.username, args.action == "reactivate")
    try:
        password = _password()
        if args.action == "add":
            add_user(store, args.username, args.role, password)
        else:
            set_password(store, args.username, password, role=args.role)
    except AuthError as exc:
        print(f"users: {exc}", file=sys.stderr)
        return 2
    record(store, "command line", f"user_{args.action}", f"{args.username}" + (f" as {args.role}" if args.role else ""))
    print(f"{args.username}: {'added' if args.action == 'add' else 'password set'}")
    return 0


def _set_active(store: Store, username: str, active: bool) -> int:
    try:
        set_active(store, username, active)
    except AuthError as exc:
        print(f"users: {exc}", file=sys.stderr)
        return 2
    action = "user_reactivated" if active else "user_deactivated"
    record(store, "command line", action, username)
    print(f"{username}: {'reactivated' if active else 'deactivated (signed out everywhere)'}")
    return 0


def _password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise AuthError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def demo_logins(store: Store) -> dict[str, str]:
    """One-off passwords for demo-nurse, demo-clinician, demo-tester and demo-admin (the simulated clinic only)."""
    logins = {}
    for role in DEMO_ROLES:
        name, password = f"demo-{role}", secrets.token_urlsafe(12)  # 16 random characters
        try:
            add_user(store, name, role, password)
        except AuthError:
            set_password(store, name, password, role=role)
        logins[name] = password
    record(store, "command line", "demo_logins", "one-off passwords for the demo accounts")
    return logins
