"""The session's alarms as episodes, derived from the stored transitions (dashboard/engine/alarms.py).

An episode is one alarm of a code (and source) from its raise until it is gone:
its condition cleared and, if it latched, someone acknowledged it. A re-raise at
another priority (SpO2 medium -> high) or a re-alarm after an acknowledgement is
the same episode. The table says who acknowledged it, when, and how long that took.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping

from ..engine import PRIORITY_RANK
from ..engine.alarms import ALARM_CODES


@dataclass(frozen=True, slots=True)
class AlarmEpisode:
    code: str
    source: str
    priority: str  # the highest it reached
    raised_at: float  # session seconds
    value: str  # at the raise
    message: str
    acks: tuple[tuple[str, float], ...] = ()  # (who, session seconds) of every acknowledgement
    cleared_at: float | None = None  # when the condition ended
    latched: bool = False  # the condition ended before anyone acknowledged it
    escalated_at: float | None = None
    realarms: int = 0
    unacknowledged_at_end: bool = False  # a latched alarm still unseen when the session ended
    done: bool = False  # internal: the episode is over; the next raise starts a new one

    @property
    def acknowledged_by(self) -> str:
        return self.acks[0][0] if self.acks else ""

    @property
    def acknowledged_at(self) -> float | None:
        """The first acknowledgement: what time-to-acknowledge measures."""
        return self.acks[0][1] if self.acks else None

    @property
    def time_to_acknowledge(self) -> float | None:
        return None if self.acknowledged_at is None else self.acknowledged_at - self.raised_at

    def notes(self) -> str:
        parts = []
        if self.latched:
            parts.append("latched")
        if self.escalated_at is not None:
            parts.append("escalated")
        if self.realarms:
            parts.append(f"re-alarmed {self.realarms}×")
        if self.unacknowledged_at_end:
            parts.append("never acknowledged")
        return ", ".join(parts)


def alarm_episodes(transitions: Iterable[Mapping[str, Any]]) -> list[AlarmEpisode]:
    """Episodes in the order they were raised. Transitions must be in session-time order."""
    episodes: list[AlarmEpisode] = []
    current: dict[tuple[str, str], int] = {}  # (code, source) -> index of its open episode
    for t in transitions:
        if t["code"] not in ALARM_CODES or t["state"] == "event":
            continue
        key = (t["code"], t.get("source") or "")
        index = current.get(key)
        if t["state"] == "raised" and (index is None or episodes[index].done):
            current[key] = len(episodes)
            episodes.append(AlarmEpisode(key[0], key[1], t["priority"], t["offset_s"], t.get("value") or "",
                                         t.get("message") or ""))
            continue
        if index is None:
            continue  # a transition without its raise (a record cut short): nothing to attach it to
        episodes[index] = _step(episodes[index], t)
    return episodes


def _step(ep: AlarmEpisode, t: Mapping[str, Any]) -> AlarmEpisode:
    state, at = t["state"], t["offset_s"]
    if state == "raised":  # re-prioritised, or back while latched
        higher = PRIORITY_RANK.get(t["priority"], 0) > PRIORITY_RANK.get(ep.priority, 0)
        return replace(ep, priority=t["priority"] if higher else ep.priority, cleared_at=None)
    if state == "cleared":
        if ep.latched and ep.cleared_at is not None:  # the session ended with it still latched
            return replace(ep, done=True, unacknowledged_at_end=True)
        return replace(ep, cleared_at=at, done=True)
    if state == "latched":
        return replace(ep, latched=True, done=False)
    if state == "acknowledged":
        ep = replace(ep, acks=(*ep.acks, (t.get("value") or "", at)))
        return replace(ep, done=True) if ep.latched and ep.cleared_at is not None else ep
    if state == "realarm":
        return replace(ep, realarms=ep.realarms + 1)
    if state == "escalated" and ep.escalated_at is None:
        return replace(ep, escalated_at=at)
    return ep


def counts_by_code(episodes: Iterable[AlarmEpisode]) -> dict[str, int]:
    """How many episodes of each code, most frequent first."""
    counts: dict[str, int] = {}
    for ep in episodes:
        counts[ep.code] = counts.get(ep.code, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
