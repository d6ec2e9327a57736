"""What `app.py emulate` and `app.py record` do (their options: dashboard/cli/emulate.py and record.py)."""
from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from .capture import Chunk, read_capture
from .config import load_device_config
from .emulators.hl7_sender import HL7Sender
from .emulators.line import Line, PtyLine, TcpLine
from .emulators.play import for_device, play_hl7, play_nonin, play_suntech, source_items
from .errors import DeviceError
from .feed import FeedError
from .hl7.oru import SEGMENT_ENDS, Sender
from .recorder import record

NAMES = {"suntech": "SunTech NIBP", "nonin": "Nonin oximeter", "hl7": "HL7 monitor"}


def run_emulate(args: argparse.Namespace) -> int:
    """`emulate suntech|nonin|hl7`: play a source through an emulated device until done or Ctrl-C."""
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
    if args.replay:
        protocol, chunks = read_capture(args.replay)
        if protocol and protocol != args.kind:
            raise DeviceError(f"{args.replay} is a {protocol} capture, not {args.kind}")
        return [], chunks
    return for_device(source_items(args.scenario, args.seed, args.feed), args.kind), None


def _emulate_serial(args: argparse.Namespace, items: list, capture: list[Chunk] | None,
                    stop: threading.Event) -> int:
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
    host, _, port = args.to.rpartition(":")
    sender = HL7Sender(host or "127.0.0.1", int(port), Sender(
        location=args.location, mrn=args.mrn, style=args.style, with_zone=not args.no_zone,
        segment_end=SEGMENT_ENDS[args.segment_end]))
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


def run_record(args: argparse.Namespace) -> int:
    """`record`: read a configured device and write a feed CSV (and a raw capture with --raw)."""
    try:
        config = load_device_config(args.devices)
        stop = threading.Event()
        print(f"Recording {args.device}{' on ' + args.chair if args.chair else ''} to {args.out}"
              f"{' (raw: ' + str(args.raw) + ')' if args.raw else ''}; Ctrl-C stops", flush=True)
        recorder = record(config, Path(args.out), args.device, chair=args.chair, raw=args.raw,
                          duration_s=args.duration, stop=stop)
    except (DeviceError, OSError) as exc:
        print(f"record: {exc}", file=sys.stderr)
        return 2
    print(f"Recorded {recorder.rows} row(s) to {args.out}", flush=True)
    return 0
