"""What the simulator draws from: the physiology (every number with its source) and the scenario knobs.

`Physiology` holds the published figures (docs/clinical.md, "The simulated patients", and
"What the BP does") and the assumed ones, each with its source or "assumed";
a `Scenario` names one kind of session and overrides what it needs. The
episodes a scenario places in time (HR spells, probe-offs, disconnects, clock
jumps) are in `devices/simulator/episodes.py`; the named scenarios in `devices/simulator/scenarios.py`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..readings import PROTOCOLS
from .episodes import ClockJump, HrEpisode, Outage, Window

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

    # Baselines: docs/clinical.md "The simulated patients".
    baseline_sbp: Span = (110, 150)
    baseline_dbp: Span = (65, 95)
    baseline_hr: Span = (60, 90)
    baseline_spo2: Span = (95, 99)
    # SBP and DBP go together: DBP's place in its range is SBP's plus this SD (assumed).
    baseline_dbp_spread: float = 0.2
    # Esketamine: mean maximum rise +13/+9 (18-64 y), peak ~40 min, back by ~1.5 h,
    # outliers >= +40/+25 in 10-15 % of sessions (docs/clinical.md). The SDs are assumed;
    # BP "before dosing, again about 40 min after": a 5-min cycle (docs/clinical.md: 3-10 min).
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
    # "Heart rate can rise or fall" (docs/clinical.md, IV ketamine); size at the BP peak assumed.
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
    # Sedation starts ~15 min, peaks 30-45, resolves by 60-90 min (docs/clinical.md, esketamine);
    # dissociation is assumed to follow the same course. MOAA/S at the deepest point: 3 or 4.
    sedation_onset_min: float = 15
    sedation_peak_min: Span = (30, 45)
    sedation_resolve_min: Span = (60, 90)
    sedation_deepest_moaas: tuple[int, ...] = (3, 4)
    # Nurse assessments every 15 min after the dose (clinic routine; assumed).
    assessment_every_min: float = 15
    # Discharge this long after the minimum observation: final checks, escort (assumed).
    discharge_margin_s: float = 300
    # What a failed cuff cycle reports (docs/clinical.md artifacts: motion, cuff size, failed cycles).
    nibp_failures: tuple[str, ...] = ("motion artifact", "cuff leak", "cuff too loose", "measurement timeout")
    # What the oximeter says when its probe comes off: the Nonin adapter's words (devices/serial/nonin.py).
    probe_off_detail: str = "sensor alarm"
    # An induction course (docs/clinical.md): "severe hypertension ... more in the first three infusions".
    # The patient's BP response in infusion n is their first-infusion response times factor[n-1]
    # (factors assumed: about the same for the first three, then smaller), times a session-to-session
    # spread (assumed). Baselines vary from day to day by these SDs (assumed, typical visit-to-visit).
    infusion_rise_factor: tuple[float, ...] = (1.0, 0.95, 0.85, 0.6, 0.55, 0.5)
    session_rise_spread: Span = (0.9, 1.1)
    day_sbp_sd: float = 4.0
    day_dbp_sd: float = 3.0
    day_hr_sd: float = 3.0

    def response(self, protocol: str) -> Response:
        return self.iv if protocol == "iv-ketamine" else self.esketamine


PHYSIOLOGY = Physiology()


@dataclass(frozen=True, slots=True)
class Dip:
    """An SpO2 dip `at_min` after the dose: `seconds` long at `nadir` %; with `ramp_s` it falls to
    the nadir and recovers over that many seconds at each end (a desaturation, not a step)."""

    at_min: float
    seconds: float
    nadir: float
    ramp_s: float = 0.0


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
    # Heart rate: a linear trend from the dose (beats/min per hour) and episodes (devices/simulator/episodes.py).
    hr_trend_per_h: float = 0.0
    hr_episodes: tuple[HrEpisode, ...] = ()
    deepest_moaas: int | None = None  # None = drawn from Physiology.sedation_deepest_moaas
    resp_depressed: Window | None = None  # assessments in this window say resp=depressed
    probe_off: tuple[Window, ...] = ()  # oximeter probe off: a sensor_off event, no samples
    disconnects: tuple[Outage, ...] = ()  # device_disconnect ... device_reconnect, no data between
    nibp_skipped: tuple[Window, ...] = ()  # cuff cycles not taken (paused, forgotten)
    clock_jump: ClockJump | None = None  # a device's clock jumps (device_time only) and a note says so
    patient: str = ""  # one patient's course: the same person (baselines, response) in every session
    infusion: int = 0  # which infusion of the course (1..), with `patient`
    min_session_s: float = 0.0  # the discharge no earlier than this session time
    physiology: Physiology = field(default=PHYSIOLOGY, repr=False)

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"scenario {self.name}: unknown protocol {self.protocol!r}")
        for rate in (self.artifact_rate, self.dropout_rate):
            if not 0 <= rate < 1:
                raise ValueError(f"scenario {self.name}: rates must be in [0, 1), got {rate}")
        if self.patient and not 1 <= self.infusion <= len(self.physiology.infusion_rise_factor):
            raise ValueError(f"scenario {self.name}: infusion must be 1-{len(self.physiology.infusion_rise_factor)} "
                             f"in a patient's course, got {self.infusion}")
        if self.deepest_moaas is not None and not 0 <= self.deepest_moaas <= 5:
            raise ValueError(f"scenario {self.name}: MOAA/S is 0-5, got {self.deepest_moaas}")
        if not self.physiology.oximeter_period_s > 0:
            raise ValueError(f"scenario {self.name}: the oximeter period must be positive")
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
