"""The values the engine keeps of the vital signs, how it writes them, and which kind of source measured a rate."""
from __future__ import annotations

from dataclasses import dataclass

from devices.readings import Reading

MINUTE = 60.0


@dataclass(frozen=True, slots=True)
class BP:
    offset_s: float
    sbp: float
    dbp: float
    map: float | None

    @property
    def text(self) -> str:
        return f"{num(self.sbp)}/{num(self.dbp)}"


@dataclass(frozen=True, slots=True)
class Value:
    offset_s: float
    value: float


def num(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"


def signed(v: float) -> str:
    return f"{'+' if v >= 0 else ''}{num(v)}"


def bp_text(sbp: float | None, dbp: float | None) -> str:
    return f"{num(sbp) if sbp is not None else '?'}/{num(dbp) if dbp is not None else '?'}"


ECG_SOURCES = frozenset({"ecg", "monitor ecg"})  # Reading.source of an ECG heart rate (HL7: devices/hl7/assemble.py)
OTHER_PULSE_SOURCES = frozenset({"monitor pulse"})  # a pulse rate whose origin the monitor did not say
CUFF_SOURCES = frozenset({"monitor nibp"})  # a cuff's pulse, even in a reading without its BP
RATE_SOURCES = ("ecg", "oximeter", "pulse", "nibp", "manual")  # the kinds of rate, as `rate_source` names them


def rate_source(r: Reading) -> str:
    """Which kind of source measured a reading's heart/pulse rate: a manual entry, the cuff (a BP cycle's pulse), the
    ECG, a pulse of unsaid origin, or else a continuous pulse rate (the pulse oximeter: Nonin, HL7 `monitor spo2`)."""
    if r.provenance == "manual":
        return "manual"
    if r.has_bp or r.source in CUFF_SOURCES:
        return "nibp"
    if r.source in ECG_SOURCES:
        return "ecg"
    return "pulse" if r.source in OTHER_PULSE_SOURCES else "oximeter"
