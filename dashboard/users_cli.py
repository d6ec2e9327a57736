"""`python app.py users add|passwd|list`: accounts, from the command line (the first admin comes from here).

The password is read without echo from the terminal, or from the first line of standard input when it is not
a terminal (for scripts); it never appears in the command line or the logs.
"""
from __future__ import annotations

import argparse
import getpass
import secrets
import sys

import sqlalchemy as sa

from .auth import ROLES, AuthError, add_user, record, set_password
from .store import Store
from .store.location import add_database_options, open_store
from .store.security import users

DEMO_ROLES = ROLES


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("users", help="add users, set passwords, list accounts")
    parser.add_argument("action", choices=("add", "passwd", "list"))
    parser.add_argument("username", nargs="?")
    parser.add_argument("--role", choices=ROLES, help="role of a new user (or a changed role with passwd)")
    add_database_options(parser)  # --database PATH or --database-url URL
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = open_store(args)
    if args.action == "list":
        with store.engine.connect() as conn:
            for row in conn.execute(sa.select(users.c.username, users.c.role).order_by(users.c.username)):
                print(f"{row.username}\t{row.role}")
        return 0
    if not args.username or (args.action == "add" and not args.role):
        print("users add NAME --role ROLE | users passwd NAME", file=sys.stderr)
        return 2
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
        name, password = f"demo-{role}", secrets.token_urlsafe(9)
        try:
            add_user(store, name, role, password)
        except AuthError:
            set_password(store, name, password, role=role)
        logins[name] = password
    record(store, "command line", "demo_logins", "one-off passwords for the demo accounts")
    return logins
