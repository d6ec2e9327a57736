"""Start a session on a chair. The session opens pre-dose; ingest picks it up.

Besides chair, patient label and protocol the nurse answers what the esketamine REMS Patient Monitoring Form asks
once per session: the site's patient identifier, the dose as a structured choice (56 mg / 84 mg / other) with its
lot, first treatment or not (and, for a first treatment, REMS enrolment), and the five concomitant medicine
classes. The session keeps the REMS form revision it was started under. Typing a patient label shows that
patient's earlier sessions at a glance (course_glance.py) and prefills first treatment (derived from them) and the
medicines (carried from the last answers) for the nurse to confirm. What the page showed of the course is kept on
the session: the tile's course line and the per-patient baseline policy read it there.
"""
from __future__ import annotations

import time
from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update

from devices.readings import PROTOCOLS

from ..engine import Config
from ..reports.course import CourseAtStart
from ..reports.patient_course import course_for_start
from ..reports.rems import CONCOMITANT, CURRENT
from ..store import Store
from ..store.test_data import kind
from . import forms
from .controls import choice_group
from .course_glance import concomitant_hint, course_panel, course_record
from .forms import OTHER_DOSE, PROTOCOL_DOSES, FormError
from .identity import signed_in
from .notice import error

DEFAULT_DOSES = {"iv-ketamine": "0.5 mg/kg", "esketamine-56": "56 mg", "esketamine-84": "84 mg"}
YES_NO = [{"label": "yes", "value": "yes"}, {"label": "no", "value": "no"}]
MEDICINE_LABELS = dict(CONCOMITANT)
DOSE_OPTIONS = [{"label": "56 mg", "value": "56 mg"}, {"label": "84 mg", "value": "84 mg"},
                {"label": "Other:", "value": OTHER_DOSE}]


def layout(config: Config) -> Any:
    medicines = [choice_group(label, dcc.RadioItems(id=f"new-med-{key}", options=YES_NO, inline=True),
                              className="med-row") for key, label in CONCOMITANT]
    return html.Div([
        html.H2("Start a session"),
        html.Div([
            html.Div([
                html.Label(["Chair ", dcc.Input(id="new-chair", placeholder="e.g. Chair 5", maxLength=40)]),
                html.Label(["Patient label ", dcc.Input(id="new-label", placeholder="pseudonymous label",
                                                        maxLength=forms.MAX_LABEL, debounce=0.6)]),
                html.Label(["Patient identifier (the site's, for the REMS form) ",
                            dcc.Input(id="new-identifier", placeholder="e.g. MRN", maxLength=forms.MAX_IDENTIFIER)]),
                html.Label(["Protocol ", dcc.Dropdown(id="new-protocol", options=[
                    {"label": config.protocols[p].label, "value": p} for p in PROTOCOLS], className="protocol-choice")]),
                html.Fieldset([html.Legend("Dose administered"),
                               dcc.RadioItems(id="new-dose-choice", options=DOSE_OPTIONS, inline=True),
                               dcc.Input(id="new-dose", placeholder="other dose, e.g. 28 mg", maxLength=40),
                               html.Label(["Lot number ", dcc.Input(id="new-lot", maxLength=forms.MAX_LOT)])]),
                html.Fieldset([html.Legend("Is this the patient's first treatment?"),
                               dcc.RadioItems(id="new-first", options=YES_NO, inline=True),
                               html.Span(id="new-first-hint", className="hint")]),
                html.Fieldset([html.Legend("First treatment: is the patient enrolled in the SPRAVATO REMS?"),
                               dcc.RadioItems(id="new-enrolled", options=YES_NO, inline=True),
                               html.Span("Asked of an esketamine first treatment (the REMS form asks it). Not "
                                         "enrolled: submit the Patient Enrollment Form before treating.",
                                         className="hint")], id="new-enrolled-box"),
                html.Fieldset([html.Legend("Concomitant medication: is the patient currently taking any of these "
                                           "(may cause sedation or blood pressure changes)?"),
                               *medicines, html.Span(id="new-med-hint", className="hint")]),
                html.Button("Start session", id="new-start", className="act"),
            ], className="start-form"),
            html.Div(id="new-course", className="start-course"),
        ], className="start-page"),
        html.Div(id="new-message", className="form-message", role="status"),
    ])


