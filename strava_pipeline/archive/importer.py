"""Import a Strava bulk-export archive into the warehouse: check it, parse it, commit it in batches, sum it up.

The archive feeds the raw tables the API feeds (source = 'archive'), under three rules:
- API data wins: an activity whose row came from the API keeps it, and streams the API fetched are not replaced.
- Archive streams count as fetched: each activity's streams are committed with a fetch_log row (kind 'streams',
  status 'archive') in the same load package, so the API's work queue does not ask for them again. A damaged
  file's points are kept without that row: the API can still fetch the whole stream and replace them.
- Importing twice changes nothing: every table merges on its key, and activities whose streams are already in the
  warehouse are not read again (their file-derived values are carried over from the stored row).
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import signal
import sqlite3
import time
from collections import Counter, deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from dlt.pipeline.exceptions import PipelineStepFailed

from strava_pipeline import settings, warehouses
from strava_pipeline.archive.activities_csv import parse_activities_csv
from strava_pipeline.archive.parse_spool import ParseSpool, parse_key
from strava_pipeline.archive.reader import CSV_NAME, Archive, ArchiveError, MemberBytes, open_archive
from strava_pipeline.archive.rows import (
    EXTRA_COLUMN,
    SOURCE,
    TRACK_FIELDS,
    activity_row,
    carried_track_values,
    track_values,
)
from strava_pipeline.archive.source import strava_archive
from strava_pipeline.archive.tracks import parse_track
from strava_pipeline.archive.types import CsvResult, TrackResult, to_stream_table
from strava_pipeline.clock import SystemClock
from strava_pipeline.config import strava_command
from strava_pipeline.gc_tuning import bulk_load
from strava_pipeline.loads import column_exists, prune_loaded_packages, table_exists, unwrap
from strava_pipeline.lock import warehouse_lock
from strava_pipeline.progress import Reporter

# a batch is one load package: committed after this many activities or stream points, whichever comes first
BATCH_ACTIVITIES = 200
BATCH_POINTS = 500_000
# parsing runs in worker processes when there are at least this many files (a pool takes ~1 s to start)
PARALLEL_MIN_FILES = 40
MAX_WORKERS = 8
# fetch_log status of streams an archive supplied (the API writes 'ok' and 'none')
FETCH_STATUS = "archive"
# parse results kept until their batch is committed (parse_spool): a kill costs at most the files being parsed
SPOOL_FILE = "parsed_archive.sqlite"
# what the same history costs through the API: its read limit per day, the page size of the activity list
API_READS_PER_DAY = 1000
# unreadable activities.csv values listed in the summary (all of them stay in archive_fields)
MAX_UNREADABLE_SHOWN = 20
# warnings printed while importing; the rest are counted in the summary
MAX_WARNINGS_SHOWN = 20

# why an activity's file was not read (the summary counts each)
SKIP_NO_FILE = "no file (entered by hand)"
SKIP_MISSING = "listed in activities.csv but not in the archive"
SKIP_UNREADABLE = "not a readable FIT, GPX or TCX file"
SKIP_EMPTY = "no points in the file"
SKIP_DONE = "streams already imported"
SKIP_API = "streams already fetched from the API"
SKIP_DELETED = "activity flagged deleted on Strava"

# the inbox's folders (strava_pipeline.archive.inbox); here so that orchestration can check its copy against them
INBOX_SUBDIR = "inbox"
INBOX_DONE = "done"
INBOX_FAILED = "failed"
INBOX_LEDGER = "imported.jsonl"


@dataclass
class ApiCost:
    """The requests the same history costs through the API, and the days that takes at its daily read limit."""

    list_pages: int
    detail: int
    streams: int

    @property
    def total(self) -> int:
        return self.list_pages + self.detail + self.streams

    def days(self, per_day: int = API_READS_PER_DAY) -> int:
        return -(-self.total // per_day)


def api_cost(activities: int, with_streams: int) -> ApiCost:
    """Whole-history cost: the list (full pages, then the short or empty last one), one detail per activity and
    one streams request per activity that has a file (the runner asks nothing for manual entries)."""
    return ApiCost(list_pages=activities // settings.PER_PAGE + 1, detail=activities, streams=with_streams)


@dataclass
class ImportSummary:
    """What an import did, for the command line (lines()) and for orchestrators (the fields)."""

    archive: Path
    warehouse: Path | None = None
    activities: int = 0  # rows in activities.csv
    written: int = 0  # activity rows written (new or updated, source 'archive')
    kept_api: int = 0  # rows left alone because the API supplied them
    kept_deleted: int = 0  # rows left alone because a reconcile run found them deleted on Strava
    files_listed: int = 0  # rows whose Filename is set
    files_parsed: int = 0  # files read into stream points
    files_damaged: int = 0  # of those: cut short or corrupt, the points before the damage kept
    files_replayed: int = 0  # files a killed run had parsed (kept in parse_spool): taken from there, not parsed again
    skipped: Counter = field(default_factory=Counter)  # why a file was not read -> activities
    stream_activities: int = 0  # activities whose streams were written
    points: int = 0  # stream points written
    batches: int = 0
    athlete_id: int | None = None
    athlete_note: str = ""
    warnings: list = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0
    parse_seconds: float = 0.0  # CPU seconds parsing the activity files (summed over the parser processes)
    load_seconds: float = 0.0  # of seconds: committing the batches (dlt extract, normalize, load)
    superseded_files: int = 0  # activities from loose files that this archive's rows replaced
    csv_layout: str = ""  # how activities.csv was read: layout, language, date locale, decimal symbol
    unreadable: list = field(default_factory=list)  # (activity id, column, raw value) kept raw in archive_fields

    @property
    def cost(self) -> ApiCost:
        return api_cost(self.activities, self.activities - self.skipped[SKIP_NO_FILE])

    def lines(self) -> list[str]:
        n = lambda x: f"{x:,}"  # noqa: E731
        out = []
        if self.interrupted:
            out.append(
                f"Stopped by Ctrl-C: {n(self.batches)} batch(es) are committed; run the same command again "
                "to import the rest (activities already in are not read again)."
            )
        out.append(
            f"Activities: {n(self.activities)} in {CSV_NAME}; {n(self.written)} written (source archive)"
            + (f", {n(self.kept_api)} kept as the API supplied them" if self.kept_api else "")
            + (f", {n(self.kept_deleted)} left deleted (gone from Strava)" if self.kept_deleted else "")
            + "."
        )
        skipped = sum(self.skipped.values())
        line = f"Files: {n(self.files_parsed)} parsed"
        if self.files_damaged:
            line += f" ({n(self.files_damaged)} damaged: the points before the damage kept)"
        line += f", {n(skipped)} skipped"
        if skipped:
            line += ": " + "; ".join(f"{n(c)} {why}" for why, c in self.skipped.most_common())
        out.append(line + ".")
        out.append(
            f"Stream points: {n(self.points)} for {n(self.stream_activities)} activities, "
            f"{n(self.batches)} batch(es) in {self.seconds:.1f} s; warehouse: {self.warehouse} (dataset "
            f"{settings.DATASET_NAME})."
        )
        if self.csv_layout:
            out.append(f"{CSV_NAME}: {self.csv_layout}.")
        if self.unreadable:
            shown = "; ".join(f"{aid} {col!r} {value!r}" for aid, col, value in self.unreadable[:MAX_UNREADABLE_SHOWN])
            more = len(self.unreadable) - MAX_UNREADABLE_SHOWN
            out.append(
                f"{n(len(self.unreadable))} value(s) could not be read and are kept raw in archive_fields "
                f"(activity, column, value): {shown}" + (f"; and {n(more)} more." if more > 0 else ".")
            )
        if self.warnings:
            out.append(f"{n(len(self.warnings))} warning(s), e.g. {self.warnings[0]}")
        c = self.cost
        out.append(
            f"Through the API this history costs {n(c.total)} requests ({n(c.list_pages)} list pages, "
            f"{n(c.detail)} detail, {n(c.streams)} streams): {n(c.days())} day(s) at "
            f"{n(API_READS_PER_DAY)} a day."
        )
        if self.superseded_files:
            out.append(f"{n(self.superseded_files)} activities imported from loose files are this archive's: replaced.")
        if self.athlete_note:
            out.append(self.athlete_note)
        return out


def check_archive(path: str | os.PathLike) -> tuple[Archive, CsvResult]:
    """Open the archive and read activities.csv, touching nothing else; ArchiveError when it is not an export.

    The caller closes the returned Archive."""
    archive = open_archive(path)
    try:
        member = archive.read_csv_bytes()
        csv = parse_activities_csv(member)
        if not csv.rows and (csv.warnings or member.damaged):
            # the parser's reasons: empty, unreadable header, no Activity ID column; or a cut-off member
            reason = f"{CSV_NAME}: {member.warnings[0]}" if member.warnings else (csv.error or csv.warnings[0])
            reason = reason.split(";")[0].rstrip("?. ")
            raise ArchiveError(
                f"{archive.path} is not a usable Strava export ({reason}): pass the "
                "export .zip as downloaded from Strava, or the folder it was unpacked into."
            )
        if member.damaged:
            csv.warnings[:0] = [f"{CSV_NAME}: {w}" for w in member.warnings]
        return archive, csv
    except BaseException:
        archive.close()
        raise


def import_archive(
    path: str | os.PathLike,
    data_dir: Path,
    reporter: Reporter | None = None,
    *,
    clock=None,
    lock_wait_s: float | None = 0.0,
    holder: str = "strava.py import-archive",
    batch_activities: int = BATCH_ACTIVITIES,
    batch_points: int = BATCH_POINTS,
    workers: int | None = None,
    athlete_id: int | None = None,
) -> ImportSummary:
    """Import a bulk-export archive (.zip or unpacked folder) into <data_dir>/strava.duckdb (dataset strava).

    Raises ArchiveError before anything is written when the path is not a Strava export, and UserError when
    another process holds the warehouse (after lock_wait_s seconds; None waits as long as it takes). A Ctrl-C
    stops after committing what was read (summary.interrupted); a run again completes the rest. Files are parsed
    in `workers` processes (default: one per CPU; 1 parses in this process). `athlete_id` names whose archive it
    is (`--athlete ID`); without it the athlete is the one the warehouse holds, or none when it holds several."""
    started = time.monotonic()
    reporter = reporter or Reporter(clock=clock)
    archive, csv = check_archive(path)
    with archive:
        summary = ImportSummary(
            archive=archive.path, activities=len(csv.rows), csv_layout=csv.layout, unreadable=csv.unreadable
        )
        for w in csv.warnings:
            reporter.say(f"warning: {CSV_NAME}: {w}")
        summary.warnings += [f"{CSV_NAME}: {w}" for w in csv.warnings]
        if csv.rows:
            summary.warehouse = warehouses.location(data_dir)
            with warehouse_lock(data_dir, wait_s=lock_wait_s, holder=holder), bulk_load():
                _Import(
                    archive,
                    csv.rows,
                    data_dir,
                    reporter,
                    clock or SystemClock(),
                    summary,
                    batch_activities,
                    batch_points,
                    workers or default_workers(),
                    athlete_id,
                ).execute()
    summary.seconds = time.monotonic() - started
    return summary


def adopt_athlete(sql, athlete_id: int) -> None:
    """Give archive and file rows without an athlete (imported before the warehouse knew one) this athlete_id.

    The archive names no athlete; an API run learns it (GET /athlete). Call this once the athlete is known, with
    the warehouse lock held; rows that have an athlete are never changed."""
    for table, mine in (
        ("activities", f"source in ('{SOURCE}', 'file')"),
        ("activity_streams", f"source in ('{SOURCE}', 'file')"),
        ("fetch_log", f"status in ('{FETCH_STATUS}', 'file')"),
    ):
        if table_exists(sql, table) and column_exists(sql, table, "athlete_id"):
            sql.execute_sql(
                f"update {sql.make_qualified_table_name(table)} set athlete_id = ? where athlete_id is null and {mine}",
                int(athlete_id),
            )


class _Batch:
    def __init__(self) -> None:
        self.activities: list[dict] = []
        self.streams: list[pa.Table] = []
        self.fetch_log: list[dict] = []
        self.count = 0
        self.points = 0
        self.keys: list[str] = []  # parse_spool keys of the files whose rows are in the batch


@dataclass
class _Job:
    """One activities.csv row on its way into a batch; `future` parses its file (in a worker when there are many)."""

    row: dict
    athlete_id: int | None
    keep: str | None = None  # the stored row stays as it is: 'api' (the API supplied it) or 'deleted'
    values: dict | None = None  # file-derived activity values carried over from the stored row
    member: str | None = None  # the member read, when the file is being parsed
    future: Future | None = None
    key: str | None = None  # its parse_spool key

    def ready(self) -> bool:
        return self.future is None or self.future.done()


def _parse_member(data: bytes, name: str, damaged: bool, warnings: list) -> tuple[TrackResult, float]:
    """Parse one member (in a worker process: only plain values cross the process boundary); returns the track
    and the CPU seconds the parse took."""
    started = time.process_time()
    track = parse_track(MemberBytes(data, name, damaged, warnings), name)
    return track, time.process_time() - started


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group: the main process stops the import, workers just end with it
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def default_workers() -> int:
    """Parser processes: one per CPU (parsing is pure Python and CPU-bound), at most MAX_WORKERS."""
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


class _Import:
    def __init__(
        self,
        archive: Archive,
        rows: list[dict],
        data_dir: Path,
        reporter: Reporter,
        clock,
        summary: ImportSummary,
        batch_activities: int,
        batch_points: int,
        workers: int,
        athlete_id: int | None = None,
    ) -> None:
        self.archive, self.rows, self.reporter, self.clock = archive, rows, reporter, clock
        self.chosen_athlete = athlete_id  # --athlete: whose archive this is, whatever the warehouse holds
        self.summary = summary
        self.batch_activities, self.batch_points = batch_activities, batch_points
        self.workers = workers
        self.pipeline = warehouses.make_pipeline(data_dir)
        self.data_dir = data_dir
        self.api_rows: dict[int, int | None] = {}  # activity id -> athlete id, for rows the API supplied
        self.deleted: set[int] = set()  # rows a reconcile flagged deleted: an old archive must not bring them back
        self.streams_done: dict[int, str] = {}  # activity id -> fetch_log status ('ok' from the API, or 'archive')
        self.archive_streams: set[int] = set()  # activities with archive points (damaged files have no fetch_log)
        self.stored: dict[int, dict] = {}  # archive rows already in the warehouse, for their file-derived values
        self.athlete_id: int | None = None
        self.shown = 0
        self.spool = ParseSpool(data_dir / SPOOL_FILE)

    # ------------------------------------------------------------------------------------------- the warehouse
    def _load(self, source=None) -> None:
        try:
            self.pipeline.run(source) if source is not None else self.pipeline.run()
        except PipelineStepFailed as exc:
            raise unwrap(exc) from exc

    def _read_state(self) -> None:
        with self.pipeline.sql_client() as sql:
            # catalog-qualified names (warehouses.destination loads strava_pipeline.warehouse): the file is `strava` too
            t = sql.make_qualified_table_name
            athletes: set[int] = set()
            if table_exists(sql, "athlete"):
                athletes |= {
                    r[0]
                    for r in sql.execute_sql(
                        f"select distinct athlete_id from {t('athlete')} where athlete_id is not null"
                    )
                    or []
                }
            has_source = table_exists(sql, "activities") and column_exists(sql, "activities", "source")
            if table_exists(sql, "activities"):
                source = "coalesce(source, 'api')" if has_source else "'api'"
                deleted = "coalesce(deleted, false)" if column_exists(sql, "activities", "deleted") else "false"
                rows = sql.execute_sql(f"select id, athlete_id, {source}, {deleted} from {t('activities')}") or []
                for aid, athlete, src, is_deleted in rows:
                    if is_deleted:
                        self.deleted.add(int(aid))
                    if src != SOURCE:
                        self.api_rows[int(aid)] = athlete
                        if athlete is not None:
                            athletes.add(athlete)
            if table_exists(sql, "fetch_log"):
                self.streams_done = {
                    int(aid): status
                    for aid, status in sql.execute_sql(
                        f"select activity_id, status from {t('fetch_log')} where kind = 'streams' "
                        f"and status in ('ok', '{FETCH_STATUS}')"
                    )
                    or []
                }
            if table_exists(sql, "activity_streams") and column_exists(sql, "activity_streams", "source"):
                self.archive_streams = {
                    int(r[0])
                    for r in sql.execute_sql(
                        f"select distinct activity_id from {t('activity_streams')} where source = '{SOURCE}'"
                    )
                    or []
                }
            if has_source and column_exists(sql, "activities", EXTRA_COLUMN):
                cols = ["id", EXTRA_COLUMN, *TRACK_FIELDS]
                for values in (
                    sql.execute_sql(f"select {', '.join(cols)} from {t('activities')} where source = '{SOURCE}'") or []
                ):
                    self.stored[int(values[0])] = _from_warehouse(dict(zip(cols, values)))
            if self.chosen_athlete is not None:
                self.athlete_id = int(self.chosen_athlete)
            elif len(athletes) == 1:
                self.athlete_id = int(next(iter(athletes)))
                adopt_athlete(sql, self.athlete_id)
        s = self.summary
        s.athlete_id = self.athlete_id
        if self.chosen_athlete is not None:
            s.athlete_note = f"Athlete: {self.athlete_id} (--athlete)."
        elif self.athlete_id is not None:
            s.athlete_note = f"Athlete: {self.athlete_id} (the one this warehouse already holds)."
        elif athletes:
            s.athlete_note = (
                f"Athlete: left empty, this warehouse holds {len(athletes)} athletes and the archive "
                "does not say whose it is: import it again with "
                f"`{strava_command(self.data_dir, 'import', str(self.archive.path), '--athlete', 'ID')}`."
            )
        else:
            s.athlete_note = (
                "Athlete: left empty (the archive does not name one); it is filled in once an API run "
                f"has loaded your profile: run `{strava_command(self.data_dir)}`, then this import again."
            )

    # ------------------------------------------------------------------------------------------- the import
    def execute(self) -> None:
        if warehouses.has_pending_data(self.pipeline):
            # an import or API run that was killed left a complete package behind: finish it first
            self.reporter.say("Finishing the load an earlier run left pending...")
            self._load()
        self._read_state()
        to_parse = sum(
            1
            for r in self.rows
            if r.get("filename") and r["id"] not in self.streams_done and r["id"] not in self.archive_streams
        )
        pool = None
        if self.workers > 1 and to_parse >= PARALLEL_MIN_FILES:
            pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_ignore_sigint
            )
        # files are parsed ahead (in order) so the workers stay busy while the main process loads a batch
        window = 4 * self.workers if pool else 1
        self.reporter.start(len(self.rows), "Archive activities")
        batch = _Batch()
        jobs: deque[_Job] = deque()
        try:
            for row in self.rows:
                jobs.append(self._start(row, pool))
                while jobs and (len(jobs) > window or jobs[0].ready()):
                    batch = self._finish(jobs.popleft(), batch)
            while jobs:
                batch = self._finish(jobs.popleft(), batch)
        except KeyboardInterrupt:
            self.summary.interrupted = True
        finally:
            self.reporter.finish()
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        # on Ctrl-C too: every activity in the batch is complete, so what was read is kept
        self._flush(batch)
        self.summary.files_replayed = self.spool.replayed
        if self.summary.interrupted:
            self.spool.close()  # files parsed ahead stay for the next run
        else:
            self.spool.clear()
        self._supersede_files()
        prune_loaded_packages(self.pipeline)

    def _supersede_files(self) -> None:
        """Loose-file activities this archive now stands for go (dedupe: one activity per recording)."""
        from strava_pipeline.archive.dedupe import supersede_file_rows

        with self.pipeline.sql_client() as sql:
            done = supersede_file_rows(sql, self._now()) if table_exists(sql, "activities") else []
        logs = [d.fetch_log for d in done if d.fetch_log]
        self.summary.superseded_files = len(done)
        if logs:
            self._load(strava_archive(fetch_log=logs).with_resources("fetch_log"))

    def _start(self, row: dict, pool: ProcessPoolExecutor | None) -> _Job:
        """Decide what the row needs; read its file's bytes here and hand the parse to the pool (or do it now)."""
        s = self.summary
        aid = row["id"]
        api_athlete = self.api_rows.get(aid)
        job = _Job(row, api_athlete if api_athlete is not None else self.athlete_id)
        filename = row.get("filename")
        if filename:
            s.files_listed += 1
        if aid in self.deleted:
            job.keep = "deleted"
            s.skipped[SKIP_DELETED] += 1
            return job
        if aid in self.api_rows:
            job.keep = "api"
        status = self.streams_done.get(aid)
        if status == "ok":
            s.skipped[SKIP_API] += 1
            return job
        if status == FETCH_STATUS or aid in self.archive_streams:
            s.skipped[SKIP_DONE] += 1
            job.values = carried_track_values(self.stored.get(aid, {}))
            return job
        if not filename:
            s.skipped[SKIP_NO_FILE] += 1
            return job
        member = self.archive.open_member(filename)
        for w in self.archive.warnings:
            self._warn(f"{filename} (activity {aid}): {w}")
        self.archive.warnings.clear()
        if member is None:
            s.skipped[SKIP_MISSING] += 1
            return job
        job.member = member.name
        args = (bytes(member), member.name, member.damaged, member.warnings)
        job.key = parse_key(*args)
        spooled = self.spool.get(job.key)  # parsed by a run that was killed before committing it
        if spooled is not None:
            job.future = Future()
            job.future.set_result((spooled[1], 0.0))
            return job
        if pool is not None:
            job.future = pool.submit(_parse_member, *args)
        else:
            job.future = Future()
            job.future.set_result(_parse_member(*args))
        job.future.add_done_callback(functools.partial(self._spool, job.key))
        return job

    def _spool(self, key: str, future: Future) -> None:
        """On disk as soon as it is parsed (in the pool's result thread), not when its turn in the batch comes."""
        if future.cancelled() or future.exception() is not None:
            return
        try:
            self.spool.put(key, None, future.result()[0])
        except (OSError, sqlite3.Error):
            pass  # a full disk: the file is parsed again if this run does not commit it

    def _finish(self, job: _Job, batch: _Batch) -> _Batch:
        """Add the job's rows to the batch (waiting for its parse), and commit the batch when it is full."""
        s = self.summary
        values = job.values
        if job.future is not None:
            track, seconds = job.future.result()
            s.parse_seconds += seconds
            values = self._track(job, track, batch)
            batch.keys.append(job.key)
        if job.keep == "deleted":
            s.kept_deleted += 1
        elif job.keep == "api":
            s.kept_api += 1
        else:
            batch.activities.append(activity_row(job.row, job.athlete_id, values))
            s.written += 1
        batch.count += 1
        self.reporter.advance(note=f"({s.points:,} points)")
        if batch.count >= self.batch_activities or batch.points >= self.batch_points:
            self._flush(batch)
            return _Batch()
        return batch

    def _track(self, job: _Job, track: TrackResult, batch: _Batch) -> dict | None:
        s = self.summary
        aid = job.row["id"]
        for w in track.warnings:
            self._warn(f"{job.member} (activity {aid}): {w}")
        if not track.points:
            s.skipped[SKIP_UNREADABLE if track.damaged else SKIP_EMPTY] += 1
            return None
        s.files_parsed += 1
        if track.damaged:
            s.files_damaged += 1
        batch.streams.append(to_stream_table(track.table, aid, job.athlete_id))
        batch.points += track.points
        s.points += track.points
        s.stream_activities += 1
        if not track.damaged:
            # a damaged file's points are kept without this row: the API may still fetch the whole stream
            batch.fetch_log.append(
                {
                    "activity_id": aid,
                    "kind": "streams",
                    "status": FETCH_STATUS,
                    "athlete_id": job.athlete_id,
                    "fetched_at": self._now(),
                }
            )
        return track_values(track, job.row.get("start_date"))

    def _flush(self, batch: _Batch) -> None:
        if not (batch.activities or batch.streams or batch.fetch_log):
            return
        # one Arrow table per commit: dlt's per-item overhead would otherwise dominate for thousands of points
        # to_stream_table gives settings.STREAM_SCHEMA, whose activity_id is not null like dlt's column
        streams = [pa.concat_tables(batch.streams)] if batch.streams else []
        names = [
            name
            for name, items in (
                ("activities", batch.activities),
                ("activity_streams", streams),
                ("fetch_log", batch.fetch_log),
            )
            if items
        ]
        started = time.monotonic()
        self._load(
            strava_archive(activities=batch.activities, streams=streams, fetch_log=batch.fetch_log).with_resources(
                *names
            )
        )
        self.spool.discard(batch.keys)
        self.summary.batches += 1
        self.summary.load_seconds += time.monotonic() - started

    def _warn(self, message: str) -> None:
        self.summary.warnings.append(message)
        self.shown += 1
        if self.shown <= MAX_WARNINGS_SHOWN:
            self.reporter.say(f"warning: {message}")
        elif self.shown == MAX_WARNINGS_SHOWN + 1:
            self.reporter.say("warning: more warnings follow; the summary counts them.")

    def _now(self) -> str:
        return datetime.fromtimestamp(self.clock.now(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _from_warehouse(row: dict) -> dict:
    """A stored activities row back in the shape activity_row wrote it (json text parsed, timestamps as ISO)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, str) and key in (EXTRA_COLUMN, "start_latlng", "end_latlng"):
            value = json.loads(value)
        elif isinstance(value, datetime):
            value = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        out[key] = value
    return out
