"""The physiological simulator: whole ketamine/esketamine sessions, deterministic per seed.

`session_items(scenario, seed)` yields one session as the devices and the nurse
would report it: the session start, pre-dose NIBP readings, the dose, the BP
response (rise within minutes, peak near 40 min, back to baseline by ~90 min),
1 Hz pulse-oximeter samples, nurse assessments every 15 min following the
sedation course, and the discharge once the minimum observation is over.

`SimulatedChair` (chair.py) is the `Adapter` that paces such a session on the wall clock.

Every physiological number lives in `Physiology` with its source (docs/clinical.md,
"Simulator physiology" and "What the BP does"), beside the `Scenario` knobs in
physiology.py; the named scenarios are in scenarios.py. The observation and infusion
times are the clinic's protocol table, passed in by the caller (the engine's `Config`):
the simulator keeps no clinical timing of its own, so it and the alarms agree.
Nothing here reads the clock or the global random generator.
"""
from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass
from typing import Iterator, Mapping, Protocol

from ..readings import Assessment, Item, Reading, SessionEvent
from .episodes import trapezoid
from .physiology import Dip, Draw, Physiology, Response, Scenario, Span
from .scenarios import scenario


class ProtocolTiming(Protocol):
    """What the simulator plans one protocol's session by (the engine's `ProtocolSpec` has these)."""

    @property
    def dosing_s(self) -> float: ...

    @property
    def observation_s(self) -> float: ...

    @property
    def is_infusion(self) -> bool: ...


class Timings(Protocol):
    """The clinic's protocol table, from the caller: the engine's `Config` is one."""

    @property
    def protocols(self) -> Mapping[str, ProtocolTiming]: ...


MINUTE = 60.0
WHO = "simulator"


# ---- one patient's course --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Patient:
    """The values drawn once per session."""

    sbp: float
    dbp: float
    hr: float
    spo2: float
    rise_sbp: float
    rise_dbp: float
    hr_change: float
    deepest_moaas: int
    sedation_peak_end_min: float
    sedation_resolve_min: float


def draw_patient(scn: Scenario, seed: int) -> Patient:
    """Draw baselines, the BP rise and the sedation course for one session.

    In a patient's course (`scn.patient`) the person (baselines, BP response) is
    drawn from the patient and the seed, the same in every infusion; the day
    (baseline variation, the infusion's share of the response, sedation) from
    the infusion's own scenario."""
    p = scn.physiology
    rng = random.Random(f"{seed}:{scn.name}:patient")
    person = random.Random(f"{seed}:{scn.patient}:patient") if scn.patient else rng
    rise_sbp, rise_dbp = _rise(scn, person)
    sbp, dbp = _baseline_bp(scn, person)
    patient = Patient(
        sbp=sbp, dbp=dbp,
        hr=_draw(scn.baseline_hr, p.baseline_hr, person), spo2=_draw(scn.baseline_spo2, p.baseline_spo2, person),
        rise_sbp=rise_sbp, rise_dbp=rise_dbp,
        hr_change=rng.gauss(*p.hr_change) if scn.hr_change is None else _draw(scn.hr_change, (0, 0), rng),
        deepest_moaas=rng.choice(p.sedation_deepest_moaas),
        sedation_peak_end_min=rng.uniform(*p.sedation_peak_min),
        sedation_resolve_min=rng.uniform(*p.sedation_resolve_min),
    )
    if scn.deepest_moaas is not None:
        patient = dataclasses.replace(patient, deepest_moaas=scn.deepest_moaas)
    return _this_infusion(scn, patient, seed) if scn.patient else patient


def _this_infusion(scn: Scenario, patient: Patient, seed: int) -> Patient:
    """The same person on the day of infusion `scn.infusion`: baselines vary, the response shrinks with the course."""
    p = scn.physiology
    day = random.Random(f"{seed}:{scn.name}:day")
    share = p.infusion_rise_factor[scn.infusion - 1] * day.uniform(*p.session_rise_spread)
    return dataclasses.replace(
        patient, sbp=patient.sbp + day.gauss(0, p.day_sbp_sd), dbp=patient.dbp + day.gauss(0, p.day_dbp_sd),
        hr=patient.hr + day.gauss(0, p.day_hr_sd), rise_sbp=patient.rise_sbp * share, rise_dbp=patient.rise_dbp * share)


