"""Clocks shared by the client's rate-limit pacing and the fake API, so tests can jump time instead of waiting."""

import threading
import time


class SystemClock:
    """Wall-clock time in epoch seconds (UTC)."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A settable clock: sleep() advances it instantly; thread-safe so a server thread can read it."""

    def __init__(self, start: float) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, epoch_seconds: float) -> None:
        with self._lock:
            self._now = float(epoch_seconds)
