"""`--via-devices`: the simulated clinic's readings go emulator -> pty/socket -> real adapter -> ingest.

Each chair gets devices once, for the life of the process: "serial" chairs a SunTech
NIBP emulator and a Nonin emulator on pseudo-terminals, read by the real SunTech and
Nonin adapters under their supervisors; "hl7" chairs an emulated monitor pushing
ORU^R01 over MLLP to a real HL7 listener on 127.0.0.1. Each session is then played by
a `SimulatedChair` whose output is routed: device readings that come due while running
go to the chair's emulators (an NIBP reading is presented to the module and the real
adapter is asked to measure now, so the simulator stays the clinic's cycle timer);
nurse events (dose_start, assessments...) and the backlog of a session that began
before the process still go straight to ingest.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

from ..adapter import Adapter, Sink, Ticket
from ..hl7.listener import HL7Listener, ListenerSettings, Placement
from ..hl7.oru import Sender
from ..readings import Item, Reading, SessionEvent
from ..registry import NibpRegistry
from ..serial.nibp import NibpSettings, SunTechNIBP
from ..serial.oximeter import NoninOximeter
from ..simulator import SimulatedChair, Timings
from ..supervisor import Backoff, Supervisor
from .hl7_sender import HL7Feed, HL7Sender
from .line import PtyLine
from .nonin import NoninEmulator
from .suntech import SunTechEmulator

log = logging.getLogger(__name__)

FAST_BACKOFF = Backoff(initial_s=0.2, max_s=2.0)  # emulators on this machine: come back quickly


@dataclass
class ChairDevices:
    """One chair's emulators, and how to hand them an item."""

    chair: str
    kind: str  # "serial" | "hl7"
    nibp: SunTechNIBP | None = None
    suntech: SunTechEmulator | None = None
    nonin: NoninEmulator | None = None
    monitor: HL7Feed | None = None
    lines: list[PtyLine] = field(default_factory=list)

    def take(self, item: Item) -> bool:
        """Hand a due device item to its emulator; False when it must go straight to ingest."""
        if self.kind == "hl7":
            if isinstance(item, Reading) and self.monitor is not None:
                self.monitor.push(replace(item, device_time=time.time()))
                return True
            return False
        if isinstance(item, Reading) and item.has_bp or isinstance(item, SessionEvent) and item.kind == "nibp_failed":
            if self.suntech is None or self.nibp is None:
                return False
            self.suntech.present(item)
            self.nibp.measure_now()
            return True
        if isinstance(item, Reading) and self.nonin is not None:
            self.nonin.present(item)
            return True
        return False