def start_session(store: Store, config: Config, who: str | None, chair: str | None, label: str | None,
                  protocol: str | None, dose_choice: str | None = None, dose: str | None = None,
                  lot: str | None = None, identifier: str | None = None, first: str | None = None,
                  medicines: dict[str, str | None] | None = None, enrolled: str | None = None) -> int:
    """Open the session and queue its session_start; raises FormError with what is wrong."""
    nurse = forms.who(who)
    busy = {row.chair for row in store.open_sessions() if kind(row) == "real"}  # a test session never holds a real
    # chair: a real patient's session opens beside it, and takes the chair's real readings (placement.py)
    new = forms.new_session(chair, label, protocol, dose, busy)
    answers = forms.start_answers(new.protocol, dose_choice, dose, lot, identifier, first, medicines or {},
                                  MEDICINE_LABELS, enrolled)
    course = course_for_start(store, new.patient_label, new.protocol, config)
    sid = store.create_session(chair=new.chair, patient_label=new.patient_label, protocol=new.protocol,
                               started_at=time.time(), dose=answers.dose or DEFAULT_DOSES[new.protocol],
                               patient_identifier=answers.patient_identifier, lot=answers.lot,
                               first_treatment=answers.first_treatment, concomitant=answers.concomitant,
                               course=course_record(course), rems_enrolled=answers.rems_enrolled,
                               rems_revision=CURRENT.date)  # the form revision it is filled under, kept
    store.submit_action(sid, "session_start", nurse, detail=new.protocol)
    return sid


def prefill(course: CourseAtStart | None, baseline_policy: str = "session") -> tuple[Any, ...]:
    """(course panel, first treatment, its hint, each medicine's answer, the medicines' hint)."""
    if course is None:
        return (html.Div(), None, "", *(None for _ in CONCOMITANT), "")
    first_hint = ("No earlier session of this treatment: first treatment." if course.first_treatment else
                  f"{course.number - 1} earlier session{'s' if course.number > 2 else ''} of this treatment.")
    answers = course.concomitant
    # carried answers are set for confirmation; with none, what the nurse has ticked stays as it is
    medicines = (no_update if answers is None or key not in answers else "yes" if answers[key] else "no"
                 for key, _ in CONCOMITANT)
    return (course_panel(course, baseline_policy), "yes" if course.first_treatment else "no", first_hint + " Confirm.",
            *medicines, concomitant_hint(course, MEDICINE_LABELS))


def register(app: Dash, store: Store, config: Config) -> None:
    med_ids = [f"new-med-{key}" for key, _ in CONCOMITANT]

    @app.callback(Output("new-course", "children"), Output("new-first", "value"), Output("new-first-hint", "children"),
                  *(Output(i, "value") for i in med_ids), Output("new-med-hint", "children"),
                  Input("new-label", "value"), Input("new-protocol", "value"), prevent_initial_call=True)
    def _course(label: str | None, protocol: str | None):
        text = (label or "").strip()
        if not text or len(text) > forms.MAX_LABEL:
            return prefill(None)
        return prefill(course_for_start(store, text, protocol or "esketamine-56", config), config.baseline_policy)

    @app.callback(Output("new-enrolled-box", "hidden"), Input("new-first", "value"), Input("new-protocol", "value"))
    def _enrolment(first: str | None, protocol: str | None) -> bool:
        """Asked only of an esketamine first treatment, as the form's logic asks it."""
        return not (first == "yes" and (protocol or "").startswith("esketamine"))

    @app.callback(Output("new-dose-choice", "value"), Output("new-dose", "value"), Input("new-protocol", "value"),
                  prevent_initial_call=True)
    def _dose(protocol: str | None):
        if protocol in PROTOCOL_DOSES:
            return PROTOCOL_DOSES[protocol], ""
        return (OTHER_DOSE, DEFAULT_DOSES[protocol]) if protocol in DEFAULT_DOSES else (no_update, no_update)

    @app.callback(Output("new-message", "children"), Output("url", "pathname", allow_duplicate=True),
                  Input("new-start", "n_clicks"), State("new-chair", "value"),
                  State("new-label", "value"), State("new-protocol", "value"), State("new-dose-choice", "value"),
                  State("new-dose", "value"), State("new-lot", "value"), State("new-identifier", "value"),
                  State("new-first", "value"), *(State(i, "value") for i in med_ids), State("new-enrolled", "value"),
                  prevent_initial_call=True)
    def _start(clicks: int | None, chair: str | None, label: str | None, protocol: str | None,
               dose_choice: str | None, dose: str | None, lot: str | None, identifier: str | None,
               first: str | None, *answers: str | None):
        if not clicks:
            return no_update, no_update
        *medicines, enrolled = answers
        try:
            sid = start_session(store, config, signed_in(), chair, label, protocol, dose_choice, dose, lot,
                                identifier, first, dict(zip((key for key, _ in CONCOMITANT), medicines)), enrolled)
        except FormError as exc:
            return error(str(exc)), no_update
        return "", f"/session/{sid}"
