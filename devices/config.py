"""The device configuration file (TOML): which devices serve which chair, and the HL7 listener.

See docs/devices.md and sample_data/devices.example.toml. `load_device_config`
refuses a bad file with a `DeviceConfigError` naming the key, e.g.
`chairs."Chair 1".nibp.interval_min: must be a number >= 0, got "five"`.
"""
from __future__ import annotations

import ipaddress
import tomllib
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

from .errors import DeviceConfigError
from .hl7.alarm_link import LinkSettings
from .hl7.alarm_report import Reporter
from .hl7.listener import ListenerSettings, local_zone
from .hl7.placement import SILENT_AFTER_S, Placement
from .serial.nibp import NibpSettings, SunTechNIBP
from .serial.oximeter import NoninOximeter
from .supervisor import Backoff, Device

PROTOCOLS = ("suntech", "nonin")
_COMMON = {"protocol", "port", "baud"}
_PER_PROTOCOL = {"suntech": {"interval_min", "mode"}, "nonin": {"silence_s", "format"}}
_HL7_KEYS = {"peers", "host", "port", "zone", "application", "facility", "ack_timeout_s", "silent_after_s",
             "idle_timeout_s", "frame_timeout_s", "max_connections", "max_connections_per_peer", "devices",
             "max_message_bytes", "locations", "patients", "refused_keep_mb", "refused_keep_days", "device_keep_days",
             "late_readings_max_min"}
_FORWARD_KEYS = {"host", "port", "link_base", "application", "facility", "receiving_application",
                 "receiving_facility", "connect_timeout_s", "ack_timeout_s", "retry_initial_s", "retry_max_s",
                 "max_rejects", "poll_s"}


@dataclass(frozen=True, slots=True)
class SerialDevice:
    chair: str
    label: str  # the table name: "nibp", "oximeter"; the source of its readings and events
    protocol: str  # suntech | nonin
    port: str  # a device path or a pyserial URL (socket://, rfc2217://, loop://)
    baud: int = 9600
    interval_min: float = 5.0  # suntech: automatic cycle; 0 = on demand only
    mode: str = "adult"  # suntech
    silence_s: float = 3.0  # nonin: silent this long = disconnected
    data_format: int = 8  # nonin: Data Format 8 (4-byte frames) or 7 (25-frame packets with checksums)

    def adapter(self) -> Device:
        if self.protocol == "suntech":
            settings = NibpSettings(interval_s=self.interval_min * 60 or None, mode=self.mode)
            return SunTechNIBP(self.chair, self.port, label=self.label, baud=self.baud, settings=settings)
        return NoninOximeter(self.chair, self.port, label=self.label, baud=self.baud, silence_s=self.silence_s,
                             data_format=self.data_format)


@dataclass(frozen=True, slots=True)
class AlarmForwardSettings:
    """[alarm_forward]: where alarm transitions go (IHE PCD-04 over MLLP) and how hard to try (docs/alarms.md)."""

    link: LinkSettings
    link_base: str  # the dashboard's address as a phone reaches it: {link_base}/session/{id}
    reporter: Reporter = Reporter()
    retry_initial_s: float = 1.0  # after a failed send: this, doubling, capped at retry_max_s
    retry_max_s: float = 30.0
    max_rejects: int = 3  # a message the manager answers AE/AR this many times is skipped (logged, counted)
    poll_s: float = 0.1  # how often the alarm history is looked at for new transitions


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    serial: tuple[SerialDevice, ...] = ()
    hl7: ListenerSettings | None = None
    backoff: Backoff = Backoff()
    alarm_forward: AlarmForwardSettings | None = None


def load_device_config(path: Path | str) -> DeviceConfig:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise DeviceConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DeviceConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return parse_device_config(data)
    except DeviceConfigError as exc:
        raise DeviceConfigError(f"{path}: {exc}") from None


def parse_device_config(data: Mapping[str, Any]) -> DeviceConfig:
    _known(data, {"chairs", "hl7", "reconnect", "alarm_forward"}, "")
    chairs = _table(data, "chairs", "")
    serial = tuple(device for chair, table in chairs.items() for device in _chair(chair, table))
    hl7 = _hl7(_table(data, "hl7", "")) if "hl7" in data else None
    forward = _alarm_forward(_table(data, "alarm_forward", "")) if "alarm_forward" in data else None
    return DeviceConfig(serial=serial, hl7=hl7, backoff=_backoff(_table(data, "reconnect", "")),
                        alarm_forward=forward)


# ---- sections ---------------------------------------------------------------------------


def _chair(chair: str, table: Any) -> list[SerialDevice]:
    where = f"chairs.{_quote(chair)}"
    if not isinstance(table, dict):
        raise DeviceConfigError(f"{where}: must be a table of devices (e.g. [{where}.nibp])")
    return [_serial(chair, label, device, f"{where}.{_quote(label)}") for label, device in table.items()]


