"""The named scenarios: the demo clinic's, the sample feeds', and the testers' library.

Each is a `Scenario` (devices/simulator/physiology.py): a protocol, a dose time and the
knobs that make it show one thing. `sample_data/scenarios/index.toml` says which
scenario and seed each library feed comes from.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from .episodes import ClockJump, HrEpisode, Outage, Window
from .physiology import Dip, Scenario, Span

MINUTE = 60.0

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

# ---- the testers' library (sample_data/scenarios): a quiet session plus one thing each ----------

# The quiet esketamine BP of the scenarios above, without the heart rate (some set their own).
_QUIET_BP_56: dict[str, Span] = {"rise_sbp": (8, 15), "rise_dbp": (5, 10), "baseline_sbp": (112, 130),
                                 "baseline_dbp": (68, 82)}
_QUIET_BP_84: dict[str, Span] = {"rise_sbp": (10, 16), "rise_dbp": (7, 11), "baseline_sbp": (112, 128),
                                 "baseline_dbp": (68, 80)}
_QUIET_BP_IV: dict[str, Span] = {"rise_sbp": (6, 12), "rise_dbp": (4, 8), "baseline_sbp": (115, 130),
                                 "baseline_dbp": (70, 82)}


def _induction_course(name: str, patient: str, count: int = 6) -> tuple[Scenario, ...]:
    """One patient's IV induction (docs/clinical.md: up to 6 infusions over 2-3 weeks): an older patient
    with treated hypertension whose BP response is about twice the mean (Yale +16/+11) in the first
    infusions and smaller later ("more in the first three"); baselines vary from day to day."""
    return tuple(Scenario(
        f"{name}-{n}", "iv-ketamine",
        f"IV induction infusion {n} of {count}, patient {patient} with treated hypertension: " + (
            "the larger BP response of the first three infusions" if n <= 3 else "a smaller BP response later in the course"),
        dose_at_s=900, baseline_sbp=(126, 132), baseline_dbp=(78, 84), rise_sbp=(33, 38), rise_dbp=(18, 22),
        patient=patient, infusion=n, **_STEADY_HR) for n in range(1, count + 1))


_LIBRARY = (
    Scenario("iv-typical", "iv-ketamine",
             "IV ketamine 0.5 mg/kg with baseline and rise drawn from the published distributions", dose_at_s=900),
    Scenario("esketamine-56-typical", "esketamine-56",
             "Esketamine 56 mg with baseline and rise drawn from the published distributions (outliers possible)",
             dose_at_s=600),
    Scenario("bradycardia", "esketamine-56",
             "Esketamine 56 mg; a vasovagal spell 25 min after the dose takes HR from about 60 to 43 for a minute",
             dose_at_s=600, baseline_hr=(62, 66), hr_change=(-3, -1),
             hr_episodes=(HrEpisode(25, 80, 43, ramp_s=15),), **_QUIET_BP_56),
    Scenario("tachycardia", "iv-ketamine",
             "IV ketamine; an anxious spell 20 min into the infusion takes HR to about 122 for 2 min",
             dose_at_s=900, baseline_hr=(76, 82), hr_change=(4, 8),
             hr_episodes=(HrEpisode(20, 150, 122, ramp_s=25),), **_QUIET_BP_IV),
    Scenario("respiratory-depression", "esketamine-84",
             "Esketamine 84 mg; deep sedation (MOAA/S 2) with breathing depressed at the 30 and 45 min "
             "assessments and SpO2 falling to 85 % for 2 min from 33 min after the dose",
             dose_at_s=600, deepest_moaas=2, resp_depressed=Window(28, 20 * MINUTE),
             spo2_dips=(Dip(33, 240, 85, ramp_s=60),), **_QUIET_BP_84, **_STEADY_HR),
    Scenario("probe-off", "esketamine-56",
             "Esketamine 56 mg; the oximeter probe slips off 20 min after the dose for 90 s and at 62 min for 45 s",
             dose_at_s=600, probe_off=(Window(20, 90), Window(62, 45)), **_QUIET_BP_56, **_STEADY_HR),
    Scenario("device-disconnect", "esketamine-84",
             "Esketamine 84 mg; the oximeter's cable is pulled 22 min after the dose for 150 s, and the NIBP "
             "monitor stops answering at 58 min for 5 min",
             dose_at_s=600, disconnects=(Outage("oximeter", 22, 150, "serial port closed"),
                                         Outage("nibp", 58, 300, "no answer from the monitor")),
             **_QUIET_BP_84, **_STEADY_HR),
    Scenario("missed-40min-check", "esketamine-56",
             "Esketamine 56 mg on a 3-min cuff cycle paused from 35 to 45 min after the dose: no 40-min BP",
             dose_at_s=600, nibp_interval_s=180, nibp_skipped=(Window(35, 10 * MINUTE),), **_QUIET_BP_56,
             **_STEADY_HR),
    Scenario("clock-jump", "esketamine-56",
             "Esketamine 56 mg; the oximeter's own clock jumps back an hour 50 min after the dose "
             "(device time only: session time follows received time)",
             dose_at_s=600, clock_jump=ClockJump("oximeter", 50, -3600), **_QUIET_BP_56, **_STEADY_HR),
    *_induction_course("iv-induction", "PT-0601"),
)

SCENARIOS: Mapping[str, Scenario] = MappingProxyType({s.name: s for s in (*_SCENARIOS, *_LIBRARY)})


def scenario(name: str) -> Scenario:
    """The scenario called `name`; ValueError listing the known names."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None
