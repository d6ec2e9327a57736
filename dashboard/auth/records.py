"""Which session records a signed-in user may open or act on: checked on the server, for every request that
names one, before anything runs. The guard (web.py) applies it to every Dash callback, the page router
(ui/app.py) to every page that takes a session id; both call `refusal` here.

The policy:
- an admin sees no patient data: no session at all;
- a ward display opens no session: its board shows its site's chairs without patient labels (`may_watch`);
- a tester sees simulated and replayed sessions only, never a real patient's;
- nurses and clinicians see every session;
- a web node serves one site: live pages and actions (LIVE) open only that site's sessions, whatever id the
  browser sends; a clinician's review and course (REVIEW) see every site, as the review list does.

Where a callback request names a session (`references`): a prop registered in SESSION_PROPS, and by
convention any component id ending in `-sid`, any pattern id or stored dict with a `sid` key, and any
`pathname` (a page URL, read through the router's own table). A new component that carries a session id
under another name is caught by tests/auth/test_access_matrix.py, which replays every callback with the values
the real pages hold.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from ..store import SessionRow
from .roles import CARE, DISPLAY

LIVE, REVIEW = "live", "review"
MAX_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Viewer:
    username: str
    role: str
    site: str  # the site this web node serves


@dataclass(frozen=True, slots=True)
class Reference:
    """A session named by a request: its id (None when the value is no session number) and what for."""

    sid: int | None
    purpose: str
    where: str  # the component and prop it came in, for the audit
    pattern: bool = False  # named by a pattern id (a bar's or a list's button), not by a page's own component


def refusal(viewer: Viewer | None, row: SessionRow | None, purpose: str) -> str | None:
    """Why this viewer may not open this session for this purpose, or None when they may."""
    if viewer is None:
        return "sign in first"
    if row is None:
        return "no such session"
    if viewer.role in DISPLAY:
        return "a ward display opens no patient's record"
    if viewer.role not in CARE and viewer.role != "tester":
        return f"a {viewer.role} sees no patient data"
    if viewer.role == "tester" and not row.is_simulated:
        return "testers see only simulated and replayed sessions"
    if purpose == REVIEW and viewer.role != "clinician":
        return "only clinicians review sessions"
    if purpose != REVIEW and row.site != viewer.site:
        return f"a session of site {row.site}: this monitor serves {viewer.site}"
    return None


def may_see(viewer: Viewer | None, row: SessionRow, purpose: str = LIVE) -> bool:
    return refusal(viewer, row, purpose) is None


def may_watch(viewer: Viewer | None, row: SessionRow) -> bool:
    """Whether this viewer's board shows, sounds and escalates this session: whoever may open it live, and a ward
    display every session of the site it serves (which board, clinical or test, is the screens' rule)."""
    if viewer is not None and viewer.role in DISPLAY:
        return row.site == viewer.site
    return may_see(viewer, row, LIVE)


def session_number(value: Any) -> int | None:
    """A session id from a browser's value: a non-negative integer that fits the database, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    else:
        return None
    return number if 0 <= number <= MAX_ID else None


def _from_state(value: Any) -> Any:
    return value.get("sid") if isinstance(value, dict) else value


# (component id, prop) -> (purpose, how to read the session id from the value)
SESSION_PROPS: dict[tuple[str, str], tuple[str, Callable[[Any], Any]]] = {
    ("session-state", "data"): (LIVE, _from_state),  # the live session page
    ("review-sid", "data"): (REVIEW, lambda value: value),  # a clinician's review
}
PathReference = Callable[[str], "tuple[int | None, str] | None"]  # a URL path -> (session id, purpose), if any


def references(body: dict[str, Any], path_reference: PathReference | None) -> list[Reference]:
    """Every session a Dash callback request names in its inputs and state."""
    found = []
    for raw_component, prop, value in _props(body):
        component = component_id(raw_component)
        label = f"{component if isinstance(component, str) else json.dumps(component, sort_keys=True)}.{prop}"
        if isinstance(component, str) and (component, prop) in SESSION_PROPS:
            purpose, read = SESSION_PROPS[(component, prop)]
            raw = read(value)
        elif isinstance(component, dict) and "sid" in component:
            purpose, raw = LIVE, component["sid"]
        elif isinstance(component, str) and component.endswith("-sid"):
            purpose, raw = LIVE, value
        elif isinstance(value, dict) and "sid" in value:
            purpose, raw = LIVE, value["sid"]
        elif prop == "pathname" and path_reference is not None and isinstance(value, str):
            named = path_reference(value)
            if named is None:
                continue
            raw, purpose = named
        else:
            continue
        if raw is None:
            continue  # nothing named (a page without that session yet)
        found.append(Reference(session_number(raw), purpose, label, pattern=isinstance(component, dict)))
    return found


def component_id(component: Any) -> Any:
    """A component id as Dash reads it: a pattern id may come as a dict or as its JSON text (Dash parses an id
    string that starts with "{"), and the guard must see the `sid` in either before deciding."""
    if isinstance(component, str) and component.lstrip().startswith("{"):
        try:
            parsed = json.loads(component)
        except ValueError:
            return component
        return parsed if isinstance(parsed, dict) else component
    return component


def _props(body: dict[str, Any]) -> Iterator[tuple[Any, str, Any]]:
    for group in ("inputs", "state"):
        items = body.get(group)
        for item in items if isinstance(items, list) else []:
            for entry in item if isinstance(item, list) else [item]:  # a pattern input (ALL) is a list
                if isinstance(entry, dict):
                    yield entry.get("id"), str(entry.get("property", "")), entry.get("value")
