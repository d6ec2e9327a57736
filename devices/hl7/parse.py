"""HL7 v2 ORU^R01 (IHE PCD-01) -> observations -> readings. Pure: no I/O, no clock.

python-hl7 splits the message; this module reads what the fields mean. Anything
that makes a message unusable raises `HL7Error` with the acknowledgement code, the
HL7 error code (table 0357) and where, so the listener can answer AE/AR saying why.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any

import hl7

from ..errors import HL7Error
from ..readings import Reading
from .codes import DEFAULT_UNIT, ECG_HR, PULSE, SPO2, Quantity, quantity_of, unit_of

VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2")
ACCEPTED_STATUS = {"", "R", "F", "C", "P"}  # OBX-11: X (header rows), D, W and the like carry no value
SOURCE = "monitor"  # Reading.source of every HL7 reading
# table 0357 error codes
REQUIRED_MISSING, DATA_TYPE, TABLE_VALUE, UNSUPPORTED_TYPE, UNSUPPORTED_VERSION, APPLICATION = 101, 102, 103, 200, 203, 207

_DTM = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?(?:([+-])(\d{2})(\d{2}))?$")


def parse_timestamp(text: str, zone: dt.tzinfo) -> float:
    """`YYYYMMDDHHMM[SS[.S+]][+/-ZZZZ]` -> epoch seconds; no zone means `zone`.

    Our own small parser: python-hl7's `parse_datetime` reads `-0030` as +00:30."""
    match = _DTM.match(text.strip())
    if not match:
        raise ValueError(f"timestamp {text!r} is not YYYYMMDDHHMM[SS[.S]][+/-ZZZZ]")
    year, month, day, hour, minute, second, fraction, sign, zh, zm = match.groups()
    tz = zone
    if sign:
        offset = dt.timedelta(hours=int(zh), minutes=int(zm))
        tz = dt.timezone(-offset if sign == "-" else offset)
    stamp = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), tzinfo=tz)
    return stamp.timestamp() + (float(f"0.{fraction}") if fraction else 0.0)


# ---- values ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Observation:
    """One usable OBX: a known quantity in standard units."""

    quantity: Quantity
    value: float
    channel: str  # MDS.VMD.CHAN of a dotted OBX-4 ('' when OBX-4 is not a path)
    time: float | None
    device_id: str
    set_id: str


@dataclass(frozen=True, slots=True)
class RawObservation:
    """An OBX whose code we do not know: kept as sent, never guessed."""

    set_id: str
    code: str
    sub_id: str
    value: str
    unit: str


@dataclass(frozen=True, slots=True)
class Group:
    """One OBR and its OBX rows."""

    time: float | None  # OBR-7
    observations: tuple[Observation, ...]
    unknown: tuple[RawObservation, ...]


@dataclass(frozen=True, slots=True)
class OruMessage:
    control_id: str
    sending_application: str
    sending_facility: str
    version: str
    time: float | None  # MSH-7
    location: str  # PV1-3.1, the point of care ('' when absent)
    mrn: str  # PID-3.1 ('' when absent); never logged
    groups: tuple[Group, ...] = field(default=())

    @property
    def unknown(self) -> tuple[RawObservation, ...]:
        return tuple(raw for group in self.groups for raw in group.unknown)

    def readings(self, received: float, max_backdate_s: float = 300.0) -> list[Reading]:
        """The readings, one per BP cycle and one per continuous sample in each group.

        Received time keeps the spacing the device gave the observations inside this one
        message (a batch after a reconnect) without trusting the device clock's value."""
        out: list[Reading] = []
        newest = max((t for g in self.groups for t in _times(g)), default=None)
        for group in self.groups:
            for reading in _group_readings(group, self.sending_application):
                back = 0.0 if newest is None or reading.device_time is None else newest - reading.device_time
                out.append(_with_received(reading, received - min(max(back, 0.0), max_backdate_s)))
        return out


def _times(group: Group) -> list[float]:
    return [o.time for o in group.observations if o.time is not None] + ([group.time] if group.time else [])


