"""One writer at a time: DuckDB allows a single writing process, so every writer of the warehouse takes this lock."""

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from strava_pipeline.config import UserError

LOCK_FILE = ".warehouse.lock"


@contextmanager
def warehouse_lock(data_dir: Path, wait_s: Optional[float] = 0.0, holder: str = "strava.py") -> Iterator[None]:
    """Hold the data dir's writer lock; wait up to wait_s seconds (None: forever), else say the warehouse is busy."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = None if wait_s is None else time.monotonic() + wait_s
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    other = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
                    raise UserError(
                        f"The warehouse in {data_dir} is busy: {other} is writing it; "
                        "run again when it has finished."
                    ) from None
                time.sleep(0.5)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{holder} (pid {os.getpid()})".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock, also when the process is killed
