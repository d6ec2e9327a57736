"""The guard reads a session id from a component id in any shape the Dash renderer would accept: a pattern id
as a dict or as its JSON text. A forged Acknowledge naming another site's session as JSON text is refused by the
guard (403, audited) before the callback runs."""
from __future__ import annotations

import json
from pathlib import Path

from dashboard.auth import add_user, audit_log
from dashboard.auth.records import LIVE, Reference, references
from dashboard.engine import load_config
from dashboard.store import Store
from dashboard.ui import create_app

from ..webclient import ORIGIN, sign_in


def _pattern_input(component: object) -> dict:
    return {"inputs": [[{"id": component, "property": "n_clicks", "value": 1}]], "state": []}


def test_a_pattern_id_as_json_text_names_its_session_as_the_dict_does():
    as_dict = {"type": "bar-ack", "sid": 7, "alarm": "x"}
    for component in (as_dict, json.dumps(as_dict), " " + json.dumps({**as_dict, "sid": "7"})):
        [found] = references(_pattern_input(component), None)
        assert (found.sid, found.purpose, found.pattern) == (7, LIVE, True), component
    [forged] = references(_pattern_input(json.dumps({**as_dict, "sid": [7]})), None)
    assert forged == Reference(None, LIVE, forged.where, pattern=True)  # no session number: the guard refuses it
    assert references(_pattern_input("{not json"), None) == []
    [page] = references({"inputs": [], "state": [{"id": "review-sid", "property": "data", "value": 7}]}, None)
    assert (page.sid, page.pattern) == (7, False)  # a page's own component: its reads are audited as the page's


def test_a_forged_acknowledge_as_json_text_for_another_site_is_refused_by_the_guard(tmp_path: Path):
    store = Store.open(tmp_path / "clinic.db")
    north = Store.open(tmp_path / "clinic.db", site="north")
    sid = north.create_session(chair="N1", patient_label="P", protocol="esketamine", started_at=1.0e9)
    add_user(store, "nurse1", "nurse", "correct-horse-battery")
    app = create_app(store, load_config(), secret_path=tmp_path / "key")
    nurse = sign_in(app, "nurse1")
    pattern = json.dumps({"alarm": "[\"SPO2_LOW\", \"oximeter\"]", "sid": sid, "type": "bar-ack"},
                         separators=(",", ":"), sort_keys=True)
    request = {"output": "board-message.children", "outputs": {"id": "board-message", "property": "children"},
               **_pattern_input(pattern), "changedPropIds": [f"{pattern}.n_clicks"]}
    response = nurse.post("/_dash-update-component", json=request, headers=ORIGIN)
    assert response.status_code == 403, response.get_data(as_text=True)
    assert f"session {sid}: a session of site north" in response.get_json()["error"]
    refused = audit_log(store)[0]
    assert (refused["action"], refused["who"], refused["session_id"]) == ("refused", "nurse1", sid)
    north.close()
    store.close()


def test_a_session_pages_poll_called_without_the_page_is_audited_once_and_the_page_itself_never(tmp_path: Path):
    """Every read of a record leaves a row: opening the page records `open_session`; the page's own poll after it
    adds nothing; the same poll called by a script that never opened the page records `read_session`, once."""
    store = Store.open(tmp_path / "clinic.db")
    sid = store.create_session(chair="Chair 1", patient_label="P", protocol="esketamine-84", started_at=1.0e9)
    add_user(store, "nurse1", "nurse", "correct-horse-battery")
    app = create_app(store, load_config(), secret_path=tmp_path / "key")
    poll = {"output": "..session-chart.extendData...session-state.data..",
            "outputs": [{"id": "session-chart", "property": "extendData"}],
            "inputs": [{"id": "session-poll", "property": "n_intervals", "value": 1}],
            "state": [{"id": "session-state", "property": "data", "value": {"sid": sid}}],
            "changedPropIds": ["session-poll.n_intervals"]}
    script = sign_in(app, "nurse1")
    for _ in range(3):
        script.post("/_dash-update-component", json=poll, headers=ORIGIN)
    reads = [row for row in audit_log(store) if row["action"] == "read_session"]
    assert [(row["who"], row["session_id"]) for row in reads] == [("nurse1", sid)]

    page = sign_in(app, "nurse1")
    route = {"output": "page.children", "outputs": {"id": "page", "property": "children"},
             "inputs": [{"id": "url", "property": "pathname", "value": f"/session/{sid}"},
                        {"id": "url", "property": "search", "value": ""}], "changedPropIds": ["url.pathname"]}
    assert page.post("/_dash-update-component", json=route, headers=ORIGIN).status_code == 200
    page.post("/_dash-update-component", json=poll, headers=ORIGIN)
    actions = [row["action"] for row in audit_log(store) if row["session_id"] == sid]
    assert actions.count("open_session") == 1 and actions.count("read_session") == 1
    store.close()
