"""The esketamine REMS Patient Monitoring Form, every field, filled from what the session recorded.

The printout follows the form's own order and wording, section by section, so a nurse can copy it onto the
form (or the REMS website) field by field, or attach it. Order and wording are those of the SPRAVATO REMS
Patient Monitoring Form - Outpatient Use Only (Janssen, 11/2021, as transcribed at
https://manuzoid.com/manuals/DGLLa-Spravato%20Patient%20Monitoring%20Operating%20instructions and
https://manualspro.net/445029-spravato-patient-monitoring-form-instructions), with what the current form adds
(first treatment, opioids, respiratory depression) as J&J's own walk-through of it names them
(https://jnjmedicalconnect.com/products/spravato/video-spravato-rems-patient-monitoring-form-overview).
docs/clinical.md says how each answer is made.

What the software cannot know (the patient's name, birth date and sex; the provider's telephone and e-mail; the
setting's address) is left for the nurse: the form's patient is the identifier the site files the patient
under. Pure: it reads the session row, its status snapshot, BP readings and events.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from ..engine import Config
from ..store import SessionRow
from .course import observed, plausible_bp

# The five medicine classes the form asks about, in its order: (key kept on the session, the form's wording).
CONCOMITANT: tuple[tuple[str, str], ...] = (
    ("benzodiazepines", "Benzodiazepines"),
    ("non_benzodiazepine_hypnotics", "Non-benzodiazepine sedative hypnotics"),
    ("psychostimulants", "Psychostimulants"),
    ("maois", "Monoamine oxidase inhibitors (MAOIs)"),
    ("opioids", "Opioids"),
)
FORM_DOSES = ("56 mg", "84 mg")  # the form's two boxes; anything else is "Other:"

# Section headings, in the form's order.
PATIENT = "Patient Information"
MEDICINES = "Concomitant Medication"
PROVIDER = "Healthcare Provider Conducting Patient Monitoring"
SETTING = "Healthcare Setting Information"
TREATMENT = "Patient Treatment Session Information (Administration and Monitoring)"
MEDICINES_QUESTION = ("Is the patient currently taking any of the following medication(s) that may cause sedation "
                      "or blood pressure changes?")
NOT_ASSESSED = "Not assessed"
NOT_RECORDED = "Not recorded"


@dataclass(frozen=True, slots=True)
class FormBP:
    sbp: float
    dbp: float
    minutes_from_dose: float  # negative before the first device

    def text(self) -> str:
        when = (f"{-self.minutes_from_dose:.0f} min before the first device" if self.minutes_from_dose < 0
                else f"{self.minutes_from_dose:.0f} min after the first device")
        return f"{self.sbp:.0f}/{self.dbp:.0f} mmHg ({when})"


@dataclass(frozen=True, slots=True)
class FormField:
    link_id: str  # stable: the FHIR Questionnaire's item
    section: str
    question: str
    kind: str  # boolean | string | integer | date
    value: Any  # None: not recorded, or not assessed
    answer: str  # as printed
    not_assessed: bool = False  # the value is missing because nobody assessed it (not merely unrecorded)


@dataclass(frozen=True, slots=True)
class RemsForm:
    patient_identifier: str
    first_treatment: bool | None
    first_treatment_confirmed: bool  # the nurse confirmed it at the start (else derived from the course)
    concomitant: Mapping[str, bool] | None  # None: not asked (a session from before the question was)
    provider: str  # who recorded the dose start
    setting: str
    treatment_date: str  # YYYY-MM-DD of the first device (printed MM/DD/YYYY, as the form asks)
    dose: str
    lot: str
    total_minutes: float | None  # first device to completion of monitoring
    ready_minute: float | None  # from the start of administration
    vitals_ok_before: bool | None
    vitals_ok_before_completion: bool | None
    predose_bp: FormBP | None
    bp_40_min: FormBP | None
    bp_before_completion: FormBP | None
    sedation: bool | None  # None: nobody assessed after the dose
    dissociation: bool | None
    respiratory_depression: bool | None

    def fields(self) -> list[FormField]:
        """Every field, in the form's order, with its typed value (for FHIR) and its printed answer."""
        medicines = self.concomitant or {}
        first = _yes_no(self.first_treatment, NOT_RECORDED) + (
            "" if self.first_treatment is None else " (confirmed at the start)" if self.first_treatment_confirmed
            else " (from the patient's earlier sessions)")
        return [
            _text("patient", PATIENT, "Patient (the site's identifier)", self.patient_identifier),
            FormField("first-treatment", PATIENT, "Is this the patient's first treatment?", "boolean",
                      self.first_treatment, first),
            *(_flag(f"concomitant-{key}", MEDICINES, label, medicines.get(key), NOT_RECORDED)
              for key, label in CONCOMITANT),
            _text("provider", PROVIDER, "Healthcare provider conducting patient monitoring", self.provider),
            _text("setting", SETTING, "Healthcare Setting Name", self.setting),
            FormField("treatment-date", TREATMENT, "Treatment Date (MM/DD/YYYY)", "date", self.treatment_date or None,
                      _us_date(self.treatment_date) or NOT_RECORDED),
            _text("dose", TREATMENT, "Dose Administered", self.dose),
            _text("lot", TREATMENT, "Lot Number", self.lot),
            _whole("total-minutes", "Treatment Duration: total time (minutes, from 1st device administration to "
                   "completion of monitoring)", self.total_minutes),
            _whole("ready-minutes", "REMS Evaluation Question: if there was not a 2-hour minimum monitoring "
                   "requirement, when would this patient have been ready to leave/no longer require monitoring? "
                   "(minutes from start of administration)", self.ready_minute),
            _flag("vitals-before", TREATMENT, "Vital signs were in acceptable range prior to administration?",
                  self.vitals_ok_before, NOT_RECORDED),
            _flag("vitals-completion", TREATMENT, "Vital signs were in acceptable range prior to treatment session "
                  "completion?", self.vitals_ok_before_completion, NOT_RECORDED),
            _pressure("bp-before", "Blood pressure prior to administration", self.predose_bp),
            _pressure("bp-40-min", "Blood pressure 40 mins post-administration", self.bp_40_min),
            _pressure("bp-completion", "Blood pressure prior to treatment session completion",
                      self.bp_before_completion),
            _flag("sedation", TREATMENT, "Did the patient experience sedation?", self.sedation, NOT_ASSESSED),
            _flag("dissociation", TREATMENT, "Did the patient experience dissociation?", self.dissociation,
                  NOT_ASSESSED),
            _flag("respiratory-depression", TREATMENT, "Did the patient experience respiratory depression?",
                  self.respiratory_depression, NOT_ASSESSED),
        ]

    def missing(self) -> list[str]:
        """The questions still unanswered: a form with any is a draft, not yet complete for submission."""
        return [f.question for f in self.fields() if f.value is None]

    def rows(self) -> list[tuple[str, str, str]]:
        """(section, the form's question, the printed answer), in the form's order."""
        return [(f.section, f.question, f.answer) for f in self.fields()]

    def sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The rows grouped under their headings, in order (the concomitant question heads its section)."""
        out: list[tuple[str, list[tuple[str, str]]]] = []
        for section, question, answer in self.rows():
            if not out or out[-1][0] != section:
                out.append((section, []))
            out[-1][1].append((question, answer))
        return out

    def text(self) -> str:
        """The form as plain text: headings, then `question: answer` lines, in the form's order."""
        lines = ["SPRAVATO REMS Patient Monitoring Form (filled from the session record)"]
        for section, rows in self.sections():
            lines.append("")
            lines.append(section)
            if section == MEDICINES:
                lines.append(MEDICINES_QUESTION)
            lines.extend(f"  {question}: {answer}" for question, answer in rows)
        return "\n".join(lines) + "\n"


