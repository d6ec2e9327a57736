"""Clinical settings: the defaults in defaults.toml, merged with a clinic's file.

Each numeric setting is a `Setting` carrying its unit and source, so the
settings page, the docs and the engine all read the same figure. A bad file is
refused with a `ConfigError` naming the key.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from .checklist import Checklist, ChecklistError, build_checklists, merge_checklists

DEFAULTS_PATH = Path(__file__).with_name("defaults.toml")
PRIORITIES = ("high", "medium", "low")
OBSERVATION_ANCHORS = ("dose_start", "infusion_end")
BASELINE_POLICIES = ("session", "course-lower")  # see [baseline] in defaults.toml


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the key."""


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    value: float
    unit: str
    source: str


@dataclass(frozen=True, slots=True)
class ProtocolSpec:
    name: str
    label: str
    observation_from: str  # "dose_start" or "infusion_end"
    observation_s: float  # minimum observation, from observation_from
    dosing_s: float  # esketamine: device administration; IV: planned infusion
    spo2_required: bool = False  # spo2.unmonitored applies (esketamine: the REMS asks for pulse oximetry)

    @property
    def is_infusion(self) -> bool:
        return self.observation_from == "infusion_end"


@dataclass(frozen=True)
class Config:
    settings: Mapping[str, Setting]
    priorities: Mapping[str, str]
    protocols: Mapping[str, ProtocolSpec]
    limits: Mapping[str, Mapping[str, Setting]] = field(default_factory=dict)  # per-protocol overrides
    baseline_policy: str = "session"  # [baseline] policy: what bp.rise measures from
    checklists: Mapping[str, Checklist] = field(default_factory=dict)  # [checklist.*]: the pre-dose checklists

    def value(self, key: str) -> float:
        return self.settings[key].value

    def priority(self, code: str) -> str:
        return self.priorities[code]

    def checklist(self, protocol: str) -> Checklist | None:
        """The pre-dose checklist of a protocol; None where the clinic file gives it none."""
        return next((c for c in self.checklists.values() if protocol in c.protocols), None)

    def for_protocol(self, protocol: str) -> Config:
        """The settings as they apply to one protocol: its overrides in place of the defaults."""
        overrides = self.limits.get(protocol, {})
        return replace(self, settings={**self.settings, **overrides}) if overrides else self


def load_config(path: Path | str | None = None) -> Config:
    """Defaults, overridden by the file at `path` if given."""
    raw = _read_toml(DEFAULTS_PATH)
    checklists = raw.pop("checklist", {})
    try:
        if path is not None:
            override = _read_toml(Path(path))
            merge_checklists(checklists, override.pop("checklist", {}))
            _merge(raw, override, prefix="")
        config = _build(raw)
        return replace(config, checklists=build_checklists(checklists, set(config.protocols)))
    except ChecklistError as exc:
        raise ConfigError(str(exc)) from exc


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path} is not valid TOML: {exc}") from exc


def _merge(base: dict[str, Any], override: dict[str, Any], prefix: str) -> None:
    """Merge `override` into `base`; only keys the defaults know are allowed."""
    for key, value in override.items():
        dotted = f"{prefix}{key}"
        if prefix.endswith(".limits.") and key not in base:  # a protocol override: checked in _build
            base[key] = value
            continue
        if key not in base:
            raise ConfigError(f"unknown config key '{dotted}'")
        if isinstance(base[key], dict) and isinstance(value, dict):
            _merge(base[key], value, prefix=f"{dotted}.")
        elif isinstance(base[key], dict) != isinstance(value, dict):
            raise ConfigError(f"config key '{dotted}' has the wrong shape")
        else:
            base[key] = value


def _build(raw: dict[str, Any]) -> Config:
    settings: dict[str, Setting] = {}
    priorities: dict[str, str] = {}
    protocol_tables: dict[str, dict[str, Any]] = {}
    policy = str(raw.get("baseline", {}).get("policy", "session"))
    if policy not in BASELINE_POLICIES:
        raise ConfigError(f"config key 'baseline.policy' must be one of {', '.join(BASELINE_POLICIES)}, got {policy!r}")
    for key, table in _walk(raw, ""):
        if key.startswith("protocol."):
            protocol_tables[key.removeprefix("protocol.")] = table
            continue
        for name, value in table.items():
            dotted = f"{key}.{name}"
            if name == "priority":
                if value not in PRIORITIES:
                    raise ConfigError(f"config key '{dotted}' must be one of {', '.join(PRIORITIES)}")
                priorities[key] = value
            elif isinstance(value, dict):
                settings[dotted] = _setting(dotted, value)
    priorities.setdefault("spo2.low", "medium")  # spo2.low takes its priority from the level reached
    protocols = {name: _protocol(name, table, settings) for name, table in protocol_tables.items()}
    limits = {name: _limits(name, table.get("limits", {}), settings) for name, table in protocol_tables.items()}
    return Config(settings=settings, priorities=priorities, protocols=protocols, limits=limits, baseline_policy=policy)


def _limits(protocol: str, table: dict[str, Any], settings: dict[str, Setting]) -> dict[str, Setting]:
    """A protocol's overrides: each must name a known setting and carry a number."""
    out: dict[str, Setting] = {}
    for key, value in table.items():
        where = f"protocol.{protocol}.limits.{key}"
        if key not in settings or key.startswith("protocol."):
            raise ConfigError(f"config key '{where}' overrides no known setting")
        if not isinstance(value, dict):
            value = {"value": value}
        default = settings[key]
        merged = {"unit": default.unit, "source": f"{protocol} override", **value}
        out[key] = _setting(key, merged)
    return out


def _walk(raw: dict[str, Any], prefix: str):
    """Yield (dotted key, table) for tables whose values are leaves or settings."""
    for key, value in raw.items():
        if not isinstance(value, dict):
            continue
        dotted = f"{prefix}{key}"
        if any(not isinstance(v, dict) or "value" in v for v in value.values()):
            yield dotted, value
        else:
            yield from _walk(value, f"{dotted}.")


def _setting(key: str, table: dict[str, Any]) -> Setting:
    value = table.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"config key '{key}.value' must be a number, got {value!r}")
    if value < 0:
        raise ConfigError(f"config key '{key}.value' must not be negative, got {value!r}")
    return Setting(key, float(value), str(table.get("unit", "")), str(table.get("source", "")))


def _protocol(name: str, table: dict[str, Any], settings: dict[str, Setting]) -> ProtocolSpec:
    anchor = table.get("observation_from")
    if anchor not in OBSERVATION_ANCHORS:
        raise ConfigError(f"config key 'protocol.{name}.observation_from' must be one of "
                          f"{', '.join(OBSERVATION_ANCHORS)}")
    timing_key = "infusion" if anchor == "infusion_end" else "dosing"
    for part in ("observation", timing_key):
        if part not in table:
            raise ConfigError(f"config key 'protocol.{name}.{part}' is missing")
        settings[f"protocol.{name}.{part}"] = _setting(f"protocol.{name}.{part}", table[part])
    required = table.get("spo2_required", False)
    if not isinstance(required, bool):
        raise ConfigError(f"config key 'protocol.{name}.spo2_required' must be true or false, got {required!r}")
    return ProtocolSpec(
        name=name,
        label=str(table.get("label", name)),
        observation_from=anchor,
        observation_s=settings[f"protocol.{name}.observation"].value * 60,
        dosing_s=settings[f"protocol.{name}.{timing_key}"].value * 60,
        spo2_required=required,
    )
