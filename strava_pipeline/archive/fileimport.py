"""Import loose device files (FIT, GPX, TCX, .gz of them, folders and zips of them) as activities, source 'file'.

Each file is one activity row (file_rows: a stable negative id, the values the file declares or its points give)
plus its streams, unless the recording is already in the warehouse (dedupe: same start within a minute and a
compatible sport, or the same content): then it only fills what that activity lacks (its streams). Files are read
and hashed here and parsed in a process pool; a file whose content is already imported is not parsed again, so
importing the same folder twice costs a read and a hash per file. Bad files (not an activity, empty, a zip bomb, a
GPX with a DOCTYPE) are skipped with a reason; damaged ones (bad CRC, cut short) keep their readable points.
"""

from __future__ import annotations

import functools
import multiprocessing
import sqlite3
import time
from collections import Counter, deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
from dlt.pipeline.exceptions import PipelineStepFailed

from strava_pipeline import warehouses
from strava_pipeline.archive.dedupe import (
    FILE_FETCH_STATUS,
    FILE_SOURCE,
    Known,
    load_index,
    supersede_file_rows,
)
from strava_pipeline.archive.file_rows import content_id, file_activity_id, file_activity_row
from strava_pipeline.archive.file_sports import file_sport
from strava_pipeline.archive.files import FileRef, read_file, scan
from strava_pipeline.archive.fit_records import crc_warning
from strava_pipeline.archive.parse_spool import ParseSpool, parse_key
from strava_pipeline.archive.reader import ArchiveError
from strava_pipeline.archive.source import strava_archive
from strava_pipeline.archive.tracks import detect_format, parse_track
from strava_pipeline.archive.types import TrackResult, to_stream_table
from strava_pipeline.clock import SystemClock
from strava_pipeline.gc_tuning import bulk_load
from strava_pipeline.loads import prune_loaded_packages, table_exists, unwrap
from strava_pipeline.lock import warehouse_lock
from strava_pipeline.progress import Reporter

BATCH_FILES = 200
BATCH_POINTS = 500_000
PARALLEL_MIN_FILES = 8
MAX_WARNINGS_SHOWN = 20
# parse results kept until their batch is committed (parse_spool): a kill costs at most the files being parsed
SPOOL_FILE = "parsed_files.sqlite"

SKIP_KNOWN = "already imported (same content)"
SKIP_NOT_ACTIVITY = "not a FIT, GPX or TCX activity"
SKIP_NO_DATA = "no points and no start time"


@dataclass
class FileImportSummary:
    """What a file import did, for the command line (lines()) and orchestrators (the fields)."""

    paths: list[str]
    warehouse: Path | None = None
    files: int = 0  # candidate files found
    ignored: int = 0  # other files passed over in folders and zips (not .fit/.gpx/.tcx)
    new: int = 0  # activities written (source 'file')
    duplicates: int = 0  # files that are a recording already loaded: nothing added
    filled: int = 0  # of those: their streams filled an activity that had none
    superseded: int = 0  # file rows an API or archive row now stands for: removed
    damaged: int = 0  # files cut short or corrupt: their readable points kept
    points: int = 0
    batches: int = 0
    replayed: int = 0  # files a killed run had parsed (kept in parse_spool): taken from there, not parsed again
    skipped: Counter = field(default_factory=Counter)  # reason -> files
    skipped_files: list = field(default_factory=list)  # (label, reason)
    warnings: list = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0
    parse_seconds: float = 0.0

    def lines(self) -> list[str]:
        n = lambda x: f"{x:,}"  # noqa: E731
        out = []
        if self.interrupted:
            out.append("Stopped by Ctrl-C: the committed batches are kept; run the same command again to finish.")
        out.append(
            f"Files: {n(self.files)} activity file(s) found"
            + (f" ({n(self.ignored)} other files passed over)" if self.ignored else "")
            + f"; {n(self.new)} new activities (source file), {n(self.duplicates)} already loaded"
            + (f" ({n(self.filled)} of them gave their streams to an activity that had none)" if self.filled else "")
            + (f"; {n(self.damaged)} damaged (readable points kept)" if self.damaged else "")
            + "."
        )
        skipped = sum(self.skipped.values())
        if skipped:
            out.append(
                f"Skipped {n(skipped)}: " + "; ".join(f"{n(c)} {why}" for why, c in self.skipped.most_common()) + "."
            )
            for label, why in self.skipped_files[:MAX_WARNINGS_SHOWN]:
                if why != SKIP_KNOWN:
                    out.append(f"  skipped {label}: {why}")
        if self.superseded:
            out.append(f"{n(self.superseded)} file activities replaced by the same recording from Strava.")
        out.append(
            f"Stream points: {n(self.points)} in {n(self.batches)} batch(es), {self.seconds:.1f} s; "
            f"warehouse: {self.warehouse}."
        )
        if self.warnings:
            out.append(f"{n(len(self.warnings))} warning(s), e.g. {self.warnings[0]}")
        return out