def rems_form(row: SessionRow, readings: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]],
              config: Config, wall_time: Callable[[float], float], first_treatment: bool | None = None) -> RemsForm:
    """The form of one session. `wall_time`: epoch seconds of a session time (reports.record.session_wall_time);
    `first_treatment`: derived from the course when the nurse was not asked (reports.patient_course)."""
    status = row.status or {}
    dose_at = status.get("dose_at")
    end = status.get("discharged_at") if status.get("discharged_at") is not None else status.get("now")
    bps = [r for r in readings if r.get("sbp") is not None and plausible_bp(r, config)]
    predose = [r for r in bps if dose_at is not None and r["offset_s"] < dose_at][-1:]
    window = (config.value("bp.check_due.window_start") * 60, config.value("bp.check_due.window_end") * 60)
    at_40 = _nearest_40(bps, dose_at, window)
    last = [r for r in bps if dose_at is not None and r["offset_s"] >= dose_at][-1:]
    sedation, dissociation, breathing = observed(events, dose_at, config)
    return RemsForm(
        patient_identifier=row.patient_identifier,
        first_treatment=row.first_treatment if row.first_treatment is not None else first_treatment,
        first_treatment_confirmed=row.first_treatment is not None,
        concomitant=row.concomitant,
        provider=next((e["who"] for e in events if e["kind"] == "dose_start" and e.get("who")), ""),
        setting=row.site,
        treatment_date=time.strftime("%Y-%m-%d", time.localtime(wall_time(dose_at if dose_at is not None else 0.0))),
        dose=form_dose(dose_given(row, events)),
        lot=row.lot,
        total_minutes=(end - dose_at) / 60 if dose_at is not None and end is not None else None,
        ready_minute=(status["ready_at"] - dose_at) / 60 if dose_at is not None and status.get("ready_at") is not None
        else None,
        vitals_ok_before=_acceptable_before(predose[0], config) if predose else None,
        vitals_ok_before_completion=_acceptable_at_end(last[0], config) if last else None,
        predose_bp=_form_bp(predose[0], dose_at) if predose else None,
        bp_40_min=_form_bp(at_40, dose_at) if at_40 else None,
        bp_before_completion=_form_bp(last[0], dose_at) if last else None,
        sedation=sedation, dissociation=dissociation, respiratory_depression=breathing,
    )


