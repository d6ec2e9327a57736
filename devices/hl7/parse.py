"""HL7 v2 ORU^R01 (IHE PCD-01) -> observations -> readings. Pure: no I/O, no clock.

python-hl7 splits the message; this module reads what the fields mean. A message that
cannot be used at all raises `HL7Error` with the acknowledgement code, the HL7 error code
(table 0357) and where, so the listener answers AE/AR saying why. An OBX of a vital that
carries no value (a sentinel, a "cannot be obtained" status, text that is not a number...)
does not fail the message: it is listed in `OruMessage.discarded` with its reason
(`values.DISCARD_REASONS`) and the message's other values are used.

What the parsed message offers the listener and ingest (kept stable):
- `sender` (whole MSH-3, e.g. `VSM^0123456789ABCDEF^EUI-64`), `sender_eui64` (MSH-3.2 when it is
  an EUI-64), `sender_facility` (whole MSH-4), `device_ids` (the OBX-18 ids, in order);
- `location` (PV1-3.1), `point_of_care` (whole PV1-3, e.g. `ICU^^5`), `mrn` (PID-3.1);
- `processing_id` (MSH-11.1) and `is_test` (MSH-11 is T or D); readings of a test message
  or with an OBX-8 DEMO/TEST flag have `provenance == "demo"`;
- `discarded`, `notices` (things worth one log line per sender), `unknown` (codes we do not read);
- `resend_key`: sender + MSH-10 + a digest of the content (see `content_digest`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import hl7

from ..errors import HL7Error
from ..readings import Reading
from .assemble import Observation, group_readings
from .codes import DEFAULT_UNIT, identify, unit_of
from .device_alarms import DeviceAlarm, read_alarms
from .values import TEST_PROCESSING_IDS, Discarded, flags_of, is_demo_flag, no_value_reason, read_number

# HL7 2.1-2.8: the segments and fields we read (MSH-3/4/7/9/10/11/12, PID-3, PV1-3, OBR-7, OBX-2..8/11/14/17/18)
# sit where they always did; what differs is handled: 2.1/2.2 have no MSH-9.3 and may name ISO 8859/1 in MSH-18
# (decoded so), 2.1 has no OBX-17/18 (the device is then named by MSH-3 and the bed), and 2.2 senders send MSH-7
# empty (no message time: the content digest keeps MSH-7 then, see `content_digest`).
VERSION = re.compile(r"^2\.[1-8](\.\d{1,2})?$")
TRIGGERS = ("R01", "R40")  # observations (PCD-01); the monitor's own alarms (PCD-04, see device_alarms.py)
# table 0357 error codes
REQUIRED_MISSING, DATA_TYPE, TABLE_VALUE, UNSUPPORTED_TYPE, UNSUPPORTED_VERSION, APPLICATION = 101, 102, 103, 200, 203, 207
MAX_CONTROL_ID = 199  # MSA-2 is echoed at most this long

_DTM = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?(?:([+-])(\d{2})(\d{2}))?$")
_EUI64 = re.compile(r"^[0-9A-Fa-f]{16}$")


def parse_timestamp(text: str, zone: dt.tzinfo) -> float:
    """`YYYYMMDD[HH[MM[SS[.S+]]]][+/-ZZZZ]` -> epoch seconds; no zone means `zone`.

    Our own small parser: python-hl7's `parse_datetime` reads `-0030` as +00:30."""
    match = _DTM.match(text.strip())
    if not match:
        raise ValueError(f"timestamp {text!r} is not YYYYMMDDHHMM[SS[.S]][+/-ZZZZ]")
    year, month, day, hour, minute, second, fraction, sign, zh, zm = match.groups()
    tz = zone
    if sign:
        offset = dt.timedelta(hours=int(zh), minutes=int(zm))
        tz = dt.timezone(-offset if sign == "-" else offset)
    stamp = dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                        tzinfo=tz)
    return stamp.timestamp() + (float(f"0.{fraction}") if fraction else 0.0)


