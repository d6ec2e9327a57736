"""Fault: `kill -9` of the process running ingest while a monitor streams HL7. After a restart every
acknowledged reading is stored exactly once, the session resumes in its phase with its alarms, and the
monitor reconnects by itself."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time

from dashboard.store import Store
from devices.hl7.mllp import frame
from devices.hl7.oru import compose
from devices.readings import Reading

from test_devices_cli import app, free_port  # noqa: E402

from tests.sessions import severe_bp_session
from test_hl7_listener import msa, receive_ack  # noqa: E402


class Monitor:
    """An HL7 sender that numbers its readings (HR = 30 + n) and reconnects after any failure, as monitors do."""

    def __init__(self, port: int) -> None:
        self.port, self.acked, self.sent = port, [], 0
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
            except (OSError, AssertionError):
                time.sleep(0.2)  # the listener is gone: try again, the next message number unchanged


def test_kill_9_loses_no_acknowledged_reading_and_everything_resumes(tmp_path):
    db = tmp_path / "clinic.db"
    sid = severe_bp_session(db, chair="CHAIR3", elapsed_s=900, severe_at=880, severe=(186, 112))
    hl7_port = free_port()

    def serve() -> subprocess.Popen:
        return app("serve", "--no-simulator", "--hl7-port", str(hl7_port), "--database", str(db),
                   "--port", str(free_port()))

    server = serve()
    monitor = Monitor(hl7_port)
    sender = threading.Thread(target=monitor.run, daemon=True)
    sender.start()
    try:
        deadline = time.monotonic() + 30
        while len(monitor.acked) < 10:
            assert time.monotonic() < deadline, "no ACKs before the kill"
            time.sleep(0.1)
        before = Store.open(db).session(sid)
        os.killpg(server.pid, signal.SIGKILL)  # no goodbye: mid-commit, mid-ACK, whatever it was doing
        server.wait(10)
        acked_before_kill = len(monitor.acked)
        time.sleep(1.0)
        monitor.after_restart.set()
        server = serve()
        deadline = time.monotonic() + 30
        while len(monitor.acked_after_restart) < 5:  # the monitor reconnected on its own
            assert time.monotonic() < deadline, "the monitor did not get going again"
            time.sleep(0.1)
        monitor.stop.set()
        sender.join(10)
        time.sleep(0.5)
    finally:
        server_output = ""
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)
            server.wait(15)
        server_output = server.stdout.read() if server.stdout else ""
    store = Store.open(db)
    stored = [r.hr for r in store.session_items(sid) if isinstance(r, Reading) and r.source == "monitor"]
    assert len(stored) == len(set(stored)), "a reading was stored twice"
    assert set(monitor.acked) <= set(stored), f"acknowledged but lost: {set(monitor.acked) - set(stored)}"
    assert acked_before_kill >= 10 and len(monitor.acked) > acked_before_kill
    after = store.session(sid)
    assert after.phase == before.phase == "observation" and after.ended_at is None
    codes = {(a["code"], a["condition"]) for a in after.status["alarms"]}
    assert ("bp.severe", True) in codes  # the engine came back from the stored items with its alarms
    severe_raised = [a for a in store.alarms_of(sid) if a["code"] == "bp.severe" and a["state"] == "raised"]
    assert len(severe_raised) == 1, "the restart raised an alarm again"
    assert "Traceback" not in server_output