def find_files(paths: list[str | Path]) -> tuple[list[FileRef], int]:
    """Every candidate device file under the paths; ArchiveError (nothing written) when a path does not exist."""
    refs: list[FileRef] = []
    ignored = 0
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise ArchiveError(
                f"{path} does not exist: pass a Strava export (.zip or folder), FIT/GPX/TCX files, or folders "
                "or zips of them."
            )
        found, passed = scan(path)
        refs += found
        ignored += passed
    return refs, ignored


def _parse(data: bytes, name: str, damaged: bool, warnings: list) -> tuple[str | None, TrackResult, float]:
    """In a worker: detect and parse one file's bytes (summary values measured too); returns CPU seconds."""
    started = time.process_time()
    fmt = detect_format(data, name)
    track = parse_track(data, name, summary=True)
    if fmt == "fit":
        bad_crc = crc_warning(data)
        if bad_crc:
            track.warnings.append(bad_crc)
    if damaged:
        track.damaged = True
    track.warnings = list(warnings) + track.warnings
    return fmt, track, time.process_time() - started


def _ignore_sigint() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass
class _Job:
    ref: FileRef
    sha256: str | None = None
    future: Future | None = None
    key: str | None = None  # its parse_spool key


def import_files(
    paths: list[str | Path],
    data_dir: Path,
    reporter: Reporter | None = None,
    *,
    clock=None,
    lock_wait_s: float | None = 0.0,
    holder: str = "strava.py import",
    workers: int | None = None,
    refs: list[FileRef] | None = None,
    athlete_id: int | None = None,
) -> FileImportSummary:
    """Import device files found under `paths` into <data_dir>/strava.duckdb (see the module docstring).

    Raises ArchiveError, before anything is written, when a path does not exist or holds no FIT/GPX/TCX file.
    `athlete_id` (`--athlete ID`) names whose recordings these are: new activities get it, and a recording only
    matches an activity of that athlete (or of none): a group ride of two members is two activities."""
    from strava_pipeline.archive.importer import default_workers

    started = time.monotonic()
    reporter = reporter or Reporter(clock=clock)
    if refs is None:
        refs, ignored = find_files(paths)
    else:
        ignored = 0
    summary = FileImportSummary([str(p) for p in paths], files=len(refs), ignored=ignored)
    if not refs:
        raise ArchiveError(
            f"{', '.join(map(str, paths))} holds no FIT, GPX or TCX file (nor a Strava export): nothing to import."
        )
    summary.warehouse = warehouses.location(data_dir)
    with warehouse_lock(data_dir, wait_s=lock_wait_s, holder=holder), bulk_load():
        _FileImport(
            refs, data_dir, reporter, clock or SystemClock(), summary, workers or default_workers(), athlete_id
        ).run()
    summary.seconds = time.monotonic() - started
    return summary