def dose_given(row: SessionRow, events: Sequence[Mapping[str, Any]]) -> str:
    """The session's dose, else what its dose_start said (a replayed feed's `84 mg`)."""
    return row.dose or next((e["detail"] for e in events if e["kind"] == "dose_start" and e.get("detail")), "")


def form_dose(dose: str) -> str:
    """The form's dose answer: one of its boxes, or "Other: ..."."""
    text = " ".join(dose.split())
    if not text:
        return ""
    return text if text in FORM_DOSES else f"Other: {text}"


def _acceptable_before(r: Mapping[str, Any], config: Config) -> bool:
    """Within the label's guide for dosing (bp.predose_high)."""
    return (r["sbp"] <= config.value("bp.predose_high.sbp_above")
            and r["dbp"] <= config.value("bp.predose_high.dbp_above"))


def _acceptable_at_end(r: Mapping[str, Any], config: Config) -> bool:
    """Below the elevated limit, as discharge readiness asks (bp.high)."""
    return r["sbp"] < config.value("bp.high.sbp") and r["dbp"] < config.value("bp.high.dbp")


def _nearest_40(bps: Sequence[Mapping[str, Any]], dose_at: float | None, window: tuple[float, float]):
    """The BP nearest the middle of the post-dose check window (about 40 min after the first device), if one falls
    inside it: timed from the dose, never from the session start."""
    if dose_at is None:
        return None
    inside = [r for r in bps if window[0] <= r["offset_s"] - dose_at <= window[1]]
    middle = dose_at + sum(window) / 2
    return min(inside, key=lambda r: abs(r["offset_s"] - middle), default=None)


def _form_bp(r: Mapping[str, Any], dose_at: float | None) -> FormBP:
    return FormBP(float(r["sbp"]), float(r["dbp"]), (r["offset_s"] - (dose_at or 0.0)) / 60)


def _text(link_id: str, section: str, question: str, value: str) -> FormField:
    return FormField(link_id, section, question, "string", value or None, value or NOT_RECORDED)


def _flag(link_id: str, section: str, question: str, value: bool | None, missing: str) -> FormField:
    return FormField(link_id, section, question, "boolean", value, _yes_no(value, missing),
                     not_assessed=value is None and missing == NOT_ASSESSED)


def _whole(link_id: str, question: str, value: float | None) -> FormField:
    minutes = None if value is None else int(round(value))
    return FormField(link_id, TREATMENT, question, "integer", minutes, NOT_RECORDED if minutes is None else str(minutes))


def _pressure(link_id: str, question: str, bp: FormBP | None) -> FormField:
    text = None if bp is None else bp.text()
    return FormField(link_id, TREATMENT, question, "string", text, text or NOT_RECORDED)


def _us_date(iso: str) -> str:
    return f"{iso[5:7]}/{iso[8:10]}/{iso[0:4]}" if iso else ""


def _yes_no(value: bool | None, missing: str) -> str:
    return missing if value is None else ("Yes" if value else "No")


__all__ = ["CONCOMITANT", "FORM_DOSES", "dose_given", "FormBP", "FormField", "NOT_ASSESSED", "NOT_RECORDED", "RemsForm", "form_dose",
           "rems_form"]
