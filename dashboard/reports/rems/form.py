"""The filled form: what the session recorded for the REMS Patient Monitoring Form (the facts), and the fields a
revision of the form asks, printed in that revision's order and wording (revisions.py).

The facts are the same whatever the revision; a revision only chooses which it asks, in what order and words. A
session keeps the revision it was filled under (sessions.rems_revision), so an old session's form never changes
when a new revision is added beside it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

# Section headings, in the forms' order (the same headings in every revision so far).
PATIENT = "Patient Information"
MEDICINES = "Concomitant Medication"
PROVIDER = "Healthcare Provider Conducting Patient Monitoring"
SETTING = "Healthcare Setting Information"
TREATMENT = "Patient Treatment Session Information (Administration and Monitoring)"
NOT_ASSESSED = "Not assessed"
NOT_RECORDED = "Not recorded"
NOT_APPLICABLE = "Not applicable"


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
class LowestSpO2:
    spo2: float
    clock: str  # the wall-clock time (HH:MM) it was read
    minutes_from_dose: float | None  # None: no dose recorded
    manual: bool  # a nurse's spot check, not the oximeter's stream

    def text(self) -> str:
        when = self.clock if self.minutes_from_dose is None else (
            f"{self.clock}, {abs(self.minutes_from_dose):.0f} min "
            f"{'before' if self.minutes_from_dose < 0 else 'after'} the first device")
        return f"{self.spo2:.0f} % at {when}" + (" (manual check)" if self.manual else "")


@dataclass(frozen=True, slots=True)
class PulseOximetry:
    """What the record holds of SpO2: the oximeter's stream and nurses' manual checks, and the lowest of them."""

    stream_readings: int
    manual_checks: int
    lowest: LowestSpO2 | None

    @property
    def monitored(self) -> bool:
        return bool(self.stream_readings or self.manual_checks)

    def text(self) -> str:
        if not self.monitored:
            return "No (no SpO2 in the record)"
        how = [f"{self.stream_readings:,} stream readings" if self.stream_readings else "",
               f"{self.manual_checks} manual check{'s' if self.manual_checks != 1 else ''}" if self.manual_checks
               else ""]
        return f"Yes ({', '.join(h for h in how if h)})"


@dataclass(frozen=True, slots=True)
class FormField:
    link_id: str  # stable: the FHIR Questionnaire's item
    section: str
    question: str
    kind: str  # boolean | string | integer | date
    value: Any  # None: not recorded, not assessed, or not applicable
    answer: str  # as printed
    not_assessed: bool = False  # the value is missing because nobody assessed it (not merely unrecorded)
    required: bool = True  # False: the form's logic skips it here (enrolment when not a first treatment)


@dataclass(frozen=True, slots=True)
class FormRevision:
    """One revision of the form (revisions.py holds each): its date, where the date and the mapping come from, and
    the mapping of a filled form's facts onto its fields, in its order and wording."""

    date: str  # the revision date as the form prints it (MM/YYYY)
    date_source: str  # where that date comes from
    sources: tuple[str, ...]  # the public copies or descriptions of this revision the mapping follows
    medicines_question: str
    fields: Callable[[RemsForm], list[FormField]]


@dataclass(frozen=True, slots=True)
class RemsForm:
    revision: FormRevision  # the form revision the session was filled under
    patient_identifier: str
    first_treatment: bool | None
    first_treatment_confirmed: bool  # the nurse confirmed it at the start (else derived from the course)
    rems_enrolled: bool | None  # asked at the start of a first treatment; None: not asked
    concomitant: Mapping[str, bool] | None  # None: not asked (a session from before the question was)
    provider: str  # the nurses who acted (dose, assessments, discharge), the dose's first
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
    pulse_oximetry: PulseOximetry
    serious_adverse_event: bool | None  # asked at discharge; None: not asked (discharged another way, or open)

    @property
    def title(self) -> str:
        return f"SPRAVATO REMS Patient Monitoring Form (revision {self.revision.date})"

    @property
    def medicines_question(self) -> str:
        """The question that heads the concomitant medicines, in this revision's words."""
        return self.revision.medicines_question

    def fields(self) -> list[FormField]:
        """Every field of the session's revision, in its order, with its typed value (FHIR) and printed answer."""
        return self.revision.fields(self)

    def missing(self) -> list[str]:
        """The questions still unanswered: a form with any is a draft, not yet complete for submission. A field
        the form's logic skips (enrolment when it is not a first treatment) is not missing."""
        return [f.question for f in self.fields() if f.value is None and f.required]

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
        """The form as plain text: its title and revision, headings, then `question: answer` lines, in order."""
        lines = [f"{self.title}, filled from the session record"]
        for section, rows in self.sections():
            lines.append("")
            lines.append(section)
            if section == MEDICINES:
                lines.append(self.medicines_question)
            lines.extend(f"  {question}: {answer}" for question, answer in rows)
        return "\n".join(lines) + "\n"


# ---- building fields (the revisions' mappings use these) ---------------------------------------------------


def text_field(link_id: str, section: str, question: str, value: str) -> FormField:
    return FormField(link_id, section, question, "string", value or None, value or NOT_RECORDED)


def flag(link_id: str, section: str, question: str, value: bool | None, missing: str = NOT_RECORDED,
         detail: str = "") -> FormField:
    answer = yes_no(value, missing) + (f" ({detail})" if detail and value is not None else "")
    return FormField(link_id, section, question, "boolean", value, answer,
                     not_assessed=value is None and missing == NOT_ASSESSED)


def whole(link_id: str, question: str, value: float | None) -> FormField:
    minutes = None if value is None else int(round(value))
    return FormField(link_id, TREATMENT, question, "integer", minutes, NOT_RECORDED if minutes is None else str(minutes))


def pressure(link_id: str, question: str, bp: FormBP | None) -> FormField:
    text = None if bp is None else bp.text()
    return FormField(link_id, TREATMENT, question, "string", text, text or NOT_RECORDED)


def us_date(iso: str) -> str:
    return f"{iso[5:7]}/{iso[8:10]}/{iso[0:4]}" if iso else ""


def yes_no(value: bool | None, missing: str) -> str:
    return missing if value is None else ("Yes" if value else "No")
