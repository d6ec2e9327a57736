"""The alarm vocabulary (DESIGN.md) and the values the engine emits.

Codes are stable; priorities and limits come from the configuration.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

PHYSIOLOGICAL = frozenset({
    "bp.predose_high", "bp.high", "bp.severe", "bp.rise", "hr.high", "hr.low", "spo2.low",
})
TECHNICAL = frozenset({"data.stale", "reading.implausible", "device.disconnected", "nibp.failed"})
REMINDERS = frozenset({"bp.check_due"})
ALARM_CODES = PHYSIOLOGICAL | TECHNICAL | REMINDERS
EVENT_CODES = frozenset({"observation.ready", "observation.complete"})

PRIORITY_RANK = {"high": 3, "medium": 2, "low": 1, "info": 0}

State = Literal["raised", "cleared", "event"]


@dataclass(frozen=True, slots=True)
class Transition:
    """An alarm raised or cleared, or a session event such as observation.ready.

    `source` names which instance of a code this is (data.stale for `nibp` vs
    `continuous`, device.disconnected per device); empty where a code has one.
    """

    offset_s: float
    code: str
    priority: str
    state: State
    value: str = ""
    message: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ActiveAlarm:
    code: str
    source: str
    priority: str
    since_s: float
    value: str
    message: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.code, self.source)

    @property
    def is_technical(self) -> bool:
        return self.code in TECHNICAL
