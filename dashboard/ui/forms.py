"""Validation of what nurses type. Pure: each returns the clean value or a message saying what is wrong.

A wrong entry stores nothing and tells the nurse why in plain words.
"""
from __future__ import annotations

from dataclasses import dataclass

from devices.readings import PROTOCOLS, Assessment

from ..engine import Config
from ..store.schema import NAME_LENGTH

MAX_NOTE = 500
MAX_WHO = NAME_LENGTH  # who acts is the signed-in user name: as long as any stored one
MAX_LABEL = 80


class FormError(ValueError):
    """A form entry that cannot be stored; the message is for the nurse."""


@dataclass(frozen=True, slots=True)
class ManualBP:
    sbp: float
    dbp: float
    hr: float | None


@dataclass(frozen=True, slots=True)
class ManualSpO2:
    spo2: float
    hr: float | None


def who(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise FormError("Sign in first: nothing was recorded.")
    if len(text) > MAX_WHO:
        raise FormError(f"Name or initials: at most {MAX_WHO} characters.")
    return text


def manual_bp(sbp: str | None, dbp: str | None, hr: str | None, config: Config) -> ManualBP:
    """A hand-measured BP: whole numbers inside the plausible ranges, diastolic below systolic."""
    s = _whole(sbp, "Systolic", config, "sbp")
    d = _whole(dbp, "Diastolic", config, "dbp")
    if d >= s:
        raise FormError(f"Diastolic {d:.0f} must be below systolic {s:.0f}: nothing was stored.")
    h = _whole(hr, "Heart rate", config, "hr") if (hr or "").strip() else None
    return ManualBP(s, d, h)


def manual_spo2(spo2: str | None, hr: str | None, config: Config) -> ManualSpO2:
    """A spot SpO2 check (a finger oximeter read by the nurse): a whole percentage inside the plausible range, and
    the pulse it showed when given."""
    value = _whole(spo2, "SpO2", config, "spo2")
    h = _whole(hr, "Heart rate", config, "hr") if (hr or "").strip() else None
    return ManualSpO2(value, h)


def _whole(text: str | None, label: str, config: Config, key: str) -> float:
    raw = (text or "").strip()
    if not raw:
        raise FormError(f"{label} is empty: nothing was stored.")
    if not raw.isdigit():
        raise FormError(f"{label} '{raw}' is not a whole number: nothing was stored.")
    value = float(raw)
    low, high = config.value(f"reading.implausible.{key}_min"), config.value(f"reading.implausible.{key}_max")
    if not low <= value <= high:
        raise FormError(f"{label} {raw} is outside {low:.0f}–{high:.0f}: nothing was stored.")
    return value


def assessment(moaas: int | str | None, dissociation: str | None, breathing: str | None) -> Assessment:
    if moaas is None or str(moaas) not in {"0", "1", "2", "3", "4", "5"}:
        raise FormError("Choose a MOAA/S score from 0 to 5.")
    if dissociation not in ("yes", "no"):
        raise FormError("Say whether the patient is dissociated (yes or no).")
    if breathing not in ("ok", "depressed"):
        raise FormError("Say whether breathing is normal or depressed.")
    return Assessment(int(moaas), dissociation == "yes", breathing == "ok")


def note(text: str | None, required: bool = False, what: str = "note") -> str:
    clean = " ".join((text or "").split())
    if required and not clean:
        raise FormError(f"Give a reason for the {what}: it is kept in the session log.")
    if len(clean) > MAX_NOTE:
        raise FormError(f"The {what} is too long: at most {MAX_NOTE} characters.")
    return clean


@dataclass(frozen=True, slots=True)
class NewSession:
    chair: str
    patient_label: str
    protocol: str
    dose: str


def new_session(chair: str | None, label: str | None, protocol: str | None, dose: str | None,
                busy_chairs: set[str]) -> NewSession:
    chair_text = (chair or "").strip()
    if not chair_text or len(chair_text) > 40:
        raise FormError("Name the chair (at most 40 characters).")
    if chair_text in busy_chairs:
        raise FormError(f"{chair_text} already has a session open: discharge it first.")
    label_text = (label or "").strip()
    if not label_text or len(label_text) > MAX_LABEL:
        raise FormError(f"Enter the patient label (at most {MAX_LABEL} characters).")
    if protocol not in PROTOCOLS:
        raise FormError("Choose the protocol.")
    return NewSession(chair_text, label_text, protocol, note(dose, what="dose")[:40])


@dataclass(frozen=True, slots=True)
class StartAnswers:
    """What the REMS Patient Monitoring Form asks at the start of a session (issue 14)."""

    dose: str
    lot: str
    patient_identifier: str
    first_treatment: bool | None
    concomitant: dict[str, bool] | None
    rems_enrolled: bool | None = None  # asked of a first treatment (the current REMS form's question)


PROTOCOL_DOSES = {"esketamine-56": "56 mg", "esketamine-84": "84 mg"}  # the form's boxes each protocol gives
OTHER_DOSE = "other"
MAX_LOT = 40
MAX_IDENTIFIER = 80


def start_answers(protocol: str, dose_choice: str | None, dose_other: str | None, lot: str | None,
                  identifier: str | None, first: str | None, medicines: dict[str, str | None],
                  medicine_labels: dict[str, str], enrolled: str | None = None) -> StartAnswers:
    """The dose as a structured choice (56 mg / 84 mg / other), its lot, the site's patient identifier, first
    treatment and the five concomitant medicine classes. All required for esketamine (the REMS form asks them
    every session); for IV ketamine only the dose is, and what is answered is kept."""
    esketamine = protocol in PROTOCOL_DOSES
    dose = _dose(protocol, dose_choice, dose_other)
    lot_text = " ".join((lot or "").split())
    if len(lot_text) > MAX_LOT:
        raise FormError(f"The lot number is too long: at most {MAX_LOT} characters.")
    ident = " ".join((identifier or "").split())
    if len(ident) > MAX_IDENTIFIER:
        raise FormError(f"The patient identifier is too long: at most {MAX_IDENTIFIER} characters.")
    if first not in ("yes", "no", None):
        raise FormError("Say whether this is the patient's first treatment (yes or no).")
    if esketamine and first is None:
        raise FormError("Say whether this is the patient's first treatment (yes or no): the REMS form asks it.")
    unanswered = [label for key, label in medicine_labels.items() if medicines.get(key) not in ("yes", "no")]
    if esketamine and unanswered:
        raise FormError("Answer every concomitant medicine (the REMS form asks each): " + ", ".join(unanswered) + ".")
    answered = {key: medicines[key] == "yes" for key in medicine_labels if medicines.get(key) in ("yes", "no")}
    enrolment = rems_enrolment(esketamine, first, enrolled)
    return StartAnswers(dose, lot_text, ident, None if first is None else first == "yes",
                        answered if len(answered) == len(medicine_labels) else None, enrolment)


def rems_enrolment(esketamine: bool, first: str | None, enrolled: str | None) -> bool | None:
    """For an esketamine first treatment, whether the patient is enrolled in the SPRAVATO REMS: the current form
    asks it, and the REMS wants patients enrolled before their first treatment. Asked of nothing else."""
    if enrolled not in ("yes", "no", None):
        raise FormError("Say whether the patient is enrolled in the SPRAVATO REMS (yes or no).")
    if not esketamine or first != "yes":
        return None
    if enrolled is None:
        raise FormError("A first treatment: say whether the patient is enrolled in the SPRAVATO REMS (yes or no): "
                        "the REMS form asks it, and the patient must be enrolled before the first treatment.")
    return enrolled == "yes"


def _dose(protocol: str, choice: str | None, other: str | None) -> str:
    box = PROTOCOL_DOSES.get(protocol)
    if choice == OTHER_DOSE:
        text = note(other, what="dose")[:40]
        if not text:
            raise FormError("Write the dose given (e.g. 28 mg, or 0.5 mg/kg).")
        return text
    if box is None:
        if choice is None:
            return ""  # IV ketamine: the protocol's dose unless one is written
        raise FormError(f"{choice} is an esketamine dose: for IV ketamine choose Other and write the dose.")
    if choice is None:
        raise FormError(f"Choose the dose given: {box} or Other.")
    if choice != box:
        raise FormError(f"The protocol gives {box}: choose {box}, Other, or the protocol that gives {choice}.")
    return box


def serious_adverse_event(protocol: str, answer: str | None) -> str | None:
    """The REMS form's "did a serious adverse event occur?", asked at an esketamine discharge: yes or no, required
    there (the nurse knows it, the record does not); None for other protocols."""
    if not protocol.startswith("esketamine"):
        return None
    if answer not in ("yes", "no"):
        raise FormError("Say whether the patient had a serious adverse event during the session (yes or no): the "
                        "REMS form asks it. Nothing was recorded.")
    return answer
