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
        assert (found.sid, found.purpose) == (7, LIVE), component
    [forged] = references(_pattern_input(json.dumps({**as_dict, "sid": [7]})), None)
    assert forged == Reference(None, LIVE, forged.where)  # no session number: the guard refuses it
    assert references(_pattern_input("{not json"), None) == []


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
