"""The server of the memory benchmark: `python app.py serve` with a 24-chair simulated clinic.

Exactly the app's own main job (`dashboard.cli.runner.run_clinic`: ingest, the simulated clinic, replays and the
web in one process, threads started from main), with two bench-only settings made from outside:

- the clinic has `--chairs` chairs (the demo has 4), each in a different phase at start, cycling through a
  mix of scenarios;
- a chair takes its next patient `--turnover-min` clinic minutes after a discharge (the demo waits one wall
  minute, which at high speed would leave chairs empty for hours of clinic time).

    python bench/day_server.py --database DB --port P --speed 240 [--chairs 24] [--turnover-min 15]

Run by bench/memory_day.py; not a benchmark itself.
"""
from __future__ import annotations

import argparse
import sys

import benchlib as bl


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--speed", type=float, default=240)
    parser.add_argument("--chairs", type=int, default=24)
    parser.add_argument("--turnover-min", type=float, default=15)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import app
    import dashboard.service.clinic as clinic

    plans = tuple(clinic.ChairPlan(f"Chair {i + 1:02d}", f"Day {i + 1:02d}",
                                   bl.CLINIC_SCENARIOS[i % len(bl.CLINIC_SCENARIOS)],
                                   minutes_after_dose=-10 + (i * 37) % 100)
                  for i in range(args.chairs))

    class DayClinic(clinic.Clinic):
        def __init__(self, *a, plans_: tuple = plans, **kw):  # noqa: ANN002, ANN003
            kw["plans"] = plans_
            super().__init__(*a, **kw)

    clinic.Clinic = DayClinic  # runner imports it from dashboard.service.clinic when it starts the back end
    clinic.NEXT_PATIENT_AFTER_S = args.turnover_min * 60 / args.speed
    argv = ["serve", "--database", args.database, "--port", str(args.port), "--speed", str(args.speed),
            "--seed", str(args.seed)]
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
