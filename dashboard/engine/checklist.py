"""The pre-dose checklist of each protocol: what a nurse confirms before the dose, each item with its source.

The lists live in the clinic file ([checklist.NAME] in defaults.toml), like every other setting. A clinic file may
replace a list (`items = [...]`), drop items by key (`remove = ["key"]`), add its own (`add = [{...}]`), or name
a new list for protocols the shipped ones leave out. Pure: parsing and merging only; the web layer gates the dose
with it (dashboard/ui/checklist.py) and the record shows the answers.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

BASES = ("label", "REMS", "clinic policy")  # what makes an item required: the label, the REMS, or the clinic
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # stored in every answer: short and stable
TEXT_MAX = 200


class ChecklistError(ValueError):
    """A checklist table that cannot be used; the message names the key."""


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    key: str  # stable: the stored answers name it
    text: str  # what the nurse confirms, as the session page asks it
    basis: str  # one of BASES
    source: str  # where it comes from (section title and label date, REMS page, clinic policy)


@dataclass(frozen=True, slots=True)
class Checklist:
    name: str
    protocols: tuple[str, ...]
    items: tuple[ChecklistItem, ...]

    def item(self, key: str) -> ChecklistItem | None:
        return next((item for item in self.items if item.key == key), None)


@dataclass(frozen=True, slots=True)
class ChecklistAnswer:
    """A nurse's answer to one item, as stored in a `checklist` action's and event's detail (JSON): the item's key
    and its text as asked (the record reads alone even after the clinic changes its list), done or overridden."""

    item: str
    text: str
    done: bool  # False: overridden, with `reason`
    reason: str = ""

    def to_detail(self) -> str:
        answer = {"item": self.item, "text": self.text, "answer": "done" if self.done else "override"}
        if not self.done:
            answer["reason"] = self.reason
        return json.dumps(answer, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def parse(cls, detail: str) -> ChecklistAnswer:
        """ValueError for a detail that is not an answer."""
        try:
            raw = json.loads(detail)
        except (TypeError, ValueError):
            raise ValueError(f"not a checklist answer: {detail!r}") from None
        if not isinstance(raw, dict) or raw.get("answer") not in ("done", "override") or not raw.get("item"):
            raise ValueError(f"not a checklist answer: {detail!r}")
        return cls(str(raw["item"]), str(raw.get("text", raw["item"])), raw["answer"] == "done",
                   str(raw.get("reason", "")))

    @property
    def words(self) -> str:
        return f"{self.text}: " + ("done" if self.done else f"overridden ({self.reason})")


def merge_checklists(base: dict[str, Any], override: Mapping[str, Any]) -> None:
    """Apply a clinic file's [checklist.*] tables to the defaults' raw tables, in place."""
    if not isinstance(override, Mapping):
        raise ChecklistError("config key 'checklist' must be a table of checklists")
    for name, table in override.items():
        where = f"checklist.{name}"
        if not isinstance(table, Mapping):
            raise ChecklistError(f"config key '{where}' must be a table")
        unknown = set(table) - {"protocols", "items", "add", "remove"}
        if unknown:
            raise ChecklistError(f"unknown config key '{where}.{sorted(unknown)[0]}'")
        merged = dict(base.get(name, {}))
        if "protocols" in table:
            merged["protocols"] = table["protocols"]
        if "items" in table:
            merged["items"] = table["items"]
        items = list(merged.get("items", []))
        removed = table.get("remove", [])
        if not isinstance(removed, list) or not all(isinstance(key, str) for key in removed):
            raise ChecklistError(f"config key '{where}.remove' must be a list of item keys")
        known = {item.get("key") for item in items if isinstance(item, Mapping)}
        for key in removed:
            if key not in known:
                raise ChecklistError(f"config key '{where}.remove' names no item {key!r}")
        items = [item for item in items if not (isinstance(item, Mapping) and item.get("key") in removed)]
        added = table.get("add", [])
        if not isinstance(added, list):
            raise ChecklistError(f"config key '{where}.add' must be a list of items")
        merged["items"] = items + added
        base[name] = merged


def build_checklists(raw: Mapping[str, Any], protocols: set[str]) -> dict[str, Checklist]:
    """Each list checked: known protocols (each in one list at most), items with a key, text, basis and source."""
    out: dict[str, Checklist] = {}
    owner: dict[str, str] = {}
    for name, table in raw.items():
        where = f"checklist.{name}"
        named = table.get("protocols")
        if not isinstance(named, list) or not named or not all(isinstance(p, str) for p in named):
            raise ChecklistError(f"config key '{where}.protocols' must be a non-empty list of protocol names")
        for protocol in named:
            if protocol not in protocols:
                raise ChecklistError(f"config key '{where}.protocols' names no known protocol {protocol!r}")
            if protocol in owner:
                raise ChecklistError(f"config key '{where}.protocols': {protocol} already has checklist "
                                     f"{owner[protocol]!r}")
            owner[protocol] = name
        items = table.get("items")
        if not isinstance(items, list):
            raise ChecklistError(f"config key '{where}.items' must be a list of items")
        built = tuple(_item(f"{where}.items[{n}]", item) for n, item in enumerate(items))
        keys = [item.key for item in built]
        duplicate = next((key for key in keys if keys.count(key) > 1), None)
        if duplicate:
            raise ChecklistError(f"config key '{where}.items' has item {duplicate!r} twice")
        out[name] = Checklist(name, tuple(named), built)
    return out


def _item(where: str, raw: Any) -> ChecklistItem:
    if not isinstance(raw, Mapping):
        raise ChecklistError(f"config key '{where}' must be a table with key, text, basis and source")
    unknown = set(raw) - {"key", "text", "basis", "source"}
    if unknown:
        raise ChecklistError(f"unknown config key '{where}.{sorted(unknown)[0]}'")
    key = raw.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise ChecklistError(f"config key '{where}.key' must be lower-case letters, digits and _ "
                             f"(up to 40), got {key!r}")
    for part in ("text", "source"):
        value = raw.get(part)
        if not isinstance(value, str) or not value.strip():
            raise ChecklistError(f"config key '{where}.{part}' must be non-empty text")
    if len(raw["text"]) > TEXT_MAX:
        raise ChecklistError(f"config key '{where}.text' is longer than {TEXT_MAX} characters")
    basis = raw.get("basis")
    if basis not in BASES:
        raise ChecklistError(f"config key '{where}.basis' must be one of {', '.join(BASES)}, got {basis!r}")
    return ChecklistItem(key, raw["text"].strip(), basis, raw["source"].strip())
