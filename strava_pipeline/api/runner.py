"""One import run for every authorized athlete: list new activities, then work through the queue (detail, streams,
zones) within the app's one budget.

How the budget is shared (Strava counts 100 reads / 15 min and 1,000 / day per application, whoever the athlete):
1. every athlete's "anything new?" listing, then
2. the new activities of every athlete (the ones the incremental listing added: a --start-date or --reconcile listing
   has no "new", its run goes on with step 3), one activity per athlete in turn, then
3. the athletes' profiles (athlete, stats, zones at most weekly; each new gear once), then
4. the backfill queue, one activity per athlete in turn (round-robin), newest first within each athlete.
Why this rule: a daily run's first quarter hour (100 reads) holds steps 1 and 2 for a club (20 athletes: 20 listing
requests and about 2 requests per new activity), so what athletes just recorded is in the warehouse minutes after the
run starts whatever the size of anyone's history; round-robin then gives each athlete with work left the same share
of what remains, so a 3,000-activity history takes the budget the small ones no longer need instead of queueing them
behind it; and no request is spent on ordering, so the total equals what a single queue would cost.
An athlete whose token Strava refuses (revoked, replaced) is left out of the run with one line saying how to authorize
them again; the others go on (summary.skipped, exit code 2 at the end).
"""

import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import requests
from dlt.pipeline.exceptions import PipelineStepFailed

from strava_pipeline import (
    settings,
    warehouse,  # noqa: F401  (catalog-qualified names for dlt)
    warehouses,
)
from strava_pipeline.api.athletes import AthleteSlot, discover, select
from strava_pipeline.api.auth import StravaAuth, TokenRejected
from strava_pipeline.api.client import ItemError, NotFound, ServerFailing, StravaClient
from strava_pipeline.api.journal import JOURNAL_FILE, ResponseJournal
from strava_pipeline.api.ratelimit import Budget, BudgetStop, days_needed
from strava_pipeline.api.workqueue import WorkItem, pending, requests_needed
from strava_pipeline.clock import SystemClock
from strava_pipeline.config import StravaConfig, UserError, pipelines_dir, strava_command
from strava_pipeline.gc_tuning import bulk_load
from strava_pipeline.helpers import (
    athlete_row,
    detail_rows,
    gear_row,
    iso_from_epoch,
    stats_row,
    streams_table,
    zone_rows,
)
from strava_pipeline.host_errors import host_problem
from strava_pipeline.loads import prune_loaded_packages, table_exists, unwrap
from strava_pipeline.lock import warehouse_lock
from strava_pipeline.progress import Reporter
from strava_pipeline.source import strava

# a batch is committed (one dlt load package) after this many activities or stream points, whichever first, and
# before every wait for the next rate-limit window: on the real API a crash loses at most one window's requests
BATCH_ACTIVITIES = 200
BATCH_POINTS = 1_000_000
# this many queue requests failing in a row after all their retries (5xx, lost connections) stop the run
STORM_ITEMS = 3
# the athlete profile, stats and zones are refreshed at most weekly: a multi-day import spends nothing on them
PROFILE_MAX_AGE_S = 7 * 24 * 3600
EARLIEST = "2000-01-01T00:00:00Z"


@dataclass
class RunOptions:
    data_dir: Path
    start_date: date | None = None
    end_date: date | None = None
    detail: bool = True
    streams: bool = True
    zones: bool = False
    wait: bool = True
    max_requests: int | None = None
    plan: bool = False
    reconcile: bool = False
    timeout: float = 60.0
    athlete_id: int | None = None  # --athlete: only this one

    @property
    def kinds(self) -> list[str]:
        return [k for k, on in (("detail", self.detail), ("streams", self.streams), ("zones", self.zones)) if on]

    @property
    def backfill(self) -> bool:
        return self.start_date is not None or self.end_date is not None


@dataclass
class RunSummary:
    new_activities: int = 0
    updated_activities: int = 0
    deleted_activities: int = 0
    items_done: int = 0
    stream_points: int = 0
    failed: list = field(default_factory=list)
    requests: int = 0
    token_requests: int = 0
    stop: BudgetStop | None = None
    interrupted: bool = False
    remaining_items: int = 0
    remaining_requests: int = 0
    days_left: int = 0
    warehouse: Path | None = None
    athletes: int = 1
    skipped: list = field(default_factory=list)  # one sentence per athlete left out (token refused)


