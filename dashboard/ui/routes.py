"""The pages of the monitor, one table: path, who may open it, and for a page that takes a session id, what
for (live or review). The router (app.py `route`) serves only these; a page that takes a session id is
handed the session row only after the record policy (auth/records.py) allowed this user to open it, so no
page can forget the check. Opening a page that shows patient data writes its row in the audit log.

The web's guard reads the same table (`session_in_path`): a callback that gets a page URL as input is
checked like the router.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qs

from ..auth.records import LIVE, REVIEW, session_number
from ..auth.roles import ADMIN, CARE, DISPLAY, EVERYONE, REVIEW as CLINICIANS, TESTING, WATCH
from ..engine import Config
from ..store import SessionRow, Store
from . import admin, associate, board, course, device_admin, form_queue, replay_page, review, review_session
from . import session_page, settings, start
from .scope import TEST

SID = "<sid>"


@dataclass(frozen=True, slots=True)
class Request:
    """What a page is drawn from: the store and settings, the query string, and its session once allowed."""

    store: Store
    config: Config
    poll_ms: int
    search: str
    row: SessionRow | None


@dataclass(frozen=True, slots=True)
class Page:
    path: str  # segments; "<sid>" stands for a session id
    roles: frozenset[str]
    render: Callable[[Request], Any]
    purpose: str | None = None  # LIVE or REVIEW for a path with <sid> (auth/records.py)
    audit: str = ""  # the audit action its opening writes (pages showing patient data)

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(part for part in self.path.split("/") if part)


def _review_page_number(search: str) -> int:
    page = parse_qs(search.lstrip("?")).get("page", ["0"])[0]
    return int(page) if page.isdigit() else 0


HOMES = {"tester": "/test", "admin": "/admin/users", "display": "/ward"}  # "/" for each role: a page of theirs (nurses: the board)


PAGES: tuple[Page, ...] = (
    Page("/", CARE, lambda r: board.layout(r.poll_ms, notice=form_queue.board_reminder(r.store, r.config)),
         audit="open_board"),
    Page("/ward", DISPLAY, lambda r: board.layout(r.poll_ms, ward=True), audit="open_ward_display"),  # read-only
    Page("/test", TESTING, lambda r: board.layout(r.poll_ms, TEST), audit="open_test_board"),
    Page("/session/<sid>", WATCH, lambda r: session_page.layout(r.store, r.config, r.row.id, r.poll_ms, live=True),
         purpose=LIVE, audit="open_session"),
    Page("/start", CARE, lambda r: start.layout(r.config)),
    Page("/review", CLINICIANS, lambda r: review.layout(r.store, _review_page_number(r.search), r.config),
         audit="open_review_list"),
    Page("/review/<sid>", CLINICIANS, lambda r: review_session.layout(r.store, r.config, r.row.id),
         purpose=REVIEW, audit="open_review"),
    Page("/course/<sid>", CLINICIANS, lambda r: course.layout(r.store, r.config, r.row.id),
         purpose=REVIEW, audit="open_course"),  # every session of that session's patient, by session id only
    Page("/replay", TESTING, lambda r: replay_page.layout(r.poll_ms)),
    Page("/settings", EVERYONE, lambda r: settings.layout(r.config, r.store, r.poll_ms)),
    Page("/admin/users", ADMIN, lambda r: admin.users_layout(r.store)),
    Page("/admin/audit", ADMIN, lambda r: admin.audit_layout(r.store)),
    Page("/admin/devices", ADMIN, lambda r: device_admin.layout(r.store)),  # per-sender counts, no patient data
    Page("/devices", CARE, lambda r: associate.layout(r.config, r.poll_ms),  # associate a device with a chair
         audit="open_devices"),
)


def home(pathname: str, role: str | None) -> str:
    """The path a user is shown: "/" is each role's home (HOMES), every other path itself."""
    return HOMES.get(role or "", pathname) if pathname.strip("/") == "" else pathname


def match(pathname: str) -> tuple[Page, str | None] | None:
    """The page a path names, with the text standing for its session id (None when it takes none)."""
    parts = tuple(part for part in pathname.split("/") if part)
    for page in PAGES:
        if len(page.segments) == len(parts) and all(p == SID or p == q for p, q in zip(page.segments, parts)):
            return page, (parts[page.segments.index(SID)] if SID in page.segments else None)
    return None


def session_in_path(pathname: str) -> tuple[int | None, str] | None:
    """(session id or None when malformed, purpose) of a page URL naming a session; None for other paths."""
    found = match(pathname)
    if found is None or found[0].purpose is None:
        return None
    return session_number(found[1]), found[0].purpose
