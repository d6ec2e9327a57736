"""Observation ids and units seen in the field (PROTOCOLS.md table), as data.

An OBX is matched, in order, on its OBX-3 identifier (IEEE 11073 MDC number, LOINC,
or a Philips MDIL `pppp-cccc` code turned into MDC by partition * 65536 + code),
its OBX-3 text (MDC reference id, vendor label), then a local tag (SYS, DIA, ...) in
OBX-3 or OBX-4. A code that matches nothing is kept as raw and never guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

KPA_TO_MMHG = 7.50062


@dataclass(frozen=True, slots=True)
class Quantity:
    key: str  # "sbp", "dbp", "map", "pulse", "ecg_hr", "spo2"
    label: str  # for messages: "systolic NIBP"
    dimension: str  # "pressure", "rate", "percent"

    @property
    def is_bp(self) -> bool:
        return self.key in ("sbp", "dbp", "map")


SBP = Quantity("sbp", "systolic NIBP", "pressure")
DBP = Quantity("dbp", "diastolic NIBP", "pressure")
MAP = Quantity("map", "mean NIBP", "pressure")
PULSE = Quantity("pulse", "pulse rate", "rate")
ECG_HR = Quantity("ecg_hr", "heart rate", "rate")
SPO2 = Quantity("spo2", "SpO2", "percent")

MDC: Mapping[int, Quantity] = MappingProxyType({
    150021: SBP, 150022: DBP, 150023: MAP, 149546: PULSE, 147842: ECG_HR, 150456: SPO2,
})
LOINC: Mapping[str, Quantity] = MappingProxyType({
    "8480-6": SBP, "8462-4": DBP, "8478-0": MAP, "8867-4": PULSE, "59408-5": SPO2, "2708-6": SPO2,
})
NAMES: Mapping[str, Quantity] = MappingProxyType({  # upper case; MDC reference ids, vendor labels, local tags
    "MDC_PRESS_BLD_NONINV_SYS": SBP, "MDC_PRESS_BLD_NONINV_DIA": DBP, "MDC_PRESS_BLD_NONINV_MEAN": MAP,
    "MDC_PULS_RATE_NON_INV": PULSE, "MDC_ECG_HEART_RATE": ECG_HR, "MDC_PULS_OXIM_SAT_O2": SPO2,
    "NBPS": SBP, "NBPD": DBP, "NBPM": MAP,  # Philips labels
    "SYS": SBP, "DIA": DBP, "MEAN": MAP, "MAP": MAP, "HR": ECG_HR, "PR": PULSE, "PULSE": PULSE,
    "SPO2": SPO2,  # local tags (Welch Allyn style, in OBX-3 or OBX-4)
})


@dataclass(frozen=True, slots=True)
class Unit:
    dimension: str
    to_standard: float  # factor to mmHg, beats/min or percent


MMHG, KPA = Unit("pressure", 1.0), Unit("pressure", KPA_TO_MMHG)
PER_MIN, PERCENT = Unit("rate", 1.0), Unit("percent", 1.0)
UNITS_MDC: Mapping[int, Unit] = MappingProxyType({
    266016: MMHG, 265987: KPA, 264864: PER_MIN, 262688: PERCENT,
})
UNIT_NAMES: Mapping[str, Unit] = MappingProxyType({  # case as sent, then upper case
    "MDC_DIM_MMHG": MMHG, "mm[Hg]": MMHG, "mmHg": MMHG, "MMHG": MMHG,
    "MDC_DIM_KILO_PASCAL": KPA, "kPa": KPA, "KPA": KPA,
    "MDC_DIM_BEAT_PER_MIN": PER_MIN, "/min": PER_MIN, "{beat}/min": PER_MIN, "{beats}/min": PER_MIN,
    "1/min": PER_MIN, "bpm": PER_MIN, "BPM": PER_MIN,
    "MDC_DIM_PERCENT": PERCENT, "%": PERCENT,
})
DEFAULT_UNIT: Mapping[str, Unit] = MappingProxyType({"pressure": MMHG, "rate": PER_MIN, "percent": PERCENT})

_MDIL = re.compile(r"^([0-9A-Fa-f]{4})-([0-9A-Fa-f]{4})$")


def mdil_to_mdc(code: str) -> int | None:
    """Philips MDIL `0002-4a05` -> 2 * 65536 + 0x4A05 = 150021; None when not of that form."""
    match = _MDIL.match(code.strip())
    if not match:
        return None
    return int(match.group(1), 16) * 65536 + int(match.group(2), 16)


def numeric_code(identifier: str) -> int | None:
    """An MDC number given as decimal or as MDIL partition-code."""
    text = identifier.strip()
    if text.isdigit():
        return int(text)
    return mdil_to_mdc(text)


def quantity_of(identifier: str, text: str, sub_id: str) -> Quantity | None:
    """The quantity an OBX reports (OBX-3.1, OBX-3.2, OBX-4), or None if unknown."""
    number = numeric_code(identifier)
    if number is not None and number in MDC:
        return MDC[number]
    if identifier.strip() in LOINC:
        return LOINC[identifier.strip()]
    for candidate in (text, identifier, sub_id):
        found = NAMES.get(candidate.strip().upper())
        if found is not None:
            return found
    return None


def unit_of(identifier: str, text: str) -> Unit | None:
    """The unit of OBX-6 (identifier^text), or None if unknown."""
    number = numeric_code(identifier)
    if number is not None and number in UNITS_MDC:
        return UNITS_MDC[number]
    for candidate in (identifier.strip(), text.strip()):
        if candidate in UNIT_NAMES:
            return UNIT_NAMES[candidate]
        if candidate.upper() in UNIT_NAMES:
            return UNIT_NAMES[candidate.upper()]
    return None
