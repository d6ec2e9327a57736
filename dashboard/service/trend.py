"""The small trend a board tile draws: HR per minute and every BP of the last hour.

Kept by ingest beside each session's engine and written into the session's
status snapshot, so a board poll draws sparklines without reading readings.
Presentation only: no alarm depends on it.
"""
from __future__ import annotations

import bisect
from collections import deque
from typing import Any

from devices.readings import Reading

WINDOW_S = 3600.0  # the tile shows the last hour
BUCKET_S = 60.0  # one HR point a minute keeps the tile cheap and steady


class Trend:
    def __init__(self, window_s: float = WINDOW_S, bucket_s: float = BUCKET_S) -> None:
        self.window_s = window_s
        self.bucket_s = bucket_s
        self._hr: deque[list[float]] = deque()  # [bucket start, sum, count]
        self._bp: deque[tuple[float, float, float]] = deque()

    def add(self, reading: Reading) -> None:
        """Add a reading; one taken earlier than the last (a batch's late reading) goes where it was taken."""
        t = reading.offset_s or 0.0
        if reading.sbp is not None and reading.dbp is not None:
            self._bp.insert(bisect.bisect_right([bp[0] for bp in self._bp], t), (t, reading.sbp, reading.dbp))
        elif reading.hr is not None:
            start = t - t % self.bucket_s
            bucket = next((b for b in reversed(self._hr) if b[0] == start), None)
            if bucket is not None:
                bucket[1] += reading.hr
                bucket[2] += 1
            else:
                self._hr.insert(bisect.bisect_right([b[0] for b in self._hr], start), [start, reading.hr, 1])
        self._prune(max(t, self._newest()))

    def _newest(self) -> float:
        return max(self._bp[-1][0] if self._bp else float("-inf"), self._hr[-1][0] if self._hr else float("-inf"))

    def _prune(self, now: float) -> None:
        while self._hr and self._hr[0][0] < now - self.window_s:
            self._hr.popleft()
        while self._bp and self._bp[0][0] < now - self.window_s:
            self._bp.popleft()

    def snapshot(self) -> dict[str, Any]:
        """The trend without the minute still filling: a tile's sparkline then changes once a minute."""
        complete = list(self._hr)[:-1]
        return {
            "hr": [[start, round(total / count, 1)] for start, total, count in complete],
            "bp": [list(point) for point in self._bp],
        }
