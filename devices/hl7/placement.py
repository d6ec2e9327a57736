"""Where an HL7 message belongs, and whether its source has gone quiet (docs/placement.md).

A message finds its chair by, in order: its PV1-3 point of care (`[hl7.locations]` names the whole field or any part
of it: bed, room, point of care, facility or a subcomponent; an unmapped PV1-3.1 being the chair's own name), its
PID-3 patient (`[hl7.patients]`), or its device identity (`[hl7.devices]`): each OBX-18 device id, then the EUI-64 in
MSH-3.2, then the sender with its bed (`MSH-3 @ PV1-3`), then the whole MSH-3. Many monitors send neither location
nor patient; a message none of these place is not refused: it goes to ingest under its device identity, which a nurse
can associate with a chair from the Devices page ("associate device"). With no EUI-64 that identity includes the bed:
two beds of one model (one MSH-3) behind one gateway are two devices, never one.

The technical alarm follows the data, not the TCP connection (a gateway may open one connection per message): a
source that sends no report within its expected interval (`silent_after_s`, per location or device) is reported
disconnected, and its next report brings it back.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from ..errors import HL7Error
from .parse import APPLICATION, OruMessage

SILENT_AFTER_S = 60.0  # default expected interval: PCD-01 monitors send periodic numerics every 1-60 s


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Place:
    """Where one message goes and what its source is called."""

    chair: str | None  # None: nothing in the message names a chair we know; ingest places it by `device`
    device: str  # the device identity it is filed (and associated) by
    label: str  # the source of its technical alarm: "hl7 <PV1-3>", "hl7 <device id>"
    silent_after_s: float  # no report for this long: device.disconnected

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.chair, self.label)


@dataclass(frozen=True, slots=True)
class Placement:
    """The `[hl7.locations]`, `[hl7.patients]` and `[hl7.devices]` maps, and each source's expected interval."""

    locations: Mapping[str, str] = field(default_factory=_empty)  # PV1-3.1 -> chair; unmapped = the chair name
    patients: Mapping[str, str] = field(default_factory=_empty)  # PID-3.1 -> chair, for messages without PV1-3
    devices: Mapping[str, str] = field(default_factory=_empty)  # OBX-18 / MSH-3.2 EUI-64 / whole MSH-3 -> chair
    silent_after_s: float = SILENT_AFTER_S
    intervals: Mapping[str, float] = field(default_factory=_empty)  # a location's or device's own interval

    def place(self, message: OruMessage) -> Place:
        """Raises HL7Error when the location and the patient's mapped chair disagree."""
        device = device_identity(message)
        named, chair = self._location(message)
        if chair is not None:
            expected = self.patients.get(message.mrn) if message.mrn else None
            if expected is not None and expected != chair:
                raise HL7Error(f"PID-3 patient is mapped to {expected}, but PV1-3 says {message.point_of_care}",
                               code=APPLICATION, where="PV1^1^3")
            return self._place(chair, device, named)
        if message.mrn and message.mrn in self.patients:
            chair = self.patients[message.mrn]
            return self._place(chair, device, chair)
        for candidate in (*message.device_ids, message.sender_eui64, device, message.sender):
            if candidate and candidate in self.devices:
                return self._place(self.devices[candidate], candidate, candidate)
        return self._place(None, device, device)

    def _location(self, message: OruMessage) -> tuple[str, str | None]:
        """The part of PV1-3 a site named in `[hl7.locations]` and its chair; else an unmapped PV1-3.1 as the chair's
        own name; else no chair (`('', None)`)."""
        for part in location_parts(message.point_of_care):
            if part in self.locations:
                return part, self.locations[part]
        if message.location:
            return message.location, message.location
        return "", None

    def _place(self, chair: str | None, device: str, name: str) -> Place:
        interval = self.intervals.get(name, self.intervals.get(device, self.silent_after_s))
        return Place(chair, device, f"hl7 {name}", interval)


def location_parts(point_of_care: str) -> list[str]:
    """What of a PV1-3 a site may name in `[hl7.locations]`, most specific first: the whole field as sent, then each
    component (bed, room, point of care, facility; trailing empty or zero subcomponents dropped: Mindray's
    `ICU&01&0&0&0` is also `ICU&01`), then each subcomponent (`Doc1&5&1` -> `Doc1`, `5`, `1`)."""
    if not point_of_care:
        return []
    components = point_of_care.split("^")
    order = [2, 1, 0, 3] + list(range(4, len(components)))
    parts = [point_of_care]
    for index in (i for i in order if i < len(components)):
        component = components[index]
        parts += [component, _trim(component)]
    for index in (i for i in order if i < len(components)):
        parts += components[index].split("&")
    return list(dict.fromkeys(part for part in parts if part.strip()))


def _trim(component: str) -> str:
    subs = component.split("&")
    while subs and subs[-1].strip() in ("", "0"):
        subs.pop()
    return "&".join(subs)


def device_identity(message: OruMessage) -> str:
    """What names the measuring device: its first OBX-18 id, else the sender's EUI-64 (MSH-3.2), else the whole MSH-3
    (else MSH-4) with its bed (the whole PV1-3): two beds of one model behind one gateway are two devices."""
    return next((d for d in message.device_ids if d), "") or message.default_device


class Silence:
    """Each source's last report (monotonic seconds), and which are reported silent. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._heard: dict[tuple[str | None, str], tuple[Place, float]] = {}
        self._down: set[tuple[str | None, str]] = set()

    def heard(self, place: Place, now: float) -> bool:
        """A report came; True when the source had been reported silent (it is back)."""
        with self._lock:
            self._heard[place.key] = (place, now)
            if place.key in self._down:
                self._down.discard(place.key)
                return True
        return False

    def overdue(self, now: float) -> list[tuple[Place, float]]:
        """Sources newly silent past their interval, each with how long it has been silent."""
        out = []
        with self._lock:
            for key, (place, at) in self._heard.items():
                if key not in self._down and now - at > place.silent_after_s:
                    self._down.add(key)
                    out.append((place, now - at))
        return out
