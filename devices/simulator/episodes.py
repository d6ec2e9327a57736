"""Time-limited things that happen in a simulated session, for the simulator's scenarios.

Each is a frozen value placed in minutes from the dose start (negative = before
the dose) so a scenario reads like the nurse's story: "at 20 min the probe came
off for 90 s". The simulator asks these values what holds at a session time;
nothing here draws random numbers, so adding an episode to a scenario never
shifts the random streams of the rest of the session.

- `Window`: a span of session time (probe off, cuff cycles skipped, breathing depressed).
- `HrEpisode`: the heart rate moves to a level and back (bradycardia, tachycardia).
- `Outage`: a device disconnects and reconnects (no data from it in between).
- `ClockJump`: a device's own clock jumps; session time, taken from received time, does not.
"""
from __future__ import annotations

from dataclasses import dataclass

MINUTE = 60.0


def _positive(what: str, seconds: float) -> None:
    if not seconds > 0:
        raise ValueError(f"{what} needs a positive length in seconds, got {seconds:g}")


@dataclass(frozen=True, slots=True)
class Window:
    """`seconds` long from `at_min` minutes after the dose start."""

    at_min: float
    seconds: float

    def __post_init__(self) -> None:
        _positive("a window", self.seconds)

    def start(self, dose_at: float) -> float:
        return dose_at + self.at_min * MINUTE

    def end(self, dose_at: float) -> float:
        return self.start(dose_at) + self.seconds

    def holds(self, at: float, dose_at: float) -> bool:
        return self.start(dose_at) <= at < self.end(dose_at)


def trapezoid(at: float, start: float, seconds: float, ramp_s: float) -> float:
    """0 outside [start, start + seconds); 1 on the plateau; linear ramps of `ramp_s` at each end."""
    if not start <= at < start + seconds:
        return 0.0
    if ramp_s <= 0:
        return 1.0
    return min(1.0, (at - start) / ramp_s, (start + seconds - at) / ramp_s)


@dataclass(frozen=True, slots=True)
class HrEpisode:
    """The heart rate goes to `level` beats/min from `at_min` after the dose for `seconds`,
    ramping in and out over `ramp_s` (vasovagal slowing, a burst of anxiety, ...)."""

    at_min: float
    seconds: float
    level: float
    ramp_s: float = 20.0

    def __post_init__(self) -> None:
        _positive("an HR episode", self.seconds)
        if not 2 * self.ramp_s < self.seconds:
            raise ValueError(f"an HR episode of {self.seconds:g} s cannot ramp {self.ramp_s:g} s in and out")

    def apply(self, at: float, hr: float, dose_at: float) -> float:
        share = trapezoid(at, dose_at + self.at_min * MINUTE, self.seconds, self.ramp_s)
        return hr + (self.level - hr) * share if share else hr


@dataclass(frozen=True, slots=True)
class Outage:
    """Device `source` disconnects `at_min` after the dose and reconnects `seconds` later;
    it reports nothing in between. `detail` is what the supervisor would say."""

    source: str
    at_min: float
    seconds: float
    detail: str = "serial port closed"

    def __post_init__(self) -> None:
        _positive("an outage", self.seconds)
        if not self.source:
            raise ValueError("an outage needs the device's source label")

    @property
    def window(self) -> Window:
        return Window(self.at_min, self.seconds)


@dataclass(frozen=True, slots=True)
class ClockJump:
    """Device `source`'s clock jumps by `seconds` (negative = back) `at_min` after the dose.

    Only the readings' `device_time` moves; their session offsets come from the
    received time and stay monotonic."""

    source: str
    at_min: float
    seconds: float

    def __post_init__(self) -> None:
        if not self.seconds:
            raise ValueError("a clock jump needs a non-zero size in seconds")

    def error(self, source: str, offset_s: float, dose_at: float) -> float:
        """How far the device's clock is off at session time `offset_s` (0 before the jump)."""
        return self.seconds if source == self.source and offset_s >= dose_at + self.at_min * MINUTE else 0.0