class DeviceRig:
    def __init__(self, sink: Sink, speed: float, registry: NibpRegistry, hl7_chairs: Sequence[str] = ()) -> None:
        self.sink, self.speed, self.registry = sink, speed, registry
        self.hl7_chairs = set(hl7_chairs)
        self.chairs: dict[str, ChairDevices] = {}
        self.listener: HL7Listener | None = None
        self.supervisors: list[Supervisor] = []

    @staticmethod
    def location(chair: str) -> str:
        """The PV1-3 an emulated monitor at `chair` sends: "Chair 3" -> "CHAIR3"."""
        return chair.upper().replace(" ", "")

    def start(self, chairs: Sequence[str], stop: threading.Event) -> None:
        hl7 = [c for c in chairs if c in self.hl7_chairs]
        if hl7:
            self._start_listener(hl7, stop)
        for chair in chairs:
            self.chairs[chair] = self._hl7_chair(chair, stop) if chair in hl7 else self._serial_chair(chair, stop)
        deadline = time.monotonic() + 3.0  # let the adapters open their ports before the first frame is due
        while time.monotonic() < deadline and any(s.stats.connects == 0 for s in self.supervisors):
            stop.wait(0.05)

    def describe(self) -> list[str]:
        lines = []
        for devices in self.chairs.values():
            if devices.kind == "hl7" and self.listener is not None and self.listener.address:
                host, port = self.listener.address
                lines.append(f"{devices.chair}: HL7 monitor {self.location(devices.chair)} -> MLLP {host}:{port}")
            elif devices.lines:
                lines.append(f"{devices.chair}: SunTech NIBP on {devices.lines[0].url}, "
                             f"Nonin oximeter on {devices.lines[1].url}")
        return lines

    def _serial_chair(self, chair: str, stop: threading.Event) -> ChairDevices:
        cuff_line, oximeter_line = PtyLine(), PtyLine()
        suntech = SunTechEmulator(cuff_line, measure_s=min(2.0, 10.0 / self.speed))  # <= 10 s of session time
        suntech.start(stop)
        nibp = SunTechNIBP(chair, cuff_line.url, settings=NibpSettings(interval_s=None))  # the simulator times cycles
        oximeter = NoninOximeter(chair, oximeter_line.url)
        for adapter in (nibp, oximeter):
            supervisor = Supervisor(adapter, self.sink, backoff=FAST_BACKOFF)
            self.supervisors.append(supervisor)
            supervisor.start(stop)
        self.registry.register(chair, nibp)
        nonin = NoninEmulator(oximeter_line)
        nonin.keep_alive(stop)
        return ChairDevices(chair, "serial", nibp=nibp, suntech=suntech, nonin=nonin, lines=[cuff_line, oximeter_line])

    def _start_listener(self, chairs: Sequence[str], stop: threading.Event) -> None:
        placement = Placement(locations={self.location(c): c for c in chairs})
        self.listener = HL7Listener(ListenerSettings(host="127.0.0.1", port=0, placement=placement))
        supervisor = Supervisor(self.listener, self.sink, backoff=FAST_BACKOFF)
        self.supervisors.append(supervisor)
        supervisor.start(stop)
        if not self.listener.ready.wait(5):
            raise RuntimeError("the HL7 listener did not start")

    def _hl7_chair(self, chair: str, stop: threading.Event) -> ChairDevices:
        assert self.listener is not None and self.listener.address is not None
        host, port = self.listener.address
        sender = HL7Sender(host, port, Sender(location=self.location(chair), mrn=f"SIM-{self.location(chair)}"))
        monitor = HL7Feed(sender)
        monitor.start(stop)
        return ChairDevices(chair, "hl7", monitor=monitor)

    # ---- sessions --------------------------------------------------------------------

    def chair_for(self, chair: str, scenario: str, seed: int, started_at: float, speed: float, skip: int = 0, *,
                  config: Timings) -> Adapter:
        """The adapter playing one session at `chair` through its devices, from its item `skip` on."""
        simulated = SimulatedChair(chair, scenario, seed, started_at=started_at, speed=speed, skip=skip, config=config)
        return _RoutedChair(simulated, self.chairs.get(chair))

    def close(self) -> None:
        for devices in self.chairs.values():
            for line in devices.lines:
                line.close()


class _RoutedChair:
    """A SimulatedChair whose live device items go through the chair's emulators."""

    def __init__(self, simulated: SimulatedChair, devices: ChairDevices | None) -> None:
        self.simulated, self.devices = simulated, devices
        self.name = f"devices:{simulated.chair}"

    def run(self, sink: Sink, stop: threading.Event) -> None:
        self.simulated.run(_Router(sink, self.simulated, self.devices, time.time()), stop)


class _Router:
    """The Sink the simulated chair submits to: live device items to emulators, the rest to ingest."""

    def __init__(self, sink: Sink, simulated: SimulatedChair, devices: ChairDevices | None, live_from: float) -> None:
        self.sink, self.simulated, self.devices, self.live_from = sink, simulated, devices, live_from

    def submit(self, chair: str, items: Sequence[Item], message: str | None = None) -> Ticket:
        direct: list[Item] = []
        for item in items:
            live = self.simulated.due_at(item) >= self.live_from  # the backlog goes straight in
            if not (live and self.devices is not None and self.devices.take(item)):
                direct.append(item)
        if direct:
            return self.sink.submit(chair, direct, message)
        ticket = Ticket()
        ticket.resolve()
        return ticket

    def submit_device(self, device: str, items: Sequence[Item], message: str | None = None) -> Ticket:
        return self.sink.submit_device(device, items, message)

    def refuse(self, source: str, raw: bytes, reason: str) -> None:
        self.sink.refuse(source, raw, reason)

    def tally(self, sender: str, peer: str, counts: Mapping[str, int]) -> None:
        self.sink.tally(sender, peer, counts)
