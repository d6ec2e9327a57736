"""The physiological simulator: whole ketamine/esketamine sessions, deterministic per seed.

`session_items(scenario, seed)` yields one session as the devices and the nurse
would report it: the session start, pre-dose NIBP readings, the dose, the BP
response (rise within minutes, peak near 40 min, back to baseline by ~90 min),
1 Hz pulse-oximeter samples, nurse assessments every 15 min following the
sedation course, and the discharge once the minimum observation is over.

`SimulatedChair` is the `Adapter` that paces such a session on the wall clock.

Every physiological number lives in `Physiology` with its source (CLINICAL.md,
"Simulator physiology" and "What the BP does"); the observation and infusion
times come from the engine's config so the simulator and the alarms agree.
Nothing here reads the clock or the global random generator except the chair's
injected `clock`.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import random
import threading
import time
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Callable, Iterator, Mapping

from .adapter import Sink
from .readings import PROTOCOLS, Assessment, Item, Reading, SessionEvent

if TYPE_CHECKING:
    from dashboard.engine import Config

MINUTE = 60.0
WHO = "simulator"
Span = tuple[float, float]  # a uniform draw between low and high
Normal = tuple[float, float]  # a normal draw: (mean, sd)
Draw = float | Span | None  # fixed value, uniform range, or None = the physiology's default


@dataclass(frozen=True, slots=True)
class Response:
    """How BP responds to one kind of dose (times in minutes from dose_start)."""

    rise_sbp: Normal  # peak systolic rise of a typical (non-outlier) session
    rise_dbp: Normal  # peak diastolic rise
    outlier_fraction: float  # share of sessions with a rise of at least +40/+25
    onset_min: float  # the rise starts
    peak_min: float  # the rise is largest
    resolve_min: float  # back to the pre-dose baseline
    nibp_interval_s: float  # default NIBP cycle of this protocol


@dataclass(frozen=True, slots=True)
class Physiology:
    """Every number the simulator draws from, each with its source."""

    # Baselines: CLINICAL.md "Simulator physiology".
    baseline_sbp: Span = (110, 150)
    baseline_dbp: Span = (65, 95)
    baseline_hr: Span = (60, 90)
    baseline_spo2: Span = (95, 99)
    # SBP and DBP go together: DBP's place in its range is SBP's plus this SD (assumed).
    baseline_dbp_spread: float = 0.2
    # Esketamine: mean maximum rise +13/+9 (18-64 y), peak ~40 min, back by ~1.5 h,
    # outliers >= +40/+25 in 10-15 % of sessions (CLINICAL.md). The SDs are assumed;
    # BP "before dosing, again about 40 min after": a 5-min cycle (CLINICAL.md: 3-10 min).
    esketamine: Response = Response(rise_sbp=(13, 7), rise_dbp=(9, 5), outlier_fraction=0.12,
                                    onset_min=2, peak_min=40, resolve_min=90, nibp_interval_s=300)
    # IV ketamine: mean rises +3/+3 (Emory) to +16/+11 (Yale) -> midpoint; peak 30-40 min
    # after the start; severe hypertension in ~1 % of sessions, taken as the outlier share;
    # BP every 10 min in the infusion (Emory, Yale). Back to baseline within ~1.5 h.
    iv: Response = Response(rise_sbp=(10, 6), rise_dbp=(7, 4), outlier_fraction=0.01,
                            onset_min=2, peak_min=35, resolve_min=90, nibp_interval_s=600)
    # Outlier size: the label's outlier definition (>= +40 systolic, >= +25 diastolic); upper ends assumed.
    outlier_sbp: Span = (40, 60)
    outlier_dbp: Span = (25, 35)
    # "Heart rate can rise or fall" (CLINICAL.md, IV ketamine); size at the BP peak assumed.
    hr_change: Normal = (0, 6)
    # Reading-to-reading scatter of NIBP; assumed, well inside ISO 81060-2 (mean error
    # <= 5 mmHg, SD <= 8), small enough that a scenario stays in its intended alarm band.
    nibp_sbp_sd: float = 3.0
    nibp_dbp_sd: float = 2.0
    nibp_hr_sd: float = 2.0
    # An oscillometric cycle takes tens of seconds (assumed 30 s); the reading arrives at its end.
    nibp_measure_s: float = 30
    # The last pre-dose reading: the nurse checks BP just before dosing (label: BP before dosing).
    predose_lead_s: float = 60
    # Oximeter: 1 Hz; slow drift (mean-reverting, time constant in s) plus per-sample jitter; assumed.
    oximeter_period_s: float = 1.0
    drift_tau_s: float = 60.0
    hr_drift_sd: float = 2.0
    hr_jitter_sd: float = 0.8
    spo2_drift_sd: float = 0.6
    spo2_jitter_sd: float = 0.3
    # Sedation starts ~15 min, peaks 30-45, resolves by 60-90 min (CLINICAL.md, esketamine);
    # dissociation is assumed to follow the same course. MOAA/S at the deepest point: 3 or 4.
    sedation_onset_min: float = 15
    sedation_peak_min: Span = (30, 45)
    sedation_resolve_min: Span = (60, 90)
    sedation_deepest_moaas: tuple[int, ...] = (3, 4)
    # Nurse assessments every 15 min after the dose (clinic routine; assumed).
    assessment_every_min: float = 15
    # Discharge this long after the minimum observation: final checks, escort (assumed).
    discharge_margin_s: float = 300
    # What a failed cuff cycle reports (CLINICAL.md artifacts: motion, cuff size, failed cycles).
    nibp_failures: tuple[str, ...] = ("motion artifact", "cuff leak", "cuff too loose", "measurement timeout")

    def response(self, protocol: str) -> Response:
        return self.iv if protocol == "iv-ketamine" else self.esketamine


PHYSIOLOGY = Physiology()


@dataclass(frozen=True, slots=True)
class Dip:
    """An SpO2 dip `at_min` after the dose: `seconds` long at `nadir` %."""

    at_min: float
    seconds: float
    nadir: float


@dataclass(frozen=True, slots=True)
class Scenario:
    """One kind of session. A value left None is drawn from `Physiology`; a (low, high)
    pair is drawn uniformly from that range; a number is used as is."""

    name: str
    protocol: str  # "iv-ketamine" | "esketamine-56" | "esketamine-84"
    description: str  # one line a tester understands
    dose_at_s: float  # session time of dose_start (the nurse's action, simulated)
    rise_sbp: Draw = None  # peak rise over baseline
    rise_dbp: Draw = None
    baseline_sbp: Draw = None
    baseline_dbp: Draw = None
    baseline_hr: Draw = None
    baseline_spo2: Draw = None
    hr_change: Draw = None  # HR change at the BP peak, beats/min
    nibp_interval_s: float | None = None  # None = the protocol's cycle (Physiology)
    artifact_rate: float = 0.0  # fraction of NIBP cycles that fail or read implausibly
    dropout_rate: float = 0.0  # fraction of oximeter seconds missing
    spo2_dips: tuple[Dip, ...] = ()
    discharge: bool = True  # end with a discharge event once observation is over
    physiology: Physiology = field(default=PHYSIOLOGY, repr=False)

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"scenario {self.name}: unknown protocol {self.protocol!r}")
        for rate in (self.artifact_rate, self.dropout_rate):
            if not 0 <= rate < 1:
                raise ValueError(f"scenario {self.name}: rates must be in [0, 1), got {rate}")
        if len(self.predose_bp_times) < 2:
            raise ValueError(f"scenario {self.name}: dose at {self.dose_at_s:g} s leaves no room "
                             f"for two pre-dose BP readings on a {self.cycle_s:g} s cycle")

    @property
    def cycle_s(self) -> float:
        return self.nibp_interval_s or self.physiology.response(self.protocol).nibp_interval_s

    @property
    def predose_bp_times(self) -> list[float]:
        """Pre-dose readings back from just before the dose, one cycle apart, none before 30 s."""
        times, at = [], self.dose_at_s - self.physiology.predose_lead_s
        while at >= 30:
            times.append(float(at))
            at -= self.cycle_s
        return sorted(times)

    @property
    def dose_detail(self) -> str:
        return "0.5 mg/kg" if self.protocol == "iv-ketamine" else f"{self.protocol.split('-')[1]} mg"


# Scenarios about BP keep the heart rate well away from the HR limits, so that each
# shows only what its name says; "esketamine-84-typical" draws everything.
_STEADY_HR: dict[str, Span] = {"baseline_hr": (64, 84), "hr_change": (-4, 6)}

_SCENARIOS = (
    Scenario("iv-quiet", "iv-ketamine", "IV ketamine 0.5 mg/kg over 40 min with a modest BP rise; no alarm",
             dose_at_s=900, rise_sbp=(6, 12), rise_dbp=(4, 8), baseline_sbp=(115, 130), baseline_dbp=(70, 82), **_STEADY_HR),
    Scenario("esketamine-84-quiet", "esketamine-84", "Esketamine 84 mg with the typical +13/+9 rise; no alarm",
             dose_at_s=600, rise_sbp=(10, 16), rise_dbp=(7, 11), baseline_sbp=(112, 128), baseline_dbp=(68, 80), **_STEADY_HR),
    Scenario("esketamine-56-quiet", "esketamine-56", "Esketamine 56 mg with a typical small rise; no alarm",
             dose_at_s=600, rise_sbp=(8, 15), rise_dbp=(5, 10), baseline_sbp=(112, 130), baseline_dbp=(68, 82), **_STEADY_HR),
    Scenario("esketamine-84-severe", "esketamine-84",
             "Esketamine 84 mg peaking near 190/115 about 40 min after the dose: high, then severe, then clearing",
             dose_at_s=600, rise_sbp=58, rise_dbp=31, baseline_sbp=(128, 132), baseline_dbp=(82, 85),
             **_STEADY_HR),
    Scenario("esketamine-56-predose-wait", "esketamine-56",
             "Esketamine 56 mg, a normal session waiting about 12 min before its dose",
             dose_at_s=720, rise_sbp=(8, 15), rise_dbp=(5, 10), baseline_sbp=(112, 130), baseline_dbp=(68, 82), **_STEADY_HR),
    Scenario("esketamine-84-outlier", "esketamine-84",
             "Esketamine 84 mg outlier: rise of about +48/+27 (bp.rise, bp.high) but below severe",
             dose_at_s=600, rise_sbp=48, rise_dbp=27, baseline_sbp=(118, 122), baseline_dbp=(72, 76),
             **_STEADY_HR),
    Scenario("predose-high", "esketamine-56",
             "Pre-dose BP about 147/92, above the label's 140/90 guide; dosed anyway, small rise",
             dose_at_s=600, rise_sbp=3, rise_dbp=1, baseline_sbp=147, baseline_dbp=92, **_STEADY_HR),
    Scenario("esketamine-84-typical", "esketamine-84",
             "Esketamine 84 mg with baseline and rise drawn from the published distributions (outliers possible)",
             dose_at_s=600),
    Scenario("esketamine-84-desaturation", "esketamine-84",
             "Esketamine 84 mg with SpO2 dips near the sedation peak: 89 % for 40 s, then 86 % for 25 s",
             dose_at_s=600, rise_sbp=(10, 16), rise_dbp=(7, 11), baseline_sbp=(112, 128), baseline_dbp=(68, 80),
             spo2_dips=(Dip(30, 40, 89), Dip(45, 25, 86)), **_STEADY_HR),
    Scenario("esketamine-84-artifacts", "esketamine-84",
             "Esketamine 84 mg with a restless patient: 20 % of cuff cycles fail or misread, oximeter dropouts",
             dose_at_s=600, rise_sbp=(10, 16), rise_dbp=(7, 11), baseline_sbp=(112, 128), baseline_dbp=(68, 80),
             artifact_rate=0.2, dropout_rate=0.03, **_STEADY_HR),
)

SCENARIOS: Mapping[str, Scenario] = MappingProxyType({s.name: s for s in _SCENARIOS})


def scenario(name: str) -> Scenario:
    """The scenario called `name`; ValueError listing the known names."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None


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
    """Draw baselines, the BP rise and the sedation course for one session."""
    p = scn.physiology
    rng = random.Random(f"{seed}:{scn.name}:patient")
    rise_sbp, rise_dbp = _rise(scn, rng)
    sbp, dbp = _baseline_bp(scn, rng)
    return Patient(
        sbp=sbp, dbp=dbp,
        hr=_draw(scn.baseline_hr, p.baseline_hr, rng), spo2=_draw(scn.baseline_spo2, p.baseline_spo2, rng),
        rise_sbp=rise_sbp, rise_dbp=rise_dbp,
        hr_change=rng.gauss(*p.hr_change) if scn.hr_change is None else _draw(scn.hr_change, (0, 0), rng),
        deepest_moaas=rng.choice(p.sedation_deepest_moaas),
        sedation_peak_end_min=rng.uniform(*p.sedation_peak_min),
        sedation_resolve_min=rng.uniform(*p.sedation_resolve_min),
    )


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


