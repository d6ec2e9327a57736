"""Hypothesis profiles: `suite` (the default: a short run in every test session) and `long` (bench/fuzz_devices.py,
or HYPOTHESIS_PROFILE=long by hand)."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("suite", max_examples=150, deadline=None, derandomize=False,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=100_000, deadline=None, database=None,
                          suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))
