"""What ingest holds: each open session's engine, folded from the store, and what is on its way to
the next commit (the submissions queued, the batch being made). People's queued actions become items here too."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from devices.adapter import Ticket
from devices.readings import Item, Reading, SessionEvent

from ..engine import Config, SessionEngine, Transition
from ..store import Batch, SessionRow, Store

log = logging.getLogger(__name__)

TICK_S = 0.2  # how often ingest commits and fires timers: well inside the 1 s board poll


@dataclass
class LiveSession:
    row: SessionRow
    engine: SessionEngine
    seq: int

    def session_time(self, wall: float) -> float:
        return (wall - self.row.started_at) * self.row.speed


@dataclass
class Submitted:
    chair: str | None  # None: the source could not tell; placed by `device`'s association, else kept unassociated
    items: list[Item]
    ticket: Ticket
    message: str | None = None  # the sender's id of it (HL7: sender, MSH-10 and content): stored once, however often
    device: str = ""  # the device identity of a chair-less submission
    simulated: bool = False  # from the simulated clinic (its chairs, or its emulated devices): never a real reading


@dataclass
class Parked:
    """Items for a chair with no open session yet: kept until a refresh has looked for one since they came."""

    since: float
    submitted: Submitted


@dataclass
class Pending:
    batch: Batch = field(default_factory=Batch)
    tickets: list[Ticket] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)  # sessions whose status snapshot must be rewritten


def fold_session(store: Store, config: Config, row: SessionRow, resume_at: float | None = None,
                 raised: list[tuple[Transition, float | None]] | None = None) -> LiveSession:
    """The session's engine, folded from what the store holds; its timers run up to `resume_at` (by
    default where the stored status left them). `raised`, when given, gets every transition the fold makes, each
    with when its input reached ingest (None for a timer): a new session's pre-session readings raise alarms that
    must be stored like any other; a rebuild's were stored when they happened."""
    engine = SessionEngine(config, row.protocol, course_baseline=row.usual_baseline)
    # In session-time order: the arrival order, as ingest stores the time its engine used (never backwards),
    # except for readings that joined late from before (a device associated while the session was open).
    items = sorted(store.session_items(row.id), key=lambda item: item.offset_s or 0.0)
    for item in items:
        transitions = engine.apply(item)
        if raised is not None:
            raised.extend((transition, item.received_time) for transition in transitions)
    if resume_at is None:
        resume_at = float(row.status.get("now") or 0.0) if row.status else 0.0
    fired = engine.advance(resume_at)  # timers that fired before the stop: already stored (unless `raised`)
    if raised is not None:
        raised.extend((transition, None) for transition in fired)
    if items:  # a session new to the store has nothing to resume
        log.info("session %s on %s: resumed from %d stored items at %.0f s", row.id, row.chair,
                 len(items), engine.now)
    return LiveSession(row, engine, store.max_seq(row.id))


def action_item(action: dict) -> Item:
    """A queued action (from the web or a replay) as the reading or event the engine folds."""
    at, offset = action["at"], action["offset_s"]
    if action["kind"] == "manual_bp":
        return Reading("manual", sbp=action["sbp"], dbp=action["dbp"], hr=action["hr"], provenance="manual",
                       received_time=at, offset_s=offset)
    if action["kind"] == "manual_spo2":  # a nurse's spot check: SpO2, and HR when she took it
        return Reading("manual", hr=action["hr"], spo2=action["spo2"], provenance="manual", received_time=at,
                       offset_s=offset)
    if action["kind"] == "reading":
        return Reading(action["source"], sbp=action["sbp"], dbp=action["dbp"], map=action["map"], hr=action["hr"],
                       spo2=action["spo2"], received_time=at, offset_s=offset)
    return SessionEvent(action["kind"], detail=action["detail"], source=action["source"], who=action["who"],
                        received_time=at, offset_s=offset)
