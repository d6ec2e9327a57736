"""The web's small refusals (issue 25): a sign-out without the page's token is no sign-out and says so; an https
page's Origin is another origin to an http server."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard.auth import add_user, audit_log
from dashboard.engine import load_config
from dashboard.store import Store
from dashboard.ui import create_app

from ..webclient import ORIGIN, PASSWORD, sign_in


@pytest.fixture
def app(tmp_path: Path):
    store = Store.open(tmp_path / "clinic.db")
    add_user(store, "nurse1", "nurse", PASSWORD)
    yield create_app(store, load_config(), secret_path=tmp_path / "key"), store
    store.close()


def _csrf(client) -> str:
    with client.session_transaction() as cookie:
        return cookie["csrf"]


def test_a_logout_without_the_token_is_refused_and_the_session_stays_as_it_was(app):
    web, store = app
    nurse = sign_in(web, "nurse1")
    for form in ({}, {"csrf": "not-the-token"}):
        answer = nurse.post("/logout", data=form, headers=ORIGIN)
        assert answer.status_code == 400 and "not signed out" in answer.get_json()["error"]
        assert nurse.get("/").status_code == 200  # still signed in, and told so
    assert "logout" not in [row["action"] for row in audit_log(store)]
    assert nurse.post("/logout", data={"csrf": _csrf(nurse)}, headers=ORIGIN).status_code == 302
    assert nurse.get("/").status_code == 302 and audit_log(store)[0]["action"] == "logout"


def test_an_https_origin_is_another_origin_to_an_http_server(app):
    web, store = app
    nurse = sign_in(web, "nurse1")
    token = _csrf(nurse)
    for origin in ("https://localhost", "http://localhost.evil.example", "null"):
        answer = nurse.post("/logout", data={"csrf": token}, headers={"Origin": origin})
        assert answer.status_code == 403, origin
    assert audit_log(store)[0]["action"] == "refused" and nurse.get("/").status_code == 200
    client = web.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"csrf": token, "username": "nurse1", "password": PASSWORD},
                         headers={"Origin": "https://localhost"})
    assert answer.status_code == 400  # the login form too
