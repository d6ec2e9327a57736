"""The values every device adapter, the simulator and the feed produce.

A `Reading` is one measurement report (a BP cycle, a pulse-oximeter sample); a
`SessionEvent` is anything else that happens in a session (dose start, an
assessment, a device disconnect). Both carry three clocks:

- `device_time`: the device's own clock (epoch seconds), kept for the record
  but never trusted for ordering: device clocks jump.
- `received_time`: our clock when the report arrived (epoch seconds).
- `offset_s`: session time, seconds from the session start. Set by ingest (or
  read from a feed); the engine and the charts use only this.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# device: measured by a device; manual: entered by a person; demo: sent by a device in demo or test mode
# (HL7 MSH-11 T/D, OBX-8 DEMO/TEST): never patient data, kept apart from it
Provenance = Literal["device", "manual", "demo"]

EVENT_KINDS: frozenset[str] = frozenset({
    "session_start", "dose_start", "infusion_end", "assessment", "nibp_failed",
    "sensor_off", "device_disconnect", "device_reconnect", "discharge", "note",
    "device_alarm",  # a monitor's own alarm (HL7 ORU^R40), as it said it: never one of ours
})

PROTOCOLS: tuple[str, ...] = ("iv-ketamine", "esketamine-56", "esketamine-84")


@dataclass(frozen=True, slots=True)
class Reading:
    """One measurement report. A BP row carries SBP/DBP/MAP together."""

    source: str
    sbp: float | None = None
    dbp: float | None = None
    map: float | None = None
    hr: float | None = None
    spo2: float | None = None
    offset_s: float | None = None
    device_time: float | None = None
    received_time: float | None = None
    provenance: Provenance = "device"
    device_id: str = ""
    artifact: bool = False  # the device marked it disturbed (Nonin artifact bit): values as measured, marked

    @property
    def has_bp(self) -> bool:
        return self.sbp is not None or self.dbp is not None


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """A session event; `kind` is one of EVENT_KINDS (docs/feed-format.md)."""

    kind: str
    detail: str = ""
    source: str = ""
    offset_s: float | None = None
    device_time: float | None = None
    received_time: float | None = None
    who: str = ""
    device_id: str = ""


Item = Reading | SessionEvent


@dataclass(frozen=True, slots=True)
class Assessment:
    """A nurse assessment, parsed from `moaas=3;dissociation=yes;resp=ok`."""

    moaas: int  # MOAA/S 0-5, 5 = awake and normal
    dissociation: bool
    breathing_ok: bool

    def to_detail(self) -> str:
        return (f"moaas={self.moaas};dissociation={'yes' if self.dissociation else 'no'};"
                f"resp={'ok' if self.breathing_ok else 'depressed'}")

    @classmethod
    def parse(cls, detail: str) -> Assessment:
        """Parse an assessment detail; raise ValueError naming what is wrong."""
        fields: dict[str, str] = {}
        for part in detail.split(";"):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"assessment part {part!r} is not key=value")
            fields[key.strip().lower()] = value.strip().lower()
        missing = {"moaas", "dissociation", "resp"} - fields.keys()
        if missing:
            raise ValueError(f"assessment lacks {', '.join(sorted(missing))}")
        if fields["moaas"] not in {"0", "1", "2", "3", "4", "5"}:
            raise ValueError(f"moaas must be 0-5, got {fields['moaas']!r}")
        if fields["dissociation"] not in {"yes", "no"}:
            raise ValueError(f"dissociation must be yes or no, got {fields['dissociation']!r}")
        if fields["resp"] not in {"ok", "depressed"}:
            raise ValueError(f"resp must be ok or depressed, got {fields['resp']!r}")
        return cls(int(fields["moaas"]), fields["dissociation"] == "yes", fields["resp"] == "ok")
