"""Replay feed CSVs onto chairs as if live, into the dashboard's database. Each feed gets a chair of its own and a
progress bar (session time, speed, readings sent). A replay keeps the feed's session times and moves the chair's
clock with ticks, so at any speed it stores the alarm history `check` prints for that feed.

Who stores it: the site's ingest folds what a replay sends into readings, alarms and the board's snapshot. When an
ingest of the site is running (`python app.py`, `serve` or `ingest` on the same database; its heartbeat is less
than 10 s old), that ingest does. When none is, replay says so and runs the site's ingest itself while it lasts
(folding every open session of the site meanwhile, as that ingest would), then stops it. Either way replay ends
once everything it sent is stored and prints, per chair, what was sent and the alarm transitions stored.

Ctrl-C stops every replay at a tick: what was sent is stored and each chair's clock stands where its replay got.
A replay never leaves an open session behind: when the site's ingest stopped while it ran (nothing folded and no
heartbeat for PATIENCE_S), replay stores what it sent itself, running the site's ingest as above; when even that
cannot be done (a second Ctrl-C, the store not writable), it ends its sessions with what was stored and exits 1.

Test data never takes a real chair: a chair a real device fed within the pre-session window, or with an open
session, is refused, saying which device sent what, when (service/test_chairs.py).
"""
from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from ..service.speeds import SPEEDS
from .check import clock
from .options import add_config_option, add_database_options, add_site_option

if TYPE_CHECKING:
    import threading

    from tqdm import tqdm

    from devices.readings import Item

    from ..engine import Config
    from ..service.replay import Progress
    from ..store import Store

HELP = "replay feed CSVs onto chairs as if live, into the dashboard's store (runs the fold if no ingest does)"
WAIT_S = 0.2  # how often the end of the fold is looked for
PATIENCE_S = 60.0  # a running ingest that folds nothing and writes no heartbeat this long is taken for stopped


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("feeds", type=Path, nargs="+", metavar="FEED.csv",
                        help="feed CSV(s) (format: `app.py check --help`, docs/feed-format.md); several replay "
                             "at once, each on its own chair")
    parser.add_argument("--speed", choices=list(SPEEDS), default="60",
                        help="session time per wall second: 1, 10, 60 or max (as fast as the store takes it; "
                             "default 60)")
    parser.add_argument("--chair", action="append", metavar="NAME",
                        help="the chair of each feed, in order (repeat for several; default 'Replay 1', ...); "
                             "it must have no open session")
    add_database_options(parser)  # the dashboard's database
    add_site_option(parser)  # the site whose chairs (and ingest) take the replay
    add_config_option(parser, "used only when replay runs the fold itself (a running ingest uses its own)")


def run(args: argparse.Namespace) -> int:
    import signal
    import sys
    import threading

    from devices.feed import FeedError

    from ..engine import ConfigError, load_config
    from ..service.replay import load_items, open_replay_session
    from ..service.test_chairs import ChairRule
    from .location import open_store

    chairs = args.chair or []
    if len(chairs) > len(args.feeds):
        print("replay: more --chair than feeds", file=sys.stderr)
        return 2
    chairs += [f"Replay {n}" for n in range(len(chairs) + 1, len(args.feeds) + 1)]
    speed = SPEEDS[args.speed]
    try:
        config = load_config(args.config)
        plans = [(load_items(feed), chair, feed) for feed, chair in zip(args.feeds, chairs)]
    except (FeedError, ConfigError) as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    store = open_store(args)
    sids: list[int] = []
    stored = False
    try:
        rule = ChairRule.for_config(store, config)
        try:
            for items, chair, feed in plans:
                sids.append(open_replay_session(store, items, chair, f"Replay {feed.stem}", speed, rule))
        except ValueError as exc:
            print(f"replay: {exc}", file=sys.stderr)
            return 2
        stop, give_up = threading.Event(), threading.Event()
        # Ctrl-C: every replay ends at a tick, nothing half-written; a second one stops waiting for the store.
        signal.signal(signal.SIGINT, lambda *_: give_up.set() if stop.is_set() else stop.set())
        with _site_ingest(store, config) as own_ingest:
            progresses = _replay_all(store, [(items, chair, sid) for (items, chair, _), sid in zip(plans, sids)],
                                     args.speed, stop)
            stored = _wait_stored(store, set(sids), own_ingest, give_up)
        if not stored and not give_up.is_set():  # the site's ingest stopped (PATIENCE_S): we store what we sent
            with _site_ingest(store, config, stopped=True) as own_ingest:
                stored = _wait_stored(store, set(sids), own_ingest, give_up)
        for progress, chair, sid in progresses:
            state = "stopped" if progress.stopped else "done"
            print(f"{chair}: session {sid} {state} at {clock(progress.position)}, {progress.sent} items sent "
                  f"({progress.readings} readings); {len(store.alarms_of(sid))} alarm transitions stored", flush=True)
        return 0 if stored else 1
    finally:
        if not stored:
            _end_unfinished(store, sids)
        store.close()


