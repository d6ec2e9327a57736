"""The esketamine REMS Patient Monitoring Form, filled from what the session recorded (CLINICAL.md).

Pure: it reads the status snapshot, the readings and the events; nothing here is typed by hand.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from devices.readings import Assessment

from ..engine import Config


@dataclass(frozen=True, slots=True)
class RemsSummary:
    dose: str
    predose_bp: str
    bp_40_min: str
    bp_before_completion: str
    total_minutes: float | None  # first device to end of monitoring
    ready_minute: float | None  # from the start of administration
    vitals_ok_before: bool | None
    vitals_ok_before_completion: bool | None
    sedation: bool
    dissociation: bool
    respiratory_depression: bool

    def rows(self) -> list[tuple[str, str]]:
        """(question, answer) as the form asks them."""
        return [
            ("Dose", self.dose or "–"),
            ("BP before administration", self.predose_bp),
            ("BP about 40 min after administration", self.bp_40_min),
            ("BP before completion of monitoring", self.bp_before_completion),
            ("Total minutes from first device to end of monitoring", _minutes(self.total_minutes)),
            ("Ready to leave at (minutes from start of administration)", _minutes(self.ready_minute)),
            ("Vitals acceptable before administration", _yes_no(self.vitals_ok_before)),
            ("Vitals acceptable before completion of monitoring", _yes_no(self.vitals_ok_before_completion)),
            ("Sedation observed", _yes_no(self.sedation)),
            ("Dissociation observed", _yes_no(self.dissociation)),
            ("Respiratory depression observed", _yes_no(self.respiratory_depression)),
        ]


def rems_summary(status: Mapping[str, Any], readings: Sequence[Mapping[str, Any]],
                 events: Sequence[Mapping[str, Any]], config: Config, dose: str = "") -> RemsSummary:
    dose_at = status.get("dose_at")
    end = status.get("discharged_at") or status.get("now")
    bps = [r for r in readings if r.get("sbp") is not None and _plausible(r, config)]
    before = [r for r in bps if dose_at is None or r["offset_s"] < dose_at]
    predose = before[-1] if before and dose_at is not None else None
    window = (config.value("bp.check_due.window_start") * 60, config.value("bp.check_due.window_end") * 60)
    at_40 = _closest(bps, dose_at, window)
    last = bps[-1] if bps and dose_at is not None and bps[-1]["offset_s"] >= dose_at else None
    assessed = [Assessment.parse(e["detail"]) for e in events
                if e["kind"] == "assessment" and dose_at is not None and e["offset_s"] >= dose_at]
    moaas_ok = config.value("readiness.moaas_min")
    return RemsSummary(
        dose=dose,
        predose_bp=_bp(predose),
        bp_40_min=_bp(at_40),
        bp_before_completion=_bp(last),
        total_minutes=(end - dose_at) / 60 if dose_at is not None and end is not None else None,
        ready_minute=(status["ready_at"] - dose_at) / 60 if dose_at is not None and status.get("ready_at") else None,
        vitals_ok_before=None if predose is None else (predose["sbp"] <= config.value("bp.predose_high.sbp_above")
                                                      and predose["dbp"] <= config.value("bp.predose_high.dbp_above")),
        vitals_ok_before_completion=None if last is None else (last["sbp"] < config.value("bp.high.sbp")
                                                               and last["dbp"] < config.value("bp.high.dbp")),
        sedation=any(a.moaas < moaas_ok for a in assessed),
        dissociation=any(a.dissociation for a in assessed),
        respiratory_depression=any(not a.breathing_ok for a in assessed),
    )


def _plausible(r: Mapping[str, Any], config: Config) -> bool:
    v = config.value
    return (v("reading.implausible.sbp_min") <= r["sbp"] <= v("reading.implausible.sbp_max")
            and r.get("dbp") is not None and v("reading.implausible.dbp_min") <= r["dbp"] <= v("reading.implausible.dbp_max")
            and r["dbp"] < r["sbp"])


def _closest(bps: Sequence[Mapping[str, Any]], dose_at: float | None, window: tuple[float, float]):
    """The BP nearest the middle of the post-dose check window, if one falls inside it."""
    if dose_at is None:
        return None
    inside = [r for r in bps if window[0] <= r["offset_s"] - dose_at <= window[1]]
    middle = dose_at + sum(window) / 2
    return min(inside, key=lambda r: abs(r["offset_s"] - middle), default=None)


def _bp(r: Mapping[str, Any] | None) -> str:
    return "not recorded" if r is None else f"{r['sbp']:.0f}/{r['dbp']:.0f} mmHg at {r['offset_s'] / 60:.0f} min"


def _minutes(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _yes_no(value: bool | None) -> str:
    return "–" if value is None else ("Yes" if value else "No")
