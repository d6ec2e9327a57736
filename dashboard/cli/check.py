"""Run the engine over a feed CSV with the feed's own session times and print every alarm transition.

The feed: a UTF-8 CSV with the header offset_s,source,sbp,dbp,map,hr,spo2,event,detail and one row per device
report or session event (docs/feed-format.md has every column, unit and event kind). offset_s is seconds of
session time; a reading fills source (nibp, oximeter, manual...) and its vitals; an event fills event and detail.
The first event is session_start with the protocol as detail.
`python app.py simulate` and `python app.py export SESSION --format feed` write feeds; sample_data/ has some.

Output: one line per transition (session clock, state, priority, code, value, message), or with --json one object
a line: {"offset_s", "code", "priority", "state", "value", "message", "source"}. A malformed row is reported on
stderr with its line number and every other row is still used; a file that is not a feed exits 2 with a message.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from devices.readings import EVENT_KINDS, PROTOCOLS

from .options import add_config_option

if TYPE_CHECKING:  # the engine and the feed reader load when a command runs, not for --help
    from devices.feed import FeedProblem

    from ..engine import Config, Transition

HELP = "run the engine over a feed CSV and print the alarm transitions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("feed", type=Path, metavar="FEED.csv",
                        help=f"the feed CSV (format above). Protocols: {', '.join(PROTOCOLS)}; "
                             f"events: {', '.join(sorted(EVENT_KINDS))}")
    add_config_option(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    parser.add_argument("--actions", type=Path, metavar="ACTIONS.csv",
                        help="people's actions, folded in at their session times: a CSV offset_s,action,who,detail "
                             "with action acknowledge (detail: the alarm code), audio_pause (detail: seconds) or "
                             "override (detail: the reason); `export --format actions` writes one")


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from devices.feed import FeedError

    from ..engine import ConfigError, load_config

    try:
        result = run_check(args.feed, load_config(args.config), args.actions)
    except (FeedError, ConfigError) as exc:
        print(f"{args.feed}: {exc}", file=sys.stderr)
        return 2
    for problem in result.problems:
        print(f"{args.feed}: {problem} (row skipped)", file=sys.stderr)
    for t in result.transitions:
        if args.json:
            print(json.dumps(t.to_dict()))
        else:
            where = f" [{t.source}]" if t.source else ""
            print(f"{clock(t.offset_s):>8}  {t.state:<7} {t.priority:<6} {t.code}{where}  {t.value}  {t.message}")
    return 0


def clock(offset_s: float) -> str:
    """Session time as m:ss, minutes running past 59 (a feed's times read alike); a pre-session time (a reading
    before session_start) as -m:ss. The sign is kept apart: divmod of a negative floors (-16 s is -1 min 44 s)."""
    minutes, seconds = divmod(int(abs(offset_s)), 60)
    sign = "-" if offset_s <= -1 else ""
    return f"{sign}{minutes}:{seconds:02d}"


@dataclass(frozen=True)
class CheckResult:
    transitions: list[Transition]
    problems: list[FeedProblem]


def run_check(feed_path: Path | str, config: Config | None = None,
              actions_path: Path | str | None = None) -> CheckResult:
    """All transitions of the feed (and of people's actions, folded in at their session times), in order. Raises
    FeedError for a bad file."""
    import heapq

    from devices.feed import FeedError, read_actions, read_feed
    from devices.readings import Item

    from ..engine import SessionEngine, load_config

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
