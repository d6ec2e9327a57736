"""The revisions of the SPRAVATO REMS Patient Monitoring Form, each a mapping of the session's facts onto that
revision's fields, in its order and wording, with its revision date and the public sources it follows.

A new revision of the form is a new mapping added here beside the others; CURRENT names the one new sessions are
filled under. A session keeps the revision it was started under (sessions.rems_revision, migration 0015); sessions
started before that migration keep 11/2021. docs/clinical.md tables each field of the current revision: where its
answer comes from, and its source, and says which wordings no public source confirms.
"""
from __future__ import annotations

from .form import (MEDICINES, NOT_APPLICABLE, NOT_ASSESSED, NOT_RECORDED, PATIENT, PROVIDER, SETTING, TREATMENT,
                   FormField, FormRevision, RemsForm, flag, pressure, text_field, us_date, whole, yes_no)

# The medicine classes the forms ask about: (key kept on the session, the forms' wording), in the 11/2021 order
# (opioids, which the current form adds, last). The start page asks them in this order.
CONCOMITANT: tuple[tuple[str, str], ...] = (
    ("benzodiazepines", "Benzodiazepines"),
    ("non_benzodiazepine_hypnotics", "Non-benzodiazepine sedative hypnotics"),
    ("psychostimulants", "Psychostimulants"),
    ("maois", "Monoamine oxidase inhibitors (MAOIs)"),
    ("opioids", "Opioids"),
)
_LABEL = dict(CONCOMITANT)


def _first_treatment(form: RemsForm) -> FormField:
    how = ("" if form.first_treatment is None else "confirmed at the start" if form.first_treatment_confirmed
           else "from the patient's earlier sessions")
    return flag("first-treatment", PATIENT, "Is this the patient's first treatment?", form.first_treatment,
                detail=how)


def _treatment_start(form: RemsForm) -> list[FormField]:
    """The fields both revisions ask, in the same order, from the provider to the three blood pressures."""
    return [
        text_field("provider", PROVIDER, "Healthcare provider conducting patient monitoring", form.provider),
        text_field("setting", SETTING, "Healthcare Setting Name", form.setting),
        FormField("treatment-date", TREATMENT, "Treatment Date (MM/DD/YYYY)", "date", form.treatment_date or None,
                  us_date(form.treatment_date) or NOT_RECORDED),
        text_field("dose", TREATMENT, "Dose Administered", form.dose),
        text_field("lot", TREATMENT, "Lot Number", form.lot),
        whole("total-minutes", "Treatment Duration: total time (minutes, from 1st device administration to "
              "completion of monitoring)", form.total_minutes),
        whole("ready-minutes", "REMS Evaluation Question: if there was not a 2-hour minimum monitoring "
              "requirement, when would this patient have been ready to leave/no longer require monitoring? "
              "(minutes from start of administration)", form.ready_minute),
        flag("vitals-before", TREATMENT, "Vital signs were in acceptable range prior to administration?",
             form.vitals_ok_before),
        flag("vitals-completion", TREATMENT, "Vital signs were in acceptable range prior to treatment session "
             "completion?", form.vitals_ok_before_completion),
        pressure("bp-before", "Blood pressure prior to administration", form.predose_bp),
        pressure("bp-40-min", "Blood pressure 40 mins post-administration", form.bp_40_min),
        pressure("bp-completion", "Blood pressure prior to treatment session completion", form.bp_before_completion),
    ]


def _fields_2021(form: RemsForm) -> list[FormField]:
    """11/2021, with what the product added to it before revisions were kept (first treatment, opioids,
    respiratory depression): exactly as those sessions were printed."""
    medicines = form.concomitant or {}
    return [
        text_field("patient", PATIENT, "Patient (the site's identifier)", form.patient_identifier),
        _first_treatment(form),
        *(flag(f"concomitant-{key}", MEDICINES, label, medicines.get(key)) for key, label in CONCOMITANT),
        *_treatment_start(form),
        flag("sedation", TREATMENT, "Did the patient experience sedation?", form.sedation, NOT_ASSESSED),
        flag("dissociation", TREATMENT, "Did the patient experience dissociation?", form.dissociation, NOT_ASSESSED),
        flag("respiratory-depression", TREATMENT, "Did the patient experience respiratory depression?",
             form.respiratory_depression, NOT_ASSESSED),
    ]


