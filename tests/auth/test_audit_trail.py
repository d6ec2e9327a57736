"""The audit log: every clinical action through the real pages leaves exactly one row (who, role, from where,
which session), every read of patient data too, and refusals; the table is append-only on SQLite and PostgreSQL;
the admin filters it by user, session and action and exports what the filter shows."""
from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dashboard.auth import add_user, audit_log
from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.store import Store
from dashboard.store.security import audit
from dashboard.ui import create_app
from devices.readings import Reading

from ..webclient import PASSWORD, body, call, server_callbacks, sign_in

CONFIG = load_config()
NURSE_AT = "10.0.0.7"
CLINICIAN_AT = "10.0.0.8"


class Ward:
    """The real app and store, a nurse and a clinician signed in from their own addresses."""

    def __init__(self, tmp_path: Path) -> None:
        self.store = Store.open(tmp_path / "clinic.db")
        for role in ("nurse", "clinician", "tester", "admin"):
            add_user(self.store, f"{role}1", role, PASSWORD)
        self.app = create_app(self.store, CONFIG, secret_path=tmp_path / "key")
        self.nurse = sign_in(self.app, "nurse1", remote=NURSE_AT)
        self.clinician = sign_in(self.app, "clinician1", remote=CLINICIAN_AT)
        self.ingest = Ingest(self.store, CONFIG)
        self.seen = self._last_id()

    def _last_id(self) -> int:
        with self.store.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.max(audit.c.id))) or 0)

    def new_rows(self) -> list[tuple[Any, ...]]:
        """The audit rows written since the last call: (action, who, role, remote, session_id)."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(audit.select().where(audit.c.id > self.seen).order_by(audit.c.id)).mappings().all()
        self.seen = self._last_id()
        return [(r["action"], r["who"], r["role"], r["remote"], r["session_id"]) for r in rows]

    def callback(self, client: Any, output: str, values: dict[tuple[str, str], Any], trigger: str,
                 patterns: dict | None = None) -> Any:
        key = next(k for k in server_callbacks(self.app) if output in k)
        response = call(client, body(key, self.app.callback_map[key], values, trigger, patterns))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def act(self, sid: int, button: str, **fields: Any) -> str:
        values = {("session-state", "data"): {"sid": sid}, (button, "n_clicks"): 1,
                  **{(name.replace("_", "-"), "value"): value for name, value in fields.items()}}
        key = next(k for k in server_callbacks(self.app) if "act-message" in k  # the callback this button drives
                   and any(d["id"] == button for d in self.app.callback_map[k]["inputs"]))
        response = call(self.nurse, body(key, self.app.callback_map[key], values, f"{button}.n_clicks"))
        assert response.status_code == 200, response.get_data(as_text=True)
        return json.dumps(response.get_json())

    def answer(self, sid: int, key: str, done: bool = True, reason: str = "") -> str:
        """The nurse's press of an item's Done (or Override, with the reason typed beside it) on the checklist."""
        keys = [item.key for item in CONFIG.checklist(self.store.session(sid).protocol).items]
        button = "check-done" if done else "check-override"
        patterns = {kind: [({"type": kind, "index": k}, value(k)) for k in keys] for kind, value in (
            ("check-done", lambda k: 1 if done and k == key else None),
            ("check-override", lambda k: 1 if not done and k == key else None),
            ("check-reason", lambda k: reason if k == key else None), ("check-state", lambda k: None))}
        trigger = json.dumps({"index": key, "type": button}, separators=(",", ":")) + ".n_clicks"
        return json.dumps(self.callback(self.nurse, "checklist-message", {("session-state", "data"): {"sid": sid}},
                                        trigger, patterns))

    def open(self, client: Any, path: str) -> str:
        return json.dumps(self.callback(client, "page.children", {("url", "pathname"): path, ("url", "search"): ""},
                                        "url.pathname"))

    def fold(self) -> None:
        self.ingest.refresh()
        self.ingest.step()


@pytest.fixture
def ward(tmp_path: Path) -> Ward:
    return Ward(tmp_path)


def test_every_clinical_action_leaves_exactly_one_row(ward: Ward):
    nurse = lambda action, sid: (action, "nurse1", "nurse", NURSE_AT, sid)  # noqa: E731
    response = ward.callback(ward.nurse, "new-message", {("new-start", "n_clicks"): 1, ("new-chair", "value"): "Chair 1",
                                                         ("new-label", "value"): "P-7", ("new-protocol", "value"): "iv-ketamine",
                                                         ("new-dose", "value"): "0.5 mg/kg"}, "new-start.n_clicks")
    sid = int(response["response"]["url"]["pathname"].rsplit("/", 1)[1])
    ward.open(ward.nurse, f"/session/{sid}")  # where starting leads: the page's own reads are this opening's
    assert ward.new_rows() == [nurse("session_start", sid), nurse("open_session", sid)]
    ward.fold()
    ward.ingest.submit("Chair 1", [Reading("nibp", sbp=182, dbp=104, hr=80, offset_s=30)])  # above the pre-dose guide
    ward.fold()
    assert "Not ready to dose" in ward.act(sid, "act-dose", act_override="consultant agreed")  # checklist first
    assert ward.new_rows() == []
    assert "Give a reason" in ward.answer(sid, "escort_home", done=False)
    assert ward.new_rows() == []
    for item in CONFIG.checklist("iv-ketamine").items:
        said = ward.answer(sid, item.key, done=item.key != "escort_home", reason="partner waits in the lobby")
        assert item.text in said, said
    assert ward.new_rows() == [nurse("checklist", sid)] * 5  # one audited row per answer
    assert "override" in ward.act(sid, "act-dose", act_override=None)  # asks for a reason: nothing stored
    assert ward.new_rows() == []
    ward.act(sid, "act-dose", act_override="consultant agreed")
    assert ward.new_rows() == [nurse("override", sid), nurse("dose_start", sid)]
    ward.fold()
    steps = [("act-infusion-end", {}, ["infusion_end"]), ("act-measure", {}, ["measure_now"]),
             ("act-pause", {}, ["audio_pause"]), ("act-bp", {"bp_sbp": "999", "bp_dbp": "10"}, []),
             ("act-bp", {"bp_sbp": "128", "bp_dbp": "84", "bp_hr": "72"}, ["manual_bp"]),
             ("act-spo2", {"spo2_value": "45"}, []), ("act-spo2", {"spo2_value": "96"}, ["manual_spo2"]),
             ("act-assess", {"as_moaas": 4, "as_dissociation": "yes", "as_breathing": "ok"}, ["assessment"]),
             ("act-assess", {"as_moaas": 5, "as_dissociation": "no", "as_breathing": "ok", "as_note": "calm"},
              ["assessment", "note"])]
    for button, fields, actions in steps:
        ward.act(sid, button, **fields)
        assert ward.new_rows() == [nurse(action, sid) for action in actions], button
    ward.fold()
    alarm = json.dumps(["bp.severe", ""])  # active and unacknowledged (the pre-dose alarm ended with the dose)
    ward.callback(ward.nurse, "ack-message", {("session-state", "data"): {"sid": sid}}, json.dumps(
        {"index": alarm, "type": "ack"}, separators=(",", ":")) + ".n_clicks", {"ack": [({"type": "ack", "index": alarm}, 1)]})
    assert ward.new_rows() == [nurse("acknowledge", sid)]
    ward.act(sid, "act-discharge", act_override="transferred to the ward")
    rows = ward.new_rows()
    assert rows == [nurse("override", sid), nurse("discharge", sid)]
    assert audit_log(ward.store, limit=1)[0]["detail"] == "override"  # no clinical text in the audit
    ward.fold()
    ward.open(ward.clinician, f"/review/{sid}")  # where a sign-off is made
    assert ward.new_rows() == [("open_review", "clinician1", "clinician", CLINICIAN_AT, sid)]
    signed = ward.callback(ward.clinician, "review-signoff", {("review-sid", "data"): sid, ("signoff-button", "n_clicks"): 1,
                                                              ("signoff-comment", "value"): "ok"}, "signoff-button.n_clicks")
    assert "Signed off" in json.dumps(signed)
    assert ward.new_rows() == [("sign_off", "clinician1", "clinician", CLINICIAN_AT, sid)]
    for fmt in ("csv", "feed", "fhir", "hl7"):
        ward.callback(ward.clinician, "review-download", {("review-sid", "data"): sid, (f"export-{fmt}", "n_clicks"): 1},
                      f"export-{fmt}.n_clicks")
        assert ward.new_rows() == [("export", "clinician1", "clinician", CLINICIAN_AT, sid)], fmt


def test_every_read_of_patient_data_and_every_refusal_leaves_one_row(ward: Ward):
    sid = ward.store.create_session(chair="Chair 2", patient_label="P-9", protocol="esketamine-84", started_at=time.time())
    ward.new_rows()
    nurse, clinician = ("nurse1", "nurse", NURSE_AT), ("clinician1", "clinician", CLINICIAN_AT)
    for client, path, row in ((ward.nurse, "/", ("open_board", *nurse, None)),
                              (ward.nurse, f"/session/{sid}", ("open_session", *nurse, sid)),
                              (ward.clinician, "/review", ("open_review_list", *clinician, None)),
                              (ward.clinician, f"/review/{sid}", ("open_review", *clinician, sid)),
                              (ward.clinician, f"/course/{sid}", ("open_course", *clinician, sid))):
        page = ward.open(client, path)
        assert "not-found" not in page and ("P-9" in page or path == "/")  # the board's tiles come with its poll
        assert ward.new_rows() == [row], path
    ward.open(ward.nurse, "/settings")  # no patient data: nothing to audit
    assert ward.new_rows() == []
    tester = sign_in(ward.app, "tester1", remote="10.0.0.9")
    ward.new_rows()
    assert "not-found" in ward.open(tester, f"/session/{sid}")
    assert ward.new_rows() == [("refused", "tester1", "tester", "10.0.0.9", sid)]
    key = next(k for k in server_callbacks(ward.app) if "session-state.data" in k)
    request = body(key, ward.app.callback_map[key], {("session-state", "data"): {"sid": sid}}, "session-poll.n_intervals")
    assert call(tester, request).status_code == 403
    assert ward.new_rows() == [("refused", "tester1", "tester", "10.0.0.9", sid)]


def test_the_admin_filters_the_log_and_exports_what_the_filter_shows(ward: Ward):
    sid = ward.store.create_session(chair="Chair 3", patient_label="P-3", protocol="esketamine-84", started_at=time.time())
    ward.open(ward.nurse, f"/session/{sid}")
    ward.open(ward.clinician, f"/review/{sid}")
    admin = sign_in(ward.app, "admin1")
    assert "open_session" in ward.open(admin, "/admin/audit")  # the action filter offers what the log holds
    filters = {("audit-user", "value"): "nurse1", ("audit-session", "value"): str(sid), ("audit-action", "value"): None}
    shown = json.dumps(ward.callback(admin, "audit-table", filters, "audit-user.value"))
    assert "open_session" in shown and "open_review" not in shown and "clinician1" not in shown
    bad = json.dumps(ward.callback(admin, "audit-table", {**filters, ("audit-session", "value"): "1 OR 1=1"},
                                   "audit-session.value"))
    assert "not a session number" in bad
    download = ward.callback(admin, "audit-download", {**filters, ("audit-export", "n_clicks"): 1}, "audit-export.n_clicks")
    rows = list(csv.DictReader(io.StringIO(download["response"]["audit-download"]["data"]["content"])))
    assert [(r["who"], r["action"], r["session_id"]) for r in rows] == [("nurse1", "open_session", str(sid))]
    assert audit_log(ward.store, limit=1)[0]["action"] == "export"


def test_the_audit_log_refuses_change_on_both_databases(open_store):
    """UPDATE and DELETE (triggers of 0001) and, on PostgreSQL, TRUNCATE (0008): the database itself refuses."""
    store = open_store()
    with store.engine.begin() as conn:
        conn.execute(audit.insert().values(at=1.0, who="AB", action="login"))
    statements = ["UPDATE audit SET who = 'CD'", "DELETE FROM audit"]
    if store.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit")
    for statement in statements:
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with store.engine.begin() as conn:
                conn.execute(sa.text(statement))
    with store.engine.connect() as conn:
        assert conn.scalar(sa.select(audit.c.who)) == "AB"