def _serial(chair: str, label: str, table: Any, where: str) -> SerialDevice:
    if not isinstance(table, dict):
        raise DeviceConfigError(f"{where}: must be a table with protocol, port and baud")
    protocol = _get(table, "protocol", where, str, required=True)
    if protocol not in PROTOCOLS:
        raise DeviceConfigError(f"{where}.protocol: must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    _known(table, _COMMON | _PER_PROTOCOL[protocol], where, protocol)
    port = _get(table, "port", where, str, required=True)
    if not port.strip():
        raise DeviceConfigError(f"{where}.port: must not be empty")
    values: dict[str, Any] = {"baud": _get(table, "baud", where, int, check=_positive, default=9600)}
    if protocol == "suntech":
        values["interval_min"] = float(_get(table, "interval_min", where, float, check=_not_negative, default=5.0))
        values["mode"] = _get(table, "mode", where, str, default="adult",
                              check=lambda v: v in ("adult", "paediatric", "neonate"),
                              expect="one of adult, paediatric, neonate")
    else:
        values["silence_s"] = float(_get(table, "silence_s", where, float, check=_positive, default=3.0))
        values["data_format"] = _get(table, "format", where, int, default=8, check=lambda v: v in (7, 8),
                                     expect="7 or 8 (the Nonin data format set on the device)")
    return SerialDevice(chair=chair, label=label, protocol=protocol, port=port, **values)


def _hl7(table: Mapping[str, Any]) -> ListenerSettings:
    where = "hl7"
    _known(table, _HL7_KEYS, where)
    zone_name = _get(table, "zone", where, str, default="")
    try:
        zone = zoneinfo.ZoneInfo(zone_name) if zone_name else local_zone()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DeviceConfigError(f"hl7.zone: unknown time zone {zone_name!r} (e.g. \"Europe/Amsterdam\")") from None
    locations, location_intervals = _places(table, "locations")
    devices, device_intervals = _places(table, "devices")
    placement = Placement(locations=locations, patients=_names(table, "patients"), devices=devices,
                          silent_after_s=float(_get(table, "silent_after_s", where, float, default=SILENT_AFTER_S,
                                                    check=_positive)),
                          intervals=MappingProxyType({**location_intervals, **device_intervals}))
    return ListenerSettings(
        host=_get(table, "host", where, str, default="127.0.0.1"),
        port=_get(table, "port", where, int, default=2575, check=lambda v: 0 <= v <= 65535, expect="0-65535"),
        application=_get(table, "application", where, str, default="DASH"),
        facility=_get(table, "facility", where, str, default=""),
        zone=zone, placement=placement,
        ack_timeout_s=float(_get(table, "ack_timeout_s", where, float, default=10.0, check=_positive)),
        idle_timeout_s=float(_get(table, "idle_timeout_s", where, float, default=600.0, check=_positive)),
        frame_timeout_s=float(_get(table, "frame_timeout_s", where, float, default=30.0, check=_positive)),
        max_connections=_get(table, "max_connections", where, int, default=64, check=_positive),
        max_connections_per_peer=_get(table, "max_connections_per_peer", where, int, default=16, check=_positive),
        max_message_bytes=_get(table, "max_message_bytes", where, int, default=1 << 20,
                               check=lambda v: 4096 <= v <= 64 << 20, expect="a whole number 4096-67108864"),
        peers=_peers(table.get("peers", ["127.0.0.1", "::1"])),
        refused_keep_bytes=int(float(_get(table, "refused_keep_mb", where, float, default=50, check=_positive))
                               * 2**20),
        refused_keep_days=float(_get(table, "refused_keep_days", where, float, default=30, check=_positive)),
        device_keep_days=float(_get(table, "device_keep_days", where, float, default=30, check=_positive)),
        max_backdate_s=float(_get(table, "late_readings_max_min", where, float, default=15, check=_not_negative)) * 60,
    )


def _alarm_forward(table: Mapping[str, Any]) -> AlarmForwardSettings:
    where = "alarm_forward"
    _known(table, _FORWARD_KEYS, where)
    host = _get(table, "host", where, str, required=True, check=lambda v: bool(v.strip()), expect="a host name")
    link = LinkSettings(
        host=host, port=_get(table, "port", where, int, required=True, check=lambda v: 0 < v <= 65535,
                             expect="1-65535"),
        connect_timeout_s=float(_get(table, "connect_timeout_s", where, float, default=5.0, check=_positive)),
        ack_timeout_s=float(_get(table, "ack_timeout_s", where, float, default=10.0, check=_positive)))
    base = _get(table, "link_base", where, str, required=True,
                check=lambda v: v.startswith(("http://", "https://")) and len(v) > 8 and not any(
                    c in v for c in "?#|^~\\&"),
                expect='the dashboard\'s address as a phone reaches it, e.g. "https://monitor.clinic.example"')
    reporter = Reporter(application=_get(table, "application", where, str, default="DASH"),
                        facility=_get(table, "facility", where, str, default=""),
                        receiving_application=_get(table, "receiving_application", where, str, default="ACM"),
                        receiving_facility=_get(table, "receiving_facility", where, str, default=""))
    initial = float(_get(table, "retry_initial_s", where, float, default=1.0, check=_positive))
    return AlarmForwardSettings(
        link=link, link_base=base.rstrip("/"), reporter=reporter, retry_initial_s=initial,
        retry_max_s=float(_get(table, "retry_max_s", where, float, default=30.0, check=lambda v: v >= initial,
                               expect=f"a number >= retry_initial_s ({initial:g})")),
        max_rejects=_get(table, "max_rejects", where, int, default=3, check=_positive),
        poll_s=float(_get(table, "poll_s", where, float, default=0.1, check=lambda v: 0 < v <= 5,
                          expect="a number of seconds, 0-5")))


def _peers(value: Any) -> tuple[str, ...]:
    """hl7.peers: the addresses or networks (CIDR) allowed to connect."""
    if not isinstance(value, list) or not value:
        raise DeviceConfigError("hl7.peers: must be a non-empty list of addresses or networks, e.g. [\"10.1.2.0/24\"]")
    for peer in value:
        try:
            ipaddress.ip_network(str(peer), strict=False)
        except ValueError:
            raise DeviceConfigError(f"hl7.peers: {peer!r} is not an address or network") from None
    return tuple(str(peer) for peer in value)


def _places(table: Mapping[str, Any], key: str) -> tuple[Mapping[str, str], dict[str, float]]:
    """hl7.locations / hl7.devices: name -> chair, or name -> {chair, silent_after_s} for a source with its own
    expected interval (e.g. a monitor that reports only its NIBP cycles)."""
    chairs: dict[str, str] = {}
    intervals: dict[str, float] = {}
    for name, value in _table(table, key, "hl7.").items():
        where = f"hl7.{key}.{_quote(name)}"
        if isinstance(value, dict):
            _known(value, {"chair", "silent_after_s"}, where)
            value, interval = _get(value, "chair", where, str, required=True), _get(
                value, "silent_after_s", where, float, check=_positive)
            if interval is not None:
                intervals[name] = float(interval)
        if not isinstance(value, str) or not value.strip():
            raise DeviceConfigError(f"{where}: must be a chair name or {{ chair = ..., silent_after_s = ... }}, "
                                    f"got {value!r}")
        chairs[name] = value
    return MappingProxyType(chairs), intervals


def _names(table: Mapping[str, Any], key: str) -> Mapping[str, str]:
    names = _table(table, key, "hl7.")
    for name, chair in names.items():
        if not isinstance(chair, str) or not chair.strip():
            raise DeviceConfigError(f"hl7.{key}.{_quote(name)}: must be a chair name, got {chair!r}")
    return MappingProxyType(dict(names))


def _backoff(table: Mapping[str, Any]) -> Backoff:
    _known(table, {"initial_s", "max_s"}, "reconnect")
    initial = float(_get(table, "initial_s", "reconnect", float, default=0.5, check=_positive))
    most = float(_get(table, "max_s", "reconnect", float, default=30.0, check=lambda v: v >= initial,
                      expect=f"a number >= initial_s ({initial:g})"))
    return Backoff(initial_s=initial, max_s=most)


# ---- checks -------------------------------------------------------------------------------


def _positive(value: float) -> bool:
    return value > 0


def _not_negative(value: float) -> bool:
    return value >= 0


def _get(table: Mapping[str, Any], key: str, where: str, kind: type, *, required: bool = False, default: Any = None,
         check: Callable[[Any], bool] | None = None, expect: str = "") -> Any:
    path = f"{where}.{key}" if where else key
    if key not in table:
        if required:
            raise DeviceConfigError(f"{path}: missing")
        return default
    value = table[key]
    ok_type = isinstance(value, (int, float)) and not isinstance(value, bool) if kind is float else (
        isinstance(value, kind) and not isinstance(value, bool))
    ok = ok_type and (check is None or check(value))
    if not ok:
        wanted = expect or {str: "a string", int: "a whole number", float: "a number"}[kind]
        if check is _positive and not expect:
            wanted += " > 0"
        elif check is _not_negative and not expect:
            wanted += " >= 0"
        raise DeviceConfigError(f"{path}: must be {wanted}, got {value!r}")
    return value


def _table(table: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = table.get(key, {})
    if not isinstance(value, dict):
        raise DeviceConfigError(f"{where}{key}: must be a table")
    return value


def _known(table: Mapping[str, Any], known: set[str], where: str, protocol: str = "") -> None:
    for key in table:
        if key not in known:
            path = f"{where}.{_quote(key)}" if where else _quote(key)
            scope = f" for protocol {protocol}" if protocol else ""
            raise DeviceConfigError(f"{path}: unknown key{scope}; known: {', '.join(sorted(known))}")


def _quote(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else f'"{name}"'