# The current form's medicines, in the order J&J's walk-through names them (benzodiazepines, sedative hypnotics,
# opioids, psychostimulants); MAOIs, which it does not name ("including but not limited to"), kept last.
CURRENT_MEDICINES = ("benzodiazepines", "non_benzodiazepine_hypnotics", "opioids", "psychostimulants", "maois")


def _fields_current(form: RemsForm) -> list[FormField]:
    medicines = form.concomitant or {}
    ox = form.pulse_oximetry
    return [
        text_field("patient", PATIENT, "Patient (the site's identifier)", form.patient_identifier),
        _first_treatment(form),
        _enrolled(form),
        *(flag(f"concomitant-{key}", MEDICINES, _LABEL[key], medicines.get(key)) for key in CURRENT_MEDICINES),
        *_treatment_start(form),
        FormField("pulse-oximetry", TREATMENT, "Was the patient monitored with pulse oximetry during the "
                  "treatment session?", "boolean", ox.monitored, ox.text()),
        FormField("spo2-lowest", TREATMENT, "Lowest oxygen saturation (SpO2) during monitoring, and when",
                  "string", None if ox.lowest is None else ox.lowest.text(),
                  ox.lowest.text() if ox.lowest else NOT_APPLICABLE if not ox.monitored else NOT_RECORDED,
                  required=ox.monitored),
        _effects(form),
        flag("serious-adverse-event", TREATMENT, "Did the patient experience a serious adverse event during the "
             "treatment session?", form.serious_adverse_event),
    ]


def _enrolled(form: RemsForm) -> FormField:
    """Asked only of a first treatment (the walk-through: "if yes is selected")."""
    question = "If first treatment: is the patient enrolled in the SPRAVATO REMS?"
    if form.first_treatment is False:
        return FormField("rems-enrolled", PATIENT, question, "boolean", None,
                         f"{NOT_APPLICABLE} (not a first treatment)", required=False)
    return flag("rems-enrolled", PATIENT, question, form.rems_enrolled)


def _effects(form: RemsForm) -> FormField:
    """One question for the three, as the current form asks it; the answer names which were seen."""
    seen = {"sedation": form.sedation, "dissociation": form.dissociation,
            "respiratory depression": form.respiratory_depression}
    which = [name for name, value in seen.items() if value]
    value = True if which else (None if any(v is None for v in seen.values()) else False)
    answer = f"Yes ({', '.join(which)})" if which else yes_no(value, NOT_ASSESSED)
    return FormField("sedation-dissociation-respiratory-depression", TREATMENT, "Did the patient experience "
                     "sedation, dissociation, or respiratory depression?", "boolean", value, answer,
                     not_assessed=value is None)


REVISION_2021 = FormRevision(
    date="11/2021",
    date_source="printed on the form (Janssen Pharmaceuticals, Inc. 11/2021)",
    sources=("https://manuzoid.com/manuals/DGLLa-Spravato%20Patient%20Monitoring%20Operating%20instructions",
             "https://manualspro.net/445029-spravato-patient-monitoring-form-instructions"),
    medicines_question="Is the patient currently taking any of the following medication(s) that may cause "
                       "sedation or blood pressure changes?",
    fields=_fields_2021,
)

CURRENT = FormRevision(
    date="12/2024",
    date_source="the REMS modification of 12/31/2024 (FDA REMS page, REMS=386, 'REMS last update'); no public "
                "copy of the current form shows its own revision date",
    sources=("https://jnjmedicalconnect.com/products/spravato/video-spravato-rems-patient-monitoring-form-overview",
             "https://www.accessdata.fda.gov/scripts/cder/rems/index.cfm?event=IndvRemsDetails.page&REMS=386",
             "https://support.care.osmind.org/articles/1696117798-spravato-rems-workflow"),
    medicines_question="Is the patient currently taking any of the following medication(s) that may cause "
                       "sedation, dissociation, respiratory depression, or blood pressure changes?",
    fields=_fields_current,
)

REVISIONS: dict[str, FormRevision] = {r.date: r for r in (REVISION_2021, CURRENT)}


def revision(date: str | None) -> FormRevision:
    """The revision a session was filled under; a session that names none (test data the simulator or a replay
    opened) is filled under the current one. An unknown date is a bug or a newer database: say so."""
    if date is None:
        return CURRENT
    try:
        return REVISIONS[date]
    except KeyError:
        raise ValueError(f"unknown REMS form revision {date!r} (known: {', '.join(REVISIONS)})") from None
