"""Who may use the monitor: accounts (argon2id), server-side sessions, roles, the per-record policy, the
append-only audit log, and the web's guard.

Every page and every Dash callback is checked on the server: `web.install` refuses anonymous requests; each
callback's outputs map to the roles allowed to run it (`roles.POLICY`; a callback missing from the policy is
refused for everyone); every session a request names is checked against `records.refusal` (role, real or
simulated, site) before the callback runs.

The accounts' and the audit's names load on first use (PEP 562): the roles alone need neither SQLAlchemy nor
argon2, so the command line's --help reads them quickly.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .roles import ROLES, allowed, required_roles

if TYPE_CHECKING:
    from .accounts import AuthSettings, User, add_user, set_active, set_password, set_role, verify
    from .audit import AuditFilter, audit_log, record
    from .credentials import AuthError

_LAZY = {name: ".accounts" for name in ("AuthSettings", "User", "add_user", "set_active", "set_password",
                                        "set_role", "verify")}
_LAZY.update({"AuditFilter": ".audit", "audit_log": ".audit", "record": ".audit", "AuthError": ".credentials"})

__all__ = ["AuditFilter", "AuthError", "AuthSettings", "ROLES", "User", "add_user", "allowed", "audit_log", "record",
           "required_roles", "set_active", "set_password", "set_role", "verify"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
