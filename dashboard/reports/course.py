"""A patient's course: one line per session of an induction series or a twice-weekly esketamine course.

Pure: it reads each session's row (status snapshot), BP readings and alarm transitions.
Baseline and peak are the engine's (the last valid pre-dose BP, the highest
post-dose systolic); the largest rise is the highest post-dose systolic and
diastolic over that baseline, each on its own, as the label's +40/+25 outlier
definition reads them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..engine import Config
from ..store import SessionRow
from .alarm_table import alarm_episodes, counts_by_code


@dataclass(frozen=True, slots=True)
class CourseSession:
    session_id: int
    number: int  # 1 = the first session of the course
    started_at: float
    protocol: str
    dose: str
    finished: bool
    baseline: tuple[float, float] | None  # (sbp, dbp)
    peak: tuple[float, float] | None
    peak_minute: float | None  # minutes after the dose
    rise: tuple[float, float] | None  # largest (systolic, diastolic) rise over the baseline, mmHg
    alarms: tuple[tuple[str, int], ...]  # (code, episodes), most frequent first
    ready_minutes: float | None  # dose start to observation.ready


def course_sessions(rows: Sequence[SessionRow], bp_readings: Mapping[int, Sequence[Mapping[str, Any]]],
                    transitions: Mapping[int, Sequence[Mapping[str, Any]]], config: Config) -> list[CourseSession]:
    return [course_session(number, row, bp_readings.get(row.id, ()), transitions.get(row.id, ()), config)
            for number, row in enumerate(rows, start=1)]


def course_session(number: int, row: SessionRow, bps: Sequence[Mapping[str, Any]],
                   transitions: Sequence[Mapping[str, Any]], config: Config) -> CourseSession:
    status = row.status or {}
    dose_at = status.get("dose_at")
    baseline, peak = _pair(status.get("baseline")), _pair(status.get("peak"))
    peak_at = (status.get("peak") or {}).get("offset_s")
    return CourseSession(
        session_id=row.id, number=number, started_at=row.started_at, protocol=row.protocol, dose=row.dose,
        finished=row.ended_at is not None, baseline=baseline, peak=peak,
        peak_minute=(peak_at - dose_at) / 60 if peak_at is not None and dose_at is not None else None,
        rise=_largest_rise(bps, baseline, dose_at, config),
        alarms=tuple(counts_by_code(alarm_episodes(transitions)).items()),
        ready_minutes=(status["ready_at"] - dose_at) / 60 if status.get("ready_at") is not None
        and dose_at is not None else None)


def _pair(bp: Mapping[str, Any] | None) -> tuple[float, float] | None:
    return None if not bp else (float(bp["sbp"]), float(bp["dbp"]))


def _largest_rise(bps: Sequence[Mapping[str, Any]], baseline: tuple[float, float] | None, dose_at: float | None,
                  config: Config) -> tuple[float, float] | None:
    if baseline is None or dose_at is None:
        return None
    after = [r for r in bps if r["offset_s"] >= dose_at and plausible_bp(r, config)]
    if not after:
        return None
    return (max(r["sbp"] for r in after) - baseline[0], max(r["dbp"] for r in after) - baseline[1])


def plausible_bp(r: Mapping[str, Any], config: Config) -> bool:
    """A BP the engine would use (not `reading.implausible`)."""
    v = config.value
    return (r.get("sbp") is not None and r.get("dbp") is not None
            and v("reading.implausible.sbp_min") <= r["sbp"] <= v("reading.implausible.sbp_max")
            and v("reading.implausible.dbp_min") <= r["dbp"] <= v("reading.implausible.dbp_max")
            and r["dbp"] < r["sbp"])
