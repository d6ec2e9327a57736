"""Who may use the monitor: accounts (argon2id), server-side sessions, roles, the per-record policy, the
append-only audit log, and the web's guard.

Every page and every Dash callback is checked on the server: `web.install` refuses anonymous requests; each
callback's outputs map to the roles allowed to run it (`roles.POLICY`; a callback missing from the policy is
refused for everyone); every session a request names is checked against `records.refusal` (role, real or
simulated, site) before the callback runs.
"""
from .accounts import AuthSettings, User, add_user, set_active, set_password, set_role, verify
from .audit import AuditFilter, audit_log, record
from .credentials import AuthError
from .roles import ROLES, allowed, required_roles

__all__ = ["AuditFilter", "AuthError", "AuthSettings", "ROLES", "User", "add_user", "allowed", "audit_log", "record",
           "required_roles", "set_active", "set_password", "set_role", "verify"]
