"""Run every scenario through `check` and compare its alarm transitions with the expected file beside it.

A scenario is a feed NAME.csv with NAME.expected.jsonl beside it (one `check --json` object a line), and
NAME.actions.csv when people act in it (`check --actions`). The comparison is on offset_s, code, state,
priority, source and value: a message's wording may change, an alarm may not. Prints a table with the first
difference of each failing scenario; exits 0 when all pass, 1 on any failure, 2 when nothing could be run.
`make test` runs it over sample_data/ before the suite.
"""
from __future__ import annotations

import argparse
import html
import json
from dataclasses import dataclass
from pathlib import Path

from .check import run_check
from .options import add_config_option

HELP = "run every scenario through check and compare with its expected file"
KEYS = ("offset_s", "code", "state", "priority", "source", "value")  # what must match; a message's wording may change
DEFAULT_DIRS = (Path("sample_data/feeds"), Path("sample_data/scenarios"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dirs", type=Path, nargs="*", metavar="DIR",
                        help=f"folders of scenarios (default {', '.join(map(str, DEFAULT_DIRS))})")
    add_config_option(parser)
    parser.add_argument("--html", type=Path, metavar="FILE",
                        help="also write the report, with each scenario's chart, to this file")


def run(args: argparse.Namespace) -> int:
    from ..engine import load_config

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


@dataclass(frozen=True)
class Outcome:
    name: str
    feed: Path
    expected: int
    got: int
    difference: str  # empty when it passes
    transitions: tuple[dict, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.difference


def scenarios(dirs: list[Path]) -> list[Path]:
    return sorted(feed for folder in dirs for feed in folder.glob("*.csv")
                  if not feed.name.endswith(".actions.csv") and feed.with_suffix(".expected.jsonl").exists())


def compare(feed: Path, config=None) -> Outcome:
    expected_path = feed.with_suffix(".expected.jsonl")
    actions = feed.with_name(feed.stem + ".actions.csv")
    from devices.feed import FeedError

    want = [tuple(json.loads(line).get(k, "") for k in KEYS) for line in expected_path.read_text().splitlines() if line]
    try:
        result = run_check(feed, config, actions if actions.exists() else None)
    except FeedError as exc:
        return Outcome(feed.stem, feed, len(want), 0, f"cannot run: {exc}")
    got = [tuple(t.to_dict()[k] for k in KEYS) for t in result.transitions]
    return Outcome(feed.stem, feed, len(want), len(got), first_difference(want, got),
                   tuple(t.to_dict() for t in result.transitions))


def first_difference(want: list[tuple], got: list[tuple]) -> str:
    for index, (w, g) in enumerate(zip(want, got)):
        if w != g:
            return f"#{index + 1}: expected {_line(w)}, got {_line(g)}"
    if len(want) != len(got):
        longer, label = (want, "missing") if len(want) > len(got) else (got, "extra")
        return f"#{min(len(want), len(got)) + 1}: {label} {_line(longer[min(len(want), len(got))])}"
    return ""


def _line(t: tuple) -> str:
    offset, code, state, priority, source, value = t
    return f"{offset:g}s {code}{'[' + source + ']' if source else ''} {state} ({priority}) {value}".strip()


def table(outcomes: list[Outcome]) -> str:
    width = max(len(o.name) for o in outcomes)
    lines = [f"{'scenario':<{width}}  expected  got  result  first difference"]
    for o in outcomes:
        lines.append(f"{o.name:<{width}}  {o.expected:>8}  {o.got:>3}  {'pass' if o.passed else 'FAIL':<6}  {o.difference}")
    return "\n".join(lines)


def html_report(outcomes: list[Outcome]) -> str:
    """The same table, then each scenario's chart with its alarms (plotly, self-contained once)."""
    from devices.feed import read_feed
    from devices.readings import Reading, SessionEvent

    from ..reports.charts.figures import session_figure  # plotly: only for --html

    parts = ["<!doctype html><meta charset='utf-8'><title>Regression report</title>",
             "<style>body{font-family:sans-serif} td,th{padding:2px 8px;text-align:left} .FAIL{color:#b00}</style>",
             "<h1>Regression report</h1><table><tr><th>scenario</th><th>expected</th><th>got</th><th>result</th>"
             "<th>first difference</th></tr>"]
    for o in outcomes:
        result = "pass" if o.passed else "FAIL"
        parts.append(f"<tr class='{result}'><td><a href='#{html.escape(o.name)}'>{html.escape(o.name)}</a></td>"
                     f"<td>{o.expected}</td><td>{o.got}</td><td>{result}</td><td>{html.escape(o.difference)}</td></tr>")
    parts.append("</table>")
    for index, o in enumerate(outcomes):
        items = read_feed(o.feed).items
        readings = [{"offset_s": i.offset_s, "sbp": i.sbp, "dbp": i.dbp, "hr": i.hr, "spo2": i.spo2}
                    for i in items if isinstance(i, Reading)]
        events = [{"offset_s": i.offset_s, "kind": i.kind, "detail": i.detail} for i in items if isinstance(i, SessionEvent)]
        end = items[-1].offset_s or 0.0 if items else 0.0
        fig = session_figure(readings, list(o.transitions), events, {}, end)
        fig.update_layout(title=o.name)
        parts.append(f"<h2 id='{html.escape(o.name)}'>{html.escape(o.name)}</h2>")
        parts.append(fig.to_html(full_html=False, include_plotlyjs="inline" if index == 0 else False))
    return "\n".join(parts)
