"""Every endpoint × every identity × every kind of record, built from the app's own registry: the pages of the
router's table (ui/routes.py) and the callbacks of Dash's callback map, enumerated at test time, so a page or
callback added later is covered without anyone listing it.

The real app (Flask test client) on a real SQLite database, signed in through the real login form. Each
callback is called as the browser would call it, with the values the real pages hold for each record (the
session page of a real patient, of a simulated one, of another site's...), once per input that can trigger it;
each page is opened through the router for each record. The expected answer comes from the policy of issue 13,
written down here (`may_open`) apart from the app's code:

- anonymous: 401 for every callback (the pages redirect to the login form);
- a role not among those of the page a callback lives on: 403;
- a record the identity may not open for that page's purpose, when the callback reads something of the page
  that depends on its record (a value that differs from one record's page to another's): 403 (the router: a
  "not found" page);
- otherwise an answer (200 or 204), in which no patient label of a record the identity may not see appears,
  and, for a page that opens a record, that record's label does.
Every queued action leaves exactly one audit row (checked after every request).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Iterator

import flask
import pytest
import sqlalchemy as sa

from dashboard.auth import ROLES, add_user
from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.store import Store
from dashboard.store.schema import actions
from dashboard.store.security import audit
from dashboard.ui import create_app
from dashboard.ui.routes import PAGES, SID, Page, Request, home, match
from devices.readings import Reading, SessionEvent

from ..webclient import PASSWORD, as_json, body, call, components, server_callbacks, sign_in

CONFIG = load_config()
NODE_SITE = "main"  # the site the web under test serves
LIVE, REVIEW = "live", "review"
WATCH = frozenset({"nurse", "clinician", "tester"})
SOUNDING = WATCH | {"display"}  # a ward display hears its board's alarms (issue 22)
SHELL_ROLES = frozenset(ROLES)  # the banner on every page (the chairs' alarms only for WATCH: _watched)
IDENTITIES = (None, *ROLES)
ACTION_KINDS = ("session_start", "dose_start", "infusion_end", "assessment", "note", "manual_bp", "measure_now",
                "audio_pause", "discharge", "acknowledge", "override", "checklist", "manual_spo2")


@dataclass(frozen=True)
class Record:
    kind: str
    sid: int
    site: str
    real: bool
    label: str


def may_open(role: str | None, record: Record, purpose: str) -> bool:
    """Issue 13's policy, independently of dashboard/auth/records.py."""
    if role is None or role == "admin":
        return False  # anonymous; an admin sees no patient data
    if role == "display":
        return False  # a ward display (issue 22) opens no record: its board shows chairs, never a patient label
    if role == "tester" and record.real:
        return False  # testers: simulated and replayed sessions only
    if purpose == REVIEW:
        return role == "clinician"  # a clinician reviews every site's sessions
    return record.site == NODE_SITE  # live pages and actions: this web's site only


def purpose_of(page: Page) -> str:
    return REVIEW if page.path.startswith(("/review", "/course")) else LIVE


# ---- the clinic under test -------------------------------------------------------------------------------

def _fill(store: Store, sid: int, chair: str, feed_clock: bool = False) -> None:
    """Readings through the real ingest: a baseline, the dose and a severe BP, so alarms (and their
    Acknowledge buttons) show."""
    items = [SessionEvent("session_start", "esketamine-84", offset_s=0), Reading("nibp", sbp=128, dbp=82, hr=70, offset_s=60),
             SessionEvent("dose_start", "84 mg", offset_s=300), Reading("nibp", sbp=186, dbp=112, hr=88, offset_s=1100)]
    ingest = Ingest(store, CONFIG)
    ingest.refresh()
    if feed_clock:
        store.submit_items(sid, items, "replay", tick=1150.0)
    else:
        ingest.submit(chair, items)
    ingest.step()


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, Record]]]:
    db = tmp_path_factory.mktemp("matrix") / "clinic.db"
    main, north = Store.open(db, NODE_SITE), Store.open(db, "north")
    started = time.time() - 1200
    records = {}
    for store, kind, real, extra in ((main, "real", True, {}), (main, "simulated", False, {"scenario": "quiet", "seed": 1}),
                                     (main, "replayed", False, {"clock": "feed"}), (north, "north-real", True, {}),
                                     (north, "north-simulated", False, {"scenario": "quiet", "seed": 2})):
        chair = f"Chair {len(records) + 1}"
        label = f"LABEL-{kind}-{len(records)}"
        sid = store.create_session(chair=chair, patient_label=label, protocol="esketamine-84", started_at=started,
                                   **extra)
        _fill(store, sid, chair, feed_clock=extra.get("clock") == "feed")
        records[kind] = Record(kind, sid, store.site, real, label)
    for role in ROLES:
        add_user(main, f"{role}1", role, PASSWORD)
    north.close()
    yield main, records
    main.close()