def session_items(scn: Scenario | str, seed: int, config: Config | None = None) -> Iterator[Item]:
    """The whole session in non-decreasing offset_s. `config` defaults to the engine's defaults."""
    scn = scenario(scn) if isinstance(scn, str) else scn
    if config is None:
        from dashboard.engine import load_config  # the engine owns the protocol timings
        config = load_config()
    patient = draw_patient(scn, seed)
    timeline = _Timeline.of(scn, patient, config)
    items: list[Item] = [*_events(scn, patient, timeline), *_nibp(scn, patient, seed, timeline),
                         *_oximeter(scn, patient, seed, timeline)]
    items.sort(key=lambda item: item.offset_s or 0.0)  # stable: events, then BP, then oximeter at a tie
    yield from items


@dataclass(frozen=True, slots=True)
class _Timeline:
    dose_at: float
    infusion_end_at: float | None
    end_at: float  # discharge (or the end of the stream without one)

    @classmethod
    def of(cls, scn: Scenario, patient: Patient, config: Config) -> _Timeline:
        spec = config.protocols[scn.protocol]
        dose = scn.dose_at_s
        infusion_end = dose + spec.dosing_s if spec.is_infusion else None
        observation_end = (infusion_end if infusion_end is not None else dose) + spec.observation_s
        step = scn.physiology.assessment_every_min * MINUTE
        resolved = dose + math.ceil(patient.sedation_resolve_min * MINUTE / step) * step  # first calm assessment
        return cls(dose, infusion_end, max(observation_end, resolved) + scn.physiology.discharge_margin_s)