def _with_received(r: Reading, received: float) -> Reading:
    return Reading(r.source, sbp=r.sbp, dbp=r.dbp, map=r.map, hr=r.hr, spo2=r.spo2, device_time=r.device_time,
                   received_time=received, device_id=r.device_id)


def _group_readings(group: Group, default_device: str) -> list[Reading]:
    """Split a group into a BP reading (with the pulse measured by the cuff) and a continuous one."""
    obs = group.observations
    bp = [o for o in obs if o.quantity.is_bp]
    bp_channels = {o.channel for o in bp if o.channel}
    has_spo2 = any(o.quantity is SPO2 for o in obs)

    def with_bp(o: Observation) -> bool:
        if o.quantity.is_bp:
            return True
        if o.quantity is PULSE and bp:
            return o.channel in bp_channels if o.channel and bp_channels else not has_spo2
        return False

    readings = []
    for part, is_bp in (([o for o in obs if with_bp(o)], True), ([o for o in obs if not with_bp(o)], False)):
        if part:
            readings.append(_reading(part, group.time, default_device, is_bp))
    return readings


def _reading(part: list[Observation], group_time: float | None, default_device: str, is_bp: bool) -> Reading:
    values: dict[str, float] = {}
    for o in sorted(part, key=lambda o: o.quantity is not ECG_HR):  # ECG HR wins over a pulse rate
        key = "hr" if o.quantity.key in ("pulse", "ecg_hr") else o.quantity.key
        if key in values and values[key] != o.value and not (key == "hr" and not is_bp):
            raise HL7Error(f"two different {o.quantity.label} values in one OBR group", code=APPLICATION,
                           where=f"OBX^{o.set_id}^5")
        values.setdefault(key, o.value)
    times = [o.time for o in part if o.time is not None]
    device_id = next((o.device_id for o in part if o.device_id), default_device)
    return Reading(SOURCE, device_time=max(times) if times else group_time, device_id=device_id, **values)


# ---- parsing -----------------------------------------------------------------------