# ---- the parsed message ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawObservation:
    """An OBX whose code we do not know: kept as sent, never guessed."""

    set_id: str
    code: str
    sub_id: str
    value: str
    unit: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Something about a sender worth one log line (the listener logs each kind once per sender)."""

    kind: str  # "timestamp", "code-conflict"
    text: str


@dataclass(frozen=True, slots=True)
class Group:
    """One OBR and its OBX rows, and the readings they make (received time not yet set)."""

    time: float | None  # OBR-7
    observations: tuple[Observation, ...]
    unknown: tuple[RawObservation, ...]
    readings: tuple[Reading, ...] = ()


@dataclass(frozen=True, slots=True)
class OruMessage:
    control_id: str
    sending_application: str  # MSH-3.1
    sending_facility: str  # MSH-4.1
    version: str
    time: float | None  # MSH-7
    location: str  # PV1-3.1, the point of care ('' when absent)
    mrn: str  # PID-3.1 ('' when absent); never logged
    groups: tuple[Group, ...] = field(default=())
    sender: str = ""  # the whole MSH-3 (namespace^EUI-64^EUI-64): who sent it
    sender_facility: str = ""  # the whole MSH-4 (Comen puts the monitor's serial number here)
    point_of_care: str = ""  # the whole PV1-3 (point of care^room^bed^facility...)
    processing_id: str = "P"  # MSH-11.1: P production, T training, D debugging
    discarded: tuple[Discarded, ...] = ()
    notices: tuple[Notice, ...] = ()
    content_digest: str = ""  # see `content_digest()`
    trigger: str = "R01"  # MSH-9.2: R01 observations, R40 the monitor's alarms
    alarms: tuple[DeviceAlarm, ...] = ()  # ORU^R40: the monitor's alarms, as it says them
    charset: str = "utf-8"  # how the bytes were read: the ACK is written back in the same (MSA-2 echoes them)

    @property
    def unknown(self) -> tuple[RawObservation, ...]:
        return tuple(raw for group in self.groups for raw in group.unknown)

    @property
    def is_test(self) -> bool:
        """MSH-11 says training or debugging: none of its readings is patient data."""
        return self.processing_id.upper() in TEST_PROCESSING_IDS

    @property
    def bed(self) -> str:
        """Where the monitor stands, as the sender says it: the whole PV1-3 (point of care^room^bed^facility,
        subcomponents and all: NK `^^BED-001^10.0.100.98:1`, Philips `^^Doc1&5&1`, Mindray `^^ICU&01&0&0&0`)."""
        return self.point_of_care

    @property
    def sender_eui64(self) -> str:
        """The sender's EUI-64 (MSH-3.2 when MSH-3.3 says EUI-64 or it looks like one), else ''."""
        return eui64_of(self.sender)

    @property
    def device_ids(self) -> tuple[str, ...]:
        """Every device id (OBX-18.1) the message names, in order, each once."""
        ids = (o.device_id for g in self.groups for o in g.observations if o.device_id)
        return tuple(dict.fromkeys(ids))

    @property
    def default_device(self) -> str:
        """The device id of a reading whose OBX rows name none."""
        return default_device(self.sender, self.sending_facility, self.point_of_care)

    @property
    def resend_key(self) -> str:
        """Who sent it (MSH-3 and MSH-4 whole), its MSH-10 and a digest of its content: a resend has all three
        the same; a monitor that restarts its counter, or two monitors that both count from 1, do not."""
        return f"{self.sender}|{self.sender_facility}|{self.control_id}|{self.content_digest[:16]}"

    def readings(self, received: float, max_backdate_s: float = 900.0) -> list[Reading]:
        """The readings: per group, one per measuring source (see `assemble`).

        Received time keeps the spacing the device gave the observations inside this one message (a batch after a
        reconnect: OBX-14, else OBR-7) without trusting the device clock's value: the newest is "now", an older one
        that much earlier, at most `max_backdate_s` (`[hl7] late_readings_max_min`, 15 min) earlier."""
        out: list[Reading] = []
        newest = max((t for g in self.groups for t in _times(g)), default=None)
        for group in self.groups:
            for reading in group.readings:
                back = 0.0 if newest is None or reading.device_time is None else newest - reading.device_time
                out.append(_with_received(reading, received - min(max(back, 0.0), max_backdate_s)))
        return out


def eui64_of(sender: str) -> str:
    """MSH-3.2 when it is an EUI-64 (or MSH-3.3 says so); MSH-3.1 when MSH-3.2 is the word `EUI-64` (Dräger)."""
    parts = sender.split("^")
    if len(parts) >= 2 and (_EUI64.match(parts[1]) or (len(parts) >= 3 and "EUI" in parts[2].upper())):
        return parts[1]
    if len(parts) == 2 and _EUI64.match(parts[0]) and parts[1].upper().startswith("EUI"):
        return parts[0]
    return ""


def default_device(sender: str, facility: str, bed: str) -> str:
    """The sender's EUI-64; else the whole MSH-3 (else MSH-4) and the bed (whole PV1-3) it reports from: a model-wide
    MSH-3 (`Mindray`, `NIHON KOHDEN`, `CM100`) names every monitor of that model, and two beds of one model behind
    one gateway must stay two devices. '' when the message names neither (the listener then names it by its peer)."""
    eui64 = eui64_of(sender)
    if eui64:
        return eui64
    base = sender or facility
    if base and bed:
        return f"{base} @ {bed}"
    return base or (f"PV1-3 {bed}" if bed else "")


