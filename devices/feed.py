"""The feed CSV (docs/feed-format.md): read, validate and write; and its companion, the actions CSV.

One row per device report or session event. A malformed row (including one the csv
module itself cannot split: a field over its size limit) is reported with its line
number and reason and every other row is still used; a file that is not a feed at all
(unreadable, not UTF-8 text, wrong header) raises `FeedError`. Nothing else escapes.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Iterable, Iterator

from .csv_safety import plain_cell, safe_dict
from .readings import EVENT_KINDS, PROTOCOLS, Assessment, Item, Reading, SessionEvent

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ("offset_s", "source", "sbp", "dbp", "map", "hr", "spo2", "event", "detail")
VITALS = ("sbp", "dbp", "map", "hr", "spo2")
ACTION_COLUMNS = ("offset_s", "action", "who", "detail")  # the actions CSV: people's actions for `check --actions`
ACTIONS = ("acknowledge", "audio_pause", "override")


class FeedError(ValueError):
    """The file cannot be read as a feed at all."""


@dataclass(frozen=True, slots=True)
class FeedProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class Feed:
    items: list[Item] = field(default_factory=list)
    problems: list[FeedProblem] = field(default_factory=list)

    @property
    def protocol(self) -> str | None:
        """The protocol named by the first session_start row, if any."""
        for item in self.items:
            if isinstance(item, SessionEvent) and item.kind == "session_start":
                return item.detail
        return None


def read_feed(source: Path | str | IO[str]) -> Feed:
    """Read a feed from a path or an open text file."""
    if isinstance(source, (str, Path)):
        try:
            with open(source, newline="", encoding="utf-8-sig") as handle:  # -sig: a spreadsheet's BOM is fine
                return _read(handle)
        except OSError as exc:
            raise FeedError(f"cannot read feed {source}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise FeedError(f"feed {source} is not UTF-8 text (byte {exc.start} cannot be read)") from exc
    try:
        return _read(source)
    except UnicodeDecodeError as exc:
        raise FeedError(f"feed is not UTF-8 text (byte {exc.start} cannot be read)") from exc


def _rows(reader: Iterator[list[str]]) -> Iterator[list[str] | csv.Error]:
    """The csv rows, and in place of a row the csv module cannot split, its error (it reads on after it)."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield exc


def _read(handle: IO[str]) -> Feed:
    reader = csv.reader(handle)
    rows = _rows(reader)
    header = next(rows, None)
    if isinstance(header, csv.Error):
        raise FeedError(f"not a feed: its first line cannot be read as CSV ({exc_text(header)})")
    if header is None:
        raise FeedError("feed is empty: expected a header " + ",".join(COLUMNS))
    header = [name.strip() for name in header]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise FeedError(f"feed header lacks column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}")
    index = {name: header.index(name) for name in COLUMNS}
    feed = Feed()
    last_offset = float("-inf")  # readings from before the session start (its pre-session window) come first
    for row in rows:
        if isinstance(row, csv.Error):
            feed.problems.append(FeedProblem(reader.line_num, f"not a CSV row: {exc_text(row)}"))
            continue
        if not any(cell.strip() for cell in row):
            continue
        try:
            item = _parse_row(row, index, len(header), last_offset)
        except ValueError as exc:
            feed.problems.append(FeedProblem(reader.line_num, str(exc)))
            continue
        last_offset = item.offset_s or 0.0
        feed.items.append(item)
    return feed


def exc_text(exc: csv.Error) -> str:
    """The csv module's message in our words where it has a number in it ("field larger than field limit")."""
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a field is longer than {csv.field_size_limit()} characters"
    return text


def _parse_row(row: list[str], index: dict[str, int], width: int, last_offset: float) -> Item:
    if len(row) != width:
        raise ValueError(f"expected {width} fields, found {len(row)}")
    cell = {name: plain_cell(row[i].strip()) for name, i in index.items()}  # as written (csv_safety.py)
    offset = _number(cell["offset_s"], "offset_s")
    if offset is None:
        raise ValueError("offset_s is empty")
    if offset < last_offset:
        raise ValueError(f"offset_s {offset:g} goes back before {last_offset:g}")
    vitals = {name: _number(cell[name], name) for name in VITALS}
    event = cell["event"]
    has_vitals = any(v is not None for v in vitals.values())
    if event:
        if event not in EVENT_KINDS:
            raise ValueError(f"unknown event {event!r}")
        if has_vitals:
            raise ValueError("a row carries either vitals or an event, not both")
        _check_detail(event, cell["detail"])
        return SessionEvent(kind=event, detail=cell["detail"], source=cell["source"], offset_s=offset)
    if not has_vitals:
        raise ValueError("row has neither vitals nor an event")
    # "manual": typed by a nurse (the feed export writes manual entries so): a spot check, never a device's stream
    provenance = "manual" if cell["source"] == "manual" else "device"
    return Reading(source=cell["source"], offset_s=offset, provenance=provenance, **vitals)


