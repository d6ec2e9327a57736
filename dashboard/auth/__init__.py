"""Who may use the monitor: accounts (argon2id), roles, the append-only audit log, and the web's guard.

Every page and every Dash callback is checked on the server: `web.install` refuses anonymous requests,
and each callback's outputs map to the roles allowed to run it (`roles.POLICY`); a callback missing from
the policy is refused for everyone, so a new one cannot slip through unchecked.
"""
from .accounts import AuthError, AuthSettings, add_user, audit_log, record, set_password, verify
from .roles import ROLES, allowed, required_roles

__all__ = ["AuthError", "AuthSettings", "ROLES", "add_user", "allowed", "audit_log", "record", "required_roles",
           "set_password", "verify"]