def _baseline_bp(scn: Scenario, rng: random.Random) -> tuple[float, float]:
    """Baseline SBP and DBP; drawn together they move together, so no 111/92."""
    p = scn.physiology
    if scn.baseline_sbp is not None or scn.baseline_dbp is not None:
        return _draw(scn.baseline_sbp, p.baseline_sbp, rng), _draw(scn.baseline_dbp, p.baseline_dbp, rng)
    level = rng.random()  # where the patient sits in the ranges, shared by both
    dbp_level = min(max(level + rng.gauss(0, p.baseline_dbp_spread), 0.0), 1.0)
    return _lerp(p.baseline_sbp, level), _lerp(p.baseline_dbp, dbp_level)


def _lerp(span: Span, fraction: float) -> float:
    return span[0] + (span[1] - span[0]) * fraction


def _draw(value: Draw, default: Span, rng: random.Random) -> float:
    if value is None:
        value = default
    return float(value) if isinstance(value, (int, float)) else rng.uniform(*value)


def _rise(scn: Scenario, rng: random.Random) -> tuple[float, float]:
    """The scenario's rise, or one drawn from the protocol's distribution with its outlier tail."""
    p, resp = scn.physiology, scn.physiology.response(scn.protocol)
    outlier = rng.random() < resp.outlier_fraction
    if outlier:
        drawn = rng.uniform(*p.outlier_sbp), rng.uniform(*p.outlier_dbp)
    else:  # a typical session stays below the outlier definition
        drawn = (min(max(rng.gauss(*resp.rise_sbp), 0), p.outlier_sbp[0] - 1),
                 min(max(rng.gauss(*resp.rise_dbp), 0), p.outlier_dbp[0] - 1))
    return (drawn[0] if scn.rise_sbp is None else _draw(scn.rise_sbp, (0, 0), rng),
            drawn[1] if scn.rise_dbp is None else _draw(scn.rise_dbp, (0, 0), rng))


def response_shape(minutes: float, resp: Response) -> float:
    """0 before the onset, 1 at the peak, back to 0 at `resolve_min` after the dose.

    A quarter sine up (fast early rise, flat top: "rises within minutes") and a
    half cosine down (gradual return)."""
    if minutes <= resp.onset_min or minutes >= resp.resolve_min:
        return 0.0
    if minutes <= resp.peak_min:
        return math.sin(math.pi / 2 * (minutes - resp.onset_min) / (resp.peak_min - resp.onset_min))
    return 0.5 + 0.5 * math.cos(math.pi * (minutes - resp.peak_min) / (resp.resolve_min - resp.peak_min))


def sedation_depth(minutes: float, patient: Patient, p: Physiology) -> float:
    """0 awake .. 1 deepest, from the dose: ramp to 30 min, plateau, fade to the resolve time."""
    onset, peak_start = p.sedation_onset_min, p.sedation_peak_min[0]
    peak_end, resolve = patient.sedation_peak_end_min, patient.sedation_resolve_min
    if minutes < onset or minutes >= resolve:
        return 0.0
    if minutes < peak_start:
        return 0.5 + 0.5 * (minutes - onset) / (peak_start - onset)  # "starts about 15 min": noticeable at once
    if minutes <= peak_end:
        return 1.0
    return (resolve - minutes) / (resolve - peak_end)


def assessment_at(minutes: float, patient: Patient, p: Physiology) -> Assessment:
    depth = sedation_depth(minutes, patient, p)
    moaas = 5 - round(depth * (5 - patient.deepest_moaas))
    return Assessment(moaas=moaas, dissociation=depth > 0, breathing_ok=True)


# ---- the session stream ------------------------------------------------------------


def session_items(scn: Scenario | str, seed: int, config: Timings,
                  device_epoch: float | None = None) -> Iterator[Item]:
    """The whole session in non-decreasing offset_s, planned by `config`'s protocol timings.

    With `device_epoch` (the device clocks' reading at the session start, epoch seconds)
    every reading also carries its `device_time`, clock jumps included."""
    scn = scenario(scn) if isinstance(scn, str) else scn
    patient = draw_patient(scn, seed)
    timeline = _Timeline.of(scn, patient, config)
    items: list[Item] = [*_events(scn, patient, timeline), *_episode_events(scn, timeline),
                         *_nibp(scn, patient, seed, timeline), *_oximeter(scn, patient, seed, timeline)]
    items.sort(key=lambda item: item.offset_s or 0.0)  # stable: events, then BP, then oximeter at a tie
    if device_epoch is not None:
        items = [_with_device_time(item, scn, device_epoch) for item in items]
    yield from items


def device_clock_error(scn: Scenario, item: Item) -> float:
    """How far the reporting device's clock is off when it reports `item` (the scenario's clock jump)."""
    if scn.clock_jump is None or not isinstance(item, Reading):
        return 0.0
    return scn.clock_jump.error(item.source, item.offset_s or 0.0, scn.dose_at_s)


