"""Write simulated session feeds (CSV) from the physiological model: one file, or a batch of seeds.

    python app.py simulate --list
    python app.py simulate --scenario bradycardia --seed 3 --out brady.csv
    python app.py simulate --protocol esketamine-84 --rise-sbp 45 --rise-dbp 28 --out outlier.csv
    python app.py simulate --scenario esketamine-84-typical --count 1000 --out-dir var/feeds

The same arguments and seed always give the same bytes. A batch writes seeds seed .. seed+count-1 as
<scenario>-<seed>.csv (zero-padded so the names sort), in parallel processes (--jobs), with a progress bar on
stderr. Knobs override the scenario's own values; a range LOW:HIGH is drawn uniformly per session. The feed
format: `app.py check --help` and docs/feed-format.md.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from devices.readings import PROTOCOLS
from devices.simulator.feeds import DEFAULT_SCENARIO, DRAW_KNOBS

from .options import add_config_option

HELP = "write simulated session feeds (CSV) from the physiological model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--scenario", metavar="NAME", help=f"a named scenario (see --list; default {DEFAULT_SCENARIO})")
    what.add_argument("--protocol", choices=PROTOCOLS, help="draw everything for this protocol (its *-typical scenario)")
    what.add_argument("--list", action="store_true", help="print the scenario names with their descriptions")
    parser.add_argument("--seed", type=int, default=0, help="seed of the (first) session (default 0)")
    parser.add_argument("--count", type=int, default=1, help="sessions to write, seeds seed..seed+count-1 (default 1)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path, metavar="FILE",
                       help="the feed file ('-' = stdout, the default for one session)")
    where.add_argument("--out-dir", type=Path, metavar="DIR",
                       help="folder for <scenario>-<seed>.csv files (needed for --count > 1)")
    parser.add_argument("--jobs", type=int, help="processes for a batch (default: the CPU count)")
    knobs = parser.add_argument_group("knobs (override the scenario; LOW:HIGH draws per session)")
    for name, help_text in DRAW_KNOBS.items():
        knobs.add_argument("--" + name.replace("_", "-"), type=draw, metavar="N|LOW:HIGH", help=help_text)
    knobs.add_argument("--artifact-rate", type=rate, help="share of cuff cycles that fail or misread, [0, 1)")
    knobs.add_argument("--dropout", type=rate, help="share of oximeter samples missing, [0, 1)")
    knobs.add_argument("--hr-trend", type=float, metavar="PER_HOUR", help="heart-rate drift from the dose, beats/min per hour")
    knobs.add_argument("--dose-at", type=float, metavar="SECONDS", help="session time of the dose start")
    knobs.add_argument("--nibp-interval", type=float, metavar="SECONDS", help="cuff cycle (default: the protocol's)")
    knobs.add_argument("--minutes", type=float, help="keep the session going at least this long before the discharge")
    knobs.add_argument("--oximeter-period", type=float, metavar="SECONDS",
                       help="oximeter sample period (default 1 s; thin it only when size matters)")
    knobs.add_argument("--no-discharge", action="store_true", help="end the feed without a discharge event")
    add_config_option(parser, "the protocols' timings")


def run(args: argparse.Namespace) -> int:
    import os
    import sys
    import time

    from devices.simulator import SCENARIOS
    from devices.simulator.feeds import SimulateError, build_scenario, check_batch, write_batch, write_one

    from ..engine import ConfigError, load_config

    if args.list:
        width = max(map(len, SCENARIOS))
        for name, scn in SCENARIOS.items():
            print(f"{name:<{width}}  {scn.description}")
        return 0
    try:
        scn = build_scenario(args)
        check_batch(args)
        try:
            config = load_config(args.config)  # the protocols' timings the simulator plans by
        except ConfigError as exc:
            raise SimulateError(f"{args.config}: {exc}") from None
        if args.out_dir is None:
            write_one(scn, args.seed, config, args.out)
            return 0
        started = time.perf_counter()
        paths = write_batch(scn, range(args.seed, args.seed + args.count), args.out_dir, config,
                            args.jobs or os.cpu_count() or 1)
    except SimulateError as exc:
        print(f"simulate: {exc}", file=sys.stderr)
        return 2
    size = sum(path.stat().st_size for path in paths)
    print(f"simulate: wrote {len(paths)} feed(s), {size / 1e6:.1f} MB, to {args.out_dir} "
          f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


def draw(text: str) -> float | tuple[float, float]:
    """A knob's value: a number (`45`) or a uniform range (`40:50`)."""
    low, sep, high = text.partition(":")
    try:
        if not sep:
            return float(text)
        span = float(low), float(high)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a number nor a range LOW:HIGH") from None
    if span[0] > span[1]:
        raise argparse.ArgumentTypeError(f"range {text!r} runs backwards")
    return span


def rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"a rate is a fraction in [0, 1), got {text}")
    return value
