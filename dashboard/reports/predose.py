"""The pre-dose checklist as the record holds it: each item of the protocol's list with its answer (done, or
overridden with the reason), who answered and when, for the PDF and FHIR exports.

The answers are the session's `checklist` events (dashboard/ui/checklist.py queues them; ingest folds them). Each
carries the item's text as it was asked, so an item the clinic has since removed from its list still reads right.
A session dosed without the checklist (before it existed, or a replayed feed, whose dose_start is not gated) shows
its items as not answered.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..engine import ChecklistAnswer, Config


@dataclass(frozen=True, slots=True)
class ChecklistEntry:
    key: str
    text: str
    state: str  # "done", "overridden" or "not answered"
    reason: str = ""
    who: str = ""
    offset_s: float | None = None  # session time of the answer
    source: str = ""  # the item's basis and source, where the clinic file still lists it

    @property
    def answer(self) -> str:
        return f"overridden: {self.reason}" if self.state == "overridden" else self.state


def checklist_entries(protocol: str, events: Sequence[Mapping[str, Any]], config: Config) -> list[ChecklistEntry]:
    """The checklist's items in the list's order (then any answered item the list no longer has), each with its
    latest answer; empty when the protocol has no checklist and none was answered."""
    answered: dict[str, tuple[ChecklistAnswer, Mapping[str, Any]]] = {}
    for event in events:
        if event["kind"] != "checklist":
            continue
        try:
            answer = ChecklistAnswer.parse(event["detail"])
        except ValueError:
            continue
        answered[answer.item] = (answer, event)
    checklist = config.checklist(protocol)
    items = list(checklist.items) if checklist is not None else []
    out = [_entry(item.key, item.text, f"{item.basis}: {item.source}", answered.pop(item.key, None))
           for item in items]
    out += [_entry(key, pair[0].text, "", pair) for key, pair in answered.items()]
    return out


def _entry(key: str, text: str, source: str,
           pair: tuple[ChecklistAnswer, Mapping[str, Any]] | None) -> ChecklistEntry:
    if pair is None:
        return ChecklistEntry(key, text, "not answered", source=source)
    answer, event = pair
    return ChecklistEntry(key, answer.text, "done" if answer.done else "overridden", answer.reason,
                          event.get("who") or "", event["offset_s"], source)
