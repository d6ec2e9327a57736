"""URL parameters are input too: any path or query gets a page or a clear 'not found', never an error."""
from __future__ import annotations

from pathlib import Path

import flask
import pytest

from dashboard.engine import load_config
from dashboard.store import Store
from dashboard.ui import create_app
from dashboard.ui.app import route

WEIRD = ["/session/abc", "/session/-1", "/session/99999999999999999999", "/session/1/extra", "/review/1%27%20OR%201=1",
         "/review", "/nope", "//session//", "/admin", "/settings/x", "/session/%00", "/start?chair=<script>"]


@pytest.mark.parametrize("path", WEIRD)
@pytest.mark.parametrize("role", ["nurse", "clinician", "tester", "admin"])
def test_weird_paths_get_a_page_not_an_error(tmp_path: Path, path: str, role: str):
    store = Store.open(tmp_path / "clinic.db")
    config = load_config()
    app = create_app(store, config, secret_path=tmp_path / "secret")
    pathname, _, search = path.partition("?")
    with app.server.test_request_context(path):
        flask.session.update(user=f"{role}1", role=role)
        page = str(route(store, config, pathname, "?" + search, 1000))
    assert "Traceback" not in page and ("Not found" in page or "Session" in page or "Sessions" in page
                                        or "Start a session" in page)


def test_review_paging_survives_nonsense(tmp_path: Path):
    store = Store.open(tmp_path / "clinic.db")
    config = load_config()
    app = create_app(store, config, secret_path=tmp_path / "secret")
    with app.server.test_request_context("/review"):
        flask.session.update(user="clinician1", role="clinician")
        for search in ("?page=-3", "?page=abc", "?page=%FF", "?page=1e9"):
            assert "Traceback" not in str(route(store, config, "/review", search, 1000))
