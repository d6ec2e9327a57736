"""`app.py check`: run the engine over a feed with the feed's own times.

With `--actions FILE` people's actions (acknowledgements, audio pauses,
overrides) are folded in at their session times, so testers can prove the
latched / acknowledged / re-alarm history as well as the conditions.
"""
from __future__ import annotations

import csv
import heapq
from dataclasses import dataclass
from pathlib import Path

from devices.csv_safety import plain_cell
from devices.feed import FeedError, FeedProblem, exc_text, read_feed
from devices.readings import Item, SessionEvent

from .engine import Config, SessionEngine, Transition, load_config

ACTION_COLUMNS = ("offset_s", "action", "who", "detail")
ACTIONS = ("acknowledge", "audio_pause", "override")


@dataclass(frozen=True)
class CheckResult:
    transitions: list[Transition]
    problems: list[FeedProblem]


def run_check(feed_path: Path | str, config: Config | None = None,
              actions_path: Path | str | None = None) -> CheckResult:
    """All transitions of the feed (and actions), in order. Raises FeedError for a bad file."""
    feed = read_feed(feed_path)
    protocol = feed.protocol
    if protocol is None:
        raise FeedError("feed has no valid session_start row naming the protocol")
    actions, action_problems = read_actions(actions_path) if actions_path else ([], [])
    engine = SessionEngine(config or load_config(), protocol)
    items: list[Item] = list(heapq.merge(feed.items, actions, key=lambda i: i.offset_s or 0.0))
    out: list[Transition] = []
    for item in items:
        out.extend(engine.apply(item))
    if items:
        out.extend(engine.advance(items[-1].offset_s or 0.0))
    return CheckResult(out, feed.problems + action_problems)


def read_actions(path: Path | str) -> tuple[list[SessionEvent], list[FeedProblem]]:
    """An actions CSV (offset_s,action,who,detail): acknowledge (detail = code or code|source),
    audio_pause (detail = seconds) or override (detail = the reason). Bad rows are reported, not fatal."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise FeedError(f"cannot read actions {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise FeedError(f"actions {path} is not UTF-8 text") from exc
    except csv.Error as exc:
        raise FeedError(f"actions {path} cannot be read as CSV: {exc_text(exc)}") from exc
    if rows and set(ACTION_COLUMNS) - set(rows[0]):
        raise FeedError(f"actions file needs the columns {','.join(ACTION_COLUMNS)}")
    out: list[SessionEvent] = []
    problems: list[FeedProblem] = []
    for line, row in enumerate(rows, start=2):
        try:
            out.append(_action(row))
        except ValueError as exc:
            problems.append(FeedProblem(line, f"actions: {exc}"))
    out.sort(key=lambda e: e.offset_s or 0.0)
    return out, problems


def _action(row: dict[str, str]) -> SessionEvent:
    kind = (row.get("action") or "").strip()
    if kind not in ACTIONS:
        raise ValueError(f"unknown action {kind!r}; expected one of {', '.join(ACTIONS)}")
    try:
        offset = float(row.get("offset_s") or "")
    except ValueError:
        raise ValueError(f"offset_s {row.get('offset_s')!r} is not a number") from None
    who = plain_cell((row.get("who") or "").strip())  # as exported (devices/csv_safety.py)
    if not who:
        raise ValueError("who is empty: every action is someone's")
    return SessionEvent(kind, detail=plain_cell((row.get("detail") or "").strip()), offset_s=offset, who=who)
