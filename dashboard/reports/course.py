"""A patient's course: one line per session of an induction series or a twice-weekly esketamine course.

Pure: it reads each session's row (status snapshot), BP readings, alarm transitions and assessments.
Baseline and peak are the engine's (the last valid pre-dose BP, the highest
post-dose systolic); the largest rise is the highest post-dose systolic and
diastolic over that baseline, each on its own, as the label's +40/+25 outlier
definition reads them.

A series is the patient's sessions of one treatment (IV ketamine, or esketamine
at either dose), numbered from 1; the first `course.*_induction` of them are the
induction, the rest maintenance. `CourseAtStart` is what a nurse sees when she
opens a session for a patient with earlier ones; it is kept on the session row,
so the tile and the engine's per-patient baseline read it and never the store.
"""
from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

from devices.readings import Assessment

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
    series_number: int = 1  # in the patient's series of this treatment
    severe_alarms: int = 0  # high-priority alarm episodes
    sedation: bool | None = None  # a post-dose MOAA/S below readiness.moaas_min; None: nobody assessed
    dissociation: bool | None = None
    respiratory_depression: bool | None = None


def series_of(protocol: str) -> str:
    """The treatment a protocol belongs to: sessions of one series are numbered together."""
    return "esketamine" if protocol.startswith("esketamine") else "iv"


def course_sessions(rows: Sequence[SessionRow], bp_readings: Mapping[int, Sequence[Mapping[str, Any]]],
                    transitions: Mapping[int, Sequence[Mapping[str, Any]]], config: Config,
                    assessments: Mapping[int, Sequence[Mapping[str, Any]]] | None = None) -> list[CourseSession]:
    """`rows` oldest first; `assessments`: each session's assessment events (kind, detail, offset_s)."""
    seen: dict[str, int] = {}
    out = []
    for number, row in enumerate(rows, start=1):
        series = series_of(row.protocol)
        seen[series] = seen.get(series, 0) + 1
        out.append(course_session(number, row, bp_readings.get(row.id, ()), transitions.get(row.id, ()), config,
                                  (assessments or {}).get(row.id, ()), seen[series]))
    return out


def course_session(number: int, row: SessionRow, bps: Sequence[Mapping[str, Any]],
                   transitions: Sequence[Mapping[str, Any]], config: Config,
                   assessments: Sequence[Mapping[str, Any]] = (), series_number: int | None = None) -> CourseSession:
    status = row.status or {}
    dose_at = status.get("dose_at")
    baseline, peak = _pair(status.get("baseline")), _pair(status.get("peak"))
    peak_at = (status.get("peak") or {}).get("offset_s")
    episodes = alarm_episodes(transitions)
    seen = observed(assessments, dose_at, config)
    return CourseSession(
        session_id=row.id, number=number, started_at=row.started_at, protocol=row.protocol, dose=row.dose,
        finished=row.ended_at is not None, baseline=baseline, peak=peak,
        peak_minute=(peak_at - dose_at) / 60 if peak_at is not None and dose_at is not None else None,
        rise=_largest_rise(bps, baseline, dose_at, config),
        alarms=tuple(counts_by_code(episodes).items()),
        ready_minutes=(status["ready_at"] - dose_at) / 60 if status.get("ready_at") is not None
        and dose_at is not None else None,
        series_number=number if series_number is None else series_number,
        severe_alarms=sum(1 for ep in episodes if ep.priority == "high"),
        sedation=seen[0], dissociation=seen[1], respiratory_depression=seen[2])


def observed(events: Sequence[Mapping[str, Any]], dose_at: float | None,
             config: Config) -> tuple[bool | None, bool | None, bool | None]:
    """(sedation, dissociation, respiratory depression) seen in the assessments after the dose; each None when
    no assessment was recorded after it (not assessed is not "no")."""
    assessed = []
    for e in events:
        if e["kind"] != "assessment" or dose_at is None or e["offset_s"] < dose_at:
            continue
        try:
            assessed.append(Assessment.parse(e["detail"]))
        except ValueError:
            continue  # refused by the forms and the feed reader; never in a record, never guessed
    if not assessed:
        return None, None, None
    return (any(a.moaas < config.value("readiness.moaas_min") for a in assessed),
            any(a.dissociation for a in assessed), any(not a.breathing_ok for a in assessed))


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


# ---- the course as a nurse opens a new session -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CourseAtStart:
    """The patient's earlier sessions as the start page shows them, and what the new session takes from them."""

    earlier: tuple[CourseSession, ...]  # oldest first
    series: str  # of the new session
    number: int  # the new session's number in its series
    induction: int  # sessions in that series' induction
    first_treatment: bool  # no earlier session of this treatment
    usual_baseline: tuple[float, float] | None  # median pre-dose BP of the earlier sessions (enough of them)
    concomitant: Mapping[str, bool] | None  # the latest earlier answers, carried for confirmation
    concomitant_from: int | None  # the session they were given in

    @property
    def phase(self) -> str:
        return "induction" if self.number <= self.induction else "maintenance"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CourseAtStart:
        """Back from `to_dict` (keys it does not know, such as the tile's line, are left aside)."""
        earlier = tuple(CourseSession(**{k: _tuples(v) for k, v in s.items()}) for s in data.get("earlier", ()))
        return cls(earlier, data["series"], int(data["number"]), int(data["induction"]), bool(data["first_treatment"]),
                   _tuples(data.get("usual_baseline")), data.get("concomitant"), data.get("concomitant_from"))


def course_at_start(protocol: str, earlier_rows: Sequence[SessionRow], earlier: Sequence[CourseSession],
                    config: Config) -> CourseAtStart:
    """What a new session of `protocol` takes from the patient's earlier sessions (oldest first)."""
    series = series_of(protocol)
    same = [s for s in earlier if series_of(s.protocol) == series]
    baselines = [s.baseline for s in earlier if s.baseline is not None]
    enough = len(baselines) >= max(1, config.value("baseline.course_sessions_min"))
    usual = (statistics.median(b[0] for b in baselines), statistics.median(b[1] for b in baselines)) if enough \
        else None
    answered = [row for row in earlier_rows if row.concomitant]
    return CourseAtStart(
        earlier=tuple(earlier), series=series, number=len(same) + 1,
        induction=int(config.value(f"course.{series}_induction")), first_treatment=not same,
        usual_baseline=usual, concomitant=dict(answered[-1].concomitant) if answered else None,
        concomitant_from=answered[-1].id if answered else None)


def _tuples(value: Any) -> Any:
    """JSON gives lists back where the dataclasses hold tuples."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value
