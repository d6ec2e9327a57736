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
import dataclasses
import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from devices.readings import PROTOCOLS, Item

from .options import add_config_option

if TYPE_CHECKING:
    from devices.simulator import Scenario, Timings  # the simulator and the feed writer load when it runs

HELP = "write simulated session feeds (CSV) from the physiological model"

# --protocol P is the scenario that draws everything for P.
TYPICAL = {"iv-ketamine": "iv-typical", "esketamine-56": "esketamine-56-typical",
           "esketamine-84": "esketamine-84-typical"}
DEFAULT_SCENARIO = "esketamine-84-typical"
MINUTE = 60.0


class SimulateError(ValueError):
    """Arguments that make no session; the message says which."""


# knob option -> Scenario field, for the knobs that are a number or a range
DRAW_KNOBS = {"rise_sbp": "peak systolic rise over baseline, mmHg",
              "rise_dbp": "peak diastolic rise over baseline, mmHg",
              "baseline_sbp": "baseline systolic, mmHg", "baseline_dbp": "baseline diastolic, mmHg",
              "baseline_hr": "baseline heart rate, beats/min", "baseline_spo2": "baseline SpO2, %%",
              "hr_change": "heart-rate change at the BP peak, beats/min"}


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
    import time

    from devices.simulator import SCENARIOS

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


def build_scenario(args: argparse.Namespace) -> Scenario:
    """The named (or protocol's typical) scenario with the knobs given on the command line."""
    from devices.simulator import scenario  # here, as below: every --help reads this module's names

    try:
        base = scenario(args.scenario or TYPICAL.get(args.protocol or "", DEFAULT_SCENARIO))
    except ValueError as exc:
        raise SimulateError(str(exc)) from None
    changes: dict[str, object] = {name: getattr(args, name) for name in DRAW_KNOBS if getattr(args, name) is not None}
    for option, name in (("artifact_rate", "artifact_rate"), ("dropout", "dropout_rate"),
                         ("dose_at", "dose_at_s"), ("nibp_interval", "nibp_interval_s"),
                         ("hr_trend", "hr_trend_per_h")):
        if getattr(args, option) is not None:
            changes[name] = getattr(args, option)
    if args.nibp_interval is not None and not args.nibp_interval > 0:
        raise SimulateError("--nibp-interval must be positive")
    if args.minutes is not None:
        if not args.minutes > 0:
            raise SimulateError("--minutes must be positive")
        changes["min_session_s"] = args.minutes * MINUTE
    if args.oximeter_period is not None:
        if not args.oximeter_period > 0:
            raise SimulateError("--oximeter-period must be positive")
        changes["physiology"] = dataclasses.replace(base.physiology, oximeter_period_s=args.oximeter_period)
    if args.no_discharge:
        changes["discharge"] = False
    try:
        return dataclasses.replace(base, **changes) if changes else base  # type: ignore[arg-type]
    except ValueError as exc:
        raise SimulateError(str(exc)) from None


def check_batch(args: argparse.Namespace) -> None:
    if args.seed < 0:
        raise SimulateError(f"--seed must be 0 or more, got {args.seed}")
    if args.count < 1:
        raise SimulateError(f"--count must be at least 1, got {args.count}")
    if args.count > 1 and args.out_dir is None:
        raise SimulateError("--count above 1 writes one file per seed: give --out-dir")
    if args.jobs is not None and args.jobs < 1:
        raise SimulateError(f"--jobs must be at least 1, got {args.jobs}")


def write_one(scn: Scenario, seed: int, config: Timings, out: Path | None) -> None:
    """One session to `out` (stdout for None or '-')."""
    from devices.feed import write_feed
    from devices.simulator import session_items

    items = session_items(scn, seed, config)
    if out is None or str(out) == "-":
        write_feed(items, sys.stdout)
        return
    try:
        _write_file(items, out)
    except OSError as exc:
        raise SimulateError(f"cannot write {out}: {exc.strerror}") from None


def _write_file(items: Iterable[Item], path: Path) -> None:
    """Write via a temporary file: an interrupted run leaves no half feed under the real name."""
    from devices.feed import write_feed

    part = path.with_name(path.name + ".part")
    write_feed(items, part)
    part.replace(path)


def feed_name(scn: Scenario, seed: int, last_seed: int) -> str:
    return f"{scn.name}-{seed:0{len(str(last_seed))}d}.csv"


def write_batch(scn: Scenario, seeds: range, out_dir: Path, config: Timings, jobs: int) -> list[Path]:
    """Every seed's session as its own file in `out_dir`, `jobs` processes at a time, with a progress bar."""
    from tqdm import tqdm

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SimulateError(f"cannot create {out_dir}: {exc.strerror}") from None
    tasks = [(seed, out_dir / feed_name(scn, seed, seeds[-1])) for seed in seeds]
    write = functools.partial(_write_seed, scn, config)
    bar = tqdm(total=len(tasks), unit=" feeds", desc=scn.name, file=sys.stderr)
    try:
        if jobs == 1 or len(tasks) == 1:
            for task in tasks:
                write(task)
                bar.update()
        else:
            import multiprocessing

            with multiprocessing.Pool(min(jobs, len(tasks))) as pool:
                for _ in pool.imap_unordered(write, tasks, chunksize=4):
                    bar.update()
    except OSError as exc:
        raise SimulateError(f"cannot write in {out_dir}: {exc.strerror}") from None
    finally:
        bar.close()
    return [path for _, path in tasks]


def _write_seed(scn: Scenario, config: Timings, task: tuple[int, Path]) -> None:
    seed, path = task
    from devices.simulator import session_items

    _write_file(session_items(scn, seed, config), path)
