"""Issue 22: a device reading -> its alarm at the alarm manager (IHE PCD-04 forwarding), p95 <= 1.5 s.

The real path end to end:

1. A store holds N real sessions (no scenario, on the wall clock: what forwarding sends), each with a baseline
   BP and the dose given, written through the real `Ingest` before the server starts.
2. The real server starts as a subprocess with a devices file: `python app.py serve --no-simulator --database DB
   --port P --devices FILE`, the file holding `[hl7]` (the listener) and `[alarm_forward]` (the forwarder) aimed
   at an alarm manager in this process, built on python-hl7's MLLP server (devices/emulators/alarm_manager.py).
3. One emulated monitor per chair (its own MLLP connection) sends the oximeter at 1 Hz (the load) and every
   `--every` seconds, at its own phase, a BP that alternates between severe (a systolic that names the send,
   181-270) and normal. Each severe BP raises bp.severe again (after a normal one, the high alarm stays
   latched, so each raise is an update of the same alarm), and the forwarder sends it.

Latency = when the R40 naming that BP arrived at the manager - when the monitor sent the ORU^R01 that carried it.
Also reported: send -> ACK (ingest committed it, and the alarm with it) and ACK -> manager (the forwarder's poll,
the message and the socket).

    python bench/alarm_forward.py [--seconds 60] [--chairs 8] [--every 3]
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import re
import threading
import time
from typing import Any

import benchlib as bl

POLL_S = 0.1  # [alarm_forward] poll_s: the default


@dataclasses.dataclass
class Sent:
    chair: str
    sbp: int
    sent: float
    acked: float
    ack: str


def open_sessions(db: Any, chairs: list[str]) -> None:
    """Real sessions 10 minutes in: baseline 128/82 at 1 min, the dose at 5 min."""
    from dashboard.engine import load_config
    from dashboard.service.ingest import Ingest
    from dashboard.store import Store
    from devices.readings import Reading, SessionEvent

    store = Store.open(db)
    started = time.time() - 600
    ingest = Ingest(store, load_config())
    for n, chair in enumerate(chairs):
        store.create_session(chair=chair, patient_label=f"P-{n:02d}", protocol="esketamine-84", started_at=started)
    ingest.refresh()
    for chair in chairs:
        ingest.submit(chair, [SessionEvent("session_start", "esketamine-84", offset_s=0),
                              Reading("nibp", sbp=128, dbp=82, hr=70, offset_s=60),
                              SessionEvent("dose_start", "84 mg", offset_s=300)])
    ingest.flush()
    store.close()


def run_monitor(chair: str, port: int, every: float, stop: threading.Event, log: list[Sent],
                errors: list[str]) -> None:
    from devices.emulators.hl7_sender import HL7Sender
    from devices.hl7.oru import Sender
    from devices.readings import Reading

    sender = HL7Sender("127.0.0.1", port, Sender(location=chair, mrn=f"MRN-{chair[-2:]}"))
    rng = random.Random(chair)
    next_bp, k, start = time.time() + rng.random() * every, 0, time.time()
    try:
        while not stop.is_set():
            now = time.time()
            if now >= next_bp:
                severe = k % 2 == 0
                sbp = 181 + (k // 2) % 90 if severe else 124
                reading = Reading("monitor nibp", sbp=sbp, dbp=112 if severe else 80, hr=80, device_time=now)
                sent = time.time()
                ack = sender.send([reading])
                if severe:
                    log.append(Sent(chair, sbp, sent, time.time(), ack))
                k += 1
                next_bp += every
            else:
                sender.send([Reading("monitor spo2", hr=80, spo2=97, device_time=now)])
            stop.wait(max(0.0, min(next_bp, start + 1 + int(time.time() - start)) - time.time()))
    except Exception as exc:  # noqa: BLE001 - reported with the results
        errors.append(f"{chair}: {exc.__class__.__name__}: {exc}")
    finally:
        sender.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chairs", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--every", type=float, default=3.0, help="seconds between a chair's BPs")
    args = parser.parse_args()
    info = bl.machine()
    bl.print_machine(info)
    result = bl.Result("alarm_forward", bl.command_line(), info)

    from devices.emulators.alarm_manager import AlarmManager

    tmp = bl.scratch_dir("bench-forward-")
    db = tmp / "clinic.db"
    chairs = [f"Chair {n + 1:02d}" for n in range(args.chairs)]
    open_sessions(db, chairs)
    manager = AlarmManager().start()
    port, hl7_port = bl.free_port(), bl.free_port()
    devices = tmp / "devices.toml"
    devices.write_text(f'[hl7]\nport = {hl7_port}\n\n[alarm_forward]\nhost = "127.0.0.1"\nport = {manager.port}\n'
                       f'link_base = "http://127.0.0.1:{port}"\npoll_s = {POLL_S}\n')
    server = bl.serve(db, tmp / "server.log", port=port, hl7_port=hl7_port, args=["--devices", str(devices)])
    stop = threading.Event()
    log: list[Sent] = []
    errors: list[str] = []
    try:
        print(f"server up in {server.up_after_s:.1f} s; {args.chairs} monitors for {args.seconds:.0f} s")
        monitors = [threading.Thread(target=run_monitor, args=(chair, hl7_port, args.every, stop, log, errors),
                                     daemon=True) for chair in chairs]
        for thread in monitors:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        for thread in monitors:
            thread.join(30)
        time.sleep(3)  # the last alarms on their way
    finally:
        stop.set()
        bl.stop_process(server.process)
        manager.stop()

    raised = re.compile(r"PV1\|1\|O\|([^\r|^]+).*?bp\.severe: BP (\d+)/", re.S)
    arrived: dict[tuple[str, int], float] = {}
    for message in manager.messages():
        match = raised.search(message.text)
        if match:
            arrived.setdefault((match.group(1), int(match.group(2))), message.at)
    total, commit, forward, missing = [], [], [], 0
    for s in log:
        at = arrived.get((s.chair, s.sbp))
        if at is None or s.ack != "AA":
            missing += 1
            continue
        total.append(at - s.sent)
        commit.append(s.acked - s.sent)
        forward.append(at - s.acked)
    f = result.figures
    f["chairs"], f["seconds"], f["every_s"], f["poll_s"] = args.chairs, args.seconds, args.every, POLL_S
    f["severe_bps_sent"], f["r40_received"], f["unmatched"] = len(log), len(manager.messages()), missing
    f["monitor_errors"] = errors
    f["send_to_manager"] = bl.stats_ms(total)
    f["send_to_commit_ack"] = bl.stats_ms(commit)
    f["commit_ack_to_manager"] = bl.stats_ms(forward)
    print(f"\n{len(log)} severe BPs sent, {len(manager.messages())} ORU^R40 received, {missing} without their "
          f"alarm; monitor errors {len(errors)}")
    print(f"{'latency':36} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, key in (("reading -> manager (the target)", "send_to_manager"),
                       ("reading -> ACK (ingest committed)", "send_to_commit_ack"),
                       ("ACK -> manager (forwarder)", "commit_ack_to_manager")):
        s = f[key]
        print(f"{label:36} {s['p50_ms']:8.0f} {s['p95_ms']:8.0f} {s['max_ms']:8.0f}")
    if errors:
        print("monitor errors:", *errors[:5], sep="\n  ")
    result.target("reading -> alarm at the manager, p95", f["send_to_manager"]["p95_ms"] / 1000, 1.5, "s")
    result.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
