"""How each reading raises and clears the physiological and reading alarms: BP levels, the rise over baseline and
the 40-min check; HR and SpO2 with their condition delays (holds); implausible values. Mixed into `SessionEngine`
(session.py), whose state it works on; the limits come from the config, copied once per session."""
from __future__ import annotations

from typing import TYPE_CHECKING

from devices.readings import Assessment, Reading

from .config import Config
from .vitals import BP, MINUTE, Value, bp_text, num, rate_source, signed


class VitalSignRules:
    """The reading half of `SessionEngine`: see the module docstring."""

    # the session's state these rules read and write (set in SessionEngine.__init__)
    now: float
    dose_at: float | None
    last_bp: BP | None
    peak_bp: BP | None
    rise_baseline: BP | None
    baseline_from: str
    bp_not_above_peak: bool
    last_hr: Value | None
    last_spo2: Value | None
    spo2_watch: bool  # the protocol asks for pulse oximetry (spo2.unmonitored): set by SessionEngine
    rates: dict[str, Value]
    check_done_at: float | None
    assessment: tuple[float, Assessment] | None
    _timers: dict[str, float]
    _established: set[str]

    if TYPE_CHECKING:  # SessionEngine's own, called from here
        @property
        def is_monitoring(self) -> bool: ...
        def _settled(self, code: str, source: str, on: bool, priority: str | None = None) -> bool: ...
        def _set(self, code: str, source: str, on: bool, t: float, *, value: str = "", message: str = "",
                 why: str = "", priority: str | None = None) -> None: ...

    def _limits(self, c: Config) -> None:
        """Copy the settings into attributes: the fold reads them per reading."""
        v = c.value
        self.predose_sbp, self.predose_dbp = v("bp.predose_high.sbp_above"), v("bp.predose_high.dbp_above")
        self.high_sbp, self.high_dbp = v("bp.high.sbp"), v("bp.high.dbp")
        self.severe_sbp, self.severe_dbp = v("bp.severe.sbp"), v("bp.severe.dbp")
        self.rise_sbp, self.rise_dbp = v("bp.rise.sbp"), v("bp.rise.dbp")
        self.hr_above, self.hr_high_hold = v("hr.high.above"), v("hr.high.hold")
        self.hr_below, self.hr_low_hold = v("hr.low.below"), v("hr.low.hold")
        self.spo2_medium, self.spo2_high = v("spo2.low.medium_below"), v("spo2.low.high_below")
        self.spo2_hold = v("spo2.low.hold")
        self.spo2_unmonitored = v("spo2.unmonitored.after") * MINUTE
        self.check_start = v("bp.check_due.window_start") * MINUTE
        self.check_end = v("bp.check_due.window_end") * MINUTE
        self.stale_nibp, self.stale_continuous = v("data.stale.nibp_after"), v("data.stale.continuous_after")
        self.sbp_range = (v("reading.implausible.sbp_min"), v("reading.implausible.sbp_max"))
        self.dbp_range = (v("reading.implausible.dbp_min"), v("reading.implausible.dbp_max"))
        self.hr_range = (v("reading.implausible.hr_min"), v("reading.implausible.hr_max"))
        self.spo2_range = (v("reading.implausible.spo2_min"), v("reading.implausible.spo2_max"))
        self.moaas_min = v("readiness.moaas_min")
        self.audio_pause_max = v("alarm.audio_pause_max")

    # ---- readings ---------------------------------------------------------

    def _on_reading(self, r: Reading, t: float) -> None:
        if r.has_bp:
            self._on_bp(r, t)
        continuous = not r.has_bp and r.provenance != "manual"  # a nurse's spot check is no stream to go stale
        fresh = False
        if r.hr is not None:
            fresh |= self._on_hr(r.hr, t)
            if fresh:
                self.rates[rate_source(r)] = Value(t, r.hr)
        if r.spo2 is not None:
            fresh |= self._on_spo2(r.spo2, t)
        if continuous and fresh:
            if not self._settled("data.stale", "continuous", False):
                self._set("data.stale", "continuous", False, t, why="HR/SpO2 back")
            self._timers["stale:continuous"] = t + self.stale_continuous

    def _on_bp(self, r: Reading, t: float) -> None:
        problem = self._bp_problem(r.sbp, r.dbp)
        if problem:
            self._set("reading.implausible", "bp", True, t, value=bp_text(r.sbp, r.dbp), message=problem)
            return
        bp = BP(t, float(r.sbp), float(r.dbp), r.map)  # type: ignore[arg-type]
        self._set("reading.implausible", "bp", False, t, value=bp.text, why="plausible BP")
        self._set("nibp.failed", "", False, t, value=bp.text, why="BP measured")
        self._set("data.stale", "nibp", False, t, value=bp.text, why="NIBP back")
        self.last_bp = bp
        if self.dose_at is None:
            high = bp.sbp > self.predose_sbp or bp.dbp > self.predose_dbp
            self._set("bp.predose_high", "", high, t, value=bp.text,
                      message=f"pre-dose BP {bp.text} above {num(self.predose_sbp)}/{num(self.predose_dbp)}")
        self._bp_level(bp, t)
        if self.dose_at is not None:
            self._post_dose_bp(bp, t)

    def _bp_level(self, bp: BP, t: float) -> None:
        severe = bp.sbp >= self.severe_sbp or bp.dbp >= self.severe_dbp
        high = not severe and (bp.sbp >= self.high_sbp or bp.dbp >= self.high_dbp)
        self._set("bp.severe", "", severe, t, value=bp.text,
                  message=f"BP {bp.text}: systolic at or above {num(self.severe_sbp)} or diastolic at or above "
                          f"{num(self.severe_dbp)}")
        self._set("bp.high", "", high, t, value=bp.text,
                  message=f"BP {bp.text}: systolic at or above {num(self.high_sbp)} or diastolic at or above "
                          f"{num(self.high_dbp)}")

    def _post_dose_bp(self, bp: BP, t: float) -> None:
        assert self.dose_at is not None
        base = self.rise_baseline
        if base is not None:
            rise = bp.sbp - base.sbp >= self.rise_sbp or bp.dbp - base.dbp >= self.rise_dbp
            self._set("bp.rise", "", rise, t, value=bp.text,
                      message=f"BP {bp.text} is {signed(bp.sbp - base.sbp)}/{signed(bp.dbp - base.dbp)} "
                              f"over {'the usual pre-dose BP ' if self.baseline_from == 'course' else 'baseline '}"
                              f"{base.text}")
        self.bp_not_above_peak = self.peak_bp is None or bp.sbp <= self.peak_bp.sbp
        if self.peak_bp is None or bp.sbp > self.peak_bp.sbp:
            self.peak_bp = bp
        if self.is_monitoring:
            self._timers["stale:nibp"] = t + self.stale_nibp
        if self.dose_at + self.check_start <= t <= self.dose_at + self.check_end:
            self._timers.pop("check_due", None)
            self.check_done_at = self.check_done_at or t
        self._set("bp.check_due", "", False, t, value=bp.text, why="BP measured")

    def _bp_problem(self, sbp: float | None, dbp: float | None) -> str:
        if sbp is None or dbp is None:
            return "BP needs both systolic and diastolic"
        if not self.sbp_range[0] <= sbp <= self.sbp_range[1]:
            return f"systolic {num(sbp)} outside {num(self.sbp_range[0])}-{num(self.sbp_range[1])}"
        if not self.dbp_range[0] <= dbp <= self.dbp_range[1]:
            return f"diastolic {num(dbp)} outside {num(self.dbp_range[0])}-{num(self.dbp_range[1])}"
        if dbp >= sbp:
            return f"diastolic {num(dbp)} not below systolic {num(sbp)}"
        return ""

    def _on_hr(self, hr: float, t: float) -> bool:
        if not self._plausible("hr", "HR", hr, self.hr_range, t):
            return False
        self.last_hr = Value(t, hr)
        self._hold("hr.high", hr > self.hr_above, t, self.hr_high_hold)
        self._hold("hr.low", hr < self.hr_below, t, self.hr_low_hold)
        self._sync_hr(t)
        return True

    def _on_spo2(self, spo2: float, t: float) -> bool:
        if not self._plausible("spo2", "SpO2", spo2, self.spo2_range, t):
            return False
        self.last_spo2 = Value(t, spo2)
        self._spo2_seen(t)
        self._hold("spo2.medium", spo2 < self.spo2_medium, t, self.spo2_hold)
        self._hold("spo2.high", spo2 < self.spo2_high, t, self.spo2_hold)
        self._sync_spo2(t)
        return True

    def _spo2_seen(self, t: float) -> None:
        """An SpO2 value (oximeter or manual check) restarts the pulse-oximetry watch and ends its advisory."""
        if not (self.spo2_watch and self.is_monitoring):
            return
        self._timers["spo2_unmonitored"] = t + self.spo2_unmonitored
        if not self._settled("spo2.unmonitored", "", False):
            self._set("spo2.unmonitored", "", False, t, why="SpO2 measured")

    def _plausible(self, source: str, label: str, value: float, bounds: tuple[float, float], t: float) -> bool:
        """A single-value reading within its plausible range: raises `reading.implausible` for its source when it
        is not (it then feeds no physiological alarm), clears it when a plausible one follows."""
        low, high = bounds
        if not low <= value <= high:
            self._set("reading.implausible", source, True, t, value=num(value),
                      message=f"{label} {num(value)} outside {num(low)}-{num(high)}")
            return False
        if not self._settled("reading.implausible", source, False):
            self._set("reading.implausible", source, False, t, value=num(value), why=f"plausible {label}")
        return True

    def _hold(self, name: str, condition: bool, t: float, hold_s: float) -> None:
        """Start, keep or cancel the condition delay of a held alarm."""
        timer = f"hold:{name}"
        if not condition:
            self._timers.pop(timer, None)
            self._established.discard(name)
        elif name not in self._established and timer not in self._timers:
            self._timers[timer] = t + hold_s

    def _sync_hr(self, t: float) -> None:
        high, low = "hr.high" in self._established, "hr.low" in self._established
        if self._settled("hr.high", "", high) and self._settled("hr.low", "", low):
            return  # the 1 Hz common case: nothing changes, so no message is built
        hr = num(self.last_hr.value) if self.last_hr else ""
        self._set("hr.high", "", high, t, value=hr,
                  message=f"HR {hr} above {num(self.hr_above)} for {num(self.hr_high_hold)} s")
        self._set("hr.low", "", low, t, value=hr,
                  message=f"HR {hr} below {num(self.hr_below)} for {num(self.hr_low_hold)} s")

    def _sync_spo2(self, t: float) -> None:
        if "spo2.high" in self._established:
            level, limit = "high", self.spo2_high
        elif "spo2.medium" in self._established:
            level, limit = "medium", self.spo2_medium
        else:
            level, limit = "", self.spo2_medium
        if self._settled("spo2.low", "", bool(level), level or None):
            return
        value = num(self.last_spo2.value) if self.last_spo2 else ""
        self._set("spo2.low", "", bool(level), t, value=value, priority=level or None,
                  message=f"SpO2 {value} % below {num(limit)} % for {num(self.spo2_hold)} s")