def set_aside_damaged_state(data_dir: Path, reporter: Reporter) -> None:
    """dlt's local state file cut short or garbled (a crash, a full disk) is renamed *.damaged: dlt then restores the
    state from the copy it keeps in the warehouse, instead of failing every run with a JSON error."""
    path = pipelines_dir(data_dir) / settings.PIPELINE_NAME / "state.json"
    try:
        json.loads(path.read_bytes())
        return
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        pass
    path.replace(path.with_name("state.json.damaged"))
    reporter.say(f"{path} was damaged (kept as state.json.damaged); the state is restored from the warehouse.")


class ListingAborted(Exception):
    """The daily budget ran out in the middle of a listing whose order does not allow keeping a part of it."""


def _utc_day(d: date) -> str:
    return datetime(d.year, d.month, d.day, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class AthleteRun:
    """One athlete within the run: their slot (tokens), the client that speaks with their token, what is new."""

    slot: AthleteSlot
    auth: StravaAuth
    client: StravaClient
    new_ids: set = field(default_factory=set)
    skipped: bool = False

    @property
    def athlete_id(self) -> int | None:
        return self.slot.athlete_id


def round_robin(queues: list[list]) -> list:
    """One item of each queue in turn: [[a1, a2], [b1]] -> [a1, b1, a2]."""
    order, depth = [], max((len(q) for q in queues), default=0)
    for i in range(depth):
        order += [q[i] for q in queues if i < len(q)]
    return order


class Run:
    def __init__(
        self,
        opts: RunOptions,
        cfg: StravaConfig,
        clock=None,
        reporter: Reporter | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.opts = opts
        self.cfg = cfg
        self.clock = clock or SystemClock()
        self.reporter = reporter or Reporter(clock=self.clock)
        self.summary = RunSummary(warehouse=warehouses.location(opts.data_dir))
        session = session or requests.Session()
        self.budget = Budget(
            clock=self.clock,
            max_requests=opts.max_requests,
            wait=opts.wait,
            state_path=opts.data_dir / settings.BUDGET_FILE,
            on_wait=self._wait,
        )
        # every answer is on disk before the next request: a killed run costs the next one at most one request
        self.journal = ResponseJournal(opts.data_dir / JOURNAL_FILE, self.clock)
        every = discover(opts.data_dir, cfg)
        self.single_athlete_dir = len(every) == 1
        self.athletes = [self._athlete_run(slot, session) for slot in select(every, opts.athlete_id, opts.data_dir)]
        self.summary.athletes = len(self.athletes)
        # the first athlete's auth and client: what a one-athlete run used to call self.auth and self.client
        self.auth, self.client = self.athletes[0].auth, self.athletes[0].client
        set_aside_damaged_state(opts.data_dir, self.reporter)
        self.pipeline = warehouses.make_pipeline(opts.data_dir)
        self._batch: Batch | None = None
        # per kind of request: how many in a row Strava failed (5xx, lost connection) after all their retries
        self._server_failures: dict[str, int] = {}

    def _athlete_run(self, slot: AthleteSlot, session: requests.Session) -> AthleteRun:
        opts = self.opts
        auth = StravaAuth(
            slot.config(self.cfg), slot.store, session, self.clock, timeout=opts.timeout, data_dir=opts.data_dir
        )
        client = StravaClient(
            self.cfg.base_url,
            auth,
            self.budget,
            session,
            self.clock,
            timeout=opts.timeout,
            journal=self.journal,
            key_prefix=slot.key_prefix,
        )
        return AthleteRun(slot, auth, client)

    def _active(self) -> list[AthleteRun]:
        return [a for a in self.athletes if not a.skipped]

    def _skip(self, athlete: AthleteRun, exc: TokenRejected) -> None:
        """Leave an athlete whose token Strava refuses out of the rest of the run; a lone athlete stops the run."""
        if len(self.athletes) == 1:
            raise exc
        athlete.skipped = True
        line = f"Skipped {athlete.slot.label}: {exc} The other athletes go on."
        self.summary.skipped.append(line)
        self.reporter.say(line)

    # ---------------------------------------------------------------- helpers
    def _wait(self, seconds: float, reason: str) -> None:
        # commit what is fetched before idling for a quarter hour: a Ctrl-C during the wait then loses nothing
        if self._batch is not None:
            self._flush(self._batch)  # emptied in place: the item being fetched keeps adding to it
        self.reporter.wait(seconds, reason, self.clock)

    def _now_iso(self) -> str:
        return iso_from_epoch(self.clock.now())

    def _sql(self, query: str, *args: Any) -> list:
        """Run a query; `{t:name}` placeholders become catalog-qualified raw table names."""
        with self.pipeline.sql_client() as sql:
            query = re.sub(r"\{t:(\w+)\}", lambda m: sql.make_qualified_table_name(m.group(1)), query)
            return sql.execute_sql(query, *args) or []

    def _table_exists(self, table: str) -> bool:
        with self.pipeline.sql_client() as sql:
            return table_exists(sql, table)

    def _load(self, source) -> None:
        """Commit one load package; the journal then forgets the answers it holds (each _load takes all the
        answers used since the last one: the listing, the profile, or a batch of the queue)."""
        try:
            self.pipeline.run(source)
        except BaseException as exc:
            self.journal.release()  # not committed: the answers stay journaled for the next run
            if isinstance(exc, PipelineStepFailed):
                raise unwrap(exc, (BudgetStop, ListingAborted)) from exc
            raise
        self.journal.loaded()

    def _load_tables(self, **tables: list) -> None:
        self._load(strava(tables=tables).with_resources(*tables))

    # ---------------------------------------------------------------- phases
    def execute(self) -> RunSummary:
        if warehouses.has_pending_data(self.pipeline):
            # a run that was killed left a complete package behind: finish it before anything else
            self.reporter.say("Finishing the load an earlier run left pending...")
            self.pipeline.run()
        try:
            for athlete in self._active():
                with self._guard(athlete):
                    if self.opts.reconcile:
                        self.reconcile(athlete)
                    else:
                        self.list_activities(athlete)
            if not self.opts.plan:
                self.work(new_only=True)
                for athlete in self._active():
                    with self._guard(athlete):
                        self.profile(athlete)
                self.work()
        except BudgetStop as stop:
            self.summary.stop = stop
        except KeyboardInterrupt:
            self.summary.interrupted = True
        self.finish()
        if self.athletes and not self._active():
            raise UserError(
                f"Strava refused the tokens of all {len(self.athletes)} athletes: run "
                f"`{strava_command(self.opts.data_dir, 'auth')}` once for each of them."
            )
        return self.summary

    @contextmanager
    def _guard(self, athlete: AthleteRun):
        try:
            yield
        except TokenRejected as exc:
            self._skip(athlete, exc)

    def _existing_ids(self, athlete: AthleteRun | None = None) -> set:
        """Activity ids in the warehouse: all, or one athlete's (the first athlete's include rows of no athlete)."""
        if not self._table_exists("activities"):
            return set()
        if athlete is None or len(self.athletes) == 1 and self.single_athlete_dir:
            return {r[0] for r in self._sql("select id from {t:activities}")}
        return {r[0] for r in self._sql("select id from {t:activities} where " + self._whose(athlete))}

    def _whose(self, athlete: AthleteRun) -> str:
        """SQL condition on athlete_id for this athlete's rows."""
        if athlete.athlete_id is None:
            return "athlete_id is null"
        mine = f"athlete_id = {int(athlete.athlete_id)}"
        return f"({mine} or athlete_id is null)" if athlete.slot.first else mine

    def list_activities(self, athlete: AthleteRun) -> None:
        opts = self.opts
        if opts.backfill:
            initial = _utc_day(opts.start_date) if opts.start_date else EARLIEST
            end = _utc_day(opts.end_date + timedelta(days=1)) if opts.end_date else self._now_iso()
        else:
            initial, end = iso_from_epoch(self.clock.now() - settings.INITIAL_DAYS * 86400), None
        self._list(athlete, initial, end)

    def reconcile(self, athlete: AthleteRun) -> None:
        """List every activity (ceil(N/200) requests, state untouched) to pick up edits; flag the ones gone."""
        existing = self._existing_ids(athlete)
        listed = self._list(athlete, EARLIEST, self._now_iso())
        gone = sorted(existing - listed)
        if gone:
            self._sql(
                "update {t:activities} set deleted = true, deleted_at = ? "
                f"where id in ({','.join(str(int(i)) for i in gone)}) and not coalesce(deleted, false)",
                datetime.fromtimestamp(self.clock.now(), UTC),
            )
        self.summary.deleted_activities += len(gone)

    def _list(self, athlete: AthleteRun, initial: str, end: str | None) -> set:
        """Load the activity list between initial and end (end set: a window on a throwaway state).

        Returns the ids listed; raises BudgetStop after loading what was listed when the budget ran out.
        """
        backfill = end is not None
        # a run killed before the list was committed asks the same pages again, so its journal answers them
        pin = f"{athlete.slot.key_prefix}listing:{self.opts.reconcile}:{self.opts.start_date}:{self.opts.end_date}"
        initial, end = self.journal.pin(pin, [initial, end])
        listed: list[int] = []
        last_start: list[str] = []
        ascending = [True]
        stop: list[BudgetStop] = []

        def fetch_page(params: dict) -> list:
            try:
                rows = athlete.client.get(settings.ACTIVITIES_PATH, params, label="GET /athlete/activities")
            except BudgetStop as exc:
                stop.append(exc)
                if listed and not ascending[0] and not backfill:
                    # newest-first order: the part listed so far would move the cursor past activities not yet seen
                    raise ListingAborted() from exc
                return []
            except ItemError as exc:
                raise UserError(
                    f"The activity list could not be read ({exc}): check sources.strava.base_url, "
                    "or run again later (nothing was lost)."
                ) from exc
            except NotFound:
                raise UserError(
                    f"{self.cfg.base_url}{settings.ACTIVITIES_PATH} does not exist (404): "
                    "check sources.strava.base_url (it ends in /api/v3)."
                ) from None
            if not isinstance(rows, list):
                raise UserError(
                    f"{self.cfg.base_url} did not answer like the Strava API (no activity list): "
                    "check sources.strava.base_url."
                )
            for r in rows:
                start = r.get("start_date") if isinstance(r, dict) else None
                if not start or "id" not in r:
                    raise UserError(
                        f"{self.cfg.base_url} answered with activities lacking id/start_date: "
                        "check sources.strava.base_url."
                    )
                if last_start and start < last_start[0]:
                    ascending[0] = False
                last_start[:] = [start]
                listed.append(r["id"])
            return rows

        existing = self._existing_ids()
        name = athlete.slot.resource_name
        source = strava(fetch_page=fetch_page, initial_value=initial, end_value=end, activities_name=name)
        try:
            self._load(source.with_resources(name))
        except ListingAborted:
            self.reporter.say("The budget ran out in the middle of the activity list; nothing of it was kept.")
            raise stop[0] from None
        self.journal.unpin(pin)
        listed_set = set(listed)
        if not backfill and not self.opts.reconcile:
            # what the incremental listing found since the athlete's cursor: fetched before anyone's backfill
            athlete.new_ids |= listed_set - existing
        self.summary.new_activities += len(listed_set - existing)
        self.summary.updated_activities += len(listed_set & existing)
        if stop:
            raise stop[0]
        return listed_set

    def _age_s(self, table: str, athlete_id: int | None = None) -> float | None:
        if not self._table_exists(table):
            return None
        mine = "" if athlete_id is None else f" where athlete_id = {int(athlete_id)}"
        rows = self._sql(f"select max(fetched_at) from {{t:{table}}}{mine}")
        if not rows or rows[0][0] is None:
            return None
        return self.clock.now() - rows[0][0].timestamp()

    def _stale(self, table: str, athlete_id: int | None = None) -> bool:
        age = self._age_s(table, athlete_id)
        return age is None or age > PROFILE_MAX_AGE_S

    def _known_athlete(self, athlete: AthleteRun) -> int | None:
        """The athlete's id: from their token file, or (a data dir of one athlete) the warehouse's athlete row."""
        if athlete.athlete_id is None and self.single_athlete_dir and self._table_exists("athlete"):
            found = self._sql("select max(athlete_id) from {t:athlete}")[0][0]
            if found is not None:
                athlete.slot.remember(athlete.auth.tokens, found)
        return athlete.athlete_id

    def profile(self, athlete: AthleteRun) -> None:
        """Athlete, stats and zones (at most weekly) and each gear once: a handful of requests, one commit."""
        now = self._now_iso()
        fetched: dict[str, list] = {}
        client = athlete.client
        try:
            athlete_id = self._known_athlete(athlete)
            if athlete_id is None or self._stale("athlete", athlete_id):
                profile = client.get(settings.ATHLETE_PATH, label="GET /athlete")
                athlete_id = profile["id"]
                fetched["athlete"] = [athlete_row(profile, now)]
                athlete.slot.remember(athlete.auth.tokens, athlete_id)
            if athlete_id is not None and self.single_athlete_dir:
                # rows of an archive imported before the athlete was known get their athlete now
                from strava_pipeline.archive.importer import adopt_athlete  # the importer builds on this module

                with self.pipeline.sql_client() as sql:
                    adopt_athlete(sql, athlete_id)
            if not self.opts.detail or athlete_id is None:
                return
            if self._stale("athlete_stats", athlete_id):
                stats = client.get(
                    settings.ATHLETE_STATS_PATH.format(athlete_id=athlete_id), label="GET /athletes/{id}/stats"
                )
                fetched["athlete_stats"] = [stats_row(stats, athlete_id, now)]
            if self._stale("athlete_zones", athlete_id):
                try:
                    zones = client.get(settings.ATHLETE_ZONES_PATH, label="GET /athlete/zones")
                    fetched["athlete_zones"] = [{**zones, "athlete_id": athlete_id, "fetched_at": now}]
                except (NotFound, ItemError) as exc:
                    self.reporter.say(f"Athlete zones not available ({exc}); skipped.")
            for gear_id in self._missing_gear(athlete_id):
                try:
                    gear = client.get(settings.GEAR_PATH.format(gear_id=gear_id), label="GET /gear/{id}")
                except NotFound:
                    gear = {"id": gear_id, "name": None}  # retired and deleted gear: remember it, ask once
                except ItemError as exc:
                    self.summary.failed.append(f"gear {gear_id}: {exc}")
                    continue
                fetched.setdefault("gear", []).append(gear_row(gear, athlete_id, now))
        finally:
            if fetched:
                self._load_tables(**fetched)

    def _missing_gear(self, athlete_id: int) -> list[str]:
        if not self._table_exists("activities"):
            return []
        have = "and gear_id not in (select id from {t:gear})" if self._table_exists("gear") else ""
        # a data dir of one athlete: rows of no athlete (an archive imported before the API) are theirs too
        mine = "true" if self.single_athlete_dir else f"athlete_id = {int(athlete_id)}"
        rows = self._sql(
            f"select distinct gear_id from {{t:activities}} where gear_id is not null and {mine} {have} order by 1"
        )
        return [r[0] for r in rows]

    def _owner(self, item: WorkItem) -> AthleteRun | None:
        """The athlete of this run whose token fetches the item (rows of no athlete: the first athlete's)."""
        for athlete in self.athletes:
            if athlete.athlete_id is not None and item.athlete_id == athlete.athlete_id:
                return athlete
        first = self.athletes[0]
        if first.slot.first and (item.athlete_id is None or first.athlete_id is None and self.single_athlete_dir):
            return first
        return None

    def _queue(self, new_only: bool) -> list[tuple[AthleteRun, WorkItem]]:
        """The items of the active athletes, one athlete's item after another's (see the module docstring)."""
        with self.pipeline.sql_client() as sql:
            items = pending(sql, self.opts.kinds)
        queues: dict[int, list] = {id(a): [] for a in self._active()}
        for item in items:
            athlete = self._owner(item)
            if athlete is None or athlete.skipped or (item.activity_id in athlete.new_ids) != new_only:
                continue
            queues[id(athlete)].append((athlete, item))
        return round_robin(list(queues.values()))

    def work(self, new_only: bool = False) -> None:
        """Fetch the queue: the activities this run listed as new (new_only), or everything still queued."""
        items = self._queue(new_only)
        if not items:
            return
        self.reporter.start(len(items), "Activities to fetch")
        self._batch = Batch()
        try:
            for athlete, item in items:
                if athlete.skipped:
                    continue
                with self._guard(athlete):
                    self._fetch_item(athlete, item, self._batch)
                self.reporter.advance()
                if self._batch.activities >= BATCH_ACTIVITIES or self._batch.points >= BATCH_POINTS:
                    self._flush(self._batch)
        finally:
            # whatever stops the loop (budget, Ctrl-C, an error), what was fetched is committed
            self.reporter.finish()
            batch, self._batch = self._batch, None
            self._flush(batch)

    def _fetch_item(self, athlete: AthleteRun, item: WorkItem, batch: "Batch") -> None:
        now = self._now_iso()
        client = athlete.client
        athlete_id = item.athlete_id if item.athlete_id is not None else athlete.athlete_id
        fetched_any = False
        for kind in item.kinds:
            try:
                if kind == "detail":
                    detail = client.get(
                        settings.ACTIVITY_PATH.format(activity_id=item.activity_id), label="GET /activities/{id}"
                    )
                    row, laps, efforts = detail_rows(detail, athlete_id, now)
                    batch.add("activity_details", [row])
                    batch.add("activity_laps", laps)
                    batch.add("activity_best_efforts", efforts)
                elif kind == "streams":
                    if item.manual:
                        # manual entries have no file, Strava answers 404: don't spend a request to learn that
                        batch.log(item, kind, "none", now)
                        continue
                    payload = client.get(
                        settings.STREAMS_PATH.format(activity_id=item.activity_id),
                        {"keys": ",".join(settings.STREAM_KEYS), "key_by_type": "true"},
                        label="GET /activities/{id}/streams",
                    )
                    table = streams_table(payload, item.activity_id, athlete_id)
                    if table.num_rows:
                        batch.streams.append(table)
                        batch.points += table.num_rows
                        self.summary.stream_points += table.num_rows
                elif kind == "zones":
                    zones = client.get(
                        settings.ZONES_PATH.format(activity_id=item.activity_id), label="GET /activities/{id}/zones"
                    )
                    batch.add("activity_zones", zone_rows(zones, item.activity_id, athlete_id))
                batch.log(item, kind, "ok", now)
                fetched_any = True
            except NotFound:
                batch.log(item, kind, "none", now)
            except ItemError as exc:
                self.summary.failed.append(f"activity {item.activity_id} {kind}: {exc}")
                if isinstance(exc, ServerFailing):
                    self._server_failures[kind] = self._server_failures.get(kind, 0) + 1
                    if self._server_failures[kind] >= STORM_ITEMS:
                        # an outage: retrying item after item would only burn the day's budget on 5xx answers
                        raise BudgetStop(
                            f"Strava failed {STORM_ITEMS} {kind} requests in a row ({exc}); none of them is "
                            "marked done",
                            daily=False,
                        ) from None
                continue
            self._server_failures[kind] = 0
        if fetched_any:
            batch.activities += 1
            self.summary.items_done += 1

    def _flush(self, batch: "Batch") -> None:
        """Commit the batch as one load package and empty it."""
        if batch.empty():
            return
        tables = {**batch.rows, "fetch_log": batch.fetch_log}
        # one Arrow table per commit: dlt's per-item overhead would otherwise dominate for thousands of points
        streams = [pa.concat_tables(batch.streams)] if batch.streams else []
        names = [name for name, rows in tables.items() if rows] + (["activity_streams"] if streams else [])
        self._load(strava(tables=tables, streams=streams).with_resources(*names))
        batch.clear()

    def finish(self) -> None:
        s = self.summary
        s.requests = self.budget.sent
        s.token_requests = sum(a.auth.token_requests for a in self.athletes)
        self.budget.save()
        with self.pipeline.sql_client() as sql:
            remaining = pending(sql, self.opts.kinds)
        if self.opts.athlete_id is not None:
            remaining = [item for item in remaining if self._owner(item) is not None]
        s.remaining_items = len(remaining)
        s.remaining_requests = requests_needed(remaining)
        _, per_day = self.budget.read_limits()
        per_day = min(per_day, self.opts.max_requests or per_day)
        left_today = 0 if s.stop else self.budget.remaining_today()
        s.days_left = days_needed(s.remaining_requests, per_day, left_today)
        if not (s.stop or s.interrupted or s.remaining_items):
            self.journal.clear()  # everything is committed: nothing left to replay
        self.journal.close()
        prune_loaded_packages(self.pipeline)


class Batch:
    """What was fetched since the last commit; committed as one load package with its fetch_log rows."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.rows: dict[str, list] = {}
        self.streams: list = []
        self.fetch_log: list[dict] = []
        self.activities = 0
        self.points = 0

    def add(self, table: str, rows: list) -> None:
        if rows:
            self.rows.setdefault(table, []).extend(rows)

    def log(self, item: WorkItem, kind: str, status: str, now: str) -> None:
        self.fetch_log.append(
            {
                "activity_id": item.activity_id,
                "kind": kind,
                "status": status,
                "athlete_id": item.athlete_id,
                "fetched_at": now,
            }
        )

    def empty(self) -> bool:
        return not self.fetch_log


def run_import(
    opts: RunOptions,
    cfg: StravaConfig,
    clock=None,
    reporter: Reporter | None = None,
    lock_wait_s: float | None = 0.0,
    holder: str = "strava.py",
) -> RunSummary:
    """One import run under the warehouse writer lock (wait lock_wait_s for it; None: as long as it takes)."""
    with warehouse_lock(opts.data_dir, wait_s=lock_wait_s, holder=holder), bulk_load():
        try:
            return Run(opts, cfg, clock=clock, reporter=reporter).execute()
        except (UserError, KeyboardInterrupt):
            raise
        except Exception as exc:
            problem = host_problem(exc, opts.data_dir)
            if problem is None:
                raise
            raise UserError(problem) from exc