def _check_detail(event: str, detail: str) -> None:
    if event == "session_start" and detail not in PROTOCOLS:
        raise ValueError(f"session_start needs a protocol ({', '.join(PROTOCOLS)}), got {detail!r}")
    if event == "assessment":
        Assessment.parse(detail)


def _number(text: str, name: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} {text!r} is not a finite number")
    return value


TEST_DATA_COLUMN = "test_data"  # REPLAY or SIMULATED: only in the feed and actions files of test sessions' exports


def item_row(item: Item) -> dict[str, object]:
    """One feed row (as a dict of COLUMNS) for a reading or event with an offset, safe to open in a spreadsheet."""
    row: dict[str, object] = dict.fromkeys(COLUMNS, "")
    row["offset_s"] = _fmt(item.offset_s or 0.0)
    row["source"] = item.source
    if isinstance(item, Reading):
        for name in VITALS:
            value = getattr(item, name)
            row[name] = "" if value is None else _fmt(value)
    else:
        row["event"], row["detail"] = item.kind, item.detail
    return safe_dict(row)


def write_feed(items: Iterable[Item], target: Path | str | IO[str], test_data: str = "") -> int:
    """Write items (with offsets, in order) as a feed; return the row count. `test_data` (REPLAY, SIMULATED):
    a last column saying so on every row; a real session's feed keeps exactly COLUMNS."""
    if isinstance(target, (str, Path)):
        with open(target, "w", newline="", encoding="utf-8") as handle:
            return write_feed(items, handle, test_data)
    columns = (*COLUMNS, TEST_DATA_COLUMN) if test_data else COLUMNS
    writer = csv.DictWriter(target, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    count = 0
    for item in items:
        writer.writerow({**item_row(item), TEST_DATA_COLUMN: test_data} if test_data else item_row(item))
        count += 1
    return count


def feed_frame(items: Iterable[Item]) -> pd.DataFrame:
    """The items as a DataFrame with the feed's columns and numeric vitals."""
    import pandas as pd  # here: reading and writing feeds (and the command line's --help) need none of pandas

    buffer = io.StringIO()
    write_feed(items, buffer)
    buffer.seek(0)
    return pd.read_csv(buffer, dtype={"source": str, "event": str, "detail": str}, keep_default_na=False,
                       na_values={name: [""] for name in (*VITALS, "offset_s")})


def read_actions(path: Path | str) -> tuple[list[SessionEvent], list[FeedProblem]]:
    """An actions CSV (offset_s,action,who,detail): acknowledge (detail = code or code|source),
    audio_pause (detail = seconds) or override (detail = the reason). Bad rows are reported, not fatal."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise FeedError(f"cannot read actions {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise FeedError(f"actions {path} is not UTF-8 text") from exc
    except csv.Error as exc:
        raise FeedError(f"actions {path} cannot be read as CSV: {exc_text(exc)}") from exc
    if rows and set(ACTION_COLUMNS) - set(rows[0]):
        raise FeedError(f"actions file needs the columns {','.join(ACTION_COLUMNS)}")
    out: list[SessionEvent] = []
    problems: list[FeedProblem] = []
    for line, row in enumerate(rows, start=2):
        try:
            out.append(_action(row))
        except ValueError as exc:
            problems.append(FeedProblem(line, f"actions: {exc}"))
    out.sort(key=lambda e: e.offset_s or 0.0)
    return out, problems


def _action(row: dict[str, str]) -> SessionEvent:
    kind = (row.get("action") or "").strip()
    if kind not in ACTIONS:
        raise ValueError(f"unknown action {kind!r}; expected one of {', '.join(ACTIONS)}")
    try:
        offset = float(row.get("offset_s") or "")
    except ValueError:
        raise ValueError(f"offset_s {row.get('offset_s')!r} is not a number") from None
    who = plain_cell((row.get("who") or "").strip())  # as exported (devices/csv_safety.py)
    if not who:
        raise ValueError("who is empty: every action is someone's")
    return SessionEvent(kind, detail=plain_cell((row.get("detail") or "").strip()), offset_s=offset, who=who)


def _fmt(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") if not float(value).is_integer() else str(int(value))
