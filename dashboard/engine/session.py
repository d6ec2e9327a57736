"""The session engine: a deterministic fold of readings and events into state.

`SessionEngine.apply(item)` takes the next reading or event (in session-time
order) and returns the alarm transitions it caused; `advance(t)` fires the
timers due by session time `t` (the 40-min check, stale data, condition holds,
the end of the minimum observation). Nothing here reads a clock or does I/O,
so a feed replayed at 1x or as fast as possible gives the same transitions at
the same session times.

At one instant the item is applied before the timers due at that same instant,
so a reading at exactly the end of a 10 s hold can still cancel it.

Readings from before the session start (the chair's pre-session window, docs/placement.md) come first, at negative
session times: the engine's clock starts at its first item when that is before 0, so a BP taken before the nurse
opened the session is the latest BP at the dose and becomes the baseline, and a high one raises the pre-dose alarm.

Heart rate: the ECG's, the oximeter's pulse rate and the cuff's pulse are all kept (`rates`); the one shown is
`shown_rate()` (docs/placement.md).

Here: the session's clock, phases, timers, events and discharge readiness. How each reading raises and clears its
alarms is vital_rules.py; the values kept (BP, Value) and their wording are vitals.py.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from devices.readings import Assessment, Item, Reading, SessionEvent

from .alarms import PHYSIOLOGICAL, ActiveAlarm, AlarmBoard, Transition
from .config import Config, ProtocolSpec
from .vital_rules import VitalSignRules
from .vitals import BP, MINUTE, Value, num


@dataclass(frozen=True, slots=True)
class Due:
    """What is due next in the session, for the nurse's board."""

    label: str
    at_s: float | None



