"""Start the device side of the main job: configured devices, the HL7 listener, the demo rig.

Called from `dashboard.cli.runner.run_clinic` (never on import). Each adapter runs under
its own supervisor thread; the NIBP registry lets ingest's `measure_now` action reach
a chair's cuff.
"""
from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .adapter import Sink
from .config import DeviceConfig, load_device_config
from .emulators.rig import DeviceRig
from .hl7.listener import HL7Listener, ListenerSettings
from .registry import NibpRegistry
from .supervisor import Supervisor


@dataclass(frozen=True, slots=True)
class DeviceOptions:
    devices: Path | None = None  # --devices FILE
    hl7_port: int | None = None  # --hl7-port (overrides the file's [hl7] port)
    hl7_host: str | None = None  # --hl7-host
    via_devices: bool = False  # --via-devices (the simulated clinic through emulators)

    @classmethod
    def from_args(cls, args: Any) -> DeviceOptions:
        return cls(getattr(args, "devices", None), getattr(args, "hl7_port", None), getattr(args, "hl7_host", None),
                   bool(getattr(args, "via_devices", False)))

    def config(self) -> DeviceConfig:
        """The device configuration these options give; DeviceConfigError names a bad key."""
        config = load_device_config(self.devices) if self.devices else DeviceConfig()
        if self.hl7_port is None and self.hl7_host is None:
            return config
        hl7 = config.hl7 or ListenerSettings()
        hl7 = dataclasses.replace(hl7, port=hl7.port if self.hl7_port is None else self.hl7_port,
                                  host=hl7.host if self.hl7_host is None else self.hl7_host)
        return dataclasses.replace(config, hl7=hl7)


@dataclass
class Devices:
    registry: NibpRegistry = field(default_factory=NibpRegistry)
    supervisors: list[Supervisor] = field(default_factory=list)
    listener: HL7Listener | None = None
    rig: DeviceRig | None = None

    def describe(self) -> list[str]:
        lines = [f"{s.adapter.chair}: {s.adapter.label} on {s.adapter.url}"  # type: ignore[union-attr]
                 for s in self.supervisors if hasattr(s.adapter, "url")]
        if self.listener is not None:
            self.listener.ready.wait(2)
            if self.listener.address:
                lines.append("HL7 listener (MLLP) on {}:{}".format(*self.listener.address))
                lines.append("HL7 traffic per sender on /admin/devices; devices sending with no chair on /devices")
        if self.rig is not None:
            lines += [f"emulated {line}" for line in self.rig.describe()]
        return lines


def start_devices(options: DeviceOptions, sink: Sink, stop: threading.Event, demo_chairs: Sequence[str] = (),
                  demo_hl7_chairs: Sequence[str] = (), speed: float = 1.0, demo_sink: Sink | None = None) -> Devices:
    """Start every configured adapter, and with `via_devices` the demo rig for `demo_chairs`, submitting to
    `demo_sink` (default `sink`): the dashboard's marks what its emulated devices send as simulated."""
    config = options.config()
    devices = Devices()
    for device in config.serial:
        adapter = device.adapter()
        if device.protocol == "suntech":
            devices.registry.register(device.chair, adapter)  # type: ignore[arg-type]
        devices.supervisors.append(Supervisor(adapter, sink, backoff=config.backoff))
    if config.hl7 is not None:
        devices.listener = HL7Listener(config.hl7)
        devices.supervisors.append(Supervisor(devices.listener, sink, backoff=config.backoff))
    for supervisor in devices.supervisors:
        supervisor.start(stop)
    if options.via_devices:
        devices.rig = DeviceRig(demo_sink or sink, speed, devices.registry, hl7_chairs=demo_hl7_chairs)
        devices.rig.start(demo_chairs, stop)
    return devices
