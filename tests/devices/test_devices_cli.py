"""The device subcommands of app.py, run as a person would: subprocesses, real ptys and sockets."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.store import Store
from devices.recording.capture import read_capture
from devices.config import parse_device_config
from devices.emulators.line import PtyLine
from devices.emulators.nonin import NoninEmulator
from devices.emulators.play import play_nonin
from devices.feed import read_feed
from devices.hl7 import frame
from devices.serial.nibp import NibpSettings, SunTechNIBP
from devices.serial.oximeter import NoninOximeter
from devices.readings import Reading, SessionEvent
from devices.recording.recorder import record
from devices.simulator import session_items
from devices.supervisor import Supervisor
from tests.waits import DEADLINE_S

from test_hl7_listener import msa, receive_ack  # noqa: E402
from test_hl7_parse import EXAMPLE  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RUNS_S = str(int(2 * DEADLINE_S))  # an emulator's --duration: it outlives the test, which ends it


def app(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "app.py"), *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True, **kwargs)


def end(process: subprocess.Popen) -> str:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(DEADLINE_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    return process.communicate()[0] or ""  # reads the rest and closes the pipe


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("data_format", [8, 7])
def test_emulate_nonin_prints_its_pty_path_and_streams_frames(sink, stop, wait_for, data_format):
    process = app("emulate", "nonin", "--speed", "50", "--duration", RUNS_S, "--format", str(data_format))
    try:
        first = process.stdout.readline()
        assert first.startswith("Nonin oximeter emulator on /dev/pts/"), first
        path = first.rsplit(" ", 1)[1].strip()
        Supervisor(NoninOximeter("Chair 1", path, data_format=data_format), sink).start(stop)
        wait_for(lambda: len(sink.of(Reading)) >= 5)
        assert all(r.source == "oximeter" and 80 <= (r.spo2 or 0) <= 100 for r in sink.of(Reading))
    finally:
        end(process)


def test_emulate_suntech_answers_the_real_adapter(sink, stop, wait_for):
    process = app("emulate", "suntech", "--measure-s", "0.3", "--duration", RUNS_S)
    try:
        first = process.stdout.readline()
        assert first.startswith("SunTech NIBP emulator on /dev/pts/"), first
        adapter = SunTechNIBP("Chair 1", first.rsplit(" ", 1)[1].strip(), settings=NibpSettings(interval_s=None))
        supervisor = Supervisor(adapter, sink)
        supervisor.start(stop)
        assert supervisor.connected.wait(DEADLINE_S)
        adapter.measure_now()
        wait_for(lambda: sink.of(Reading))
        [reading] = sink.of(Reading)
        first_bp = next(i for i in session_items("esketamine-84-quiet", 7, load_config())
                        if isinstance(i, Reading) and i.has_bp)
        assert (reading.sbp, reading.dbp) == (first_bp.sbp, first_bp.dbp)
    finally:
        end(process)


def test_serve_no_simulator_hl7_port_accepts_a_message_and_stores_it(tmp_path, wait_for):
    database = tmp_path / "clinic.db"
    store = Store.open(database)
    sid = store.create_session(chair="CHAIR3", patient_label="P-3", protocol="esketamine-84", started_at=time.time())
    hl7_port = free_port()
    process = app("serve", "--no-simulator", "--hl7-port", str(hl7_port), "--database", str(database),
                  "--port", str(free_port()))
    try:
        def connected() -> socket.socket | None:
            assert process.poll() is None, "serve exited"
            try:
                return socket.create_connection(("127.0.0.1", hl7_port), timeout=DEADLINE_S)
            except OSError:
                return None

        with wait_for(connected, "serve to listen for HL7", every=0.2) as conn:
            conn.sendall(frame(EXAMPLE))
            ack = receive_ack(conn)
        assert msa(ack)[1:3] == ["AA", "MSG000123"]
        readings = [i for i in store.session_items(sid) if isinstance(i, Reading)]
        assert [(r.sbp, r.dbp, r.map, r.hr, r.spo2) for r in readings] == [(128, 82, 97, 72, None),
                                                                           (None, None, None, None, 97)]
        feed = ROOT / "sample_data" / "feeds" / "oximeter-hold.csv"
        sender = app("emulate", "hl7", "--to", f"127.0.0.1:{hl7_port}", "--feed", str(feed), "--speed", "500",
                     "--style", "philips", "--duration", "25")
        out = sender.communicate(timeout=DEADLINE_S)[0]
        assert sender.returncode == 0, out
        assert "ACKs: AA x" in out and "AE" not in out, out
        sent = [i for i in read_feed(feed).items if isinstance(i, Reading)]
        stored = [i for i in store.session_items(sid) if isinstance(i, Reading)]  # (a slow start adds
        assert len(stored) == 2 + len(sent)  # a disconnect/reconnect pair for the test's own closed connection)
    finally:
        output = end(process)
        store.close()
    assert "HL7 listener (MLLP) on 127.0.0.1" in output


def test_export_feed_round_trips_a_stored_session(tmp_path):
    database = tmp_path / "clinic.db"
    store = Store.open(database)
    sid = store.create_session(chair="Chair 1", patient_label="P-1", protocol="esketamine-84", started_at=1e9)
    items = [i for i in session_items("esketamine-84-artifacts", 3, load_config()) if (i.offset_s or 0) < 2400]
    ingest = Ingest(store, load_config(), clock=lambda: 1e9 + 2400)
    ingest.refresh()
    ingest.submit("Chair 1", items)
    ingest.step()
    out = tmp_path / "exported.csv"
    result = subprocess.run([sys.executable, str(ROOT / "app.py"), "export", str(sid), "--format", "feed",
                             "--database", str(database), "--out", str(out)], cwd=ROOT, capture_output=True,
                            text=True, timeout=DEADLINE_S)
    assert result.returncode == 0, result.stderr
    feed = read_feed(out)
    assert feed.problems == [] and feed.protocol == "esketamine-84"

    def key(item):
        if isinstance(item, Reading):
            return (item.offset_s, item.source, item.sbp, item.dbp, item.map, item.hr, item.spo2)
        return (item.offset_s, item.source, item.kind, item.detail)

    assert [key(i) for i in feed.items] == [key(i) for i in items]
    missing = subprocess.run([sys.executable, str(ROOT / "app.py"), "export", "999", "--database", str(database)],
                             cwd=ROOT, capture_output=True, text=True, timeout=DEADLINE_S)
    assert missing.returncode == 2 and "no session 999" in missing.stderr
    store.close()


def test_record_writes_a_feed_and_a_raw_capture_that_replays_at_its_pace(tmp_path, sink, stop, wait_for):
    line = PtyLine(tmp_path / "oximeter")
    out = tmp_path / "feed.csv"
    try:
        config = parse_device_config({"chairs": {"Chair 2": {"oximeter": {"protocol": "nonin", "port": line.url}}}})
        emulator = NoninEmulator(line)
        done = threading.Event()
        recording = threading.Thread(target=record, args=(config, out, "oximeter"),
                                     kwargs={"chair": "Chair 2", "raw": tmp_path / "raw.txt", "stop": done})
        recording.start()
        # An oximeter streams all the time: frames sent before the recorder opened the port are lost, as on a line.
        wait_for(lambda: emulator.send(WARM_HR, 97) or _rows(out), "the recorder to hear the oximeter", every=0.05)
        for hr in range(60, 80):
            emulator.send(hr, 97)
            time.sleep(0.05)  # the pace the capture keeps
        emulator.send(511, 127, 0, 0x08)  # probe off
        emulator.send()
        wait_for(lambda: "sensor_off" in out.read_text(), "the probe-off row")
        done.set()
        recording.join(DEADLINE_S)
        feed = read_feed(out)
        assert feed.problems == []
        hrs = [i.hr for i in feed.items if isinstance(i, Reading)]
        assert _after_warm_up(hrs) == list(range(60, 80))
        assert [(i.kind, i.detail) for i in feed.items if isinstance(i, SessionEvent)][:1] == [
            ("sensor_off", "sensor alarm")]
        protocol, chunks = read_capture(tmp_path / "raw.txt")
        assert protocol == "nonin" and chunks and all(c.direction == "<" for c in chunks)
        span = chunks[-1].offset_s - chunks[0].offset_s
        assert span > 0.8  # 20 frames 50 ms apart
    finally:
        line.close()
    # replay the capture through the emulator to the real adapter, at the recorded pace
    replay_line = PtyLine()
    try:
        supervisor = Supervisor(NoninOximeter("Chair 2", replay_line.url), sink)
        supervisor.start(stop)
        wait_for(lambda: supervisor.stats.connects, "the adapter to open the port")
        began = time.monotonic()
        play_nonin(replay_line, [], stop, capture=chunks)
        took = time.monotonic() - began
        NoninEmulator(replay_line).send()
        wait_for(lambda: _after_warm_up([r.hr for r in sink.of(Reading)]) == list(range(60, 80)), "the replay")
        assert took >= span * 0.9  # at the recorded pace, not all at once
    finally:
        replay_line.close()


WARM_HR = 59  # the frames the oximeter sends before the recording's 60..79


def _rows(feed: Path) -> int:
    """Rows the recorder has written (the file is there, empty, before its header)."""
    return max(0, len(feed.read_text().splitlines()) - 1) if feed.exists() else 0


def _after_warm_up(hrs: list) -> list:
    """The HRs after the warm-up frames (some of which the line lost), which must be WARM_HR only."""
    start = next((n for n, hr in enumerate(hrs) if hr != WARM_HR), len(hrs))
    return hrs[start:]


@pytest.mark.parametrize("args, message", [
    (["emulate", "nonin", "--feed", "/nonexistent.csv"], "emulate: cannot read feed"),
    (["record", "--devices", "/nonexistent.toml", "--device", "nibp", "--out", "/tmp/x.csv"], "record: "),
])
def test_bad_input_to_device_commands_exits_2_with_a_message(args, message):
    result = subprocess.run([sys.executable, str(ROOT / "app.py"), *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=DEADLINE_S)
    assert result.returncode == 2 and message in result.stderr