def _times(group: Group) -> list[float]:
    return [o.time for o in group.observations if o.time is not None] + ([group.time] if group.time else [])


def _with_received(r: Reading, received: float) -> Reading:
    return Reading(r.source, sbp=r.sbp, dbp=r.dbp, map=r.map, hr=r.hr, spo2=r.spo2, device_time=r.device_time,
                   received_time=received, provenance=r.provenance, device_id=r.device_id)


# ---- bytes -> text ------------------------------------------------------------------


def charset_of(raw: bytes) -> str:
    """How a message's bytes are read: UTF-8 (PCD-01) unless MSH-18 names ISO 8859 or the bytes are not UTF-8."""
    head = raw[:1024].split(b"\r", 1)[0].split(b"\n", 1)[0]
    if b"8859" in head:
        return "latin-1"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def decode(raw: bytes) -> str:
    """Bytes -> text with `\\r` segment ends and no blank segments. Never fails (see `charset_of`)."""
    text = raw.decode(charset_of(raw))
    text = text.lstrip("\ufeff\u2028\u2029 \t\r\n\x00")
    segments = (line.rstrip(" \t\x00") for line in re.split(r"\r\n|\r|\n", text))
    return "\r".join(s for s in segments if s.strip())


def control_id_of(raw: bytes) -> str:
    """MSH-10 of a message, read as simply as possible (for the ACK of one we cannot parse); '' if none."""
    text = decode(raw[:65536])
    if not text.startswith("MSH") or len(text) < 5:
        return ""
    separator = text[3]
    fields = text.split("\r", 1)[0].split(separator)
    if len(fields) < 10:
        return ""
    component = text[4] if text[4] != separator else "^"
    return fields[9].split(component, 1)[0].strip()[:MAX_CONTROL_ID]


def content_digest(text: str, keep_msh7: bool) -> str:
    """SHA-256 of the message as received, segment ends normalised, without MSH-7 (the time the message was
    sent, which a resend may renew) unless the message carries no other time (then MSH-7 is what tells two
    otherwise identical reports apart, and a resend with a new MSH-7 is stored twice rather than a report lost)."""
    segments = text.split("\r")
    if not keep_msh7 and len(segments[0]) > 4:
        fields = segments[0].split(segments[0][3])
        if len(fields) > 6:
            fields[6] = ""
            segments[0] = segments[0][3].join(fields)
    return hashlib.sha256("\r".join(segments).encode("utf-8", "surrogatepass")).hexdigest()


# ---- text -> message ------------------------------------------------------------------


def parse_oru(raw: bytes, zone: dt.tzinfo) -> OruMessage:
    """Read one ORU^R01 (or the monitor's alarms in an ORU^R40); raise HL7Error (AR for the wrong kind of message,
    AE for one with nothing we read)."""
    text = decode(raw)
    if not text.startswith("MSH") or len(text) < 8:
        raise HL7Error("not an HL7 message: it does not start with MSH", ack="AR", code=REQUIRED_MISSING,
                       where="MSH")
    if text.count("\rMSH" + text[3]) > 0:
        raise HL7Error("several messages in one frame", ack="AR", code=APPLICATION, where="MSH")
    try:
        message = hl7.parse(text)
        msh = message.segment("MSH")
    except Exception:  # the library's own errors on broken encoding characters
        raise HL7Error("the MSH segment cannot be read: its separators (MSH-1, MSH-2) are not usable", ack="AR",
                       code=APPLICATION, where="MSH^1^2") from None
    notes: list[Notice] = []
    header = _header(msh, zone, notes)
    pv1 = _segment(message, "PV1")
    point_of_care = _whole(pv1, 3)
    common = {**header, "location": _field(pv1, 3), "mrn": _field(_segment(message, "PID"), 3),
              "point_of_care": point_of_care, "charset": charset_of(raw)}
    if header["trigger"] == "R40":
        alarms = _alarms(message, zone, notes)
        return OruMessage(**common, alarms=alarms, notices=tuple(notes),
                          content_digest=content_digest(text, keep_msh7=not any(a.time for a in alarms)))
    context = _Context(zone, notes, _separators(text), default_device(header["sender"], header["sender_facility"],
                                                                      point_of_care),
                       header["processing_id"].upper() in TEST_PROCESSING_IDS)
    groups, discarded, alarms = _groups(message, context)
    if not any(g.observations for g in groups) and not discarded and not alarms:
        raise HL7Error("no observation of a vital sign we read (SpO2, heart/pulse rate, NIBP)",
                       code=REQUIRED_MISSING, where="OBX")
    return OruMessage(**common, groups=groups, discarded=tuple(discarded), alarms=tuple(alarms), notices=tuple(notes),
                      content_digest=content_digest(text, keep_msh7=not any(_times(g) for g in groups)))


