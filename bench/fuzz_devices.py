"""Property tests of the device parsers over 100,000 generated inputs each (issue 16): 0 unhandled exceptions.

    python bench/fuzz_devices.py                  # every property, 100,000 examples each (~1 h on 2 shared cores)
    python bench/fuzz_devices.py --examples 5000  # a shorter run
    python bench/fuzz_devices.py mllp suntech     # the properties whose name contains any of these words

Runs the properties of tests/fuzz/test_properties.py (the suite runs them with 150 examples) with hypothesis'
`long` settings: no example database, no deadline, every health check off. A property that fails is reported
with hypothesis' shrunk example; the run goes on with the next.
"""
from __future__ import annotations

import argparse
import sys
import time
import traceback

import benchlib as bl
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(bl.ROOT))
from tests.fuzz import test_properties as props  # noqa: E402

PROPERTIES = [getattr(props, name) for name in dir(props) if name.startswith("test_")]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("words", nargs="*", help="run only properties whose name contains one of these")
    parser.add_argument("--examples", type=int, default=100_000)
    args = parser.parse_args(argv)
    result = bl.Result("fuzz_devices", bl.command_line(), bl.machine())
    bl.print_machine(result.machine)
    chosen = [p for p in PROPERTIES if not args.words or any(w in p.__name__ for w in args.words)]
    failed = 0
    for prop in chosen:
        run = settings(max_examples=args.examples, deadline=None, database=None,
                       suppress_health_check=list(HealthCheck))(prop)
        before = dict(props.COUNTS)
        start, cpu = time.perf_counter(), time.process_time()
        error = ""
        try:
            run()
        except Exception as exc:  # a property that failed: shrunk example in the traceback
            error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            traceback.print_exc()
            failed += 1
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        ran = sum(props.COUNTS.values()) - sum(before.values())
        name = prop.__name__.removeprefix("test_")
        result.figures[name] = {"examples": ran, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "failure": error}
        print(f"{name}: {ran:,} examples in {wall:,.0f} s (cpu {cpu:,.0f} s): {'FAILED ' + error if error else 'ok'}",
              flush=True)
        result.target(f"{name}: unhandled exceptions", 1 if error else 0, 0, "")
    result.save()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
