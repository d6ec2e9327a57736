"""A monitor is answered within 2 s while another device attacks the HL7 listener with slow and half-open
connections (issue 16).

    python bench/hl7_slow_senders.py [--attackers 64] [--messages 30]

A real listener on 127.0.0.1 with the default settings (16 connections per peer, 64 in all, a 30 s frame
deadline) feeds a real Ingest on a scratch SQLite store. One misbehaving device (127.0.0.2) opens `--attackers`
connections: half of them never send a byte (half-open), half begin a frame and then send one byte a second.
Meanwhile a monitor (127.0.0.3) sends `--messages` ORU^R01, each on a new connection as many gateways do, and the
time from connect to its AA is measured, with the same figure taken first without the attack.
"""
from __future__ import annotations

import argparse
import socket
import sys
import threading
import time

import benchlib as bl

from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.store import Store
from devices.hl7 import HL7Listener, ListenerSettings, Placement, compose, frame
from devices.hl7.mllp import MllpReader
from devices.hl7.oru import Sender
from devices.readings import Reading
from devices.supervisor import Supervisor

TARGET_S = 2.0


def answered_in(address: tuple[str, int], control_id: str) -> float | None:
    """Seconds from connect to AA; None when the listener closed the connection or answered otherwise."""
    start = time.perf_counter()
    try:
        with socket.create_connection(address, timeout=30, source_address=("127.0.0.3", 0)) as conn:
            reading = Reading("monitor", sbp=120, dbp=80, hr=70, spo2=97, device_time=time.time())
            conn.sendall(frame(compose([reading], control_id, Sender(location="CHAIR1"))))
            reader = MllpReader()
            while not (frames := reader.feed(conn.recv(4096))):
                pass
    except OSError:  # refused or closed: not answered
        return None
    ack = getattr(frames[0], "data", frames[0]).decode()  # (bytes from a copy before issue 16)
    return time.perf_counter() - start if f"MSA|AA|{control_id}" in ack else None


def attack(address: tuple[str, int], count: int, stop: threading.Event) -> list[socket.socket]:
    conns = []
    for n in range(count):
        try:
            conn = socket.create_connection(address, timeout=5, source_address=("127.0.0.2", 0))
        except OSError:
            continue
        conns.append(conn)
        if n % 2:
            try:
                conn.sendall(b"\x0bMSH|^~\\&|")
            except OSError:
                pass

    def dribble() -> None:
        while not stop.wait(1.0):
            for conn in conns[1::2]:
                try:
                    conn.sendall(b"x")
                except OSError:
                    pass
    threading.Thread(target=dribble, daemon=True).start()
    return conns


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attackers", type=int, default=64)
    parser.add_argument("--messages", type=int, default=30)
    args = parser.parse_args(argv)
    result = bl.Result("hl7_slow_senders", bl.command_line(), bl.machine())
    bl.print_machine(result.machine)
    folder = bl.scratch_dir("hl7-slow")
    store = Store.open(folder / "clinic.db")
    store.create_session(chair="CHAIR1", patient_label="B-1", protocol="esketamine-84", started_at=time.time())
    ingest = Ingest(store, load_config())
    stop = threading.Event()
    threading.Thread(target=ingest.run, args=(stop,), daemon=True).start()
    listener = HL7Listener(ListenerSettings(port=0, placement=Placement(), peers=("127.0.0.0/8",)))
    Supervisor(listener, ingest).start(stop)
    assert listener.ready.wait(10)
    address = listener.address
    try:
        quiet = [answered_in(address, f"Q{n}") for n in range(args.messages)]
        attackers = attack(address, args.attackers, stop)
        time.sleep(1.0)  # let the listener take them all in
        loud = [answered_in(address, f"A{n}") for n in range(args.messages)]
        for conn in attackers:
            conn.close()
    finally:
        stop.set()
        time.sleep(0.5)
        store.close()
    for name, all_times in (("no attack", quiet), ("under attack", loud)):
        times = [t for t in all_times if t is not None]
        figures = {**bl.stats_ms(times or [float("nan")]), "not_answered": len(all_times) - len(times)}
        result.figures[name] = figures
        print(f"{name}: connect -> AA p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, "
              f"max {figures['max_ms']:.1f} ms over {len(times)} messages; not answered: {figures['not_answered']}")
    result.figures["listener"] = {name: getattr(listener.stats, name, None)
                                  for name in ("refused_connections", "evicted_connections", "slow_frames")}
    print("listener:", result.figures["listener"])
    worst = max((t if t is not None else float("inf")) for t in loud)
    result.target("monitor answered under a slow-sender attack, max", worst, TARGET_S, "s")
    result.save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
