"""One session's whole record, read once: what the review page and every export are made from."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping, Sequence

from ..engine import Config
from ..store import SessionRow, Store
from ..store.review_queries import readings_of
from ..store.signoff import SignOff, signoff_of
from .alarm_table import AlarmEpisode, alarm_episodes
from .format import EVENT_LABELS, alarm_label, event_detail
from .patient_course import first_treatment
from .rems import RemsForm, rems_form


class SessionNotFound(LookupError):
    """No session with that id."""


@dataclass(frozen=True)
class SessionRecord:
    row: SessionRow
    readings: tuple[dict[str, Any], ...]  # every reading, session-time order
    events: tuple[dict[str, Any], ...]
    transitions: tuple[dict[str, Any], ...]  # alarm transitions and status events, in order
    signoff: SignOff | None
    first_treatment: bool | None = None  # the REMS form's answer (esketamine): confirmed, or from the course
    spo2: Mapping[str, Any] | None = None  # a form's record (reports/form_queue.py): its SpO2 counted by the store

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def status(self) -> dict[str, Any]:
        return dict(self.row.status or {})

    @cached_property
    def bp_readings(self) -> tuple[dict[str, Any], ...]:
        return tuple(r for r in self.readings if r["sbp"] is not None)

    @cached_property
    def spot_checks(self) -> tuple[dict[str, Any], ...]:
        """The nurse's manual SpO2 checks (a manual reading without a BP): the log lists them beside the BPs."""
        return tuple(r for r in self.readings if r["sbp"] is None and r.get("provenance") == "manual"
                     and r["spo2"] is not None)

    @cached_property
    def episodes(self) -> list[AlarmEpisode]:
        return alarm_episodes(self.transitions)

    def wall_time(self, offset_s: float) -> float:
        return session_wall_time(self.row, offset_s)

    def rems(self, config: Config) -> RemsForm | None:
        """The REMS Patient Monitoring Form of an esketamine session; None for IV ketamine."""
        if not self.row.protocol.startswith("esketamine"):
            return None
        return rems_form(self.row, self.readings, self.events, config, self.wall_time, self.first_treatment,
                         self.spo2)

    def utc(self, offset_s: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.wall_time(offset_s), tz=dt.timezone.utc)

    @property
    def ended_wall(self) -> float | None:
        """Epoch seconds the session ended (its discharge, on the session's own clock); None while it is open.
        Not `ended_at`, which is when ingest wrote it: a replay at full speed writes a 2-hour session in seconds."""
        return None if self.row.ended_at is None else self.wall_time(self.end_s)

    @property
    def end_s(self) -> float:
        """Session time of the record's end: discharge, else the engine's clock, else the last item."""
        status = self.status
        last = max([r["offset_s"] for r in self.readings[-1:]] + [e["offset_s"] for e in self.events[-1:]] + [0.0])
        return float(status.get("discharged_at") or status.get("now") or last)


def session_wall_time(row: SessionRow, offset_s: float) -> float:
    """Epoch seconds of a session time. A live or simulated session's time runs at its speed from its start. A
    replayed session's time is the feed's own (a replay at 60x or full speed still took its 2 hours): its times
    are the start plus the session seconds, whatever speed it was replayed at."""
    if row.clock == "feed":
        return row.started_at + offset_s
    return row.started_at + offset_s / (row.speed or 1.0)


def load_record(store: Store, session_id: int) -> SessionRecord:
    row = store.session(session_id)
    if row is None:
        raise SessionNotFound(f"there is no session {session_id}")
    return SessionRecord(row, tuple(readings_of(store, session_id)), tuple(store.events_of(session_id)),
                         tuple(store.alarms_of(session_id)), signoff_of(store, session_id),
                         first_treatment(store, row) if row.protocol.startswith("esketamine") else None)


ACTION_KINDS_IN_TRANSITIONS = frozenset({"acknowledge"})  # logged through their transition, with who


def log_entries(readings: Sequence[Mapping[str, Any]], transitions: Sequence[Mapping[str, Any]],
                events: Sequence[Mapping[str, Any]]) -> list[tuple[float, str, str, str]]:
    """The session's log in session-time order: every BP, event, action and alarm transition, with who."""
    out: list[tuple[float, str, str, str]] = []
    for r in readings:
        if r.get("sbp") is not None:
            hr = f", HR {r['hr']:.0f}" if r.get("hr") is not None else ""
            out.append((r["offset_s"], "BP", f"{r['sbp']:.0f}/{r['dbp']:.0f} mmHg{hr} ({r['source']}, {r['provenance']})",
                        ""))
        elif r.get("provenance") == "manual" and r.get("spo2") is not None:  # a spot check (record.spot_checks)
            hr = f", HR {r['hr']:.0f}" if r.get("hr") is not None else ""
            out.append((r["offset_s"], "SpO2", f"{r['spo2']:.0f} %{hr} (manual check)", ""))
    for e in events:
        if e["kind"] in ACTION_KINDS_IN_TRANSITIONS:
            continue
        label = EVENT_LABELS.get(e["kind"], e["kind"].replace("_", " ").capitalize())
        out.append((e["offset_s"], label, event_detail(e), e["who"] if e["who"] != "simulator" else "simulated"))
    for t in transitions:
        if t["state"] == "event":
            out.append((t["offset_s"], "Status", f"{alarm_label(t['code'])}: {t['value']} {t['message']}".strip(), ""))
            continue
        who = t["value"] if t["state"] == "acknowledged" else ""
        detail = t["message"] if t["state"] == "acknowledged" else f"{t['value']} {t['message']}".strip()
        out.append((t["offset_s"], f"Alarm {t['state']} ({t['priority']})", f"{alarm_label(t['code'])}: {detail}", who))
    out.sort(key=lambda entry: entry[0])
    return out
