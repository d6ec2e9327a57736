"""Who may use the monitor: accounts (argon2id), roles, the append-only audit log, and the web's guard.

Every page and every Dash callback is checked on the server: `web.install` refuses anonymous requests,
and each callback's outputs map to the roles allowed to run it (`roles.POLICY`); a callback missing from
the policy is refused for everyone, so a new one cannot slip through unchecked.

The accounts' names load on first use (PEP 562): the roles alone need neither SQLAlchemy nor argon2, so the
command line's --help reads them quickly.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .roles import ROLES, allowed, required_roles

if TYPE_CHECKING:
    from .accounts import AuthError, AuthSettings, add_user, audit_log, record, set_password, verify

_FROM_ACCOUNTS = ("AuthError", "AuthSettings", "add_user", "audit_log", "record", "set_password", "verify")

__all__ = ["AuthError", "AuthSettings", "ROLES", "add_user", "allowed", "audit_log", "record", "required_roles",
           "set_password", "verify"]


def __getattr__(name: str) -> Any:
    if name in _FROM_ACCOUNTS:
        return getattr(importlib.import_module(".accounts", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
