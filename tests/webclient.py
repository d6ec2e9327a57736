"""The real app through Flask's test client: sign in through the login form, call Dash callbacks as the
browser does, read the pages the router sends."""
from __future__ import annotations

import json
import re
from typing import Any, Iterator

from dash.dependencies import Wildcard

PASSWORD = "correct-horse-battery"
ORIGIN = {"Origin": "http://localhost"}


def sign_in(app: Any, username: str, password: str = PASSWORD, remote: str = "127.0.0.1", expect: int = 302):
    """A test client signed in as `username` from address `remote` (or refused, with `expect`)."""
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = remote
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    response = client.post("/login?next=/", data={"csrf": token, "username": username, "password": password},
                           headers=ORIGIN)
    assert response.status_code == expect, response.get_data(as_text=True)[-300:]
    return client


def body(key: str, spec: dict[str, Any], values: dict[tuple[str, str], Any], trigger: str | None = None,
         patterns: dict[str, list[tuple[dict[str, Any], Any]]] | None = None) -> dict[str, Any]:
    """The request the Dash renderer sends for the callback `key` (`spec` from app.callback_map), with input and
    state values from `values` ((component id, prop) -> value) and pattern inputs from `patterns` (pattern type
    -> [(id, value)]); `trigger` is the changed input ("id.prop")."""
    def output(out: Any) -> Any:
        """An output as the renderer names it: a wildcard one as the list of the components it matches now."""
        component, prop = out.component_id, out.component_property
        if isinstance(component, dict) and any(isinstance(v, Wildcard) for v in component.values()):
            return [{"id": pid, "property": prop} for pid, _ in (patterns or {}).get(component["type"], [])]
        return {"id": component, "property": prop}

    outputs = [output(out) for out in spec["output"]] if isinstance(spec["output"], list) else output(spec["output"])

    def item(dep: dict[str, Any]) -> Any:
        component, prop = dep["id"], dep["property"]
        if component.startswith("{"):
            kind = json.loads(component)["type"]
            return [{"id": pid, "property": prop, "value": value} for pid, value in (patterns or {}).get(kind, [])]
        return {"id": component, "property": prop, "value": values.get((component, prop))}

    return {"output": key, "outputs": outputs, "inputs": [item(d) for d in spec["inputs"]],
            "state": [item(d) for d in spec["state"]], "changedPropIds": [trigger] if trigger else []}


def call(client: Any, request: dict[str, Any]) -> Any:
    return client.post("/_dash-update-component", json=request, headers=ORIGIN)


def request_for(app: Any, output: str, values: dict[tuple[str, str], Any], trigger: str | None) -> dict[str, Any]:
    """The request for the server callback whose outputs name `output` ("id.prop")."""
    key = next(k for k in server_callbacks(app) if output in k)
    return body(key, app.callback_map[key], values, trigger)


def admin_action(app: Any, client: Any, button: str, name: str, role: str | None = None,
                 password: str | None = None) -> str:
    """An admin's press of `button` on the users page with those fields; the page's answer."""
    request = request_for(app, "users-message", {("users-name", "value"): name, ("users-role", "value"): role,
                                                 ("users-password", "value"): password, (button, "n_clicks"): 1},
                          f"{button}.n_clicks")
    response = call(client, request)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def server_callbacks(app: Any) -> dict[str, dict[str, Any]]:
    """Every callback that runs on the server (clientside ones run in the browser)."""
    return {key: spec for key, spec in app.callback_map.items() if "callback" in spec}


def components(tree: Any) -> Iterator[tuple[Any, dict[str, Any]]]:
    """(id, props) of every component with an id in a layout as JSON (what the server sends the browser)."""
    if isinstance(tree, dict):
        props = tree.get("props")
        if isinstance(props, dict) and "type" in tree:
            if "id" in props:
                yield props["id"], props
            for value in props.values():
                yield from components(value)
        else:
            for value in tree.values():
                yield from components(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from components(value)


def as_json(layout: Any) -> Any:
    """A Dash layout as the browser receives it."""
    import plotly

    return json.loads(json.dumps(layout, cls=plotly.utils.PlotlyJSONEncoder))