def _end_unfinished(store: Store, sids: list[int]) -> None:
    """The replay failed: its sessions end where the store got, so none stays open on a chair with no one to fold
    it; what was queued and not stored is marked so and never folded."""
    import sys

    for sid in sids:
        try:
            if store.abandon_replay(sid, "the replay failed before this was stored: its session was ended"):
                print(f"replay: session {sid} ended: its replay failed before everything it sent was stored",
                      file=sys.stderr)
        except Exception as exc:  # the store itself is what failed: say so, the session stays for an ingest to end
            print(f"replay: could not end session {sid}: {exc}", file=sys.stderr)


def _replay_all(store: Store, plans: list[tuple[list[Item], str, int]], speed: str,
                stop: threading.Event) -> list[tuple[Progress, str, int]]:
    """Every (items, chair, session) replayed at once, a thread and a progress bar each, until done or `stop`."""
    import threading

    from tqdm import tqdm

    from ..service.replay import Progress, Replayer, drive

    threads, bars, progresses = [], [], []
    for position, (items, chair, sid) in enumerate(plans):
        bar = tqdm(total=len(items), desc=chair, unit=" items", position=position, leave=True)
        progress = Progress(listeners=[_updater(bar, speed)])
        bars.append(bar)
        progresses.append((progress, chair, sid))
        threads.append(threading.Thread(target=drive, args=(store, sid, Replayer(items, SPEEDS[speed]), stop),
                                        kwargs={"progress": progress}, name=f"replay {chair}"))
        threads[-1].start()
    for thread in threads:
        while thread.is_alive():  # short joins: Ctrl-C is handled between them
            thread.join(0.2)
    for bar in bars:
        bar.close()
    return progresses


@contextlib.contextmanager
def _site_ingest(store: Store, config: Config, stopped: bool = False) -> Iterator[bool]:
    """True (and the site's ingest running in a thread until the `with` ends) when no ingest of the site runs,
    or `stopped`: the one that ran was seen to stop; False when one runs."""
    import sys
    import threading

    from ..service.ingest import Ingest

    silent = heartbeat_age(store)
    if not stopped and silent is not None and silent <= _not_writing_after():
        yield False
        return
    why = "no ingest has ever written here" if silent is None else f"its last heartbeat is {silent:.0f} s old"
    print(f"replay: no ingest is running for site {store.site} ({why}): this replay stores what it sends itself, "
          "running the site's ingest until it ends", file=sys.stderr, flush=True)
    stop = threading.Event()
    thread = threading.Thread(target=Ingest(store, config).run, args=(stop,), name="ingest", daemon=True)
    thread.start()
    try:
        yield True
    finally:
        stop.set()  # the ingest drains what it holds and commits before it returns
        thread.join()


def heartbeat_age(store: Store) -> float | None:
    """Seconds since this site's ingest last committed, or None when none ever did."""
    import time

    last = _last_heartbeat(store)
    return None if last is None else time.time() - last


def _not_writing_after() -> float:
    from ..service.ingest import NOT_WRITING_AFTER_S

    return NOT_WRITING_AFTER_S


def _wait_stored(store: Store, sids: set[int], own_ingest: bool, give_up: threading.Event) -> bool:
    """Wait until everything sent to `sids` is folded; False (after saying why) when it will not be, for now: the
    site's ingest made no progress (nothing folded, no heartbeat) for PATIENCE_S, or a second Ctrl-C."""
    import sys
    import time

    last: tuple[int, float | None] | None = None
    progressed = time.monotonic()
    while not give_up.wait(WAIT_S):
        waiting = sum(1 for action in store.pending_actions() if action["session_id"] in sids)
        if not waiting:
            return True
        seen = (waiting, _last_heartbeat(store))
        if seen != last:
            last, progressed = seen, time.monotonic()
        elif not own_ingest and time.monotonic() - progressed > PATIENCE_S:
            print(f"replay: the site's ingest stored nothing for {PATIENCE_S:.0f} s: {waiting} item(s) not stored",
                  file=sys.stderr)
            return False
    print("replay: stopped waiting: what is not stored yet is not folded", file=sys.stderr)
    return False


def _last_heartbeat(store: Store) -> float | None:
    beats = store.heartbeats()
    return max(beat["at"] for beat in beats) if beats else None


def _updater(bar: tqdm, speed: str) -> Callable[[Progress], None]:
    def update(progress: Progress) -> None:
        bar.update(progress.sent - bar.n)
        bar.set_postfix_str(f"session {clock(progress.position)} · {speed}x · {progress.readings} readings")
    return update
