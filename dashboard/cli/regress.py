"""Run every scenario through `check` and compare its alarm transitions with the expected file beside it.

A scenario is a feed NAME.csv with NAME.expected.jsonl beside it (one `check --json` object a line), and
NAME.actions.csv when people act in it (`check --actions`). The comparison is on offset_s, code, state,
priority, source and value: a message's wording may change, an alarm may not. Prints a table with the first
difference of each failing scenario; exits 0 when all pass, 1 on any failure, 2 when nothing could be run.
`make test` runs it over sample_data/ before the suite.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from .options import add_config_option

HELP = "run every scenario through check and compare with its expected file"
DEFAULT_DIRS = (Path("sample_data/feeds"), Path("sample_data/scenarios"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dirs", type=Path, nargs="*", metavar="DIR",
                        help=f"folders of scenarios (default {', '.join(map(str, DEFAULT_DIRS))})")
    add_config_option(parser)
    parser.add_argument("--html", type=Path, metavar="FILE",
                        help="also write the report, with each scenario's chart, to this file")


def run(args: argparse.Namespace) -> int:
    from ..engine import load_config
    from ..regress import compare, html_report, scenarios, table

    dirs = args.dirs or [d for d in DEFAULT_DIRS if d.exists()]
    feeds = scenarios(dirs)
    if not feeds:
        print(f"regress: no scenarios (NAME.csv with NAME.expected.jsonl) in {', '.join(map(str, dirs))}")
        return 2
    config = load_config(args.config)
    outcomes = [compare(feed, config) for feed in feeds]
    print(table(outcomes))
    if args.html:
        args.html.write_text(html_report(outcomes), encoding="utf-8")
        print(f"report: {args.html}")
    failed = [o for o in outcomes if not o.passed]
    print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0
