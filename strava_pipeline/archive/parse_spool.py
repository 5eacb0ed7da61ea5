"""Parsed activity files on disk until the batch holding them is committed: a kill costs at most the files in flight.

The archive and file imports commit a batch (a dlt load package) every 200 files; what a killed run parsed since its
last commit would otherwise be parsed again by the next one. Each parse result is written here as soon as it exists
(in the process pool's result thread, not when the import gets round to it), and a resumed run takes it from here
instead of parsing again. A commit trims the results it holds; a run that completes empties the file.

SQLite in WAL mode with synchronous=FULL (each result is fsynced before the next is written); a result is keyed by
the hash of what its parse reads (the bytes, the member name, the damaged flag and the reader's warnings), so a
changed file is parsed again. A damaged spool only costs parses: a new one is started.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from strava_pipeline.archive.types import TrackResult
from strava_pipeline.private_files import private_dir

SPOOL_FILE = "parsed_files.sqlite"  # in the data dir, beside the warehouse

_SCHEMA = """
create table if not exists parsed (
    key text primary key,   -- parse_key() of the file
    meta text not null,     -- JSON: format and the TrackResult fields but the table
    points blob not null    -- the TrackResult table as an Arrow IPC stream
);
"""


def parse_key(data: bytes, name: str, damaged: bool, warnings: list) -> str:
    """One key per distinct parse: what the parser reads."""
    digest = hashlib.sha256(data)
    digest.update(json.dumps([name, bool(damaged), list(warnings)]).encode())
    return digest.hexdigest()


def _encode(fmt: str | None, track: TrackResult) -> tuple[str, bytes]:
    meta = {
        "format": fmt,
        "start_time_utc": track.start_time_utc.isoformat() if track.start_time_utc else None,
        "sport": track.sport,
        "device": track.device,
        "warnings": track.warnings,
        "damaged": track.damaged,
        "utc_offset_s": track.utc_offset_s,
        "summary": track.summary,
    }
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, track.table.schema) as writer:
        writer.write_table(track.table)
    return json.dumps(meta), sink.getvalue().to_pybytes()


def _decode(meta_text: str, points: bytes) -> tuple[str | None, TrackResult]:
    meta = json.loads(meta_text)
    table = pa.ipc.open_stream(points).read_all()
    start = meta["start_time_utc"]
    return meta["format"], TrackResult(
        table=table,
        start_time_utc=datetime.fromisoformat(start) if start else None,
        sport=meta["sport"],
        device=meta["device"],
        warnings=meta["warnings"],
        damaged=meta["damaged"],
        utc_offset_s=meta["utc_offset_s"],
        summary=meta["summary"],
    )


class ParseSpool:
    """Opened on first use (never at import); safe to call from the pool's result thread and the main thread."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._con: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self.replayed = 0  # results taken from the spool instead of parsing
        self.written = 0

    def _open(self) -> sqlite3.Connection:
        private_dir(self.path.parent)
        fresh = not self.path.exists()
        con = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
        if fresh:
            os.chmod(self.path, 0o600)  # the athlete's tracks
        con.execute("pragma journal_mode=wal")
        con.execute("pragma synchronous=full")
        con.executescript(_SCHEMA)
        con.execute("select count(*) from parsed").fetchone()
        return con

    def _db(self) -> sqlite3.Connection:
        if self._con is None:
            try:
                self._con = self._open()
            except sqlite3.DatabaseError:
                for suffix in ("", "-wal", "-shm"):  # damaged: it only saved parses, start a new one
                    Path(f"{self.path}{suffix}").unlink(missing_ok=True)
                self._con = self._open()
        return self._con

    def get(self, key: str) -> tuple[str | None, TrackResult] | None:
        with self._lock:
            if self._con is None and not self.path.exists():
                return None
            try:
                row = self._db().execute("select meta, points from parsed where key = ?", [key]).fetchone()
            except sqlite3.DatabaseError:
                return None
        if row is None:
            return None
        try:
            result = _decode(*row)
        except (ValueError, KeyError, TypeError, pa.ArrowException):
            return None  # an entry this version cannot read: parse the file again
        self.replayed += 1
        return result

    def put(self, key: str, fmt: str | None, track: TrackResult) -> None:
        meta, points = _encode(fmt, track)
        with self._lock:
            self._db().execute("insert or replace into parsed values (?, ?, ?)", [key, meta, points])
            self.written += 1

    def discard(self, keys: list[str]) -> None:
        """The committed batch held these: they are in the warehouse now."""
        if not keys or (self._con is None and not self.path.exists()):
            return
        with self._lock:
            self._db().executemany("delete from parsed where key = ?", [(k,) for k in keys])

    def clear(self) -> None:
        """A run that completed: nothing is pending; the file goes."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
