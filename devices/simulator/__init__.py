"""The physiological simulator: whole ketamine/esketamine sessions, deterministic per seed.

    session.py     session_items(scenario, seed, config): one session as its devices and nurse would report it
    chair.py       SimulatedChair: the Adapter that paces a session on the wall clock
    physiology.py  every physiological number with its source, and the Scenario knobs
    scenarios.py   the named scenarios (SCENARIOS, scenario(name))
    episodes.py    episode shapes (tachycardia, outages, clock jumps)

The protocol timings (dosing, observation) come from the caller: the engine's Config. `app.py simulate`
(dashboard/cli/simulate.py) writes feeds from it.
"""
from .chair import BACKFILL_CHUNK, SimulatedChair
from .physiology import PHYSIOLOGY, Dip, Draw, Normal, Physiology, Response, Scenario, Span
from .scenarios import SCENARIOS, scenario
from .session import (Patient, ProtocolTiming, Timings, assessment_at, device_clock_error, draw_patient,
                      response_shape, sedation_depth, session_items)

__all__ = [
    "BACKFILL_CHUNK", "PHYSIOLOGY", "SCENARIOS", "Dip", "Draw", "Normal", "Patient", "Physiology", "ProtocolTiming",
    "Response", "Scenario", "SimulatedChair", "Span", "Timings", "assessment_at", "device_clock_error",
    "draw_patient", "response_shape", "scenario", "sedation_depth", "session_items",
]
