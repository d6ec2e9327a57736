"""A JSON-able snapshot of a session's engine state: what the board shows."""
from __future__ import annotations

from typing import Any

from .alarms import PRIORITY_RANK
from .session import SessionEngine
from .vitals import BP, Value


DEVICE_PRIORITIES = ("none", "unknown", "low", "medium", "high")  # the monitor's own grading, lowest first


def session_status(engine: SessionEngine) -> dict[str, Any]:
    due = engine.next_due()
    alarms = sorted(engine.active.values(), key=lambda a: (-PRIORITY_RANK[a.priority], a.since_s, a.code))
    return {
        "now": engine.now,
        "phase": engine.phase,
        "phase_since": engine.phase_since,
        "phases": [[phase, since] for phase, since in engine.phases],  # ready can be lost again: each change
        "dose_at": engine.dose_at,
        "infusion_end_at": engine.infusion_end_at,
        "dosing_end_at": (engine.dose_at + engine.spec.dosing_s
                          if engine.dose_at is not None and not engine.spec.is_infusion else None),
        "protocol_label": engine.spec.label,
        "observation_end_at": engine.observation_end_at,
        "ready_at": engine.ready_at,
        "check_done_at": engine.check_done_at,
        "discharged_at": engine.discharged_at,
        "bp": _bp(engine.last_bp),
        "baseline": _bp(engine.baseline),
        "rise_baseline": _bp(engine.rise_baseline) if engine.baseline_from == "course" else None,
        "baseline_from": engine.baseline_from,
        "peak": _bp(engine.peak_bp),
        "hr": _rate(engine),
        "rates": {kind: _value(value) for kind, value in engine.rates.items()},
        "spo2": _value(engine.last_spo2),
        "alarms": [{"code": a.code, "source": a.source, "priority": a.priority, "since_s": a.since_s,
                    "value": a.value, "message": a.message, "technical": a.is_technical,
                    "condition": a.condition, "latched": a.latched, "acked_by": a.acked_by, "acked_at": a.acked_at,
                    "escalated": a.escalated, "audible": not a.acknowledged and not engine.audio_paused}
                   for a in alarms],
        "audio_paused_until": engine.audio_paused_until if engine.audio_paused else None,
        "due": {"label": due.label, "at_s": due.at_s},
        "readiness": engine.readiness(),
        "device_alarms": sorted(engine.device_alarms.values(),
                                key=lambda d: (-_device_rank(d["priority"]), d["since_s"])),
    }


def _bp(bp: BP | None) -> dict[str, Any] | None:
    return None if bp is None else {"offset_s": bp.offset_s, "sbp": bp.sbp, "dbp": bp.dbp, "map": bp.map,
                                    "text": bp.text}


def _rate(engine: SessionEngine) -> dict[str, Any] | None:
    """The heart rate every screen shows, and which source it is (SessionEngine.shown_rate)."""
    shown = engine.shown_rate()
    return None if shown is None else {**_value(shown[1]), "source": shown[0]}  # type: ignore[dict-item]


def _value(v: Value | None) -> dict[str, float] | None:
    return None if v is None else {"offset_s": v.offset_s, "value": v.value}


def _device_rank(priority: str) -> int:
    return DEVICE_PRIORITIES.index(priority) if priority in DEVICE_PRIORITIES else 0
