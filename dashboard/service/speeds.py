"""The replay speeds a person may choose, on the command line and the replay page: session seconds per wall second,
None for as fast as possible. A module of its own so that `replay --help` reads them without loading the store."""
from __future__ import annotations

SPEEDS: dict[str, float | None] = {"1": 1.0, "10": 10.0, "60": 60.0, "max": None}
