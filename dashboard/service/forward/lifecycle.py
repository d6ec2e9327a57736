"""Where one stored transition sits in its alarm's life, in IHE PCD-04 terms. Pure: the alarm's own history in.

The engine stores what happened (dashboard/engine/alarms.py): raised, cleared, latched, acknowledged, realarm,
escalated. A manager wants, for each update, the event phase, the alarm state, the inactivation state and one
identifier for the whole alarm (the id of the transition that started it), so it can update or cancel the page
it sent. Read from the alarm's stored history alone, the answer is the same after a restart.

| stored | phase | alarm state | inactivation |
|---|---|---|---|
| raised (a new alarm) | start | active | enabled |
| raised (again, e.g. another priority, or while latched) | update | active | enabled |
| escalated | escalate | active (latched if latched) | enabled |
| acknowledged, condition still there | update | active | alert-acknowledged |
| realarm (acknowledgement ran out) | update | active | enabled |
| cleared, then latched (a high alarm stays shown until acknowledged) | update | latched | enabled |
| acknowledged while latched | end | inactive | alert-acknowledged |
| cleared | end | inactive | enabled (alert-acknowledged once acknowledged) |

A cleared that the engine follows with latched is one update, sent once (at the latched row): "ended" followed by
"shown again" would make a manager cancel the page and send it anew.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence


@dataclass(frozen=True, slots=True)
class Step:
    alarm_id: int  # the alarms.id of the transition that started this alarm
    started_offset_s: float  # its session time
    phase: str
    state: str
    inactivation: str


@dataclass
class _Life:
    start: dict[str, Any] | None = None
    latched: bool = False
    acked: bool = False


def step_of(history: Sequence[dict[str, Any]], row_id: int) -> Step | None:
    """The update that transition `row_id` is, given every transition of its alarm (id, offset_s, state) in order;
    None when it is not sent on its own (a cleared followed by latched, a session event)."""
    life = _Life()
    for index, row in enumerate(history):
        if life.start is None:
            life = _Life(start=row)
        nxt = history[index + 1] if index + 1 < len(history) else None
        step = _apply(life, row, nxt)
        if row["id"] == row_id:
            return step
        if step is not None and step.phase == "end":
            life = _Life()
    return None


def _apply(life: _Life, row: dict[str, Any], nxt: dict[str, Any] | None) -> Step | None:
    assert life.start is not None
    state = row["state"]
    start_id, start_at = int(life.start["id"]), float(life.start["offset_s"])

    def step(phase: str, alarm_state: str, inactivation: str) -> Step:
        return Step(start_id, start_at, phase, alarm_state, inactivation)

    if state == "raised":
        first = life.start is row
        life.latched = life.acked = False
        return step("start" if first else "update", "active", "enabled")
    if state == "cleared":
        if nxt is not None and nxt["state"] == "latched":
            return None
        return step("end", "inactive", "alert-acknowledged" if life.acked else "enabled")
    if state == "latched":
        life.latched = True
        return step("update", "latched", "enabled")
    if state == "acknowledged":
        if life.latched:
            return step("end", "inactive", "alert-acknowledged")
        life.acked = True
        return step("update", "active", "alert-acknowledged")
    if state == "realarm":
        life.acked = False
        return step("update", "active", "enabled")
    if state == "escalated":
        return step("escalate", "latched" if life.latched else "active", "enabled")
    return None
