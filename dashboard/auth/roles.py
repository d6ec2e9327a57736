"""Roles and what each may do. The web checks every callback against POLICY by the id of its first output.

- nurse: the live board, sessions, acknowledgements, assessments and dosing actions
- clinician: everything a nurse does, plus review, sign-off and exports
- tester: replays and simulated sessions only (never a real patient's)
- admin: users, the audit log and configuration; no patient data
- display: a ward wall screen: the live board read-only, with its sound; never a record, no idle limit

Which session records each may open is records.py's policy, checked for every request that names one.
"""
from __future__ import annotations

import json

ROLES = ("nurse", "clinician", "tester", "admin", "display")
EVERYONE = frozenset(ROLES)
CARE = frozenset({"nurse", "clinician"})
WATCH = frozenset({"nurse", "clinician", "tester"})  # testers see only simulated and replayed sessions
REVIEW = frozenset({"clinician"})
TESTING = frozenset({"tester"})
ADMIN = frozenset({"admin"})
# A ward display (docs/ward-display.md): its board shows every chair of its site, without patient labels, links
# or buttons, and sounds; it opens no record. It is signed in once at set-up and stays signed in, in front of
# patients: neither the idle nor the absolute limit ends it (a wall screen that signed itself out would stop
# sounding alarms). An admin's deactivation, a password reset or a role change ends it at once.
DISPLAY = frozenset({"display"})
UNATTENDED = DISPLAY  # sessions no idle or absolute limit ends (web.py)

# First output's component id (or pattern id "type") -> roles allowed to run that callback.
POLICY: dict[str, frozenset[str]] = {
    "page": EVERYONE,  # the router: each page then checks the role itself
    "board": WATCH | DISPLAY,  # a display's read-only (board.py: no link, no button, no patient label)
    "board-message": WATCH,  # acknowledge from the alarm bar (a tester's: on simulated/replayed sessions only)
    "escalation-banner": EVERYONE,  # the admin's carries only the system's banners (demo, data not stored)
    "session-chart": WATCH,
    "act-message": WATCH,  # a tester acts only on simulated/replayed sessions (checked per session)
    "ack-message": WATCH,
    "check-state": WATCH,  # the pre-dose checklist's answers (ui/checklist.py), guarded per session like act-message
    "new-message": CARE,
    "new-course": CARE,  # the start page: the patient's earlier sessions, first treatment, medicines (issue 14)
    "new-dose-choice": CARE,
    "new-enrolled-box": CARE,  # the start page: REMS enrolment, asked of an esketamine first treatment (issue 23)
    "rp-message": TESTING,
    "rp-table": TESTING,
    "rp-cell": TESTING,  # a replay's state, session time and items sent, and which of its buttons show
    "rp-control-message": TESTING,  # pause, resume, stop a replay
    "users-message": ADMIN,
    "audit-download": ADMIN,
    # devices outside sessions (issue 16): chairs without a session on the board, associating a device with a chair
    "board-waiting": WATCH | DISPLAY,  # real device data only for nurses and clinicians (checked in the callback;
    # the ward display's page has no such part, and would get none: its tiles link to the start page)
    "assoc-list": CARE,
    "assoc-message": CARE,
    "audit-table": ADMIN,
    # the clinician's review (issue 5): sessions list, zoom, sign-off, exports
    "rv-table": REVIEW,
    "review-chart": REVIEW,
    "review-signoff": REVIEW,
    "review-download": REVIEW,
    # the REMS forms to send, on the review page (issue 23): record one as sent, print a form or a day's
    "rq-message": REVIEW,
    "rq-download": REVIEW,
}


def first_output_id(callback_key: str) -> str:
    """The component id of a callback's first output, from Dash's callback key ('..a.prop...b.prop..' or 'a.prop')."""
    first = callback_key.strip(".").split("...")[0]
    component = first.rsplit(".", 1)[0]
    if component.startswith("{"):
        return str(json.loads(component).get("type", component))
    return component


def required_roles(callback_key: str) -> frozenset[str]:
    """Who may run the callback; nobody when it is not in the policy (fail closed)."""
    return POLICY.get(first_output_id(callback_key), frozenset())


def allowed(role: str | None, callback_key: str) -> bool:
    return role is not None and role in required_roles(callback_key)


def sees_real_patients(role: str | None) -> bool:
    """Real (not simulated) data, in a session or not yet in one: nurses and clinicians (records.py's policy)."""
    return role in CARE