def _with_device_time(item: Item, scn: Scenario, epoch: float) -> Item:
    if not isinstance(item, Reading):
        return item
    return dataclasses.replace(item, device_time=epoch + (item.offset_s or 0.0) + device_clock_error(scn, item))


@dataclass(frozen=True, slots=True)
class _Timeline:
    dose_at: float
    infusion_end_at: float | None
    end_at: float  # discharge (or the end of the stream without one)

    @classmethod
    def of(cls, scn: Scenario, patient: Patient, config: Timings) -> _Timeline:
        spec = config.protocols[scn.protocol]
        dose = scn.dose_at_s
        infusion_end = dose + spec.dosing_s if spec.is_infusion else None
        observation_end = (infusion_end if infusion_end is not None else dose) + spec.observation_s
        step = scn.physiology.assessment_every_min * MINUTE
        resolved = dose + math.ceil(patient.sedation_resolve_min * MINUTE / step) * step  # first calm assessment
        if scn.resp_depressed is not None:  # and the first one breathing normally again
            breathing = dose + math.ceil((scn.resp_depressed.end(dose) - dose) / step) * step
            resolved = max(resolved, breathing)
        end = max(observation_end, resolved) + scn.physiology.discharge_margin_s
        return cls(dose, infusion_end, max(end, scn.min_session_s))


def _events(scn: Scenario, patient: Patient, tl: _Timeline) -> Iterator[SessionEvent]:
    yield _event(0.0, "session_start", scn.protocol)
    if scn.patient:
        yield _event(0.0, "note", f"patient {scn.patient}, infusion {scn.infusion} of the course")
    yield _event(tl.dose_at, "dose_start", scn.dose_detail)
    if tl.infusion_end_at is not None:
        yield _event(tl.infusion_end_at, "infusion_end")
    step = scn.physiology.assessment_every_min * MINUTE
    at = tl.dose_at + step
    while at < tl.end_at:
        assessment = assessment_at((at - tl.dose_at) / MINUTE, patient, scn.physiology)
        if scn.resp_depressed is not None and scn.resp_depressed.holds(at, tl.dose_at):
            assessment = dataclasses.replace(assessment, breathing_ok=False)
        yield _event(at, "assessment", assessment.to_detail())
        at += step
    if scn.discharge:
        yield _event(tl.end_at, "discharge", "alert, vitals stable, escort present")


def _episode_events(scn: Scenario, tl: _Timeline) -> list[SessionEvent]:
    """What the devices and the supervisor say about probe-offs, disconnects and clock jumps, in time order."""
    out = [_event(w.start(tl.dose_at), "sensor_off", scn.physiology.probe_off_detail, source="oximeter")
           for w in scn.probe_off]
    for outage in scn.disconnects:
        out.append(_event(outage.window.start(tl.dose_at), "device_disconnect", outage.detail, source=outage.source))
        out.append(_event(outage.window.end(tl.dose_at), "device_reconnect", source=outage.source))
    jump = scn.clock_jump
    if jump is not None:
        out.append(_event(tl.dose_at + jump.at_min * MINUTE, "note",
                          f"{jump.source} clock jumped {jump.seconds:+g} s (device time); "
                          "session time follows received time", source=jump.source))
    return sorted((e for e in out if e.offset_s is not None and 0 < e.offset_s < tl.end_at),
                  key=lambda e: e.offset_s or 0.0)


def _event(offset: float, kind: str, detail: str = "", source: str = "") -> SessionEvent:
    return SessionEvent(kind, detail=detail, source=source, offset_s=float(offset), who=WHO)


def _silences(scn: Scenario, source: str, dose_at: float) -> list[Span]:
    """The session-time spans in which device `source` reports nothing (probe off, disconnected, skipped)."""
    windows = [o.window for o in scn.disconnects if o.source == source]
    windows += scn.probe_off if source == "oximeter" else scn.nibp_skipped if source == "nibp" else ()
    return [(w.start(dose_at), w.end(dose_at)) for w in windows]


