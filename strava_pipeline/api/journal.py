"""The response journal: every API answer is on disk before the next request; a crash costs at most the one in flight.

A run that is killed loses what it fetched since its last commit to the warehouse; the next run finds those answers
here and replays them instead of spending rate limit on them again. The runner trims what a commit made durable
(`loaded`); answers a run used but did not commit (`release`) stay for the next one. SQLite in WAL mode with
synchronous=FULL: a commit is fsynced, and a kill -9 (or a power cut) in the middle of a write loses that write only.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from urllib.parse import urlencode

from strava_pipeline.private_files import private_dir

JOURNAL_FILE = "api_journal.sqlite"  # in the data dir, beside the warehouse
# an answer older than this is asked again rather than replayed (a stale list page would hide new activities)
MAX_AGE_S = 24 * 3600

_SCHEMA = """
create table if not exists responses (
    key text primary key,       -- GET path?sorted query
    status integer not null,    -- 200, or 404 (the resource does not exist: asking again would say the same)
    body blob not null,
    fetched_at real not null    -- the run's clock, epoch seconds
);
create table if not exists pins (
    key text primary key,       -- a value a resumed run must reuse to ask the same questions (the listing window)
    value text not null,
    pinned_at real not null
);
"""


def request_key(path: str, params: dict | None = None) -> str:
    """One string per distinct GET: the path and its query in a fixed order."""
    if not params:
        return path
    return f"{path}?{urlencode(sorted((str(k), str(v)) for k, v in params.items()))}"


class ResponseJournal:
    """A small SQLite file beside the warehouse; opened on first use (never at import)."""

    def __init__(self, path: Path, clock, max_age_s: float = MAX_AGE_S) -> None:
        self.path = path
        self.clock = clock
        self.max_age_s = max_age_s
        self._con: sqlite3.Connection | None = None
        self._consumed: set[str] = set()  # keys this run used (fetched or replayed) since the last commit
        self.replayed = 0
        self.written = 0

    # ------------------------------------------------------------------ storage
    def _db(self) -> sqlite3.Connection:
        if self._con is None:
            private_dir(self.path.parent)
            fresh = not self.path.exists()
            con = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            if fresh:
                os.chmod(self.path, 0o600)  # the answers hold the athlete's data
            try:
                con.execute("pragma journal_mode=wal")
                con.execute("pragma synchronous=full")
                con.executescript(_SCHEMA)
                con.execute("select count(*) from responses").fetchone()
            except sqlite3.DatabaseError:
                # a damaged journal only costs requests: start a new one
                con.close()
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{self.path}{suffix}").unlink(missing_ok=True)
                con = sqlite3.connect(self.path, isolation_level=None, timeout=30)
                os.chmod(self.path, 0o600)
                con.execute("pragma journal_mode=wal")
                con.execute("pragma synchronous=full")
                con.executescript(_SCHEMA)
            # answers from the future (the clock jumped back) or too old are dropped, never replayed
            now = self.clock.now()
            con.execute("delete from responses where fetched_at < ? or fetched_at > ?", (now - self.max_age_s, now))
            con.execute("delete from pins where pinned_at < ? or pinned_at > ?", (now - self.max_age_s, now))
            self._con = con
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    # ------------------------------------------------------------------ answers
    def replay(self, key: str) -> tuple[int, bytes] | None:
        """The stored answer to this request, if a run fetched it and it was not committed yet."""
        row = self._db().execute("select status, body from responses where key = ?", (key,)).fetchone()
        if row is None:
            return None
        self._consumed.add(key)
        self.replayed += 1
        return int(row[0]), bytes(row[1])

    def record(self, key: str, status: int, body: bytes) -> None:
        """Store an answer durably (fsynced when this returns)."""
        self._db().execute(
            "insert or replace into responses values (?, ?, ?, ?)", (key, int(status), body, self.clock.now())
        )
        self._consumed.add(key)
        self.written += 1

    def loaded(self) -> None:
        """What this run used since the last commit is now in the warehouse: forget it."""
        if self._consumed and self._con is not None:
            keys = sorted(self._consumed)
            for i in range(0, len(keys), 500):
                part = keys[i : i + 500]
                self._con.execute(f"delete from responses where key in ({','.join('?' * len(part))})", part)
        self._consumed.clear()

    def release(self) -> None:
        """The commit failed or was abandoned: the answers stay for the next run."""
        self._consumed.clear()

    def clear(self) -> None:
        """Nothing is pending any more (the queue is empty): drop every answer and pin."""
        self._consumed.clear()
        if self.path.exists():
            con = self._db()
            con.execute("delete from responses")
            con.execute("delete from pins")

    def pending(self) -> int:
        if not self.path.exists():
            return 0
        return self._db().execute("select count(*) from responses").fetchone()[0]

    # ------------------------------------------------------------------ pins
    def pin(self, key: str, value):
        """The value pinned under key by an earlier, unfinished run, else `value` (pinned now)."""
        con = self._db()
        row = con.execute("select value from pins where key = ?", (key,)).fetchone()
        if row is not None:
            return json.loads(row[0])
        con.execute("insert or replace into pins values (?, ?, ?)", (key, json.dumps(value), self.clock.now()))
        return value

    def unpin(self, key: str) -> None:
        if self._con is not None or self.path.exists():
            self._db().execute("delete from pins where key = ?", (key,))
