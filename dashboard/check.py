"""`app.py check`: run the engine over a feed with the feed's own times."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devices.feed import FeedError, FeedProblem, read_feed

from .engine import Config, SessionEngine, Transition, load_config


@dataclass(frozen=True)
class CheckResult:
    transitions: list[Transition]
    problems: list[FeedProblem]


def run_check(feed_path: Path | str, config: Config | None = None) -> CheckResult:
    """All transitions of the feed, in order. Raises FeedError for a bad file."""
    feed = read_feed(feed_path)
    protocol = feed.protocol
    if protocol is None:
        raise FeedError("feed has no valid session_start row naming the protocol")
    engine = SessionEngine(config or load_config(), protocol)
    out: list[Transition] = []
    for item in feed.items:
        out.extend(engine.apply(item))
    if feed.items:
        out.extend(engine.advance(feed.items[-1].offset_s or 0.0))
    return CheckResult(out, feed.problems)