def _nibp(scn: Scenario, patient: Patient, seed: int, tl: _Timeline) -> Iterator[Item]:
    """Pre-dose readings, then the cycle restarted at the dose (the reading lands at the cycle's end)."""
    p = scn.physiology
    rng = random.Random(f"{seed}:{scn.name}:nibp")
    artifacts = random.Random(f"{seed}:{scn.name}:artifacts")
    silent = _silences(scn, "nibp", tl.dose_at)
    predose = scn.predose_bp_times
    times = predose + [t + p.nibp_measure_s for t in _steps(tl.dose_at + scn.cycle_s, tl.end_at, scn.cycle_s)]
    for at in map(float, times):
        if at >= tl.end_at:
            break
        true_sbp, true_dbp, true_hr = _true_vitals(at, scn, patient, tl)
        sbp = round(true_sbp + rng.gauss(0, p.nibp_sbp_sd))
        dbp = round(true_dbp + rng.gauss(0, p.nibp_dbp_sd))
        hr = round(true_hr + rng.gauss(0, p.nibp_hr_sd))
        if silent and any(start <= at < end for start, end in silent):
            continue  # no cycle: the rest of the session draws as it would have
        baseline_reading = at == predose[-1]  # the nurse repeats a failed one before dosing
        if not baseline_reading and artifacts.random() < scn.artifact_rate:
            yield _artifact(at, sbp, dbp, hr, artifacts, p)
            continue
        yield Reading("nibp", sbp=sbp, dbp=dbp, map=round(dbp + (sbp - dbp) / 3), hr=hr, offset_s=float(at))


def _steps(start: float, stop: float, step: float) -> Iterator[float]:
    at = start
    while at < stop:
        yield at
        at += step


def _artifact(at: float, sbp: int, dbp: int, hr: int, rng: random.Random, p: Physiology) -> Item:
    """A failed cycle, or a reading a moving arm makes implausible."""
    kind = rng.random()
    if kind < 0.6:
        return _event(at, "nibp_failed", rng.choice(p.nibp_failures), source="nibp")
    if kind < 0.8:  # cuff artifact: diastolic reported at or above systolic
        return Reading("nibp", sbp=sbp, dbp=sbp + rng.randint(0, 10), map=sbp, hr=hr, offset_s=at)
    return Reading("nibp", sbp=rng.randint(305, 330), dbp=dbp, map=None, hr=hr, offset_s=at)  # overpressure


def _true_vitals(at: float, scn: Scenario, patient: Patient, tl: _Timeline) -> tuple[float, float, float]:
    """The noiseless SBP, DBP and HR at session time `at`."""
    shape = 0.0
    if at > tl.dose_at:
        shape = response_shape((at - tl.dose_at) / MINUTE, scn.physiology.response(scn.protocol))
    hr = patient.hr + patient.hr_change * shape
    if scn.hr_trend_per_h and at > tl.dose_at:
        hr += scn.hr_trend_per_h * (at - tl.dose_at) / (60 * MINUTE)
    for episode in scn.hr_episodes:
        hr = episode.apply(at, hr, tl.dose_at)
    return patient.sbp + patient.rise_sbp * shape, patient.dbp + patient.rise_dbp * shape, hr


def _oximeter(scn: Scenario, patient: Patient, seed: int, tl: _Timeline) -> Iterator[Reading]:
    """1 Hz HR/SpO2 with a slow mean-reverting drift and per-sample jitter."""
    p = scn.physiology
    rng = random.Random(f"{seed}:{scn.name}:oximeter")
    silent = _silences(scn, "oximeter", tl.dose_at)
    keep = math.exp(-p.oximeter_period_s / p.drift_tau_s)
    spread = math.sqrt(1 - keep * keep)  # keeps the drift's SD at its stated value
    hr_drift = spo2_drift = 0.0
    at = float(p.oximeter_period_s)
    while at < tl.end_at:
        hr_drift = keep * hr_drift + spread * rng.gauss(0, p.hr_drift_sd)
        spo2_drift = keep * spo2_drift + spread * rng.gauss(0, p.spo2_drift_sd)
        hr = _true_vitals(at, scn, patient, tl)[2] + hr_drift + rng.gauss(0, p.hr_jitter_sd)
        spo2 = patient.spo2 + spo2_drift + rng.gauss(0, p.spo2_jitter_sd)
        spo2 = _dipped(at, spo2, scn.spo2_dips, tl.dose_at)
        if rng.random() >= scn.dropout_rate and not (silent and any(s <= at < e for s, e in silent)):
            yield Reading("oximeter", hr=round(hr), spo2=min(round(spo2), 100), offset_s=at)
        at += p.oximeter_period_s


def _dipped(at: float, spo2: float, dips: tuple[Dip, ...], dose_at: float) -> float:
    for dip in dips:
        start = dose_at + dip.at_min * MINUTE
        if start <= at < start + dip.seconds:
            if not dip.ramp_s:
                return min(spo2, dip.nadir)
            return min(spo2, spo2 + (dip.nadir - spo2) * trapezoid(at, start, dip.seconds, dip.ramp_s))
    return spo2