@pytest.fixture(scope="module")
def app(clinic, tmp_path_factory):
    store, _ = clinic
    return create_app(store, CONFIG, secret_path=tmp_path_factory.mktemp("secret") / "key")


@pytest.fixture(scope="module")
def clients(app) -> dict[str | None, Any]:
    out: dict[str | None, Any] = {None: app.server.test_client()}
    for role in ROLES:
        out[role] = sign_in(app, f"{role}1")
    return out


# ---- the app's own registry: page instances, their components, the callbacks living on them -------------

@dataclass
class Context:
    """One page as the browser holds it: its path, the record it opens (if any), its components' values."""

    page: Page
    path: str
    record: Record | None
    values: dict[tuple[str, str], Any]
    patterns: dict[str, list[tuple[dict[str, Any], Any]]]
    ids: set[str]
    varying: frozenset[str] = frozenset()  # "id.prop" (or pattern type) whose value differs from record to record


def _rendered(app, store: Store, page: Page, record: Record | None, role: str) -> Any:
    """The page's layout as the router would send it once allowed (drawn directly, so a record nobody here may
    open still gives the values an attacker would forge)."""
    with app.server.test_request_context("/"):
        flask.session.update(user=f"{role}1", role=role)  # the page renders as this role (outside the guard)
        row = store.session(record.sid) if record else None
        return as_json(page.render(Request(store, CONFIG, 1000, "", row)))


def _context(page: Page, path: str, record: Record | None, tree: Any, shell: Any, prop_of: dict[str, set[str]]) -> Context:
    values: dict[tuple[str, str], Any] = {}
    patterns: dict[str, list[tuple[dict[str, Any], Any]]] = {}
    for component, props in [*components(shell), *components(tree)]:
        if isinstance(component, dict):
            for prop in prop_of.get(component.get("type", ""), ()):
                patterns.setdefault(component["type"], []).append((component, props.get(prop)))
            continue
        for prop in prop_of.get(component, ()):
            values[(component, prop)] = props.get(prop)
        if component == "url":
            values[("url", "pathname")], values[("url", "search")] = path, ""
    ids = {component for component, _ in components(tree) if isinstance(component, str)}
    return Context(page, path, record, values, patterns, ids)


@pytest.fixture(scope="module")
def contexts(app, clinic, clients) -> list[Context]:
    store, records = clinic
    prop_of: dict[str, set[str]] = {}  # component id (or pattern type) -> props the callbacks read
    for spec in server_callbacks(app).values():
        for dep in [*spec["inputs"], *spec["state"]]:
            key = json.loads(dep["id"])["type"] if dep["id"].startswith("{") else dep["id"]
            prop_of.setdefault(key, set()).add(dep["property"])
    shell = clients["nurse"].get("/_dash-layout").get_json()
    out = []
    for page in PAGES:
        role = next(iter(sorted(page.roles)))
        for record in (records.values() if SID in page.path else [None]):
            path = page.path.replace(SID, str(record.sid)) if record else page.path
            out.append(_context(page, path, record, _rendered(app, store, page, record, role), shell, prop_of))
    for page in PAGES:  # what a page holds that depends on its record: what a callback reading it must guard
        same = [c for c in out if c.page is page]
        keys = {key for c in same for key in c.values}
        varying = {f"{i}.{p}" for i, p in keys if len({json.dumps(c.values.get((i, p)), sort_keys=True) for c in same}) > 1}
        varying |= {kind for kind in {k for c in same for k in c.patterns}
                    if len({json.dumps(c.patterns.get(kind), sort_keys=True) for c in same}) > 1}
        for context in same:
            context.varying = frozenset(varying)
    return out


