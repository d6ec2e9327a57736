"""The pre-dose checklist on the session page: each item of the protocol's list (the clinic file's
[checklist.NAME]) answered done or overridden with a reason, before the dose.

Each answer is a person's action (`checklist`, audited in the transaction that queues it) that ingest folds into
the session as an event, so the log, the PDF, the CSV and the FHIR bundle carry it. "Dose start" is refused until
every item is answered (workflow.dose_start asks `unanswered`). The answers are read from the actions table, not
from the folded events: what a nurse has just ticked counts at once, before ingest's next step. The gate is the
nurse's button only; a replayed feed's dose_start doses as the feed says.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from ..engine import ChecklistAnswer, ChecklistItem, Config
from ..reports.format import wall_clock
from ..store import SessionRow, Store
from ..store.signoff import is_signed
from . import forms
from .forms import FormError
from .identity import may_see, signed_in
from .notice import error, ok


@dataclass(frozen=True, slots=True)
class Answered:
    answer: ChecklistAnswer
    who: str
    at: float  # epoch seconds the nurse answered


def answers(store: Store, row: SessionRow) -> dict[str, Answered]:
    """The latest answer to each item, by item key (a later answer to the same item replaces the earlier one)."""
    out: dict[str, Answered] = {}
    for action in store.actions_of(row.id, "checklist"):
        try:
            answer = ChecklistAnswer.parse(action["detail"])
        except ValueError:
            continue
        out[answer.item] = Answered(answer, action["who"], action["at"])
    return out


def unanswered(store: Store, row: SessionRow, config: Config) -> list[ChecklistItem]:
    """The items of the session's checklist nobody has answered or overridden yet."""
    checklist = config.checklist(row.protocol)
    if checklist is None:
        return []
    given = answers(store, row)
    return [item for item in checklist.items if item.key not in given]


def answer(store: Store, row: SessionRow, who: str, config: Config, key: str, done: bool, reason: str) -> str:
    """Record one item done, or overridden with its reason; FormError (nothing recorded) otherwise."""
    checklist = config.checklist(row.protocol)
    item = checklist.item(key) if checklist is not None else None
    if item is None:  # the id comes from the browser
        raise FormError("That is not an item of this session's checklist: nothing was recorded.")
    if (row.status or {}).get("dose_at") is not None or store.actions_of(row.id, "dose_start"):
        raise FormError("The dose has started: the pre-dose checklist is closed, nothing was recorded.")
    clean = "" if done else forms.note(reason, required=True, what="override")
    store.submit_action(row.id, "checklist", who, detail=ChecklistAnswer(item.key, item.text, done, clean).to_detail())
    return f"{item.text}: {'done' if done else 'overridden, with the reason'}."


def state_text(given: Answered | None) -> str:
    if given is None:
        return "not answered"
    what = "done" if given.answer.done else f"overridden: {given.answer.reason}"
    return f"{what} ({given.who}, {wall_clock(given.at)[-5:]})"


def panel(store: Store, row: SessionRow, config: Config) -> Any:
    """The checklist before the actions; nothing for a protocol whose clinic file gives it none."""
    checklist = config.checklist(row.protocol)
    if checklist is None or not checklist.items:
        return html.Div(id="checklist-panel", hidden=True)
    given = answers(store, row)
    return html.Div([
        html.H3("Pre-dose checklist"),
        html.P("Answer each item before the dose, or override it with a reason.", className="hint"),
        *(_item_row(item, given.get(item.key)) for item in checklist.items),
        html.Div(id="checklist-message", className="form-message", role="status"),
    ], id="checklist-panel", className="checklist-panel")


def _item_row(item: ChecklistItem, given: Answered | None) -> Any:
    key = item.key
    return html.Div([
        html.Span(item.text, className="check-text", title=f"{item.basis}: {item.source}"),
        html.Button("Done", id={"type": "check-done", "index": key}, className="act check-done",
                    **{"aria-label": f"Done: {item.text}"}),
        dcc.Input(id={"type": "check-reason", "index": key}, placeholder="override reason", className="check-reason",
                  maxLength=forms.MAX_NOTE),
        html.Button("Override", id={"type": "check-override", "index": key}, className="act check-override",
                    **{"aria-label": f"Override: {item.text}"}),
        html.Span(state_text(given), id={"type": "check-state", "index": key}, className="check-state"),
    ], className="act-row check-item", **{"data-item": key})


def register(app: Dash, store: Store, config: Config) -> None:
    @app.callback(Output({"type": "check-state", "index": ALL}, "children"), Output("checklist-message", "children"),
                  Input({"type": "check-done", "index": ALL}, "n_clicks"),
                  Input({"type": "check-override", "index": ALL}, "n_clicks"),
                  State({"type": "check-reason", "index": ALL}, "value"),
                  State("session-state", "data"), prevent_initial_call=True)
    def _answer(_done: list, _override: list, _reasons: list, state: dict[str, Any]) -> Any:
        trigger = ctx.triggered_id
        if not trigger or not ctx.triggered[0]["value"]:
            return no_update, no_update
        key, done = trigger["index"], trigger["type"] == "check-done"
        reason = next((field.get("value") for field in ctx.states_list[0] if field["id"]["index"] == key), "")
        message = _act(store, config, state["sid"], key, done, reason)
        row = store.session(state["sid"])
        given = answers(store, row) if row is not None else {}
        states = [state_text(given.get(out["id"]["index"])) for out in ctx.outputs_list[0]]
        return states, message


def _act(store: Store, config: Config, sid: int, key: str, done: bool, reason: str) -> Any:
    """The answer's confirmation, or why nothing was recorded (as workflow's actions are guarded)."""
    row = store.session(sid)
    if row is None or row.ended_at is not None:
        return error("This session has ended: nothing was recorded.")
    if is_signed(store, row.id):
        return error("This session is signed off: its record is read-only.")
    if not may_see(row, store.site):
        return error("This session is not yours to act on: nothing was recorded.")
    try:
        return ok(answer(store, row, forms.who(signed_in()), config, key, done, reason))
    except FormError as exc:
        return error(str(exc))