def _events(scn: Scenario, patient: Patient, tl: _Timeline) -> Iterator[SessionEvent]:
    yield _event(0.0, "session_start", scn.protocol)
    yield _event(tl.dose_at, "dose_start", scn.dose_detail)
    if tl.infusion_end_at is not None:
        yield _event(tl.infusion_end_at, "infusion_end")
    step = scn.physiology.assessment_every_min * MINUTE
    at = tl.dose_at + step
    while at < tl.end_at:
        detail = assessment_at((at - tl.dose_at) / MINUTE, patient, scn.physiology).to_detail()
        yield _event(at, "assessment", detail)
        at += step
    if scn.discharge:
        yield _event(tl.end_at, "discharge", "alert, vitals stable, escort present")


def _event(offset: float, kind: str, detail: str = "", source: str = "") -> SessionEvent:
    return SessionEvent(kind, detail=detail, source=source, offset_s=float(offset), who=WHO)


def _nibp(scn: Scenario, patient: Patient, seed: int, tl: _Timeline) -> Iterator[Item]:
    """Pre-dose readings, then the cycle restarted at the dose (the reading lands at the cycle's end)."""
    p = scn.physiology
    rng = random.Random(f"{seed}:{scn.name}:nibp")
    artifacts = random.Random(f"{seed}:{scn.name}:artifacts")
    predose = scn.predose_bp_times
    times = predose + [t + p.nibp_measure_s for t in _steps(tl.dose_at + scn.cycle_s, tl.end_at, scn.cycle_s)]
    for at in map(float, times):
        if at >= tl.end_at:
            break
        true_sbp, true_dbp, true_hr = _true_vitals(at, scn, patient, tl)
        sbp = round(true_sbp + rng.gauss(0, p.nibp_sbp_sd))
        dbp = round(true_dbp + rng.gauss(0, p.nibp_dbp_sd))
        hr = round(true_hr + rng.gauss(0, p.nibp_hr_sd))
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
    return (patient.sbp + patient.rise_sbp * shape, patient.dbp + patient.rise_dbp * shape,
            patient.hr + patient.hr_change * shape)