class SessionEngine(VitalSignRules):
    """State and alarms of one session. See the module docstring."""

    def __init__(self, config: Config, protocol: str, course_baseline: tuple[float, float] | None = None) -> None:
        """`course_baseline`: the median pre-dose (sbp, dbp) of the patient's earlier sessions, for the
        `course-lower` baseline policy; passed in by the caller (ingest reads it from the session row)."""
        if protocol not in config.protocols:
            raise ValueError(f"unknown protocol {protocol!r}; known: {', '.join(config.protocols)}")
        self.made = (config, protocol, course_baseline)  # what late.refold builds a twin from
        self.config = config.for_protocol(protocol)
        self.spec: ProtocolSpec = config.protocols[protocol]
        self.spo2_watch = self.spec.spo2_required
        self._limits(self.config)
        self.now = 0.0
        self.phase = "pre-dose"
        self.phase_since = 0.0
        self.phases: list[tuple[str, float]] = [("pre-dose", 0.0)]  # every phase change: the charts shade them
        self.dose_at: float | None = None
        self.infusion_end_at: float | None = None
        self.observation_end_at: float | None = None
        self.discharged_at: float | None = None
        self.baseline: BP | None = None  # the last valid pre-dose BP (the label's baseline)
        self.rise_baseline: BP | None = None  # what bp.rise measures from (the baseline, unless the policy says)
        self.baseline_from = ""  # "session": the pre-dose BP; "course": the patient's usual pre-dose BP was lower
        self.course_baseline = course_baseline if config.baseline_policy == "course-lower" else None
        self.last_bp: BP | None = None
        self.peak_bp: BP | None = None  # highest post-dose SBP so far
        self.bp_not_above_peak = False
        self.last_hr: Value | None = None
        self.rates: dict[str, Value] = {}  # the latest heart/pulse rate of each kind of source (RATE_SOURCES)
        self.last_spo2: Value | None = None
        self.assessment: tuple[float, Assessment] | None = None
        self.ready_at: float | None = None
        self.check_done_at: float | None = None  # the BP that satisfied the 40-min check
        self.ready_now = False
        self._timers: dict[str, float] = {}
        self.alarms = AlarmBoard(self.config.value("alarm.realarm_after"), self.config.value("alarm.escalate_after"),
                                 self._timers, self._emit)
        self.audio_paused_until: float | None = None
        self.overrides: list[tuple[float, str, str]] = []  # (session time, who, reason)
        # the monitors' own alarms (ORU^R40), active ones by (device, code): shown as the device's, never ours
        self.device_alarms: dict[tuple[str, str], dict[str, Any]] = {}
        self.timers_fired = 0  # lets a caller tell that state moved without a transition (e.g. a phase)
        self.fresh = True  # nothing folded yet: the first item may set the clock before 0 (pre-session readings)
        self._established: set[str] = set()
        self._out: list[Transition] = []

    # ---- public API -------------------------------------------------------

    def apply(self, item: Item) -> list[Transition]:
        """Apply the next reading or event; return the transitions it caused."""
        t = self.fold_time(item.offset_s)
        self.fresh = False
        self._fire_timers(t, inclusive=False)
        self.now = t
        if self.phase != "discharged":
            if isinstance(item, Reading):
                self._on_reading(item, t)
            else:
                self._on_event(item, t)
            self._update_readiness(t)
        return self._flush()

    def advance(self, t: float, inclusive: bool = True) -> list[Transition]:
        """Fire every timer due at or before session time `t` (strictly before it with inclusive=False,
        as `apply` does for an item at `t`: a replay that advances up to its next item then matches one
        that applies the item straight away)."""
        self.fresh = self.fresh and t <= self.now  # a resume at the start still takes pre-session readings
        self._fire_timers(t, inclusive=inclusive)
        self.now = max(self.now, t)
        return self._flush()

    def fold_time(self, offset_s: float | None) -> float:
        """The session time an item at `offset_s` is folded at: its own, but never before what was folded already
        (the clock never runs backwards); the first item may be before 0 (a pre-session reading)."""
        if offset_s is None:
            return self.now
        return offset_s if self.fresh else max(offset_s, self.now)

    def shown_rate(self) -> tuple[str, Value] | None:
        """The heart rate every screen shows, with its source (docs/placement.md): the ECG's while fresh, else the
        oximeter's pulse rate while fresh, else a pulse of unsaid origin while fresh, else the pulse of the latest BP
        cycle, else the newest rate of any. Fresh: within `data.stale.continuous_after`."""
        for kind in ("ecg", "oximeter", "pulse"):
            rate = self.rates.get(kind)
            if rate is not None and self.now - rate.offset_s <= self.stale_continuous:
                return kind, rate
        bp_rate = max((item for item in self.rates.items() if item[0] in ("nibp", "manual")),
                      key=lambda item: item[1].offset_s, default=None)
        if bp_rate is not None:
            return bp_rate
        return max(self.rates.items(), key=lambda item: item[1].offset_s, default=None)

    @property
    def active(self) -> dict[tuple[str, str], ActiveAlarm]:
        """Alarms shown now: conditions that hold, and high alarms latched until acknowledged."""
        return self.alarms.active

    @property
    def audio_paused(self) -> bool:
        return self.audio_paused_until is not None and self.now < self.audio_paused_until

    @property
    def is_monitoring(self) -> bool:
        """True from the dose until discharge: when NIBP must keep coming."""
        return self.dose_at is not None and self.phase != "discharged"

    def readiness(self) -> dict[str, bool]:
        """The discharge criteria (docs/clinical.md), each true or false now."""
        bp = self.last_bp
        bp_ok = (bp is not None and self.dose_at is not None and bp.offset_s >= self.dose_at
                 and bp.sbp < self.high_sbp and bp.dbp < self.high_dbp and self.bp_not_above_peak)
        assessed = self.assessment
        assessment_ok = (assessed is not None and self.dose_at is not None and assessed[0] >= self.dose_at
                         and assessed[1].moaas >= self.moaas_min and not assessed[1].dissociation
                         and assessed[1].breathing_ok)
        return {
            "minimum observation passed": (self.observation_end_at is not None
                                           and self.now >= self.observation_end_at),
            "BP below the elevated limit and not rising": bp_ok,
            "no physiological alarm active": not self.alarms.any_shown(PHYSIOLOGICAL),
            "sedation and dissociation resolved, breathing normal": assessment_ok,
        }

    def next_due(self) -> Due:
        """The next thing the nurse should expect, with its session time."""
        if self.phase == "pre-dose":
            return Due("dose", None)
        if self.phase == "discharged":
            return Due("session ended", None)
        if self.phase in ("infusion", "dosing") and self.dose_at is not None:
            label = "infusion end" if self.phase == "infusion" else "end of dosing"
            candidate = Due(label, self.dose_at + self.spec.dosing_s)
        else:
            candidate = Due("end of observation", self.observation_end_at)
        check_at = self._timers.get("check_due")
        if check_at is not None and (candidate.at_s is None or check_at < candidate.at_s):
            return Due("40-min BP check", check_at - (self.check_end - self.check_start) / 2)
        if self.phase == "ready":
            return Due("discharge", None)
        if candidate.at_s is not None and candidate.at_s <= self.now:
            return Due("discharge criteria", None)
        return candidate

    # ---- timers -----------------------------------------------------------

    def _fire_timers(self, t: float, inclusive: bool) -> None:
        while self._timers:
            name, due = min(self._timers.items(), key=itemgetter(1))
            if due > t or (due == t and not inclusive):
                return
            del self._timers[name]
            self.timers_fired += 1
            self.now = max(self.now, due)
            self._on_timer(name, due)
            self._update_readiness(due)

    def _on_timer(self, name: str, t: float) -> None:
        if self.alarms.on_timer(name, t):
            return
        if name == "audio_pause_end":
            self.audio_paused_until = None
        elif name.startswith("hold:"):
            self._established.add(name.removeprefix("hold:"))
            if not any(other.startswith("hold:") and due == t for other, due in self._timers.items()):
                self._sync_hr(t)  # holds due at one instant settle together: one raise at the level reached
                self._sync_spo2(t)
        elif name == "check_due":
            self._set("bp.check_due", "", True, t, message="no BP between "
                      f"{num(self.check_start / MINUTE)} and {num(self.check_end / MINUTE)} min after the dose")
        elif name == "stale:nibp":
            self._set("data.stale", "nibp", True, t,
                      message=f"no NIBP reading for {num(self.stale_nibp / MINUTE)} min")
        elif name == "stale:continuous":
            self._set("data.stale", "continuous", True, t,
                      message=f"no HR/SpO2 for {num(self.stale_continuous)} s")
        elif name == "spo2_unmonitored":
            self._set("spo2.unmonitored", "", True, t, message=f"no SpO2 from an oximeter or a manual check for "
                      f"{num(self.spo2_unmonitored / MINUTE)} min")
        elif name == "dosing_end":
            self._set_phase("observation", t)

    # ---- events -----------------------------------------------------------

    def _on_event(self, e: SessionEvent, t: float) -> None:
        kind = e.kind
        if kind == "dose_start":
            self._on_dose(t)
        elif kind == "infusion_end" and self.phase == "infusion":
            self.infusion_end_at = t
            self._set_phase("observation", t)
            self._start_observation_clock(t)
        elif kind == "assessment":
            try:
                self.assessment = (t, Assessment.parse(e.detail))
            except ValueError:
                pass  # the feed reader and the forms reject these before they get here
        elif kind == "nibp_failed":
            self._set("nibp.failed", "", True, t, value=e.detail, message=f"NIBP cycle failed: {e.detail or 'no reason given'}")
        elif kind == "sensor_off":
            self._timers.pop("stale:continuous", None)
            self._set("data.stale", "continuous", True, t, value=e.detail,
                      message=f"sensor off{': ' + e.detail if e.detail else ''}")
        elif kind == "device_disconnect":
            self._set("device.disconnected", e.source or e.detail, True, t, value=e.detail,
                      message=f"{e.source or 'device'} disconnected")
        elif kind == "device_reconnect":
            self._set("device.disconnected", e.source or e.detail, False, t, value=e.detail,
                      why=f"{e.source or 'device'} reconnected")
        elif kind == "discharge":
            self._on_discharge(t, e.detail)
        elif kind == "acknowledge":
            code, _, source = e.detail.partition("|")
            self.alarms.acknowledge(code, source, t, e.who or "unknown")
        elif kind == "audio_pause":
            self._pause_audio(t, e.detail, e.who)
        elif kind == "device_alarm":
            self._on_device_alarm(e, t)
        elif kind == "override":
            self.overrides.append((t, e.who, e.detail))
            self._emit(t, "override", "info", "event", e.who, e.detail)  # kept in the alarm history, with who

    def _on_device_alarm(self, e: SessionEvent, t: float) -> None:
        """A monitor's alarm as it said it (devices/hl7/device_alarms.py): kept while active, dropped when it ends.
        It raises no alarm of ours and is never re-graded: its priority and text are the monitor's."""
        try:
            said = json.loads(e.detail)
        except ValueError:
            said = None
        if not isinstance(said, dict):
            said = {"code": "", "text": e.detail, "priority": "unknown", "active": True}
        key = (e.device_id or e.source, str(said.get("code") or said.get("text") or ""))
        if said.get("active", True):
            since = self.device_alarms.get(key, {}).get("since_s", t)
            self.device_alarms[key] = {"device": key[0], "code": key[1], "text": str(said.get("text", "")),
                                       "priority": str(said.get("priority", "unknown")), "since_s": since}
        else:
            self.device_alarms.pop(key, None)

    def _pause_audio(self, t: float, detail: str, who: str) -> None:
        """Silence this chair for a while; never longer than the clinic allows."""
        try:
            asked = float(detail) if detail else self.audio_pause_max
        except ValueError:
            asked = self.audio_pause_max
        seconds = min(max(asked, 0.0), self.audio_pause_max)
        self.audio_paused_until = t + seconds
        self._timers["audio_pause_end"] = self.audio_paused_until
        self._emit(t, "audio.paused", "info", "event", f"{num(seconds)} s", f"audio paused by {who or 'unknown'}")

    def _on_dose(self, t: float) -> None:
        if self.dose_at is not None:
            return  # a repeated dose_start does not restart the session's clocks
        self.dose_at = t
        self.baseline = self.last_bp
        self.rise_baseline, self.baseline_from = self._rise_baseline(t)
        self._set("bp.predose_high", "", False, t, why="dose started")
        self._set_phase("infusion" if self.spec.is_infusion else "dosing", t)
        self._timers["check_due"] = t + self.check_end
        self._timers["stale:nibp"] = t + self.stale_nibp
        if self.spo2_watch:  # from the dose: the REMS asks for pulse oximetry during dosing and observation
            self._timers["spo2_unmonitored"] = t + self.spo2_unmonitored
        if not self.spec.is_infusion:
            self._timers["dosing_end"] = t + self.spec.dosing_s
            self._start_observation_clock(t)

    def _rise_baseline(self, t: float) -> tuple[BP | None, str]:
        """The BP bp.rise measures from: the last valid pre-dose BP (the label's), or under the `course-lower`
        policy the lower of it and the patient's usual pre-dose BP, per component."""
        bp, usual = self.last_bp, self.course_baseline
        if usual is None:
            return bp, "session" if bp else ""
        if bp is None:
            return BP(t, float(usual[0]), float(usual[1]), None), "course"
        lower = BP(bp.offset_s, min(bp.sbp, usual[0]), min(bp.dbp, usual[1]), bp.map)
        return lower, "session" if (lower.sbp, lower.dbp) == (bp.sbp, bp.dbp) else "course"

    def _start_observation_clock(self, t: float) -> None:
        self.observation_end_at = t + self.spec.observation_s
        self._timers["observation_min"] = self.observation_end_at

    def _on_discharge(self, t: float, detail: str) -> None:
        self.alarms.clear_all(t, "session ended")
        self._timers.clear()
        self.audio_paused_until = None
        self.discharged_at = t
        self._set_phase("discharged", t)
        self._emit(t, "observation.complete", "info", "event", detail, "patient discharged")

    def _update_readiness(self, t: float) -> None:
        if self.phase not in ("observation", "ready"):
            return
        self.ready_now = all(self.readiness().values())
        if self.ready_now and self.ready_at is None:
            self.ready_at = t
            self._emit(t, "observation.ready", "info", "event", "",
                       "discharge criteria met: observation time, BP, alarms, assessment")
        self._set_phase("ready" if self.ready_now else "observation", t)

    # ---- output -----------------------------------------------------------

    def _set_phase(self, phase: str, t: float) -> None:
        if phase != self.phase:
            self.phase, self.phase_since = phase, t
            self.phases.append((phase, t))

    def _settled(self, code: str, source: str, on: bool, priority: str | None = None) -> bool:
        """True when (code, source) already stands as asked, so a caller can skip building messages."""
        current = self.alarms.active.get((code, source))
        if not on:
            return current is None or not current.condition
        return (current is not None and current.condition
                and current.priority == (priority or self.config.priority(code)))

    def _set(self, code: str, source: str, on: bool, t: float, *, value: str = "",
             message: str = "", why: str = "", priority: str | None = None) -> None:
        """Raise or re-prioritise (with `message`) or clear (with `why`) the condition of (code, source)."""
        if on:
            self.alarms.raise_(code, source, priority or self.config.priority(code), t, value, message)
        else:
            self.alarms.clear(code, source, t, value, why or (f"now {value}" if value else "condition ended"))

    def _emit(self, t: float, code: str, priority: str, state: str, value: str, message: str,
              source: str = "") -> None:
        self._out.append(Transition(t, code, priority, state, value, message, source))  # type: ignore[arg-type]

    def _flush(self) -> list[Transition]:
        out, self._out = self._out, []
        return out