def _alarms(message: Any, zone: dt.tzinfo, notes: list[Notice]) -> tuple[DeviceAlarm, ...]:
    rows = [segment for segment in message if len(segment) and str(segment[0]).strip() == "OBX"]
    obr_time = _time(_field(_segment(message, "OBR"), 7), zone, "OBR-7", notes)
    alarms = read_alarms(rows, obr_time, lambda seg, number, component: _field(seg, number, component), _whole,
                         lambda text: _time(text, zone, "OBX-14", notes))
    if not alarms:
        raise HL7Error("ORU^R40 with no alarm we read (OBX-4 facets .1 event, .3 phase, .4 state, .6 priority)",
                       code=REQUIRED_MISSING, where="OBX")
    return alarms


def _separators(text: str) -> str:
    """Repetition, component and subcomponent separators from MSH-1/MSH-2 (HL7 defaults where missing)."""
    encoding = text.split("\r", 1)[0][4:].split(text[3], 1)[0]
    return (encoding[1:2] or "~") + (encoding[0:1] or "^") + (encoding[3:4] or "&")


@dataclass(frozen=True, slots=True)
class _Context:
    zone: dt.tzinfo
    notes: list[Notice]
    separators: str  # repetition, component, subcomponent
    default_device: str
    test_message: bool


def _field(segment: Any, number: int, component: int = 1) -> str:
    if segment is None:
        return ""
    try:
        return str(segment.extract_field(1, number, 1, component, 1)).strip()
    except (IndexError, KeyError, AttributeError, ValueError, TypeError):
        return ""


def _whole(segment: Any, number: int) -> str:
    """A field as sent, components and all, trailing empty components dropped."""
    if segment is None:
        return ""
    try:
        text = str(segment[number]).strip()
    except (IndexError, KeyError, TypeError):
        return ""
    return text.rstrip("^&")


def _segment(message: Any, name: str) -> Any:
    try:
        return message.segment(name)
    except (KeyError, IndexError):
        return None


def _header(msh: Any, zone: dt.tzinfo, notes: list[Notice]) -> dict[str, Any]:
    kind, trigger = _field(msh, 9, 1), _field(msh, 9, 2)
    if kind != "ORU" or trigger not in TRIGGERS:
        raise HL7Error(f"message type {kind or '(empty)'}^{trigger} is not ORU^R01 (or ORU^R40 alarms)", ack="AR",
                       code=UNSUPPORTED_TYPE, where="MSH^1^9")
    version = _field(msh, 12)
    if not VERSION.match(version) and not (trigger == "R40" and not version):  # PCD-04 senders omit it
        raise HL7Error(f"HL7 version {version or '(empty)'} is not 2.1-2.8", ack="AR", code=UNSUPPORTED_VERSION,
                       where="MSH^1^12")
    control_id = _field(msh, 10)[:MAX_CONTROL_ID]
    if not control_id and trigger != "R40":  # an alarm is read even unnumbered: it is answered with MSA-2 empty
        raise HL7Error("MSH-10 message control id is empty", ack="AR", code=REQUIRED_MISSING, where="MSH^1^10")
    return {"control_id": control_id, "sending_application": _field(msh, 3), "sending_facility": _field(msh, 4),
            "sender": _whole(msh, 3), "sender_facility": _whole(msh, 4), "version": version, "trigger": trigger,
            "processing_id": _field(msh, 11) or "P", "time": _time(_field(msh, 7), zone, "MSH-7", notes)}


def _time(text: str, zone: dt.tzinfo, where: str, notes: list[Notice]) -> float | None:
    if not text:
        return None
    try:
        return parse_timestamp(text, zone)
    except (ValueError, OverflowError, OSError):
        notes.append(Notice("timestamp", f"{where} {text[:40]!r} is not an HL7 time: ignored"))
        return None


@dataclass
class _Carry:
    """The device id named by a device/channel row, in force for the rows below it in the same MDS."""

    mds: str = ""
    device_id: str = ""

    def apply(self, path: str, own: str) -> str:
        mds = path.split(".")[0] if "." in path else ""
        if own:
            self.mds, self.device_id = mds, own
            return own
        if self.device_id and (not mds or not self.mds or mds == self.mds):
            return self.device_id
        return ""


