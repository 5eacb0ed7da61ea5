"""Server-side rate limiter: Strava's overall and read counters per 15-minute and daily window, on an injected clock."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

QUARTER_S = 900
DAY_S = 86400

# spellings of the four header names: as Strava's docs write them, as HTTP/2 delivers them, and as the recordings
# (Ruby's Net::HTTP) show them; clients must match names case-insensitively
HEADER_NAMES = {
    "docs": ("X-RateLimit-Limit", "X-RateLimit-Usage", "X-ReadRateLimit-Limit", "X-ReadRateLimit-Usage"),
    "lower": ("x-ratelimit-limit", "x-ratelimit-usage", "x-readratelimit-limit", "x-readratelimit-usage"),
    "ruby": ("X-Ratelimit-Limit", "X-Ratelimit-Usage", "X-Readratelimit-Limit", "X-Readratelimit-Usage"),
}


@dataclass(frozen=True)
class RateLimits:
    """Per-application limits; the defaults are Strava's."""

    overall_15min: int = 200
    overall_daily: int = 2000
    read_15min: int = 100
    read_daily: int = 1000


@dataclass(frozen=True)
class Usage:
    """Counts in the current windows."""

    overall_15min: int = 0
    overall_daily: int = 0
    read_15min: int = 0
    read_daily: int = 0


class ServerRateLimiter:
    """Counts every API request before checking it, so rejected requests use budget too (as on Strava)."""

    def __init__(self, limits: RateLimits, clock) -> None:
        self.limits = limits
        self.clock = clock
        self._lock = threading.Lock()
        self._quarter = self._day = None
        self._o15 = self._od = self._r15 = self._rd = 0
        self._roll(clock.now())

    def _roll(self, now: float) -> None:
        # windows are aligned to the clock (:00/:15/:30/:45 and 00:00 UTC), not to the first request
        quarter = math.floor(now / QUARTER_S)
        day = math.floor(now / DAY_S)
        if quarter != self._quarter:
            self._quarter = quarter
            self._o15 = self._r15 = 0
        if day != self._day:
            self._day = day
            self._od = self._rd = 0

    def hit(self, is_read: bool) -> tuple[bool, Usage]:
        """Count one request; returns (over_limit, usage after counting)."""
        with self._lock:
            self._roll(self.clock.now())
            self._o15 += 1
            self._od += 1
            if is_read:
                self._r15 += 1
                self._rd += 1
            lim = self.limits
            over = self._o15 > lim.overall_15min or self._od > lim.overall_daily
            if is_read:
                over = over or self._r15 > lim.read_15min or self._rd > lim.read_daily
            return over, self._snapshot()

    def usage(self) -> Usage:
        with self._lock:
            self._roll(self.clock.now())
            return self._snapshot()

    def set_usage(self, overall_15min=None, overall_daily=None, read_15min=None, read_daily=None) -> Usage:
        """Pretend other requests of the same application already used budget in the current windows."""
        with self._lock:
            self._roll(self.clock.now())
            if overall_15min is not None:
                self._o15 = int(overall_15min)
            if overall_daily is not None:
                self._od = int(overall_daily)
            if read_15min is not None:
                self._r15 = int(read_15min)
            if read_daily is not None:
                self._rd = int(read_daily)
            return self._snapshot()

    def _snapshot(self) -> Usage:
        return Usage(self._o15, self._od, self._r15, self._rd)

    def headers(self, usage: Usage, case: str = "docs") -> list[tuple[str, str]]:
        limit, use, rlimit, ruse = HEADER_NAMES[case]
        lim = self.limits
        return [
            (limit, f"{lim.overall_15min},{lim.overall_daily}"),
            (use, f"{usage.overall_15min},{usage.overall_daily}"),
            (rlimit, f"{lim.read_15min},{lim.read_daily}"),
            (ruse, f"{usage.read_15min},{usage.read_daily}"),
        ]