@dataclass(frozen=True)
class Endpoint:
    key: str
    trigger: str
    roles: frozenset[str]  # those of the pages it lives on
    context: Context
    record_bound: bool  # it reads something of the page that depends on the page's record


def _forged(key: str, spec: dict[str, Any], contexts: list[Context], records: dict[str, Record]) -> list[Context]:
    """For a callback whose only inputs are pattern ids that a poll draws (the alarm bar's Acknowledge, the replay
    table's controls): the pages holding its output, with the ids an attacker would send, one per record when
    the id names a session (a valid alarm key, so an allowed request really acts)."""
    output_ids = {part.split(".")[0] for part in key.strip(".").split("...")}
    patterns = [json.loads(d["id"]) for d in spec["inputs"] if d["id"].startswith("{")]
    if not patterns or len(patterns) != len(spec["inputs"]):
        return []
    out = []
    for page in (c for c in contexts if output_ids & c.ids and c.record is None):
        for record in (records.values() if any("sid" in p for p in patterns) else [None]):
            forged = {p["type"]: [({k: (record.sid if k == "sid" else 0 if k == "index"
                                        else json.dumps(["bp.severe", ""]) if k == "alarm" else "pause")
                                    for k, v in p.items() if k != "type"} | {"type": p["type"]}, None)]
                      for p in patterns}
            bound = set(forged) if record is not None else set()  # an id naming a session is the record's
            out.append(Context(page.page, page.path, record, page.values, {**page.patterns, **forged}, page.ids,
                               page.varying | bound))
    return out


def _endpoints(app, contexts: list[Context], records: dict[str, Record]) -> Iterator[Endpoint]:
    for key, spec in server_callbacks(app).items():
        if key == "page.children":
            continue  # the router: test_every_page_for_every_identity_and_record
        deps = [*spec["inputs"], *spec["state"]]
        plain = {d["id"] for d in deps if not d["id"].startswith("{")}
        kinds = {json.loads(d["id"])["type"] for d in deps if d["id"].startswith("{")}
        homes = [c for c in contexts if plain & c.ids or kinds & set(c.patterns)] or _forged(key, spec, contexts, records)
        if not homes:  # only shell components (on every page): the banner and sound
            homes = [c for c in contexts if c.page.path == "/"]
            roles = SHELL_ROLES
        else:
            roles = frozenset().union(*(c.page.roles for c in homes))
        reads = {f"{d['id']}.{d['property']}" for d in deps} | kinds
        for context in homes:
            for dep in spec["inputs"]:
                if dep["id"].startswith("{"):
                    found = context.patterns.get(json.loads(dep["id"])["type"], [])
                    if not found:
                        continue
                    trigger = json.dumps(found[0][0], sort_keys=True, separators=(",", ":")) + "." + dep["property"]
                else:
                    trigger = f"{dep['id']}.{dep['property']}"
                yield Endpoint(key, trigger, roles, context, bool(reads & context.varying))


def _request(app, endpoint: Endpoint) -> dict[str, Any]:
    spec = app.callback_map[endpoint.key]
    values = dict(endpoint.context.values)
    patterns = {kind: list(found) for kind, found in endpoint.context.patterns.items()}
    component, prop = endpoint.trigger.rsplit(".", 1)
    if component.startswith("{"):
        kind = json.loads(component)["type"]
        first_id, _ = patterns[kind][0]
        patterns[kind][0] = (first_id, 1)
    elif prop in ("n_clicks", "n_intervals"):
        values[(component, prop)] = 1
    return body(endpoint.key, spec, values, endpoint.trigger, patterns)