class _FileImport:
    def __init__(
        self, refs, data_dir, reporter, clock, summary: FileImportSummary, workers: int, athlete_id: int | None = None
    ) -> None:
        self.refs, self.reporter, self.clock, self.summary, self.workers = refs, reporter, clock, summary, workers
        self.pipeline = warehouses.make_pipeline(data_dir)
        self.chosen_athlete = athlete_id
        self.athlete_id: int | None = athlete_id
        self.shown = 0
        self.activities: list[dict] = []
        self.streams: list[pa.Table] = []
        self.fetch_log: list[dict] = []
        self.imported_files: list[dict] = []
        self.points = 0
        self.spool = ParseSpool(data_dir / SPOOL_FILE)
        self.keys: list[str] = []  # parse_spool keys of the files in the batch

    def _now(self) -> str:
        return datetime.fromtimestamp(self.clock.now(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _load(self, source=None) -> None:
        try:
            self.pipeline.run(source) if source is not None else self.pipeline.run()
        except PipelineStepFailed as exc:
            raise unwrap(exc) from exc

    def _prepare(self) -> None:
        if warehouses.has_pending_data(self.pipeline):
            self.reporter.say("Finishing the load an earlier run left pending...")
            self._load()
        with self.pipeline.sql_client() as sql:
            if table_exists(sql, "activities"):
                for s in supersede_file_rows(sql, self._now()):
                    self.summary.superseded += 1
                    if s.fetch_log:
                        self.fetch_log.append(s.fetch_log)
            self.index = load_index(sql)
            athletes = {k.athlete_id for k in self.index.by_id.values() if k.athlete_id is not None}
            if table_exists(sql, "athlete"):
                t = sql.make_qualified_table_name
                athletes |= {
                    r[0]
                    for r in sql.execute_sql(f"select distinct athlete_id from {t('athlete')}") or []
                    if r[0] is not None
                }
            if self.chosen_athlete is None and len(athletes) == 1:
                self.athlete_id = int(next(iter(athletes)))

    def run(self) -> None:
        self._prepare()
        pool = None
        if self.workers > 1 and len(self.refs) >= PARALLEL_MIN_FILES:
            pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_ignore_sigint
            )
        window = 4 * self.workers if pool else 1
        jobs: deque[_Job] = deque()
        self.reporter.start(len(self.refs), "Activity files")
        try:
            for ref in self.refs:
                jobs.append(self._start(ref, pool))
                while jobs and (len(jobs) > window or jobs[0].future is None or jobs[0].future.done()):
                    self._finish(jobs.popleft())
            while jobs:
                self._finish(jobs.popleft())
        except KeyboardInterrupt:
            self.summary.interrupted = True
        finally:
            self.reporter.finish()
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self._flush()
        self.summary.replayed = self.spool.replayed
        if self.summary.interrupted:
            self.spool.close()  # files parsed ahead stay for the next run
        else:
            self.spool.clear()
        prune_loaded_packages(self.pipeline)

    def _skip(self, ref: FileRef, why: str) -> None:
        self.summary.skipped[why] += 1
        self.summary.skipped_files.append((ref.label, why))

    def _start(self, ref: FileRef, pool) -> _Job:
        job = _Job(ref)
        read = read_file(ref)
        if read.skip:
            self._skip(ref, read.skip)
            return job
        job.sha256 = read.sha256
        if read.sha256 in self.index.by_sha:
            self._skip(ref, SKIP_KNOWN)
            return job
        self.index.by_sha[read.sha256] = Known(0, None, None, FILE_SOURCE, True)  # the same bytes twice in one run
        args = (read.data, ref.name, read.damaged, read.warnings)
        job.key = parse_key(*args)
        spooled = self.spool.get(job.key)  # parsed by a run that was killed before committing it
        if spooled is not None:
            job.future = Future()
            job.future.set_result((*spooled, 0.0))
            return job
        if pool is not None:
            job.future = pool.submit(_parse, *args)
        else:
            job.future = Future()
            job.future.set_result(_parse(*args))
        job.future.add_done_callback(functools.partial(self._spool, job.key))
        return job

    def _spool(self, key: str, future: Future) -> None:
        """On disk as soon as it is parsed (in the pool's result thread), not when its turn in the batch comes."""
        if future.cancelled() or future.exception() is not None:
            return
        fmt, track, _ = future.result()
        try:
            self.spool.put(key, fmt, track)
        except (OSError, sqlite3.Error):
            pass  # a full disk: the file is parsed again if this run does not commit it

    def _finish(self, job: _Job) -> None:
        s = self.summary
        self.reporter.advance(note=f"({s.points:,} points)")
        if job.future is None:
            return
        fmt, track, cpu = job.future.result()
        s.parse_seconds += cpu
        self.keys.append(job.key)
        label = job.ref.label
        if fmt is None or (track.damaged and not track.points and track.start_time_utc is None):
            self._skip(job.ref, (track.warnings[-1] if track.warnings else SKIP_NOT_ACTIVITY))
            del self.index.by_sha[job.sha256]
            return
        if not track.points and track.start_time_utc is None:
            self._skip(job.ref, SKIP_NO_DATA)
            del self.index.by_sha[job.sha256]
            return
        for w in track.warnings:
            self._warn(f"{label}: {w}")
        if track.damaged:
            s.damaged += 1
        new_id = file_activity_id(track, job.sha256)
        start = track.start_time_utc.timestamp() if track.start_time_utc else None
        sport_type = file_sport(fmt, track.sport)[0]
        match = self.index.match(start, sport_type, None, new_id, athlete_id=self.chosen_athlete)
        if match is not None:
            s.duplicates += 1
            self.index.by_sha[job.sha256] = match
            result = "duplicate"
            if track.points and not match.has_streams and not match.deleted:
                self._add_streams(track, match.id, match.athlete_id, fetch_log=match.source != FILE_SOURCE)
                match.has_streams = True
                s.filled += 1
                result = "filled"
            self._remember(job, match.id, match.athlete_id, result)
            return
        row = file_activity_row(track, fmt, label, job.sha256, self.athlete_id)
        if row["id"] in self.index.by_id:  # another athlete's recording started in the same second
            row["id"] = content_id(job.sha256)
        known = Known(row["id"], start, sport_type, FILE_SOURCE, bool(track.points), False, self.athlete_id, job.sha256)
        self.index.add(known)
        self.index.by_sha[job.sha256] = known
        self.activities.append(row)
        self._remember(job, row["id"], self.athlete_id, "new")
        s.new += 1
        if track.points:
            self._add_streams(track, row["id"], self.athlete_id, fetch_log=False)
        if len(self.activities) >= BATCH_FILES or self.points >= BATCH_POINTS:
            self._flush()

    def _remember(self, job: _Job, activity_id: int, athlete_id, result: str) -> None:
        self.imported_files.append(
            {
                "sha256": job.sha256,
                "activity_id": activity_id,
                "athlete_id": athlete_id,
                "file": job.ref.label,
                "result": result,
                "imported_at": self._now(),
            }
        )

    def _add_streams(self, track: TrackResult, activity_id: int, athlete_id, fetch_log: bool) -> None:
        self.streams.append(to_stream_table(track.table, activity_id, athlete_id, source=FILE_SOURCE))
        self.points += track.points
        self.summary.points += track.points
        if fetch_log:
            # the API's queue then leaves this activity's streams alone (a damaged file's too: what is there stays)
            self.fetch_log.append(
                {
                    "activity_id": activity_id,
                    "kind": "streams",
                    "status": FILE_FETCH_STATUS,
                    "athlete_id": athlete_id,
                    "fetched_at": self._now(),
                }
            )

    def _flush(self) -> None:
        if not (self.activities or self.streams or self.fetch_log or self.imported_files):
            self.spool.discard(self.keys)  # files that gave nothing to load: nothing waits for them
            self.keys = []
            return
        streams = [pa.concat_tables(self.streams)] if self.streams else []
        names = [
            name
            for name, items in (
                ("activities", self.activities),
                ("activity_streams", streams),
                ("fetch_log", self.fetch_log),
            )
            if items
        ]
        if self.imported_files:
            names.append("imported_files")
        source = strava_archive(
            activities=self.activities, streams=streams, fetch_log=self.fetch_log, imported_files=self.imported_files
        )
        self._load(source.with_resources(*names))
        self.spool.discard(self.keys)
        self.keys = []
        self.summary.batches += 1
        self.activities, self.streams, self.fetch_log, self.imported_files, self.points = [], [], [], [], 0

    def _warn(self, message: str) -> None:
        self.summary.warnings.append(message)
        self.shown += 1
        if self.shown <= MAX_WARNINGS_SHOWN:
            self.reporter.say(f"warning: {message}")
        elif self.shown == MAX_WARNINGS_SHOWN + 1:
            self.reporter.say("warning: more warnings follow; the summary counts them.")
