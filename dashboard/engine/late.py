"""A reading that arrives late, folded in at the time it was taken. Pure, like the rest of the engine.

A monitor catching up after a reconnect sends its older readings in one batch (two cuff cycles 5 min apart); ingest
gives each the session time it was taken (its OBX-14, else OBR-7; docs/devices.md, "Batches on their own time").
The engine's clock never runs back, so such a reading cannot simply be applied: `refold` builds a twin engine that
folds every item so far and the late one in session-time order (the order `check` folds a feed in) and runs its
timers up to where the engine was. The caller keeps the twin and stores what its history has that the stored one
has not: a stored transition is never rewritten; the new ones carry the session time the reading was taken, and their
stored time tells when we learned it. The items come from the caller (ingest reads them from the store): the engine
keeps no copy of a session's stream in memory.
"""
from __future__ import annotations

from typing import Iterable

from devices.readings import Item

from .alarms import Transition
from .session import SessionEngine


def refold(engine: SessionEngine, items: Iterable[Item]) -> tuple[SessionEngine, list[Transition]]:
    """A twin of `engine` that folded `items` (all so far and the late one) in session-time order and ran its timers
    up to `engine`'s clock, and every transition that gave, in order."""
    twin = SessionEngine(*engine.made)
    out: list[Transition] = []
    for item in sorted(items, key=lambda item: item.offset_s or 0.0):  # stable: ties keep the order given
        out += twin.apply(item)
    out += twin.advance(engine.now)
    twin.timers_fired = engine.timers_fired + 1  # its state moved: the caller rewrites the status
    return twin, out