def _expected(role: str | None, endpoint: Endpoint) -> int:
    if role is None:
        return 401
    if role not in endpoint.roles:
        return 403
    record = endpoint.context.record
    if endpoint.record_bound and not may_open(role, record, purpose_of(endpoint.context.page)):
        return 403
    return 200


def _counts(store: Store) -> tuple[int, int]:
    with store.engine.connect() as conn:
        queued = conn.scalar(sa.select(sa.func.count()).select_from(actions).where(actions.c.who != "replay"))
        audited = conn.scalar(sa.select(sa.func.count()).select_from(audit).where(audit.c.action.in_(ACTION_KINDS)))
    return int(queued), int(audited)


def _forbidden_labels(role: str | None, records: dict[str, Record], purpose: str) -> list[str]:
    return [r.label for r in records.values() if not may_open(role, r, purpose)]


# ---- the matrix ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", IDENTITIES, ids=lambda r: r or "anonymous")
def test_every_callback_for_every_identity_and_record(app, clinic, clients, contexts, role):
    store, records = clinic
    endpoints = list(_endpoints(app, contexts, records))
    assert {e.key for e in endpoints} == set(server_callbacks(app)) - {"page.children"}, "a callback with no page"
    assert {e.context.record.kind for e in endpoints if e.context.record} == set(records), "a record kind unused"
    wrong = []
    for endpoint in endpoints:
        before = _counts(store)
        response = call(clients[role], _request(app, endpoint))
        expected = _expected(role, endpoint)
        status = response.status_code
        text = response.get_data(as_text=True)
        got = 200 if status in (200, 204) else status
        where = (endpoint.key, endpoint.trigger, endpoint.context.path)
        if got != expected:
            wrong.append((*where, f"expected {expected}, got {status}: {text[:160]}"))
            continue
        leaked = [label for label in _forbidden_labels(role, records, purpose_of(endpoint.context.page)) if label in text]
        if status == 200 and leaked:
            wrong.append((*where, f"shows {leaked}"))
        queued, audited = _counts(store)
        if queued - before[0] != audited - before[1]:
            wrong.append((*where, f"{queued - before[0]} action(s) queued, {audited - before[1]} audited"))
    assert wrong == [], "\n".join(map(str, wrong))


@pytest.mark.parametrize("role", IDENTITIES, ids=lambda r: r or "anonymous")
def test_every_page_for_every_identity_and_record(app, clinic, clients, contexts, role):
    """The router, through the real callback, for every page of its table and every record; and the page's GET."""
    store, records = clinic
    router = next(spec for key, spec in server_callbacks(app).items() if key == "page.children")
    wrong = []
    for context in contexts:
        request = body("page.children", router, {("url", "pathname"): context.path, ("url", "search"): ""},
                       "url.pathname")
        response = call(clients[role], request)
        text = response.get_data(as_text=True)
        record = context.record
        shown = match(home(context.path, role))  # "/" is each role's home (routes.HOMES)
        page = shown[0] if shown else context.page
        allowed = role is not None and role in page.roles and (
            record is None or may_open(role, record, purpose_of(page)))
        if role is None:
            ok = response.status_code == 401
        elif not allowed:
            ok = response.status_code == 200 and '"not-found"' in text
        else:
            ok = response.status_code == 200 and '"not-found"' not in text and (record is None or record.label in text)
        leaked = [label for label in _forbidden_labels(role, records, purpose_of(page)) if label in text]
        if not ok or leaked:
            wrong.append((context.path, response.status_code, leaked, text[:160]))
        got = clients[role].get(context.path)
        if (got.status_code, got.headers.get("Location", "")[:6]) != ((302, "/login") if role is None else (200, "")):
            wrong.append((context.path, "GET", got.status_code))
        if any(r.label in got.get_data(as_text=True) for r in records.values()):
            wrong.append((context.path, "GET carries patient data"))
    assert wrong == [], "\n".join(map(str, wrong))


