"""Target (issue 15): `python app.py --help` and `python app.py COMMAND --help` answer in well under half a second.

Each help runs as a person runs it, a fresh `python app.py ... --help` process, `--repeats` times; the figures
are the median and worst wall time, and the median CPU time of the child (less disturbed by other jobs on a busy
machine). Compared in the same run with the command line as it was before dashboard/cli/ (the merge base with
main, `--before REV`, unpacked to a scratch folder with `git archive`), which imported dash, pandas and
SQLAlchemy to print any help, and with the floor: a bare interpreter loading the standard modules any argparse
program loads (on a loaded machine that floor alone takes a good part of the time).

    python bench/cli_help.py [--repeats 10] [--before main]
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import benchlib as bl

LIMIT_S = 0.5


# The floor: an interpreter that loads only the standard modules any argparse program loads.
FLOOR = ["-c", "import argparse, dataclasses, logging, pathlib"]


def one_run(root: Path, args: list[str]) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of `python app.py ARGS` (of `python ARGS` for the floor)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    command = [sys.executable, *args] if args == FLOOR else [sys.executable, str(root / "app.py"), *args]
    done = subprocess.run(command, cwd=root, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{root}/app.py {' '.join(args)} failed: {done.stderr.decode()[-400:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(root: Path, helps: list[list[str]], repeats: int) -> dict[str, dict[str, float]]:
    figures = {}
    for args in helps:
        runs = [one_run(root, args) for _ in range(repeats)]
        name = " ".join(args)
        figures[name] = {"p50_s": round(bl.median([w for w, _ in runs]), 3), "max_s": round(max(w for w, _ in runs), 3),
                         "cpu_p50_s": round(bl.median([c for _, c in runs]), 3)}
        label = "python -c (floor)" if args == FLOOR else "app.py " + name
        print(f"{label:28} wall p50 {figures[name]['p50_s']:.3f} s  max {figures[name]['max_s']:.3f} s  "
              f"cpu p50 {figures[name]['cpu_p50_s']:.3f} s", flush=True)
    return figures


def unpacked(rev: str) -> Path:
    """The tree at `rev` in a scratch folder."""
    where = bl.scratch_dir("cli-before")
    archive = subprocess.run(["git", "archive", rev], cwd=bl.ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    return where


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--before", default="main", help="the revision to compare with (its merge base with HEAD)")
    options = parser.parse_args()
    from dashboard.cli import COMMANDS

    result = bl.Result("cli_help", bl.command_line(), bl.machine())
    bl.print_machine(result.machine)
    helps = [["--help"]] + [[name, "--help"] for name in COMMANDS]
    print("\nfloor (python -c 'import argparse, dataclasses, logging, pathlib'):")
    floor = measure(bl.ROOT, [FLOOR], options.repeats)
    print("\nnow (dashboard/cli/):")
    now = measure(bl.ROOT, helps, options.repeats)
    base = subprocess.run(["git", "merge-base", "HEAD", options.before], cwd=bl.ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    print(f"\nbefore ({base[:10]}, app.py with every parser in it):")
    before_root = unpacked(base)
    before = measure(before_root, [args for args in helps if args[0] in ("--help", "check", "replay", "users", "db",
                                                                         "export", "simulate")], options.repeats)
    result.figures = {"floor": next(iter(floor.values())), "now": now, "before": before, "before_rev": base}
    worst = max(now.values(), key=lambda f: f["p50_s"])
    result.target("slowest --help, median wall time", worst["p50_s"], LIMIT_S, "s")
    result.target("slowest --help, median CPU time", max(f["cpu_p50_s"] for f in now.values()), LIMIT_S / 2, "s")
    result.notes.append(f"before: the slowest --help took {max(f['p50_s'] for f in before.values()):.2f} s (median)")
    result.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
