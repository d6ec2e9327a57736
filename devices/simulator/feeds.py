"""Feed CSVs from the physiological model: a scenario with the knobs given, one file or a batch of seeds
(`python app.py simulate`; its options: dashboard/cli/simulate.py).

The same arguments and seed always give the same bytes. A batch writes seeds seed .. seed+count-1 as
`<scenario>-<seed>.csv` (zero-padded so the names sort), in parallel processes, with a progress bar on stderr.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from ..feed import write_feed
from ..readings import Item

if TYPE_CHECKING:
    from .physiology import Scenario
    from .session import Timings

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


def build_scenario(args: argparse.Namespace) -> Scenario:
    """The named (or protocol's typical) scenario with the knobs given on the command line."""
    from .scenarios import scenario  # here, as below: the command line's --help reads only this module's names

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
    from .session import session_items

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
    from .session import session_items

    _write_file(session_items(scn, seed, config), path)