def test_the_pages_roles_are_the_issues(app):
    """The table the matrix reads its page roles from says what the issue says for the pages it names."""
    expected = {"/": {"nurse", "clinician"}, "/test": {"tester"}, "/session/<sid>": WATCH, "/start": {"nurse", "clinician"}, "/review": {"clinician"},
                "/review/<sid>": {"clinician"}, "/course/<sid>": {"clinician"}, "/replay": {"tester"},
                "/settings": set(ROLES), "/admin/users": {"admin"}, "/admin/audit": {"admin"}, "/ward": {"display"}}
    table = {page.path: set(page.roles) for page in PAGES}
    assert {path: table.get(path) for path in expected} == {path: set(roles) for path, roles in expected.items()}
    assert {role: home("/", role) for role in ROLES} == {"nurse": "/", "clinician": "/", "tester": "/test",
                                                       "admin": "/admin/users", "display": "/ward"}  # their own page
    assert all(page.purpose is not None for page in PAGES if SID in page.path)


def test_routes_past_the_guard_are_closed(clients):
    """Dash's optional MCP server or callback API routes, were a setting to turn them on, are refused."""
    for role in IDENTITIES:
        for path in ("/_mcp", "/_dash-api/anything", "/_alive_x"):
            assert clients[role].post(path, headers={"Origin": "http://localhost"}).status_code == 404, (role, path)


def test_the_shell_sounds_only_for_those_who_see_the_chairs(clients):
    """Every signed-in screen polls the shell (the admin's too: the site's demo and data-not-stored banners), but
    only the roles who watch chairs get the sound; the admin's answers carry no chair (the matrix checks that)."""
    for role in ROLES:
        layout = json.dumps(clients[role].get("/_dash-layout").get_json())
        assert '"shell-poll"' in layout, role
        assert ('"sound-off-bar"' in layout) == (role in SOUNDING), role


def test_a_refused_request_is_audited_with_who_and_where(clinic, clients, app, contexts):
    store, records = clinic
    poll = next(key for key in server_callbacks(app) if "session-state.data" in key)
    context = next(c for c in contexts if c.page.path == "/session/<sid>" and c.record.kind == "real")
    request = body(poll, app.callback_map[poll], context.values, "session-poll.n_intervals")
    assert call(clients["tester"], request).status_code == 403
    with store.engine.connect() as conn:
        last = conn.execute(audit.select().order_by(audit.c.id.desc()).limit(1)).mappings().one()
    assert (last["who"], last["role"], last["action"], last["session_id"], last["remote"]) == \
        ("tester1", "tester", "refused", records["real"].sid, "127.0.0.1")


def test_the_guard_finds_the_session_of_every_callback_that_reads_one(app, clinic, contexts):
    """Where a callback reads something of a page that depends on its record, the guard sees the session it
    names (auth/records.py `references`): a new component carrying a session id under another name shows here."""
    from dashboard.auth.records import references
    from dashboard.ui.routes import session_in_path

    endpoints = [e for e in _endpoints(app, contexts, clinic[1]) if e.context.record is not None]
    assert any(e.record_bound for e in endpoints)
    unseen = {e.key for e in endpoints if e.record_bound and not references(_request(app, e), session_in_path)}
    assert unseen == set(), f"callbacks reading a session the guard cannot see: {unseen}"


def test_malformed_callback_requests_are_refused_by_the_guard(app, clients):
    """Not a callback request, or a session id that is no number: 403 before anything runs (and no 500)."""
    poll = next(key for key in server_callbacks(app) if "session-state.data" in key)
    for request in ([1, 2], "text", {"output": poll, "inputs": 7, "state": [{"id": "session-state", "property": "data",
                                                                         "value": {"sid": "1 OR 1=1"}}]}):
        response = clients["nurse"].post("/_dash-update-component", json=request, headers={"Origin": "http://localhost"})
        assert response.status_code == 403, (request, response.get_data(as_text=True))
