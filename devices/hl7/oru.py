"""Compose ORU^R01 messages the way monitors send them (for the HL7 emulator and tests).

`style` picks the observation ids a vendor uses: "mdc" (IEEE 11073 numbers, as in
docs/devices.md), "philips" (MDIL partition-codes), "loinc", "tags" (local tags in
OBX-4, Welch Allyn style) or "kpa" (MDC with pressures in kPa).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

from ..readings import Reading
from .codes import KPA_TO_MMHG

STYLES = ("mdc", "philips", "loinc", "tags", "kpa")
SEGMENT_ENDS = {"cr": "\r", "lf": "\n", "crlf": "\r\n"}

# (OBX-3, OBX-4 tag) per style and quantity
_IDS = {
    "mdc": {"sbp": "150021^MDC_PRESS_BLD_NONINV_SYS^MDC", "dbp": "150022^MDC_PRESS_BLD_NONINV_DIA^MDC",
            "map": "150023^MDC_PRESS_BLD_NONINV_MEAN^MDC", "pulse": "149546^MDC_PULS_RATE_NON_INV^MDC",
            "spo2": "150456^MDC_PULS_OXIM_SAT_O2^MDC"},
    "philips": {"sbp": "0002-4a05^NBPs^MDIL", "dbp": "0002-4a06^NBPd^MDIL", "map": "0002-4a07^NBPm^MDIL",
                "pulse": "0002-482a^Pulse^MDIL", "spo2": "0002-4bb8^SpO2^MDIL"},
    "loinc": {"sbp": "8480-6^Systolic blood pressure^LN", "dbp": "8462-4^Diastolic blood pressure^LN",
              "map": "8478-0^Mean blood pressure^LN", "pulse": "8867-4^Heart rate^LN",
              "spo2": "59408-5^Oxygen saturation by pulse oximetry^LN"},
    "tags": {key: "NIBP^Vital signs^L" for key in ("sbp", "dbp", "map", "pulse", "spo2")},
}
_IDS["kpa"] = _IDS["mdc"]
_TAGS = {"sbp": "SYS", "dbp": "DIA", "map": "MEAN", "pulse": "PR", "spo2": "SPO2"}
_UNITS = {"pressure": "266016^MDC_DIM_MMHG^MDC", "kpa": "265987^MDC_DIM_KILO_PASCAL^MDC",
          "rate": "264864^MDC_DIM_BEAT_PER_MIN^MDC", "percent": "262688^MDC_DIM_PERCENT^MDC"}


@dataclass(frozen=True, slots=True)
class Sender:
    """Who the emulated monitor is and where it stands."""

    location: str = "CHAIR3"  # PV1-3
    mrn: str = "MRN12345"  # PID-3
    application: str = "VSM^0123456789ABCDEF^EUI-64"
    facility: str = "CLINIC_A"
    style: str = "mdc"
    with_zone: bool = True  # timestamps with +0000, or local time without a zone
    segment_end: str = "\r"


def timestamp(epoch: float, with_zone: bool = True) -> str:
    if with_zone:
        return time.strftime("%Y%m%d%H%M%S", time.gmtime(epoch)) + "+0000"
    return time.strftime("%Y%m%d%H%M%S", time.localtime(epoch))


def compose(readings: Sequence[Reading], control_id: str, sender: Sender = Sender(), now: float | None = None) -> str:
    """One ORU^R01 with an OBR group per reading."""
    now = time.time() if now is None else now
    ts = lambda t: timestamp(t, sender.with_zone)  # noqa: E731
    segments = [
        f"MSH|^~\\&|{sender.application}|{sender.facility}|DASH|{sender.facility}|{ts(now)}||ORU^R01^ORU_R01|"
        f"{control_id}|P|2.6|||NE|AL||UNICODE UTF-8|||PCD_DEC_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO",
        f"PID|||{sender.mrn}^^^{sender.facility}^MR||PATIENT^DEMO^^^^^L",
        f"PV1||O|{sender.location}^^^{sender.facility}",
    ]
    for number, reading in enumerate(readings, start=1):
        at = ts(reading.device_time if reading.device_time is not None else now)
        segments.append(f"OBR|{number}|{control_id}^{number}|{control_id}^{number}|"
                        f"182777000^monitoring of patient^SCT|||{at}")
        segments.extend(_obx(reading, at, sender.style))
    return sender.segment_end.join(segments) + sender.segment_end


def _obx(r: Reading, at: str, style: str) -> list[str]:
    rows: list[tuple[str, float | None, str]] = []  # (quantity, value, dimension)
    if r.has_bp:
        channel = "1.1.1"
        rows += [("sbp", r.sbp, "pressure"), ("dbp", r.dbp, "pressure"), ("map", r.map, "pressure"),
                 ("pulse", r.hr, "rate")]
    else:
        channel = "1.2.1"
        rows += [("spo2", r.spo2, "percent"), ("pulse", r.hr, "rate")]
    out, index = [], 0
    for key, value, dimension in rows:
        if value is None:
            continue
        index += 1
        unit = _UNITS["kpa" if style == "kpa" and dimension == "pressure" else dimension]
        if style == "kpa" and dimension == "pressure":
            value = round(value / KPA_TO_MMHG, 2)
        sub_id = _TAGS[key] if style == "tags" else f"{channel}.{index}"
        out.append(f"OBX|{len(out) + 1}|NM|{_IDS[style][key]}|{sub_id}|{_number(value)}|{unit}|||||R|||{at}")
    return out


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
