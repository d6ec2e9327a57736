"""Fault: `kill -9` of the process running ingest while an HL7 monitor, a SunTech NIBP module and a Nonin
oximeter stream (the two serial devices on real ptys, configured with `--devices`). After a restart every
acknowledged HL7 reading is stored exactly once, no serial reading is stored twice or out of order, the
sessions resume in their phase with their alarms, and every device gets going again by itself: the monitor
reconnects, the restarted adapters open the same pty paths and readings flow."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from dashboard.store import Store
from devices.serial import suntech
from devices.emulators.line import PtyLine
from devices.emulators.nonin import NoninEmulator
from devices.emulators.suntech import SunTechEmulator
from devices.hl7.mllp import frame
from devices.hl7.oru import compose
from devices.readings import Reading

from test_devices_cli import app, end, free_port  # noqa: E402

from tests.sessions import severe_bp_session
from test_hl7_listener import msa, receive_ack  # noqa: E402
from tests.waits import DEADLINE_S

SERIAL_CHAIR = "Chair 1"
FIRST_SYS = 190  # the NIBP module's n-th measurement is SYS 190 + n (the session's own BPs are 128 and 186)


class Monitor:
    """An HL7 sender that numbers its readings (HR = 30 + n) and reconnects after any failure, as monitors do."""

    def __init__(self, port: int, every_s: float = 0.0) -> None:
        self.port, self.every_s, self.acked, self.sent = port, every_s, [], 0
        self.stop = threading.Event()
        self.after_restart = threading.Event()
        self.acked_after_restart: list[int] = []

    def run(self) -> None:
        n = 0
        while not self.stop.is_set() and n < 250:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
                    while not self.stop.is_set() and n < 250:
                        message = compose([Reading("monitor", hr=30 + n, spo2=97, device_time=time.time())], f"K{n:05d}")
                        self.sent += 1
                        conn.sendall(frame(message))
                        if msa(receive_ack(conn))[1] == "AA":
                            self.acked.append(30 + n)
                            if self.after_restart.is_set():
                                self.acked_after_restart.append(30 + n)
                        n += 1
                        self.stop.wait(self.every_s)
            except (OSError, AssertionError):
                time.sleep(0.2)  # the listener is gone: try again, the next message number unchanged


class Oximeter:
    """A Nonin oximeter on a pty streaming numbered readings, 5 a second, whether or not anyone reads them."""

    LAST = 9 * 60 - 1  # HR 50..109 and SpO2 100..92: numbers that raise no HR or SpO2 alarm

    def __init__(self, line: PtyLine) -> None:
        self.emulator = NoninEmulator(line)
        self.sent = 0
        self.stop = threading.Event()

    @staticmethod
    def number(reading: Reading) -> int:
        """The n of a stored reading: HR counts 50..109 over and over, SpO2 counts down from 100 each time."""
        return int((100 - (reading.spo2 or 0)) * 60 + (reading.hr or 0) - 50)

    def run(self) -> None:
        while not self.stop.wait(0.2) and self.sent <= self.LAST:
            n = self.sent
            self.emulator.send(50 + n % 60, 100 - n // 60)
            self.sent += 1
        self.emulator.send()  # a "no value" frame after the last: confirms its boundary to a reader resynchronising


def numbered_nibp(line: PtyLine) -> SunTechEmulator:
    """A SunTech module whose measurements are severe BPs numbered by their SYS (the chair's alarm holds)."""
    module = SunTechEmulator(line, measure_s=1.0)
    module.replay.extend(suntech.bp_data_frame(FIRST_SYS + n, 112, 138, 90) for n in range(200))
    return module


def devices_toml(path: Path, hl7_port: int, nibp: PtyLine, oximeter: PtyLine) -> Path:
    path.write_text(f"""
[reconnect]
initial_s = 0.2
max_s = 1

[hl7]
host = "127.0.0.1"
port = {hl7_port}

[chairs."{SERIAL_CHAIR}".nibp]
protocol = "suntech"
port = "{nibp.url}"
interval_min = 0.05  # a cuff cycle every 3 s, so each process gets its own

[chairs."{SERIAL_CHAIR}".oximeter]
protocol = "nonin"
port = "{oximeter.url}"
""")
    return path


def test_kill_9_while_hl7_and_serial_devices_stream_loses_nothing_and_all_reconnect(tmp_path, wait_for):
    db = tmp_path / "clinic.db"
    hl7_sid = severe_bp_session(db, chair="CHAIR3", elapsed_s=900, severe_at=880, severe=(186, 112))
    serial_sid = severe_bp_session(db, chair=SERIAL_CHAIR, elapsed_s=900, severe_at=880, severe=(186, 112))
    sids = (hl7_sid, serial_sid)
    nibp_line, oximeter_line = PtyLine(tmp_path / "nibp"), PtyLine(tmp_path / "oximeter")
    hl7_port = free_port()
    config = devices_toml(tmp_path / "devices.toml", hl7_port, nibp_line, oximeter_line)
    store = Store.open(db)

    def serve() -> subprocess.Popen:
        return app("serve", "--no-simulator", "--devices", str(config), "--database", str(db),
                   "--port", str(free_port()))

    def serial_readings(since: float = 0.0) -> tuple[list[Reading], list[Reading]]:
        """The numbered oximeter and NIBP readings stored, received at or after `since` (wall clock)."""
        readings = [r for r in store.session_items(serial_sid) if isinstance(r, Reading)
                    and (r.received_time or 0.0) >= since]
        return ([r for r in readings if r.source == "oximeter" and r.hr is not None],
                [r for r in readings if r.source == "nibp" and (r.sbp or 0) >= FIRST_SYS])

    def flowing(since: float, oximetry: int, acked: list[int]) -> bool:
        """The monitor got its ACKs, and both serial devices' readings since `since` are stored."""
        assert server.poll() is None, "the server died"  # say so now, not when the wait runs out
        stored_oximetry, stored_bps = serial_readings(since)
        return len(acked) >= 10 and len(stored_oximetry) >= oximetry and len(stored_bps) >= 1

    stop_module = threading.Event()
    module = numbered_nibp(nibp_line)
    module.start(stop_module)
    oximeter = Oximeter(oximeter_line)
    monitor = Monitor(hl7_port, every_s=0.2)  # paced, so its 250 numbered messages outlast the test
    streams = [threading.Thread(target=oximeter.run, daemon=True), threading.Thread(target=monitor.run, daemon=True)]
    for stream in streams:
        stream.start()
    server = serve()
    outputs: list[str] = []
    try:
        # everything flows, and the cuff is inflating: the restarted process must cope with a module mid-cycle
        wait_for(lambda: flowing(0.0, 10, monitor.acked) and module.started_at is not None)
        before = {sid: store.session(sid) for sid in sids}
        os.killpg(server.pid, signal.SIGKILL)  # no goodbye: mid-cuff-cycle, mid-commit, mid-ACK
        outputs.append(server.communicate(timeout=DEADLINE_S)[0])
        acked_before_kill = len(monitor.acked)
        restarted_at = time.time()
        monitor.after_restart.set()
        server = serve()  # the emulators never stopped: the ptys and the monitor are where they were
        wait_for(lambda: flowing(restarted_at, 10, monitor.acked_after_restart))
        monitor.stop.set()
        oximeter.stop.set()
        for stream in streams:
            stream.join(DEADLINE_S)
        last_sent = oximeter.sent - 1
        wait_for(lambda: any(Oximeter.number(r) == last_sent for r in serial_readings(restarted_at)[0]))
    finally:
        monitor.stop.set()
        oximeter.stop.set()
        stop_module.set()
        outputs.append(end(server))
        print("\n".join(outputs))  # shown when the test fails
        nibp_line.close()
        oximeter_line.close()

    # HL7: every acknowledged reading exactly once, and the monitor got going again
    stored = [r.hr for r in store.session_items(hl7_sid) if isinstance(r, Reading) and r.source.startswith("monitor")]
    assert len(stored) == len(set(stored)), "a reading was stored twice"
    assert set(monitor.acked) <= set(stored), f"acknowledged but lost: {set(monitor.acked) - set(stored)}"
    assert acked_before_kill >= 10 and len(monitor.acked) > acked_before_kill

    # oximeter: once each and in order; after the restarted adapter's first reading, every one sent is there
    oximetry, _ = serial_readings()
    numbers = [Oximeter.number(r) for r in oximetry]
    assert numbers == sorted(set(numbers)), "an oximeter reading was stored twice or out of order"
    resumed = [Oximeter.number(r) for r in serial_readings(restarted_at)[0]]
    assert resumed == list(range(resumed[0], last_sent + 1)), "readings lost after the oximeter reconnected"
    assert len(numbers) > len(resumed)  # the first process stored some too

    # NIBP: the restarted adapter opened the module again and ran its own cycles; no measurement twice
    _, bps = serial_readings()
    measurements = [int(r.sbp or 0) - FIRST_SYS for r in bps]
    assert measurements == sorted(set(measurements)), "a BP was stored twice or out of order"
    assert len(bps) > len(serial_readings(restarted_at)[1]) >= 1

    for sid in sids:  # each session came back in its phase, with its alarms, none written twice
        after = store.session(sid)
        assert after.phase == before[sid].phase == "observation" and after.ended_at is None
        assert ("bp.severe", True) in {(a["code"], a["condition"]) for a in after.status["alarms"]}
        transitions = [(a["offset_s"], a["code"], a["source"], a["priority"], a["state"]) for a in store.alarms_of(sid)]
        assert len(transitions) == len(set(transitions)), "the restart wrote an alarm transition twice"
        severe_raised = [t for t in transitions if t[1] == "bp.severe" and t[4] == "raised"]
        assert len(severe_raised) == 1, "the restart raised an alarm again"
    store.close()
    assert all("Traceback" not in output for output in outputs)
