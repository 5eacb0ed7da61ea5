"""One writer at a time: DuckDB allows a single writing process, so every writer of the warehouse takes this lock."""

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from strava_pipeline.config import UserError
from strava_pipeline.private_files import private_dir

LOCK_FILE = ".warehouse.lock"
# set for child processes (dbt run by Dagster or by a script) whose parent already holds the lock
HELD_ENV = "STRAVA_WAREHOUSE_LOCK_HELD"


def acquire(data_dir: Path, wait_s: float | None = 0.0, holder: str = "strava.py") -> int | None:
    """Take the data dir's writer lock and return its descriptor (closing it releases the lock, so does exiting).

    Waits up to wait_s seconds (None: as long as it takes), then says the warehouse is busy. Returns None when a
    parent process holds the lock for us.
    """
    if os.environ.get(HELD_ENV) == str(data_dir.resolve()):
        return None
    private_dir(data_dir)  # a new data dir is the owner's only: it will hold tokens and the athlete's data
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = None if wait_s is None else time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if deadline is not None and time.monotonic() >= deadline:
                other = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
                os.close(fd)
                raise UserError(
                    f"The warehouse in {data_dir} is busy: {other} is writing it; run again when it has finished."
                ) from None
            time.sleep(0.5)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{holder} (pid {os.getpid()})".encode(), 0)
    return fd


@contextmanager
def warehouse_lock(data_dir: Path, wait_s: float | None = 0.0, holder: str = "strava.py") -> Iterator[None]:
    """Hold the writer lock for a block; child processes started inside it (dbt) know it is held for them."""
    fd = acquire(data_dir, wait_s, holder)
    if fd is None:
        yield
        return
    previous = os.environ.get(HELD_ENV)
    os.environ[HELD_ENV] = str(data_dir.resolve())
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(HELD_ENV, None)
        else:
            os.environ[HELD_ENV] = previous
        os.close(fd)
