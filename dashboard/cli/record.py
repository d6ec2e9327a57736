"""Read one configured device and write what it reports as a feed CSV (offset = seconds since the recording
began), until Ctrl-C or --duration. The device comes from a device configuration (docs/devices.md): a serial
device by its label, or `hl7` for the HL7 listener the file configures. With --raw the bytes are captured too,
with their times, for `emulate --replay`. The feed can then be checked or replayed like any other.
"""
from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

HELP = "read a configured device and write a feed CSV (--raw: a byte capture too)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--devices", type=Path, required=True, metavar="FILE",
                        help="device configuration TOML (docs/devices.md; sample_data/devices.example.toml)")
    parser.add_argument("--device", required=True, metavar="LABEL",
                        help="the device's label in the file (nibp, oximeter...) or hl7")
    parser.add_argument("--chair", help="the chair whose device to read (hl7: only this chair's messages)")
    parser.add_argument("--out", type=Path, required=True, metavar="FEED.csv", help="feed CSV to write")
    parser.add_argument("--raw", type=Path, metavar="FILE",
                        help="also write a raw byte capture with timestamps (for emulate --replay)")
    parser.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long (default: Ctrl-C)")


def run(args: argparse.Namespace) -> int:
    from devices.config import load_device_config
    from devices.errors import DeviceError
    from devices.recording.recorder import record

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
