"""Observation ids and units seen in the field (docs/devices.md), as data.

An OBX names what it measured twice: OBX-3.1 is a code (an IEEE 11073 MDC number, a
LOINC code, a Philips MDIL `pppp-cccc` code = partition * 65536 + code, or a local tag)
and OBX-3.2 its text (the MDC reference id `MDC_...`, or a vendor label). `identify`
reads both; where they name different things the rule is (`CONFLICT_RULE`):

- the code and the name agree (the same vital, e.g. `150301^MDC_PRESS_CUFF_SYS`) -> that vital;
- only one of them is a vital we read and the other is not an MDC reference id
  (`0002-4a05^NBPs`, `8480-6^Systolic`, `NIBP^^L` + OBX-4 `SYS`) -> that vital;
- the MDC number is not one we read but the `MDC_...` name is, and the unit fits
  (`150457^MDC_PULS_OXIM_PULS_RATE^MDC` in a published GE-style sample) -> the name's vital;
- otherwise the code and the name contradict each other (`150456^MDC_CO2_ET`: number says
  SpO2, name says end-tidal CO2; `150021^MDC_PRESS_BLD_ART_SYS`: number says cuff, name says
  arterial line): the value is *not* read as any vital and is counted as `code-conflict`.
  Showing an end-tidal CO2 of 35 as an SpO2 of 35 would be worse than showing nothing.

Vendor-native codes (`VENDOR_CODES`) are read only when the code *and* its text are the
vendor's own pair, as published (each row names its source): Nihon Kohden centrals and
gateways send `007000^VITAL SpO2` with no coding system, and a bare `007000` from anyone
else is no SpO2. A code that matches nothing is kept raw, never guessed, and counted per
sender with its text on /admin/devices.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

KPA_TO_MMHG = 7.50062


@dataclass(frozen=True, slots=True)
class Quantity:
    key: str  # "sbp", "dbp", "map", "pulse", "oxim_pulse", "ecg_hr", "spo2"
    label: str  # for messages: "systolic NIBP"
    dimension: str  # "pressure", "rate", "percent"
    field: str  # the Reading field it fills: sbp, dbp, map, hr, spo2

    @property
    def is_bp(self) -> bool:
        return self.field in ("sbp", "dbp", "map")

    @property
    def is_pulse(self) -> bool:
        """A pulse rate (of any origin but the ECG)."""
        return self.key in ("pulse", "oxim_pulse")


SBP = Quantity("sbp", "systolic NIBP", "pressure", "sbp")
DBP = Quantity("dbp", "diastolic NIBP", "pressure", "dbp")
MAP = Quantity("map", "mean NIBP", "pressure", "map")
PULSE = Quantity("pulse", "pulse rate", "rate", "hr")  # non-invasive/invasive/unspecified: origin from context
OXIM_PULSE = Quantity("oxim_pulse", "oximeter pulse rate", "rate", "hr")
ECG_HR = Quantity("ecg_hr", "ECG heart rate", "rate", "hr")
SPO2 = Quantity("spo2", "SpO2", "percent", "spo2")

# IEEE 11073-10101 numbers (partition 2, SCADA: 131072 + term code) and their reference ids
MDC: Mapping[int, Quantity] = MappingProxyType({
    150021: SBP, 150022: DBP, 150023: MAP,  # MDC_PRESS_BLD_NONINV_SYS/DIA/MEAN
    150301: SBP, 150302: DBP, 150303: MAP,  # MDC_PRESS_CUFF_SYS/DIA/MEAN (Mindray, Comen, OpenICE)
    149546: PULSE,  # MDC_PULS_RATE_NON_INV
    149514: PULSE,  # MDC_PULS_RATE (Philips MDIL 0002-480a "Pulse")
    149522: PULSE,  # MDC_BLD_PULS_RATE_INV (arterial line; Comen labels it MDC_PULS_RATE)
    149530: OXIM_PULSE,  # MDC_PULS_OXIM_PULS_RATE
    147842: ECG_HR,  # MDC_ECG_HEART_RATE (= MDC_ECG_CARD_BEAT_RATE)
    150456: SPO2,  # MDC_PULS_OXIM_SAT_O2
})
MDC_NAMES: Mapping[str, Quantity] = MappingProxyType({
    "MDC_PRESS_BLD_NONINV_SYS": SBP, "MDC_PRESS_BLD_NONINV_DIA": DBP, "MDC_PRESS_BLD_NONINV_MEAN": MAP,
    "MDC_PRESS_CUFF_SYS": SBP, "MDC_PRESS_CUFF_DIA": DBP, "MDC_PRESS_CUFF_MEAN": MAP,
    "MDC_PULS_RATE_NON_INV": PULSE, "MDC_PULS_RATE": PULSE, "MDC_BLD_PULS_RATE_INV": PULSE,
    "MDC_PULS_OXIM_PULS_RATE": OXIM_PULSE,
    "MDC_ECG_HEART_RATE": ECG_HR, "MDC_ECG_CARD_BEAT_RATE": ECG_HR,
    "MDC_PULS_OXIM_SAT_O2": SPO2,
})
LOINC: Mapping[str, Quantity] = MappingProxyType({
    "8480-6": SBP, "8462-4": DBP, "8478-0": MAP, "76536-2": MAP,
    "8867-4": PULSE,  # "Heart rate": the method is not said
    "8889-8": OXIM_PULSE,  # "Heart rate by Pulse oximetry"
    "59408-5": SPO2, "2708-6": SPO2,
})
# Vendor labels (OBX-3.2) and local tags (OBX-3 or OBX-4), upper case
LABELS: Mapping[str, Quantity] = MappingProxyType({
    "NBPS": SBP, "NBPD": DBP, "NBPM": MAP,  # Philips
    "SYS": SBP, "DIA": DBP, "MEAN": MAP, "MAP": MAP,  # Welch Allyn OBX-4 tags
    "HR": ECG_HR, "PR": PULSE, "PULSE": PULSE, "PULSE RATE": PULSE, "HEART RATE": PULSE,  # WA "Heart Rate" (no ECG)
    "SPO2": SPO2,
})




@dataclass(frozen=True, slots=True)
class VendorCode:
    """One vendor-native OBX-3: the code, the text it comes with, what it measures and where that is published."""

    vendor: str
    code: str
    text: str  # OBX-3.2 as the vendor sends it (compared in upper case)
    quantity: Quantity
    source: str


_NK_SOURCE = ("Nihon Kohden CNS-6201 / BSM / PVM-2701/2703 HL7 output, as published in public integration "
              "documents and captures (tests/devices/interop/README.md: nihon_kohden_*)")
VENDOR_CODES: tuple[VendorCode, ...] = (
    VendorCode("Nihon Kohden", "001000", "VITAL HR", ECG_HR, _NK_SOURCE),
    VendorCode("Nihon Kohden", "007000", "VITAL SpO2", SPO2, _NK_SOURCE),
    VendorCode("Nihon Kohden", "007001", "VITAL PR(spo2)", OXIM_PULSE, _NK_SOURCE),
    VendorCode("Nihon Kohden", "009000", "NIBP SYS", SBP, _NK_SOURCE),
    VendorCode("Nihon Kohden", "009001", "NIBP DIAS", DBP, _NK_SOURCE),
    VendorCode("Nihon Kohden", "009002", "NIBP MEAN", MAP, _NK_SOURCE),
)
_VENDOR: Mapping[tuple[str, str], VendorCode] = MappingProxyType(
    {(row.code, row.text.upper()): row for row in VENDOR_CODES})
_VENDOR_CODE_SET = frozenset(row.code for row in VENDOR_CODES)


def vendor_code(identifier: str, text: str) -> VendorCode | None:
    """The vendor row whose code and text both match (None for a lone code or text)."""
    return _VENDOR.get((identifier.strip(), text.strip().upper()))


def _upper(table: Mapping[str, Quantity]) -> Mapping[str, Quantity]:
    return MappingProxyType({key.upper(): value for key, value in table.items()})


MDC_NAMES_UPPER = _upper(MDC_NAMES)


@dataclass(frozen=True, slots=True)
class Unit:
    dimension: str
    to_standard: float  # factor to mmHg, beats/min or percent


MMHG, KPA = Unit("pressure", 1.0), Unit("pressure", KPA_TO_MMHG)
PER_MIN, PERCENT = Unit("rate", 1.0), Unit("percent", 1.0)
UNITS_MDC: Mapping[int, Unit] = MappingProxyType({
    266016: MMHG, 265987: KPA, 264864: PER_MIN, 262688: PERCENT,
})
UNIT_NAMES: Mapping[str, Unit] = MappingProxyType({  # compared in upper case
    "MDC_DIM_MMHG": MMHG, "MM[HG]": MMHG, "MMHG": MMHG, "MM HG": MMHG, "MM(HG)": MMHG,
    "MDC_DIM_KILO_PASCAL": KPA, "KPA": KPA,
    "MDC_DIM_BEAT_PER_MIN": PER_MIN, "/MIN": PER_MIN, "{BEAT}/MIN": PER_MIN, "{BEATS}/MIN": PER_MIN,
    "1/MIN": PER_MIN, "BPM": PER_MIN, "BEATS/MIN": PER_MIN, "MIN-1": PER_MIN, "MIN⁻¹": PER_MIN,
    "MDC_DIM_PERCENT": PERCENT, "%": PERCENT, "PERCENT": PERCENT,
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
    if text.isascii() and text.isdigit():
        return int(text)
    return mdil_to_mdc(text)


@dataclass(frozen=True, slots=True)
class Identified:
    """What an OBX-3/OBX-4 names: a quantity, a contradiction, or nothing we read."""

    quantity: Quantity | None
    conflict: str = ""  # why code and name contradict each other ('' when they do not)


UNKNOWN = Identified(None)


def identify(identifier: str, text: str, sub_id: str, unit: Unit | None) -> Identified:
    """The vital an OBX reports, by the rule in the module docstring."""
    identifier, text = identifier.strip(), text.strip()
    vendor = vendor_code(identifier, text)
    if vendor is not None:
        return Identified(vendor.quantity)
    if identifier in _VENDOR_CODE_SET:
        return UNKNOWN  # a vendor's code with another text: not guessed (and never read as an MDC number)
    number = numeric_code(identifier)
    by_code = MDC.get(number) if number is not None else LOINC.get(identifier) or LABELS.get(identifier.upper())
    is_mdc_name = text.upper().startswith("MDC_")
    by_name = MDC_NAMES_UPPER.get(text.upper()) if is_mdc_name else LABELS.get(text.upper())
    if by_code is not None and by_name is not None:
        if by_code.field == by_name.field and by_code.is_pulse == by_name.is_pulse:
            return Identified(by_code)  # the same vital (the number says more precisely where from)
        return Identified(None, f"code {identifier} is {by_code.label} but its name {text} is {by_name.label}")
    if by_code is not None:
        if is_mdc_name:
            return Identified(None, f"code {identifier} is {by_code.label} but its name is {text}")
        return Identified(by_code)
    if by_name is not None:
        if is_mdc_name and number is not None and (unit is None or unit.dimension != by_name.dimension):
            return Identified(None, f"name {text} is {by_name.label} but code {identifier} and its unit are not")
        return Identified(by_name)
    tag = LABELS.get(sub_id.strip().upper())  # Welch Allyn: NIBP^...^L with OBX-4 SYS/DIA/MEAN
    return Identified(tag) if tag is not None else UNKNOWN


def unit_of(identifier: str, text: str) -> Unit | None:
    """The unit of OBX-6 (identifier^text), or None if unknown."""
    number = numeric_code(identifier)
    if number is not None and number in UNITS_MDC:
        return UNITS_MDC[number]
    for candidate in (identifier, text):
        found = UNIT_NAMES.get(candidate.strip().upper())
        if found is not None:
            return found
    return None
