"""A reading that arrives late, folded in at the time it was taken. Pure, like the rest of the engine.

A monitor catching up after a reconnect sends its older readings in one batch (two cuff cycles 5 min apart); ingest
gives each the session time it was taken (its OBX-14, else OBR-7; docs/devices.md, "Batches on their own time").
The engine's clock never runs back, so such a reading cannot simply be applied: `refold` builds a twin engine that
folds every item so far and the late one in session-time order (the order `check` folds a feed in), runs its timers
up to where the engine was, and returns it with the transitions the late reading adds to the history. Transitions
already returned stay in the history as they were (a stored alarm is never rewritten); the new ones carry the session
time the reading was taken, and their stored time tells when we learned it.
"""
from __future__ import annotations

from collections import Counter

from devices.readings import Item

from .alarms import Transition
from .session import SessionEngine


def refold(engine: SessionEngine, late: Item) -> tuple[SessionEngine, list[Transition]]:
    """The engine as if `late` had come in its place, and the transitions that adds to what `engine` returned."""
    twin = SessionEngine(*engine.made)
    items = sorted([*engine.folded, late], key=lambda item: item.offset_s or 0.0)  # stable: ties keep arrival order
    for item in items:
        twin.apply(item)
    twin.advance(engine.now)
    twin.now = max(twin.now, engine.now)
    new = _added(engine.emitted, twin.emitted)
    twin.emitted = [*engine.emitted, *new]
    twin.timers_fired = engine.timers_fired + 1  # its state moved: the caller rewrites the status
    return twin, new


def _added(before: list[Transition], after: list[Transition]) -> list[Transition]:
    """What `after` has that `before` had not (as many times as it has it more), in `after`'s order."""
    left = Counter(before)
    out = []
    for transition in after:
        if left[transition]:
            left[transition] -= 1
        else:
            out.append(transition)
    return out