def _groups(message: Any, context: _Context) -> tuple[tuple[Group, ...], list[Discarded], list[DeviceAlarm]]:
    groups: list[Group] = []
    alarms: list[DeviceAlarm] = []
    discarded: list[Discarded] = []
    time: float | None = None
    known: list[Observation] = []
    unknown: list[RawObservation] = []
    carry = _Carry()
    seen_obr = False

    def close() -> None:
        readings, dropped = group_readings(tuple(known), time, context.default_device, context.test_message)
        groups.append(Group(time, tuple(known), tuple(unknown), tuple(readings)))
        discarded.extend(dropped)

    for segment in message:
        name = str(segment[0]).strip() if len(segment) else ""
        if name == "OBR":
            if seen_obr or known or unknown:
                close()
            seen_obr, known, unknown, carry = True, [], [], _Carry()
            time = _time(_field(segment, 7), context.zone, "OBR-7", context.notes)
        elif name == "OBX" and _field(segment, 3, 3).upper() == MDIL_ALERT:
            alarms.append(_mdil_alert(segment, time))
        elif name == "OBX":
            parsed = _observation(segment, context, carry)
            if isinstance(parsed, Observation):
                known.append(parsed)
            elif isinstance(parsed, RawObservation):
                unknown.append(parsed)
            elif isinstance(parsed, Discarded):
                discarded.append(parsed)
    if seen_obr or known or unknown:
        close()
    return tuple(groups), discarded, alarms


MDIL_ALERT = "MDIL-ALERT"  # Philips Efficia: an alarm in an ORU^R01, `2^Yellow Alarm^MDIL-ALERT` with its text in OBX-5
_MDIL_PRIORITY = {"RED ALARM": "high", "YELLOW ALARM": "medium"}  # the monitor's own colours (Efficia export guide)


def _mdil_alert(obx: Any, obr_time: float | None) -> DeviceAlarm:
    label = _field(obx, 3, 2)
    return DeviceAlarm(code=f"{_field(obx, 3, 1)}^{label}", text=_whole(obx, 5)[:200] or label,
                       priority=_MDIL_PRIORITY.get(label.upper(), "unknown"), state="", phase="", time=obr_time)


def _observation(obx: Any, context: _Context, carry: _Carry) -> Observation | RawObservation | Discarded | None:
    set_id, value_type, sub_id = _field(obx, 1), _field(obx, 2).upper(), _field(obx, 4)
    identifier, text = _field(obx, 3, 1), _field(obx, 3, 2)
    device_id = carry.apply(sub_id, _field(obx, 18))
    value = _whole(obx, 5)
    unit_id, unit_text = _field(obx, 6, 1), _field(obx, 6, 2)
    unit = unit_of(unit_id, unit_text) if unit_id or unit_text else None
    found = identify(identifier, text, sub_id, unit)
    code = f"{identifier}^{text}" if text else identifier
    if found.quantity is None and not found.conflict:
        if not value_type or not value:
            return None  # a device/channel header row (it may name the device: see _Carry)
        return RawObservation(set_id, code, sub_id, value, unit_id or unit_text)
    repetition, component, _ = context.separators
    flags = flags_of(_whole(obx, 8), repetition, component)
    why = no_value_reason(_field(obx, 11), flags, value)
    if why:
        return Discarded(code, value, why)
    if found.conflict:
        context.notes.append(Notice("code-conflict", found.conflict))
        return Discarded(code, value, "code-conflict")
    quantity = found.quantity
    assert quantity is not None
    number = read_number(value_type, value, context.separators)
    if isinstance(number, str):
        return Discarded(code, value, number)
    if unit_id or unit_text:
        if unit is None or unit.dimension != quantity.dimension:
            return Discarded(code, value, "unit")
    else:
        unit = DEFAULT_UNIT[quantity.dimension]
    if unit.to_standard != 1.0:
        number = float(round(number * unit.to_standard))  # to the whole mmHg monitors show
    at = _time(_field(obx, 14), context.zone, "OBX-14", context.notes)
    return Observation(quantity, number, _path(sub_id), at, device_id, set_id, code, value,
                       demo=is_demo_flag(flags), method=_whole(obx, 17))


def _path(sub_id: str) -> str:
    """OBX-4 when it is a dotted device path like 1.1.1.4 ('' when it is not)."""
    parts = sub_id.split(".")
    return sub_id if len(parts) >= 3 and all(p.isdigit() for p in parts) else ""
