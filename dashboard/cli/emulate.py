"""An emulated device, for trying the monitor (or another system) without hardware:

    suntech   a SunTech NIBP module (Advantage/Tango protocol) on a pseudo-terminal, or a TCP port with --tcp
    nonin     a Nonin oximeter (data format 7/8) on a pseudo-terminal, or a TCP port with --tcp
    hl7       a patient monitor sending HL7 v2 ORU^R01 over MLLP to a listener (--to), as vendors style them

It plays the simulator's session (default), a feed CSV (--feed) or a raw capture (--replay, from `record --raw`)
at --speed, prints where it is (the pty path to give a device configuration, docs/devices.md) and runs until
Ctrl-C or --duration.
"""
from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the devices' modules load when the command runs, not for --help
    from devices.emulators.line import Line
    from devices.recording.capture import Chunk

HELP = "an emulated device: SunTech or Nonin on a pty, or an HL7 sender"
# devices/hl7/oru.py's STYLES and SEGMENT_ENDS, named here so that --help does not load the HL7 package
# (tests/cli/test_cli.py checks they agree).
STYLES = ("mdc", "philips", "loinc", "tags", "kpa")
SEGMENT_ENDS = ("cr", "lf", "crlf")
NAMES = {"suntech": "SunTech NIBP", "nonin": "Nonin oximeter", "hl7": "HL7 monitor"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=("suntech", "nonin", "hl7"), help="the device (above)")
    source = parser.add_argument_group("source (default: the simulator)")
    source.add_argument("--scenario", default="esketamine-84-quiet", metavar="NAME",
                        help="simulator scenario (default esketamine-84-quiet; `app.py simulate --list` lists them)")
    source.add_argument("--seed", type=int, default=7, help="simulator seed (default 7)")
    source.add_argument("--feed", type=Path, metavar="FEED.csv", help="a feed CSV instead of the simulator")
    source.add_argument("--replay", type=Path, metavar="CAPTURE",
                        help="a raw capture (app.py record --raw) replayed at its pace")
    source.add_argument("--speed", type=float, default=1.0, help="session seconds per wall second (default 1)")
    parser.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long (default: Ctrl-C)")
    serial = parser.add_argument_group("suntech and nonin")
    serial.add_argument("--link", type=Path, help="also make this symlink to the pty (a stable path)")
    serial.add_argument("--tcp", type=int, metavar="PORT", help="serve on 127.0.0.1:PORT (socket://) instead of a pty")
    serial.add_argument("--measure-s", type=float, default=5.0, metavar="SECONDS",
                        help="suntech: how long a measurement takes (default 5)")
    serial.add_argument("--format", type=int, choices=(7, 8), default=8,
                        help="nonin: Data Format 7 or 8 of the oximeter (default 8)")
    hl7 = parser.add_argument_group("hl7")
    hl7.add_argument("--to", default="127.0.0.1:2575", metavar="HOST:PORT",
                     help="the listener (default 127.0.0.1:2575; `app.py --hl7-port 2575` listens there)")
    hl7.add_argument("--location", default="CHAIR3", help="PV1-3 point of care (default CHAIR3)")
    hl7.add_argument("--mrn", default="MRN12345", help="PID-3 (default MRN12345)")
    hl7.add_argument("--style", choices=STYLES, default="mdc",
                     help="observation ids: mdc (IEEE 11073), philips (MDIL), loinc, tags (local tags in OBX-4), "
                          "kpa (MDC with pressures in kPa); default mdc")
    hl7.add_argument("--segment-end", choices=SEGMENT_ENDS, default="cr", help="segment separator (default cr)")
    hl7.add_argument("--no-zone", action="store_true", help="timestamps in local time without a zone")


def run(args: argparse.Namespace) -> int:
    """Play a source through an emulated device until done or Ctrl-C."""
    from devices.errors import DeviceError
    from devices.feed import FeedError

    try:
        items, capture = _source(args)
    except (DeviceError, FeedError, ValueError, OSError) as exc:
        print(f"emulate: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    if args.duration:
        timer = threading.Timer(args.duration, stop.set)
        timer.daemon = True  # Ctrl-C must not wait for it
        timer.start()
    try:
        if args.kind == "hl7":
            return _emulate_hl7(args, items, capture, stop)
        return _emulate_serial(args, items, capture, stop)
    except KeyboardInterrupt:
        return 0
    finally:
        stop.set()


def _source(args: argparse.Namespace) -> tuple[list, list[Chunk] | None]:
    from devices.emulators.play import for_device, source_items
    from devices.errors import DeviceError
    from devices.recording.capture import read_capture

    from ..engine import load_config

    if args.replay:
        protocol, chunks = read_capture(args.replay)
        if protocol and protocol != args.kind:
            raise DeviceError(f"{args.replay} is a {protocol} capture, not {args.kind}")
        return [], chunks
    config = None if args.feed else load_config()  # the protocols' timings the simulator plans by
    return for_device(source_items(args.scenario, args.seed, args.feed, config), args.kind), None


def _emulate_serial(args: argparse.Namespace, items: list, capture: list[Chunk] | None,
                    stop: threading.Event) -> int:
    from devices.emulators.line import PtyLine, TcpLine
    from devices.emulators.play import play_nonin, play_suntech

    line: Line = TcpLine(args.tcp) if args.tcp is not None else PtyLine(args.link)
    print(f"{NAMES[args.kind]} emulator on {line.url}", flush=True)
    try:
        if args.kind == "suntech":
            play_suntech(line, items, stop, args.speed, args.measure_s, capture)
        else:
            play_nonin(line, items, stop, args.speed, capture, args.format)
        print(f"{NAMES[args.kind]} emulator: source played; Ctrl-C stops", flush=True)
        while not stop.wait(0.5):  # the module keeps answering (and the line stays open) until stopped
            pass
    finally:
        line.close()
    return 0


def _emulate_hl7(args: argparse.Namespace, items: list, capture: list[Chunk] | None, stop: threading.Event) -> int:
    from devices.emulators.hl7_sender import HL7Sender
    from devices.emulators.play import play_hl7
    from devices.errors import DeviceError
    from devices.hl7 import oru

    host, _, port = args.to.rpartition(":")
    sender = HL7Sender(host or "127.0.0.1", int(port), oru.Sender(
        location=args.location, mrn=args.mrn, style=args.style, with_zone=not args.no_zone,
        segment_end=oru.SEGMENT_ENDS[args.segment_end]))
    print(f"{NAMES['hl7']} {args.location} sending to {sender.host}:{sender.port} ({args.style})", flush=True)
    try:
        feed = play_hl7(sender, items, stop, args.speed, capture)
    except DeviceError as exc:
        print(f"emulate hl7: {exc}", file=sys.stderr)
        return 1
    acks = sender.acks
    print(f"{NAMES['hl7']} {args.location}: {feed.sent or len(acks)} reading(s) sent, "
          f"ACKs: {', '.join(f'{code} x{acks.count(code)}' for code in sorted(set(acks))) or 'none'}", flush=True)
    return 0
