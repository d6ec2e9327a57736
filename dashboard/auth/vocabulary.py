"""The audit's names for changes to accounts, one vocabulary whether the change came from the admin's page or
the command line (`python app.py users`): an auditor filtering on `password_reset` finds both.

Each function gives (action, detail) for the audit row. The detail names the account, never a password.
"""
from __future__ import annotations

USER_ADDED, PASSWORD_RESET, ROLE_CHANGED = "user_added", "password_reset", "role_changed"
USER_DEACTIVATED, USER_REACTIVATED = "user_deactivated", "user_reactivated"


def user_added(name: str, role: str | None) -> tuple[str, str]:
    return USER_ADDED, f"{name} as {role}"


def password_reset(name: str, role: str | None) -> tuple[str, str]:
    return PASSWORD_RESET, name + (f" now {role}" if role else "")


def role_changed(name: str, role: str) -> tuple[str, str]:
    return ROLE_CHANGED, f"{name} now {role}"


def activity(name: str, active: bool) -> tuple[str, str]:
    return (USER_REACTIVATED if active else USER_DEACTIVATED), name
