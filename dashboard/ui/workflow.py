"""What a nurse does during a session: dose, infusion end, assessments, manual BP, measure now, audio pause,
acknowledge and discharge.

Every action is validated here (forms.py), gated where the label asks for it (a pre-dose BP above the guide
needs an override reason; discharge before `observation.ready` needs one too), then queued in the store for
ingest to fold into the session; queuing it writes its audit row in the same transaction (auth/web.py). The
panel itself is static so typing is never wiped by a poll.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from ..engine import ALARM_CODES, Config
from ..reports.rems import SERIOUS_ADVERSE_EVENT
from ..store import SessionRow, Store
from ..store.signoff import is_signed
from . import checklist, forms, refusals
from .controls import choice_group
from .forms import FormError
from .panels import clock_at
from .identity import may_see, signed_in
from .notice import error, ok

MOAAS_OPTIONS = [{"label": f"{n} – {text}", "value": n} for n, text in (
    (5, "responds readily to name"), (4, "lethargic response to name"), (3, "responds after loud or repeated name"),
    (2, "responds after mild prodding"), (1, "responds after painful stimulus"), (0, "no response"))]


def panel(row: SessionRow) -> Any:
    infusion = row.protocol == "iv-ketamine"
    return html.Div([
        html.H3("Actions"),
        html.Div([
            html.Button("Dose start", id="act-dose", className="act"),
            # always in the page (the callback needs every input), shown only for an infusion
            html.Button("Infusion end", id="act-infusion-end", className="act", hidden=not infusion),
            html.Button("Measure BP now", id="act-measure", className="act"),
            html.Button("Pause audio", id="act-pause", className="act"),
            dcc.Input(id="act-override", placeholder="override reason (pre-dose BP above guide, early discharge)",
                      className="wide", maxLength=forms.MAX_NOTE),
        ], className="act-row"),
        html.Div([
            html.Strong("Manual BP "),
            dcc.Input(id="bp-sbp", placeholder="systolic", inputMode="numeric", className="bp-input", maxLength=3),
            html.Span(" / "),
            dcc.Input(id="bp-dbp", placeholder="diastolic", inputMode="numeric", className="bp-input", maxLength=3),
            dcc.Input(id="bp-hr", placeholder="HR (optional)", inputMode="numeric", className="bp-input", maxLength=3),
            html.Button("Record BP", id="act-bp", className="act"),
        ], className="act-row"),
        html.Div([
            html.Strong("Manual SpO2 "),
            dcc.Input(id="spo2-value", placeholder="SpO2 %", inputMode="numeric", className="bp-input", maxLength=3),
            dcc.Input(id="spo2-hr", placeholder="HR (optional)", inputMode="numeric", className="bp-input",
                      maxLength=3),
            html.Button("Record SpO2", id="act-spo2", className="act"),
        ], className="act-row"),
        html.Div([
            html.Strong("Assessment "),
            dcc.Dropdown(id="as-moaas", options=MOAAS_OPTIONS, placeholder="MOAA/S", className="moaas"),
            choice_group("Dissociation", dcc.RadioItems(id="as-dissociation", inline=True, options=[
                {"label": "dissociated", "value": "yes"}, {"label": "not dissociated", "value": "no"}]),
                spoken_only=True),
            choice_group("Breathing", dcc.RadioItems(id="as-breathing", inline=True, options=[
                {"label": "breathing ok", "value": "ok"}, {"label": "breathing depressed", "value": "depressed"}]),
                spoken_only=True),
            dcc.Input(id="as-note", placeholder="note (optional)", className="wide", maxLength=forms.MAX_NOTE),
            html.Button("Record assessment", id="act-assess", className="act"),
        ], className="act-row"),
        html.Div([
            *_serious_adverse_event_question(row),
            html.Button("Discharge", id="act-discharge", className="act discharge"),
        ], className="act-row"),
        html.Div(id="act-message", className="form-message", role="status"),
    ], className="actions-panel")


def dose_start(store: Store, row: SessionRow, who: str, reason: str, config: Config) -> str:
    status = row.status or {}
    if status.get("dose_at") is not None:
        return f"The dose was already started at {clock_at(row)(status['dose_at'])}."
    unchecked = checklist.unanswered(store, row, config)
    if unchecked:  # the pre-dose checklist first: an override reason for the BP does not answer it
        raise FormError(refusals.checklist_refusal([item.text for item in unchecked]))
    predose = next((a for a in status.get("alarms", []) if a["code"] == "bp.predose_high" and a["condition"]), None)
    if predose is not None:
        try:
            reason = forms.note(reason, required=True, what="override")
        except FormError:
            raise FormError(refusals.dose_refusal(predose["value"], config.for_protocol(row.protocol))) from None
        store.submit_action(row.id, "override", who, detail=f"dose despite pre-dose BP {predose['value']}: {reason}")
    store.submit_action(row.id, "dose_start", who, detail=row.dose)
    return "Dose start recorded" + (" with the override reason." if predose else ".")


def infusion_end(store: Store, row: SessionRow, who: str) -> str:
    if (row.status or {}).get("phase") != "infusion":
        return "Infusion end applies only while the infusion runs."
    store.submit_action(row.id, "infusion_end", who)
    return "Infusion end recorded: the observation clock starts now."


def _serious_adverse_event_question(row: SessionRow) -> list[Any]:
    """What the REMS form asks that only the nurse knows at the end: always in the page (the callback needs the
    input), shown for esketamine."""
    return [html.Div(choice_group("Serious adverse event during the session?", dcc.RadioItems(
        id="act-sae", inline=True, options=[{"label": "no", "value": "no"}, {"label": "yes", "value": "yes"}])),
        hidden=not row.protocol.startswith("esketamine"), className="sae-question")]


def discharge(store: Store, row: SessionRow, who: str, reason: str, config: Config, sae: str | None = None) -> str:
    status = row.status or {}
    ready = status.get("phase") == "ready"
    if not ready:
        unmet = [name for name, ok in (status.get("readiness") or {}).items() if not ok]
        try:
            reason = forms.note(reason, required=True, what="override")
        except FormError:  # what holds the chair first, then the override
            raise FormError(refusals.discharge_refusal(status, store.events_of(row.id), row.session_now(),
                                                       config.for_protocol(row.protocol), clock_at(row))) from None
    asked = forms.serious_adverse_event(row.protocol, sae)  # refused before anything is queued
    if not ready:
        store.submit_action(row.id, "override", who, detail=f"discharge before ready ({'; '.join(unmet)}): {reason}")
    if asked is not None:
        store.submit_action(row.id, SERIOUS_ADVERSE_EVENT, who, detail=asked)
    store.submit_action(row.id, "discharge", who, detail="" if ready else "override")
    return "Discharge recorded. The chair is free once the log is written." + (
        " Report the serious adverse event to the SPRAVATO REMS." if asked == "yes" else "")


def manual_bp(store: Store, row: SessionRow, who: str, config: Config, sbp: str, dbp: str, hr: str) -> str:
    bp = forms.manual_bp(sbp, dbp, hr, config)
    store.submit_action(row.id, "manual_bp", who, sbp=bp.sbp, dbp=bp.dbp, hr=bp.hr)
    return f"Manual BP {bp.sbp:.0f}/{bp.dbp:.0f} recorded."


def manual_spo2(store: Store, row: SessionRow, who: str, config: Config, spo2: str, hr: str) -> str:
    check = forms.manual_spo2(spo2, hr, config)
    store.submit_action(row.id, "manual_spo2", who, spo2=check.spo2, hr=check.hr)
    return f"Manual SpO2 {check.spo2:.0f} % recorded."


def assessment(store: Store, row: SessionRow, who: str, moaas: Any, dissociation: str, breathing: str,
               note: str) -> str:
    answer = forms.assessment(moaas, dissociation, breathing)
    text = forms.note(note)
    store.submit_action(row.id, "assessment", who, detail=answer.to_detail())
    if text:
        store.submit_action(row.id, "note", who, detail=text)
    return f"Assessment recorded: MOAA/S {answer.moaas}."


def acknowledge(store: Store, row: SessionRow, who: str, key_json: str) -> str:
    code, source = _alarm_key(key_json)
    if not _awaits_acknowledgement(row, code, source):  # a stale button or a forged id: no action, no audit row
        raise FormError(f"{code} is not an active alarm awaiting acknowledgement: nothing was recorded.")
    store.submit_action(row.id, "acknowledge", who, detail=f"{code}|{source}" if source else code)
    return f"Acknowledged {code}."


def _awaits_acknowledgement(row: SessionRow, code: str, source: str) -> bool:
    """The alarm is shown on this session now (ingest's latest status) and nobody has acknowledged it yet."""
    return any(alarm["code"] == code and (alarm.get("source") or "") == source and not alarm.get("acked_by")
               for alarm in (row.status or {}).get("alarms") or [])


def _alarm_key(key_json: str) -> tuple[str, str]:
    """(code, source) of the alarm a button names; FormError for anything else (the id comes from the browser)."""
    try:
        code, source = json.loads(key_json)
    except (TypeError, ValueError):
        raise FormError("That is not an alarm of this session: nothing was recorded.") from None
    if code not in ALARM_CODES or not isinstance(source, str) or len(source) > 80:
        raise FormError("That is not an alarm of this session: nothing was recorded.")
    return code, source


def register(app: Dash, store: Store, config: Config) -> None:
    def run(sid: int, action: Callable[[SessionRow, str], str]) -> Any:
        """The action's confirmation, or why nothing was recorded (styled as an error)."""
        row = store.session(sid)
        if row is None or row.ended_at is not None:
            return error("This session has ended: nothing was recorded.")
        if is_signed(store, row.id):
            return error("This session is signed off: its record is read-only.")
        if not may_see(row, store.site):  # the guard refused it already (auth/records.py): never reached
            return error("This session is not yours to act on: nothing was recorded.")
        try:
            return ok(action(row, forms.who(signed_in())))
        except FormError as exc:
            return error(str(exc))

    @app.callback(Output("act-message", "children"),
                  Input("act-dose", "n_clicks"), Input("act-infusion-end", "n_clicks"), Input("act-measure", "n_clicks"),
                  Input("act-pause", "n_clicks"), Input("act-bp", "n_clicks"), Input("act-assess", "n_clicks"),
                  Input("act-discharge", "n_clicks"),
                  State("session-state", "data"), State("act-override", "value"),
                  State("bp-sbp", "value"), State("bp-dbp", "value"), State("bp-hr", "value"),
                  State("as-moaas", "value"), State("as-dissociation", "value"), State("as-breathing", "value"),
                  State("as-note", "value"), State("act-sae", "value"), prevent_initial_call=True)
    def _act(*args: Any) -> Any:
        state, reason, sbp, dbp, hr, moaas, dissociation, breathing, note, sae = args[7:]
        chosen = {
            "act-dose": lambda row, who: dose_start(store, row, who, reason, config),
            "act-infusion-end": lambda row, who: infusion_end(store, row, who),
            "act-measure": lambda row, who: _submit(store, row, who, "measure_now",
                                                    "BP measurement requested from the chair's NIBP."),
            "act-pause": lambda row, who: _submit(store, row, who, "audio_pause",
                                                  "Audio paused for this chair (time-limited).",
                                                  detail=str(int(config.value("alarm.audio_pause_max")))),
            "act-bp": lambda row, who: manual_bp(store, row, who, config, sbp, dbp, hr),
            "act-assess": lambda row, who: assessment(store, row, who, moaas, dissociation, breathing, note),
            "act-discharge": lambda row, who: discharge(store, row, who, reason, config, sae),
        }.get(ctx.triggered_id)
        if chosen is None or not ctx.triggered[0]["value"]:
            return no_update
        return run(state["sid"], chosen)

    @app.callback(Output("act-message", "children", allow_duplicate=True), Input("act-spo2", "n_clicks"),
                  State("session-state", "data"), State("spo2-value", "value"), State("spo2-hr", "value"),
                  prevent_initial_call=True)
    def _spo2(clicks: int | None, state: dict[str, Any], spo2: str, hr: str) -> Any:
        if not clicks:
            return no_update
        return run(state["sid"], lambda row, who: manual_spo2(store, row, who, config, spo2, hr))

    checklist.register(app, store, config)

    @app.callback(Output("ack-message", "children"), Input({"type": "ack", "index": ALL}, "n_clicks"),
                  State("session-state", "data"), prevent_initial_call=True)
    def _acknowledge(clicks: list[int | None], state: dict[str, Any]) -> Any:
        if not ctx.triggered_id or not any(clicks):
            return no_update
        return run(state["sid"], lambda row, who: acknowledge(store, row, who, ctx.triggered_id["index"]))


def _submit(store: Store, row: SessionRow, who: str, kind: str, message: str, detail: str = "") -> str:
    store.submit_action(row.id, kind, who, detail=detail)
    return message
