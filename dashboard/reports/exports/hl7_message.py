"""The session as one HL7 v2.6 (or v2.5) ORU^R01 message: an OBR group per exported reading.

MSH (MSH-4/6 = the site; MSH-11 processing ID: P, or T for training when the session is a replay or simulated),
then PID: PID-3 = the pseudonymous patient label (PI), and the site's identifier (MR)
when given; PID-5, which both versions require, = the label as a name of type S ("coded pseudo-name to ensure
anonymity", HL7 table 0200), never a real name. PV1-3 = the chair: PL-1 (point of care, IS) holds at most 20
characters, so a longer chair name is cut there and written whole in PL-9 (location description). Per reading
an OBR (OBR-7 = its time) with NM OBX rows coded in LOINC with UCUM units: 8480-6 / 8462-4 / 8478-0 mm[Hg],
8867-4 /min, 59408-5 %; OBX-14 is the observation time and OBX-18 the device (reading source). Times are the
session's own (a replay's are its feed's). Segments end in CR, as the standard wants. The readings are those
of `selection.py` (every BP, continuous samples thinned unless every_s=0). Validated in the tests by hl7apy in
STRICT mode for both versions; a session with no reading still has the OBR the message type requires.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from ...store.test_data import mark
from ..record import SessionRecord
from . import HL7_VERSIONS
from .selection import DEFAULT_EVERY_S, exported_readings

APPLICATION = "SESSION-MONITOR"
IS_MAX = 20  # the IS data type's length in v2.5 and v2.6 (PL-1 point of care, HD-1 namespace id)
OBSERVATIONS = (  # (reading key, OBX-3, OBX-6)
    ("sbp", "8480-6^Systolic blood pressure^LN", "mm[Hg]^mm[Hg]^UCUM"),
    ("dbp", "8462-4^Diastolic blood pressure^LN", "mm[Hg]^mm[Hg]^UCUM"),
    ("map", "8478-0^Mean blood pressure^LN", "mm[Hg]^mm[Hg]^UCUM"),
    ("hr", "8867-4^Heart rate^LN", "/min^beats per minute^UCUM"),
    ("spo2", "59408-5^Oxygen saturation by pulse oximetry^LN", "%^percent^UCUM"),
)
BP_SERVICE = "85354-9^Blood pressure panel^LN"
VITALS_SERVICE = "8716-3^Vital signs^LN"
NO_READINGS = "No readings were recorded in this session."
_ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("~", "\\R\\"), ("&", "\\T\\"))


def session_hl7(record: SessionRecord, every_s: float = DEFAULT_EVERY_S, now: float | None = None,
                version: str = HL7_VERSIONS[-1]) -> bytes:
    return oru_message(record, every_s, now, version).encode("utf-8")


def oru_message(record: SessionRecord, every_s: float = DEFAULT_EVERY_S, now: float | None = None,
                version: str = HL7_VERSIONS[-1]) -> str:
    if version not in HL7_VERSIONS:
        raise ValueError(f"HL7 version {version!r} is not written; choose one of {', '.join(HL7_VERSIONS)}")
    sent = _ts(dt.datetime.now(dt.timezone.utc) if now is None else dt.datetime.fromtimestamp(now, dt.timezone.utc))
    control = f"S{record.id}"
    processing = "T" if mark(record.row) else "P"  # HL7 table 0103: T = training, never taken for production
    site = _escape(record.row.site[:IS_MAX])
    segments = [
        f"MSH|^~\\&|{APPLICATION}|{site}|RECEIVER|{site}|{sent}||ORU^R01^ORU_R01|{control}|{processing}|{version}|||NE|NE"
        "||UNICODE UTF-8",
        _pid(record), _pv1(record),
    ]
    readings = exported_readings(record, every_s)
    for number, r in enumerate(readings, start=1):
        segments.extend(_group(record, number, r))
    if not readings:
        segments.extend(_no_readings(record))
    return "\r".join(segments) + "\r"


def _pid(record: SessionRecord) -> str:
    row = record.row
    label = _escape(row.patient_label)
    ids = f"{label}^^^{APPLICATION}^PI"
    if row.patient_identifier:
        ids += f"~{_escape(row.patient_identifier)}^^^{_escape(row.site[:IS_MAX])}^MR"
    return f"PID|1||{ids}||{label}^^^^^^S"


def _pv1(record: SessionRecord) -> str:
    chair = record.row.chair
    if len(chair) <= IS_MAX:
        return f"PV1|1|O|{_escape(chair)}"
    return f"PV1|1|O|{_escape(chair[:IS_MAX].rstrip())}^^^^^^^^{_escape(chair)}"


def _group(record: SessionRecord, number: int, r: dict[str, Any]) -> list[str]:
    at = _ts(record.utc(r["offset_s"]))
    service = BP_SERVICE if r["sbp"] is not None else VITALS_SERVICE
    out = [f"OBR|{number}||{record.id}-{r['id']}|{service}|||{at}"]
    device = _escape(r["source"])
    for key, code, unit in OBSERVATIONS:
        if r[key] is not None:
            out.append(f"OBX|{len(out)}|NM|{code}||{_number(r[key])}|{unit}|||||F|||{at}||||{device}")
    return out


def _no_readings(record: SessionRecord) -> list[str]:
    """ORU^R01 requires at least one order observation (an OBR): a session with no reading is one vital-signs
    OBR at the session start with no OBX, and a note saying so, rather than a message receivers reject."""
    return [f"OBR|1||{record.id}-0|{VITALS_SERVICE}|||{_ts(record.utc(0.0))}",
            f"NTE|1|L|{NO_READINGS}"]


def _ts(moment: dt.datetime) -> str:
    """HL7 DTM to the 1/10,000 s, in UTC: YYYYMMDDHHMMSS.SSSS+0000."""
    return moment.strftime("%Y%m%d%H%M%S") + f".{moment.microsecond // 100:04d}+0000"


def _escape(text: str) -> str:
    for char, escape in _ESCAPES:
        text = text.replace(char, escape)
    return text.replace("\r", " ").replace("\n", " ")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
