"""Failures of the machine rather than of the code (a full disk, a warehouse another program holds), as one sentence."""

import errno
import re
from pathlib import Path

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
# how DuckDB and SQLite say it (their exceptions are not OSErrors)
_FULL_WORDS = ("no space left on device", "disk is full", "file too large", "disk quota exceeded")
_DUCKDB_LOCK = re.compile(r"Could not set lock on file \"?([^\"]+)\"?: Conflicting lock is held in (.+?) \(PID (\d+)\)")


def _chain(exc: BaseException):
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def host_problem(exc: BaseException, data_dir: Path) -> str | None:
    """The sentence for a full disk or a warehouse held by another program anywhere in exc's chain, else None."""
    for cur in _chain(exc):
        text = str(cur)
        if (isinstance(cur, OSError) and cur.errno in _FULL_ERRNOS) or any(w in text.lower() for w in _FULL_WORDS):
            return (
                f"The disk holding {data_dir} is full (or the file size limit was reached): free some space and run "
                "again; what was committed is intact and answers fetched since are kept for the next run."
            )
        held = _DUCKDB_LOCK.search(text)
        if held:
            program = Path(held.group(2)).name
            return (
                f"The warehouse {held.group(1)} is open in another program ({program}, PID {held.group(3)}): "
                "close it there (DuckDB lets one program write at a time) and run again."
            )
    return None