def decode(raw: bytes) -> str:
    """Bytes -> text with `\\r` segment ends; UTF-8 (PCD-01), Latin-1 when that fails."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.replace("\r\n", "\r").replace("\n", "\r").strip("\r\n\t \x00")


def parse_oru(raw: bytes, zone: dt.tzinfo) -> OruMessage:
    """Read one ORU^R01; raise HL7Error (AR for the wrong kind of message, AE for bad content)."""
    text = decode(raw)
    if not text.startswith("MSH") or len(text) < 8:
        raise HL7Error("not an HL7 message: it does not start with MSH", ack="AR", code=REQUIRED_MISSING,
                       where="MSH")
    if text.count("\rMSH" + text[3]) > 0:
        raise HL7Error("several messages in one frame", ack="AR", code=APPLICATION, where="MSH")
    try:
        message = hl7.parse(text)
    except Exception as exc:  # the library's own errors on broken encoding characters
        raise HL7Error(f"MSH cannot be read ({exc.__class__.__name__})", ack="AR", code=APPLICATION,
                       where="MSH") from exc
    header = _header(message, zone)
    return OruMessage(**header, location=_first(message, "PV1", 3), mrn=_first(message, "PID", 3),
                      groups=_groups(message, zone))


def control_id_of(raw: bytes) -> str:
    """MSH-10 of a message we could not parse otherwise, for the ACK ('' if none)."""
    try:
        message = hl7.parse(decode(raw))
        return _field(message.segment("MSH"), 10)
    except Exception:
        return ""


def _field(segment: Any, number: int, component: int = 1) -> str:
    try:
        return str(segment.extract_field(1, number, 1, component, 1)).strip()
    except (IndexError, KeyError, AttributeError):
        return ""


def _first(message: Any, name: str, number: int) -> str:
    try:
        return _field(message.segment(name), number)
    except KeyError:
        return ""


def _header(message: Any, zone: dt.tzinfo) -> dict[str, Any]:
    msh = message.segment("MSH")
    kind, trigger = _field(msh, 9, 1), _field(msh, 9, 2)
    if (kind, trigger) != ("ORU", "R01"):
        raise HL7Error(f"message type {kind}^{trigger} is not ORU^R01", ack="AR", code=UNSUPPORTED_TYPE,
                       where="MSH^1^9")
    version = _field(msh, 12)
    if version not in VERSIONS:
        raise HL7Error(f"HL7 version {version or '(empty)'} is not 2.3-2.8", ack="AR", code=UNSUPPORTED_VERSION,
                       where="MSH^1^12")
    control_id = _field(msh, 10)
    if not control_id:
        raise HL7Error("MSH-10 message control id is empty", ack="AR", code=REQUIRED_MISSING, where="MSH^1^10")
    return {"control_id": control_id, "sending_application": _field(msh, 3), "sending_facility": _field(msh, 4),
            "version": version, "time": _time(_field(msh, 7), zone, "MSH^1^7")}


def _time(text: str, zone: dt.tzinfo, where: str) -> float | None:
    if not text:
        return None
    try:
        return parse_timestamp(text, zone)
    except ValueError as exc:
        raise HL7Error(str(exc), code=DATA_TYPE, where=where) from None


def _groups(message: Any, zone: dt.tzinfo) -> tuple[Group, ...]:
    groups: list[Group] = []
    time: float | None = None
    known: list[Observation] = []
    unknown: list[RawObservation] = []
    seen_obr = False
    for segment in message:
        name = str(segment[0]).strip()
        if name == "OBR":
            if seen_obr or known or unknown:
                groups.append(Group(time, tuple(known), tuple(unknown)))
            seen_obr, known, unknown = True, [], []
            time = _time(_field(segment, 7), zone, "OBR^1^7")
        elif name == "OBX":
            parsed = _observation(segment, zone)
            if isinstance(parsed, Observation):
                known.append(parsed)
            elif parsed is not None:
                unknown.append(parsed)
    if seen_obr or known or unknown:
        groups.append(Group(time, tuple(known), tuple(unknown)))
    if not any(group.observations for group in groups):
        raise HL7Error("no usable observation (no OBX with a known vital sign)", code=REQUIRED_MISSING, where="OBX")
    return tuple(groups)


def _observation(obx: Any, zone: dt.tzinfo) -> Observation | RawObservation | None:
    set_id = _field(obx, 1)
    value_type, status = _field(obx, 2).upper(), _field(obx, 11).upper()
    if not value_type or status not in ACCEPTED_STATUS:
        return None  # device/channel header rows and withdrawn results carry no value
    identifier, text, sub_id = _field(obx, 3, 1), _field(obx, 3, 2), _field(obx, 4)
    value_text = _field(obx, 5)
    quantity = quantity_of(identifier, text, sub_id)
    if quantity is None:
        return RawObservation(set_id, f"{identifier}^{text}", sub_id, value_text, _field(obx, 6, 1))
    where = f"OBX^{set_id}"
    if value_type != "NM":
        raise HL7Error(f"{quantity.label}: value type {value_type} is not NM", code=DATA_TYPE, where=f"{where}^2")
    try:
        value = float(value_text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):  # "NaN" and "inf" parse as floats but are no measurement
        raise HL7Error(f"{quantity.label}: value {value_text!r} is not a number", code=DATA_TYPE,
                       where=f"{where}^5")
    unit_id, unit_text = _field(obx, 6, 1), _field(obx, 6, 2)
    unit = unit_of(unit_id, unit_text) if unit_id or unit_text else DEFAULT_UNIT[quantity.dimension]
    if unit is None or unit.dimension != quantity.dimension:
        raise HL7Error(f"{quantity.label}: unit {unit_id or unit_text!r} is not known for a {quantity.dimension}",
                       code=TABLE_VALUE, where=f"{where}^6")
    if unit.to_standard != 1.0:
        value = float(round(value * unit.to_standard))  # to the whole mmHg monitors show
    return Observation(quantity, value, _channel(sub_id), _time(_field(obx, 14), zone, f"{where}^14"),
                       _field(obx, 18), set_id)


def _channel(sub_id: str) -> str:
    """MDS.VMD.CHAN of a dotted device path like 1.1.1.4 ('' when OBX-4 is not one)."""
    parts = sub_id.split(".")
    return ".".join(parts[:3]) if len(parts) >= 3 and all(p.isdigit() for p in parts) else ""
