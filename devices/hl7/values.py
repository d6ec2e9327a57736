"""What an OBX value is worth: a number, or "no value" and why. Pure.

"No value" is never a value: a monitor says it in many ways, and each one is counted
(`Discarded`) and kept out of the vitals and the alarms. The reasons, a fixed vocabulary:

| reason          | what the sender did                                                                  |
|-----------------|--------------------------------------------------------------------------------------|
| `status`        | OBX-11 is D (deleted), W (wrong), X (cannot be obtained), N (not asked), I (pending)  |
|                 | or O (order detail): no valid result in it                                           |
| `flag`          | OBX-8 says the value is not one: IHE PCD null flavours NI, NA, NAV, OFF, MSK, OTH,    |
|                 | NAN, PINF, NINF; Welch Allyn `?` (invalid); `INV`/`INVALID`                          |
| `empty`         | OBX-5 is empty (Philips Efficia: the monitor shows `?` or no NBP yet)                |
| `sentinel`      | a number vendors send for "no value": any negative number (-1, -100, -999; no NIBP,  |
|                 | rate or saturation is below 0) or an IEEE 11073 special value left undecoded: FLOAT  |
|                 | NaN 0x7FFFFF = 8388607, NRes 0x800000 = 8388608 (-8388608 signed), +INF 0x7FFFFE =   |
|                 | 8388606, -INF 0x800002 = 8388610 (-8388606), reserved 0x800001; SFLOAT NaN 0x7FF =   |
|                 | 2047, NRes 0x800 = 2048, +INF 0x7FE = 2046, -INF 0x802 = 2050, reserved 0x801 = 2049 |
| `not-a-number`  | text that is not a plain decimal number ("12a8", "NaN", "inf", "<^5", "80 bpm")      |
| `array`         | several values in one OBX: value type NA/MA, repetitions (`~`) or components (`^`)   |
| `unit`          | OBX-6 is a unit we do not know, or one of another kind of quantity                  |
| `code-conflict` | OBX-3's code and name name different things (see `codes.identify`)                  |
| `incomplete-bp` | a BP cycle whose systolic or diastolic had no value: its other BP values are not     |
|                 | stored alone (a lone MAP is no blood pressure and would only raise a technical alarm)|

Demo and test data are recognised separately (`is_demo_flag`): OBX-8 `DEMO`/`TEST`
(Mindray monitors in demo mode send `DEMO`), and MSH-11 processing id `T`/`D`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DISCARD_REASONS = ("status", "flag", "empty", "sentinel", "not-a-number", "array", "unit", "code-conflict",
                   "incomplete-bp")

ACCEPTED_STATUS = frozenset({"", "R", "F", "C", "P", "S", "U", "A"})  # HL7 table 0085: a result is there
NO_VALUE_FLAGS = frozenset({"NI", "NA", "NAV", "OFF", "MSK", "OTH", "NAN", "PINF", "NINF", "?", "INV", "INVALID"})
DEMO_FLAGS = frozenset({"DEMO", "TEST", "DEMO-DATA", "TEST-DATA", "DEMO_DATA", "TEST_DATA", "DEMODATA",
                        "TESTDATA", "SIMULATED", "SIM"})
TEST_PROCESSING_IDS = frozenset({"T", "D"})  # HL7 table 0103: training, debugging (P = production)

_IEEE_SPECIAL = frozenset({
    0x7FFFFF, 0x800000, 0x7FFFFE, 0x800002, 0x800001,  # FLOAT (24-bit mantissa) NaN, NRes, +INF, -INF, reserved
    0x7FF, 0x800, 0x7FE, 0x802, 0x801,  # SFLOAT (12-bit mantissa)
})
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")  # HL7 NM: optional sign, digits, optional point


@dataclass(frozen=True, slots=True)
class Discarded:
    """An OBX of a vital we read that carried no value: counted per sender, never stored as a vital."""

    code: str  # OBX-3 as sent ("150456^MDC_PULS_OXIM_SAT_O2")
    value: str  # OBX-5 as sent (may be empty)
    reason: str  # one of DISCARD_REASONS


def flags_of(field: str, repetition: str = "~", component: str = "^") -> frozenset[str]:
    """The OBX-8 abnormal flags, upper case (repetitions and components split)."""
    parts = (p.strip().upper() for rep in field.split(repetition) for p in rep.split(component))
    return frozenset(p for p in parts if p)


def is_demo_flag(flags: frozenset[str]) -> bool:
    return bool(flags & DEMO_FLAGS)


def no_value_reason(status: str, flags: frozenset[str], value: str) -> str:
    """Why the OBX carries no value before its value is even read ('' when it may carry one)."""
    if status.strip().upper() not in ACCEPTED_STATUS:
        return "status"
    if flags & NO_VALUE_FLAGS:
        return "flag"
    if not value.strip():
        return "empty"
    return ""


def read_number(value_type: str, value: str, separators: str = "~^&") -> float | str:
    """The value as a number, or the discard reason. `value` is OBX-5 as sent (separators included)."""
    value_type = value_type.strip().upper()
    text = value.strip()
    if value_type in ("NA", "MA") or any(sep in text for sep in separators[:1]):
        return "array"
    if value_type == "SN":  # structured numeric: [comparator]^number; only "=" or none is a plain value
        comparator, _, number = text.partition(separators[1:2] or "^")
        if comparator.strip() not in ("", "="):
            return "not-a-number"
        text = number.strip()
    elif any(sep in text for sep in separators[1:]):
        return "array"
    elif value_type not in ("NM", "ST", "TX", ""):
        return "not-a-number"  # coded, dates, text kinds: not a measurement
    if not _NUMBER.match(text):
        return "not-a-number"
    number = float(text)
    if number < 0 or (number.is_integer() and abs(int(number)) in _IEEE_SPECIAL):
        return "sentinel"
    return number
