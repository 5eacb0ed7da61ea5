"""Request budget from Strava's rate-limit headers: 15-minute and daily windows, pacing, clean stops."""

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from strava_pipeline.private_files import write_private

WINDOW_S = 15 * 60
DAY_S = 24 * 60 * 60

# Strava's documented per-application limits, used until the first response tells the real ones
DEFAULT_LIMITS = {"overall": (200, 2000), "read": (100, 1000)}
HEADER_PREFIX = {"overall": "x-ratelimit-", "read": "x-readratelimit-"}


def window_start(now: float) -> float:
    """15-minute windows start at :00, :15, :30 and :45 UTC."""
    return math.floor(now / WINDOW_S) * WINDOW_S


def day_start(now: float) -> float:
    return math.floor(now / DAY_S) * DAY_S


class BudgetStop(Exception):
    """No request may be sent now; `daily` tells whether waiting for the next quarter hour would help,
    `cap` that the run's own --max-requests ended it."""

    def __init__(self, reason: str, daily: bool, cap: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.daily = daily
        self.cap = cap


@dataclass
class Counter:
    limit_15: int
    limit_day: int
    usage_15: int = 0
    usage_day: int = 0

    def remaining_15(self) -> int:
        return self.limit_15 - self.usage_15

    def remaining_day(self) -> int:
        return self.limit_day - self.usage_day


def _pair(value: str | None) -> tuple[int, int] | None:
    """'100,1000' -> (100, 1000); tolerate the empty ',' a real response carried, spaces and junk. Counts are
    ASCII digits only: a negative count would open the budget, and '--5' or a latin-1 '²' (isdigit, but not for
    int) would crash the run."""
    if not value:
        return None
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


@dataclass
class Budget:
    """What Strava allows this application right now, kept from the headers of every response."""

    clock: object
    max_requests: int | None = None
    wait: bool = True
    state_path: Path | None = None
    on_wait: Callable[[float, str], None] | None = None
    counters: dict = field(default_factory=lambda: {k: Counter(*v) for k, v in DEFAULT_LIMITS.items()})
    observed_at: float | None = None
    sent: int = 0  # requests sent by this run (every attempt counts, as on Strava's side)
    waited_s: float = 0.0

    def __post_init__(self) -> None:
        self._load()

    # -- state shared between runs: another run today may already have spent part of the budget
    def _load(self) -> None:
        if not self.state_path or not self.state_path.exists():
            return
        try:
            data = json.loads(self.state_path.read_text())
            self.counters = {k: Counter(**data["counters"][k]) for k in DEFAULT_LIMITS}
            self.observed_at = float(data["observed_at"])
        except (OSError, ValueError, KeyError, TypeError):
            return

    def save(self) -> None:
        if self.state_path and self.observed_at is not None:
            data = {"observed_at": self.observed_at, "counters": {k: asdict(c) for k, c in self.counters.items()}}
            # a lost update only costs one surprise 429, so no fsync on this hot path
            write_private(self.state_path, json.dumps(data), durable=False)

    def _roll(self, now: float) -> None:
        """Usage seen in an earlier window does not count in this one. A clock that went back (NTP, a VM resumed)
        opens no window: Strava's did not move, so the usage seen stays until this clock is past it again."""
        if self.observed_at is None or now < self.observed_at:
            return
        if window_start(now) != window_start(self.observed_at):
            for c in self.counters.values():
                c.usage_15 = 0
        if day_start(now) != day_start(self.observed_at):
            for c in self.counters.values():
                c.usage_day = 0
        self.observed_at = now

    # -- before and after each request
    def before_request(self, is_read: bool = True) -> None:
        """Block until a request may go out (waiting for the next quarter hour if allowed) or raise BudgetStop."""
        while True:
            now = self.clock.now()
            self._roll(now)
            if self.max_requests is not None and self.sent >= self.max_requests:
                raise BudgetStop(f"--max-requests {self.max_requests} reached", daily=False, cap=True)
            kinds = ("overall", "read") if is_read else ("overall",)
            if any(self.counters[k].remaining_day() <= 0 for k in kinds):
                raise BudgetStop("daily limit reached", daily=True)
            if all(self.counters[k].remaining_15() > 0 for k in kinds):
                return
            self.wait_for_next_window("15-minute limit reached")

    def wait_for_next_window(self, reason: str) -> None:
        if not self.wait:
            raise BudgetStop(f"{reason} (--no-wait)", daily=False)
        now = self.clock.now()
        # one extra second so the request lands safely inside the new window on Strava's clock
        seconds = window_start(now) + WINDOW_S - now + 1
        if self.on_wait:
            self.on_wait(seconds, reason)  # shows a countdown and sleeps on self.clock
        else:
            self.clock.sleep(seconds)
        self.waited_s += seconds

    def note_sent(self, is_read: bool = True) -> None:
        """Count a request locally, so responses without headers (streams had none in a recording) still count."""
        self._roll(self.clock.now())
        self.sent += 1
        if self.observed_at is None:
            self.observed_at = self.clock.now()
        for kind, c in self.counters.items():
            if kind == "overall" or is_read:
                c.usage_15 += 1
                c.usage_day += 1

    def update(self, headers: Mapping[str, str]) -> bool:
        """Take limits and usage from X-RateLimit-* / X-ReadRateLimit-* (any case); True if any were present."""
        lowered = {k.lower(): v for k, v in headers.items()}
        seen = False
        for kind, prefix in HEADER_PREFIX.items():
            limit, usage = _pair(lowered.get(prefix + "limit")), _pair(lowered.get(prefix + "usage"))
            c = self.counters[kind]
            if limit:
                c.limit_15, c.limit_day = limit
            if usage:
                # the server's count is the truth: it includes other apps' requests and our rejected ones
                c.usage_15, c.usage_day = usage
                seen = True
        if seen:
            # the latest time this clock has shown: after it went back, the headers still hold until it is past that
            now = self.clock.now()
            self.observed_at = now if self.observed_at is None else max(self.observed_at, now)
            self.save()
        return seen

    def exhausted_daily(self) -> bool:
        return any(c.remaining_day() <= 0 for c in self.counters.values())

    # -- planning
    def read_limits(self) -> tuple[int, int]:
        c = self.counters["read"]
        return c.limit_15, c.limit_day

    def remaining_today(self) -> int:
        self._roll(self.clock.now())
        left = min(c.remaining_day() for c in self.counters.values())
        if self.max_requests is not None:
            left = min(left, self.max_requests - self.sent)
        return max(0, left)


def days_needed(requests: int, per_day: int, left_today: int) -> int:
    """Runs on separate UTC days needed for `requests`, counting what is left of today's budget."""
    if requests <= left_today:
        return 0 if requests == 0 else 1
    return 1 + math.ceil((requests - left_today) / per_day) if left_today > 0 else math.ceil(requests / per_day)
