"""Filling the form from what the session recorded: its row (the start's answers), its status snapshot, its BP and
SpO2 readings and its events (who acted, the assessments, the discharge's serious-adverse-event answer). Pure."""
from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Sequence

from devices.simulator.session import WHO as SIMULATOR

from ...engine import Config
from ...service.replay import WHO as REPLAY
from ...store import SessionRow
from ..course import observed, plausible_bp
from .form import FormBP, LowestSpO2, PulseOximetry, RemsForm
from .revisions import revision

FORM_DOSES = ("56 mg", "84 mg")  # the form's two boxes; anything else is "Other:"
# People's actions that make them a provider conducting the monitoring (not the simulator, nor a replayed feed)
MONITORING_ACTIONS = ("dose_start", "assessment", "infusion_end", "serious_adverse_event", "discharge")
NOT_A_PERSON = frozenset({"", SIMULATOR, REPLAY, "unknown"})  # the simulator, a replayed feed
SERIOUS_ADVERSE_EVENT = "serious_adverse_event"  # the discharge's answer, an event with detail yes/no


def rems_form(row: SessionRow, readings: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]],
              config: Config, wall_time: Callable[[float], float], first_treatment: bool | None = None,
              spo2: Mapping[str, Any] | None = None) -> RemsForm:
    """The form of one session. `readings`: its BP readings and SpO2 readings (others are ignored); `wall_time`:
    epoch seconds of a session time (reports.record.session_wall_time); `first_treatment`: derived from the
    course when the nurse was not asked (reports.patient_course); `spo2`: the SpO2 already counted by the store
    (store.review_queries.spo2_overview), instead of SpO2 readings, for a page that draws the form at every poll."""
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
        revision=revision(row.rems_revision),
        patient_identifier=row.patient_identifier,
        first_treatment=row.first_treatment if row.first_treatment is not None else first_treatment,
        first_treatment_confirmed=row.first_treatment is not None,
        rems_enrolled=row.rems_enrolled,
        concomitant=row.concomitant,
        provider=monitoring_providers(events),
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
        pulse_oximetry=(pulse_oximetry(readings, dose_at, config, wall_time) if spo2 is None else
                        _oximetry(spo2["stream"], spo2["manual"], spo2["lowest"], dose_at, wall_time)),
        serious_adverse_event=serious_adverse_event(events),
    )


def monitoring_providers(events: Sequence[Mapping[str, Any]]) -> str:
    """The people who recorded the dose, assessments, infusion end and discharge, the dose's first, each once:
    the record's answer to "who conducted the monitoring" (the form has room for one; the nurse picks if several)."""
    acted = [e for e in events if e["kind"] in MONITORING_ACTIONS and (e.get("who") or "") not in NOT_A_PERSON]
    acted.sort(key=lambda e: e["kind"] != "dose_start")  # stable: the dose's nurse first, the rest in time order
    return ", ".join(dict.fromkeys(e["who"] for e in acted))


def pulse_oximetry(readings: Sequence[Mapping[str, Any]], dose_at: float | None, config: Config,
                   wall_time: Callable[[float], float]) -> PulseOximetry:
    """SpO2 in the record: the oximeter's stream (device readings) and manual checks (provenance manual), and the
    lowest plausible value with when. A value the engine would call implausible, or the device flagged as an
    artifact, is no saturation and never the lowest."""
    lo, hi = spo2_bounds(config)
    spo2 = [r for r in readings if r.get("spo2") is not None and not r.get("artifact") and lo <= r["spo2"] <= hi]
    manual = sum(1 for r in spo2 if r.get("provenance") == "manual")
    low = min(spo2, key=lambda r: (r["spo2"], r["offset_s"]), default=None)
    return _oximetry(len(spo2) - manual, manual, low, dose_at, wall_time)


def spo2_bounds(config: Config) -> tuple[float, float]:
    """The plausible SpO2 range (reading.implausible): outside it a value is no saturation."""
    return config.value("reading.implausible.spo2_min"), config.value("reading.implausible.spo2_max")


def _oximetry(stream: int, manual: int, low: Mapping[str, Any] | None, dose_at: float | None,
              wall_time: Callable[[float], float]) -> PulseOximetry:
    lowest = None if low is None else LowestSpO2(
        float(low["spo2"]), time.strftime("%H:%M", time.localtime(wall_time(low["offset_s"]))),
        None if dose_at is None else (low["offset_s"] - dose_at) / 60, low.get("provenance") == "manual")
    return PulseOximetry(stream, manual, lowest)


def serious_adverse_event(events: Sequence[Mapping[str, Any]]) -> bool | None:
    """The answer given at discharge (the latest, if asked twice); None when nobody was asked."""
    answers = [e["detail"] for e in events if e["kind"] == SERIOUS_ADVERSE_EVENT and e["detail"] in ("yes", "no")]
    return None if not answers else answers[-1] == "yes"


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
