"""`python app.py replay FEED... --speed 1|10|60|max [--chair NAME ...]`: feeds onto chairs as if live.

Each feed gets its own chair and progress bar (session time, speed, readings sent). Ctrl-C stops every
replay cleanly: what was sent is committed, the clock ticks to where each got, and the sessions end there.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from tqdm import tqdm

from devices.feed import FeedError

from .replay import SPEEDS, Progress, Replayer, drive, load_items, open_replay_session
from .store.location import add_database_options, add_site_option, open_store
from .ui.format import session_clock


def add_parser(sub: argparse._SubParsersAction) -> None:
    replay = sub.add_parser("replay", help="replay feed CSVs onto chairs as if live, into the dashboard's store")
    replay.add_argument("feeds", type=Path, nargs="+", help="feed CSV(s); several replay at once on different chairs")
    replay.add_argument("--speed", choices=list(SPEEDS), default="60", help="session time per wall second (default 60)")
    replay.add_argument("--chair", action="append", help="chair for each feed in order (default 'Replay 1', ...)")
    add_database_options(replay)  # the dashboard's database: --database PATH or --database-url URL
    add_site_option(replay)  # the site whose chairs (and ingest) take the replay
    replay.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    speed = SPEEDS[args.speed]
    chairs = args.chair or []
    if len(chairs) > len(args.feeds):
        print("more --chair than feeds", file=sys.stderr)
        return 2
    chairs += [f"Replay {n}" for n in range(len(chairs) + 1, len(args.feeds) + 1)]
    store = open_store(args)
    try:
        plans = [(load_items(feed), chair, feed) for feed, chair in zip(args.feeds, chairs)]
        sids = [open_replay_session(store, items, chair, f"Replay {feed.stem}", speed) for items, chair, feed in plans]
    except (FeedError, ValueError) as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # Ctrl-C: every replay ends at a tick, nothing half-written
    threads, progresses = [], []
    for position, ((items, chair, _), sid) in enumerate(zip(plans, sids)):
        bar = tqdm(total=len(items), desc=chair, unit=" items", position=position, leave=True)
        progress = Progress(listeners=[_updater(bar, args.speed)])
        progresses.append((progress, bar, chair, sid))
        thread = threading.Thread(target=drive, args=(store, sid, Replayer(items, speed), stop),
                                  kwargs={"progress": progress}, name=f"replay {chair}")
        threads.append(thread)
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.2)
    for progress, bar, chair, sid in progresses:
        bar.close()
        state = "stopped" if progress.stopped else "done"
        print(f"{chair}: session {sid} {state} at {session_clock(progress.position)}, "
              f"{progress.sent} items sent ({progress.readings} readings)")
    return 0


def _updater(bar: tqdm, speed: str):
    def update(progress: Progress) -> None:
        bar.update(progress.sent - bar.n)
        bar.set_postfix_str(f"session {session_clock(progress.position)} · {speed}x · {progress.readings} readings")
    return update
