"""Record of every request the fake answered (API and OAuth), for tests that count calls; secrets are redacted."""

from __future__ import annotations

import threading
from collections import Counter
from typing import NamedTuple

# query parameters that carry secrets: never stored
SECRET_PARAMS = {"access_token", "refresh_token", "client_secret", "code"}


class RequestLogEntry(NamedTuple):
    time: float  # the fake's clock when the request arrived
    method: str
    path: str  # full request path without query, e.g. /api/v3/athlete/activities
    query: dict  # first value of each parameter; secret values are "REDACTED"
    status: int  # 0 when the connection was dropped without a response


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[RequestLogEntry] = []
        self._routes: list[str] = []

    def add(self, time: float, method: str, path: str, query: dict, status: int, route: str) -> None:
        clean = {k: ("REDACTED" if k in SECRET_PARAMS else v) for k, v in query.items()}
        with self._lock:
            self._entries.append(RequestLogEntry(time, method, path, clean, status))
            self._routes.append(route)

    def entries(self) -> list[RequestLogEntry]:
        with self._lock:
            return list(self._entries)

    def counts(self) -> Counter:
        with self._lock:
            return Counter(self._routes)

    def count_status(self, status: int) -> int:
        with self._lock:
            return sum(1 for e in self._entries if e.status == status)

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()
            self._routes.clear()
