"""kill -9 an import at random points and count what it cost: for tests/test_resume.py and benchmarks/bench_resume.py.

The CLI runs in a child process (`python -c ...`, the same code path as `uv run strava.py`) against the fake API in
this process. Both read one simulated clock kept in a small shared file (FileClock), so the rate-limit waits of Strava's
real limits cost no time. The kill is triggered by the fake API itself when it has answered a chosen number of
requests, after a random delay of a few milliseconds: kills land in requests, in journal writes, in commits.
"""

from __future__ import annotations

import fcntl
import json
import mmap
import os
import random
import signal
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from strava_pipeline.warehouse import open_warehouse

ROOT = Path(__file__).resolve().parents[2]
# simulated seconds between a kill and the next run (the simulated clock moves only when the client waits): a later run
# lists activities up to its own start, a new question, not a repeat of the killed run's
RESTART_S = 60.0
# metadata that differs between runs by nature: load ids, row ids and fetch times
SKIP_COLUMNS = {"_dlt_load_id", "_dlt_id", "fetched_at", "deleted_at"}
TABLES = (
    "activities",
    "activity_streams",
    "activity_details",
    "activity_laps",
    "activity_best_efforts",
    "fetch_log",
    "athlete",
    "gear",
)


class FileClock:
    """A simulated clock several processes share: epoch seconds as a double in a file; sleep() advances it."""

    def __init__(self, path: Path, start: float | None = None) -> None:
        self.path = Path(path)
        if start is not None:
            self.path.write_bytes(struct.pack("d", float(start)))
        self._fd = os.open(self.path, os.O_RDWR)
        self._map = mmap.mmap(self._fd, 8)

    def now(self) -> float:
        return struct.unpack("d", self._map[:8])[0]

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                self._map[:8] = struct.pack("d", self.now() + seconds)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)


def child_main() -> int:
    """Entry of the child: argv = [clock file, strava.py arguments...]."""
    from strava_pipeline.cli import main

    clock = FileClock(Path(sys.argv[1]))
    return main(sys.argv[2:], clock=clock)


def snapshot(data_dir: Path) -> dict:
    """Row count and a content hash of every raw table, without the columns that differ between runs by nature."""
    with open_warehouse(data_dir / "strava.duckdb") as con:
        out = {}
        for table in TABLES:
            cols = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = 'strava' "
                    "and table_name = ? order by column_name",
                    [table],
                ).fetchall()
                if c not in SKIP_COLUMNS
            ]
            if not cols:
                out[table] = None
                continue
            collist = ", ".join(f'"{c}"' for c in cols)
            out[table] = (cols, con.execute(f"select count(*), sum(hash({collist})) from strava.{table}").fetchone())
        return out


def api_gets(fake) -> list[str]:
    """Every GET the fake API answered (not dropped), as 'path?sorted query'."""
    return [
        e.path + "?" + "&".join(f"{k}={v}" for k, v in sorted(e.query.items()))
        for e in fake.log
        if e.method == "GET" and e.path.startswith("/api/v3/") and e.status != 0
    ]


@dataclass
class Chain:
    """One data dir taken from empty to complete through runs of which the first `kills` were killed."""

    seed: int
    kills: int = 0
    runs: int = 0
    requests: int = 0  # GETs the API answered across the chain
    listing_requests: int = 0
    repeated: int = 0  # requests that were exact repeats of one answered before in the chain
    kill_points: list = field(default_factory=list)  # (requests answered when the kill was triggered, delay s)
    repeated_requests: list = field(default_factory=list)  # the requests sent more than once, with their count
    equal_to_reference: bool = False

    def repeated_per_kill(self) -> float:
        return self.repeated / self.kills if self.kills else 0.0


class KillRig:
    """The fake API, the shared clock and the child processes of one experiment."""

    def __init__(self, fake, clock: FileClock, env: dict, args: list[str], work: Path) -> None:
        self.fake, self.clock, self.env, self.args, self.work = fake, clock, env, args, work
        self._target: int | None = None
        self._seen = 0
        self._fired = threading.Event()
        original = fake._log.add

        def add(time_, method, path, query, status, route):
            original(time_, method, path, query, status, route)
            if method == "GET" and path.startswith("/api/v3/") and status != 0:
                self._seen += 1
                if self._target is not None and self._seen >= self._target:
                    self._target = None
                    self._fired.set()

        fake._log.add = add  # the fake is this test's own instance

    def _spawn(self, data_dir: Path) -> subprocess.Popen:
        code = "import sys; from tests.support.killrun import child_main; sys.exit(child_main())"
        return subprocess.Popen(
            [sys.executable, "-c", code, str(self.clock.path), "--data-dir", str(data_dir), *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run_to_end(self, data_dir: Path) -> str:
        proc = self._spawn(data_dir)
        out, err = proc.communicate(timeout=900)
        if proc.returncode != 0:
            raise AssertionError(f"run failed ({proc.returncode}):\n{out[-2000:]}\n{err[-3000:]}")
        return out

    def run_killed(self, data_dir: Path, after_requests: int, delay_s: float) -> bool:
        """Start a run and kill -9 it `delay_s` after the API answered its `after_requests`-th GET; False when the
        run ended before that (nothing to kill)."""
        self._seen, self._target = 0, after_requests
        self._fired.clear()
        proc = self._spawn(data_dir)
        try:
            while not self._fired.wait(0.02):
                if proc.poll() is not None:
                    self._target = None
                    proc.communicate()
                    return False
            time.sleep(delay_s)
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=60)
            return proc.returncode == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()

    def reference(self, data_dir: Path) -> tuple[dict, Counter]:
        """An uninterrupted run: its warehouse and the GETs it needed."""
        self.fake.reset_log()
        self.run_to_end(data_dir)
        return snapshot(data_dir), Counter(api_gets(self.fake))

    def chain(self, data_dir: Path, seed: int, kills: int, max_requests: int, max_delay_s: float) -> Chain:
        rng = random.Random(seed)
        result = Chain(seed)
        self.fake.reset_log()
        # each chain has a whole day's budget, as if it were started on a day of its own
        self.fake.set_usage(read_15min=0, read_daily=0, overall_15min=0, overall_daily=0)
        while result.kills < kills:
            # a kill point within what is left to fetch, so that most runs are killed before they finish
            left = max(1, max_requests - len(set(api_gets(self.fake))))
            after, delay = rng.randint(1, left), rng.uniform(0.0, max_delay_s)
            result.runs += 1
            self.clock.sleep(RESTART_S)
            if self.run_killed(data_dir, after, delay):
                result.kills += 1
                result.kill_points.append((after, round(delay, 3)))
            else:
                break  # the run finished before the chosen point: the data dir is complete
        result.runs += 1
        self.clock.sleep(RESTART_S)
        self.run_to_end(data_dir)
        gets = api_gets(self.fake)
        result.requests = len(gets)
        result.listing_requests = sum(1 for g in gets if g.startswith("/api/v3/athlete/activities?"))
        counts = Counter(gets)
        result.repeated = sum(n - 1 for n in counts.values() if n > 1)
        result.repeated_requests = sorted((g, n) for g, n in counts.items() if n > 1)
        return result


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))
