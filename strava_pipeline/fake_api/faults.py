"""Injected failures (5xx, slow, dropped, truncated, HTML) for the next N matching requests, to test the client."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

KINDS = ("5xx", "slow", "drop", "truncate", "html")


@dataclass
class Fault:
    kind: str
    remaining: int
    path: str | None
    status: int
    delay: float

    def matches(self, path: str, is_api: bool) -> bool:
        # without a path a fault hits API requests only; with one, any request whose path matches (OAuth too)
        if self.path is None:
            return is_api
        return re.search(self.path, path) is not None


class Faults:
    """Queue of pending faults; the first one that matches a request is consumed by it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []

    def add(self, kind: str, count: int = 1, path: str | None = None, status: int = 503, delay: float = 2.0) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
        if int(count) < 1:
            raise ValueError("count must be >= 1")
        if kind == "5xx" and not 500 <= int(status) <= 599:
            raise ValueError("status of a 5xx fault must be 500..599")
        if path is not None:
            re.compile(path)  # fail here, not inside a request
        with self._lock:
            self._pending.append(Fault(kind, int(count), path, int(status), float(delay)))

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    @property
    def pending(self) -> list[Fault]:
        with self._lock:
            return [Fault(f.kind, f.remaining, f.path, f.status, f.delay) for f in self._pending]

    def take(self, path: str, is_api: bool) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self._pending):
                if fault.matches(path, is_api):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        del self._pending[i]
                    return Fault(fault.kind, 1, fault.path, fault.status, fault.delay)
        return None