def _oximeter(scn: Scenario, patient: Patient, seed: int, tl: _Timeline) -> Iterator[Reading]:
    """1 Hz HR/SpO2 with a slow mean-reverting drift and per-sample jitter."""
    p = scn.physiology
    rng = random.Random(f"{seed}:{scn.name}:oximeter")
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
        if rng.random() >= scn.dropout_rate:
            yield Reading("oximeter", hr=round(hr), spo2=min(round(spo2), 100), offset_s=at)
        at += p.oximeter_period_s


def _dipped(at: float, spo2: float, dips: tuple[Dip, ...], dose_at: float) -> float:
    for dip in dips:
        start = dose_at + dip.at_min * MINUTE
        if start <= at < start + dip.seconds:
            return min(spo2, dip.nadir)
    return spo2


# ---- the adapter -----------------------------------------------------------------------

BACKFILL_CHUNK = 500  # items per submit when catching up: keeps one commit small


class SimulatedChair:
    """An `Adapter` playing one simulated session at `chair` on the wall clock.

    The item at session offset o is due at `started_at + o / speed`. Items already
    due (a session that started before the process) are submitted at once in
    chunks; later ones when due. `skip` drops the first items (already stored
    before a restart).
    """

    def __init__(self, chair: str, scn: Scenario | str, seed: int, started_at: float, speed: float = 1.0,
                 skip: int = 0, clock: Callable[[], float] = time.time, config: Config | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.chair = chair
        self.scenario = scenario(scn) if isinstance(scn, str) else scn
        self.seed, self.started_at, self.speed, self.skip = seed, started_at, speed, skip
        self.clock = clock
        self.config = config
        self.name = f"simulator:{chair}"

    def due_at(self, item: Item) -> float:
        return self.started_at + (item.offset_s or 0.0) / self.speed

    def due_now(self, now: float) -> list[Item]:
        """Every item (after `skip`) already due at `now`, stamped: the catch-up to fold before pacing live,
        so ingest never runs the session's timers ahead of readings still to come."""
        out: list[Item] = []
        for item in itertools.islice(session_items(self.scenario, self.seed, self.config), self.skip, None):
            if self.due_at(item) > now:
                break
            out.append(self._stamp(item, now))
        return out

    def run(self, sink: Sink, stop: threading.Event) -> None:
        stream = session_items(self.scenario, self.seed, self.config)
        for _ in range(self.skip):
            if next(stream, None) is None:
                return
        upcoming = next(stream, None)
        while upcoming is not None and not stop.is_set():
            now = self.clock()
            wait = self.due_at(upcoming) - now
            if wait > 0:
                if stop.wait(wait):
                    return
                continue  # re-read the clock: the wait may end early or late
            batch: list[Item] = []
            while upcoming is not None and self.due_at(upcoming) <= now and len(batch) < BACKFILL_CHUNK:
                batch.append(upcoming)
                upcoming = next(stream, None)
            received = self.clock()
            sink.submit(self.chair, [self._stamp(item, received) for item in batch])

    def _stamp(self, item: Item, received: float) -> Item:
        if isinstance(item, Reading):
            return dataclasses.replace(item, device_time=self.due_at(item), received_time=received)
        return dataclasses.replace(item, received_time=received)
