"""Ingest: the dlt source's raw tables as monthly-partitioned assets, loaded by the import runner, with their checks."""

import os
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData

from orchestration.resources import WAREHOUSE_POOL, LogStream, StravaEnv, demo_from_env, user_errors
from strava_pipeline import settings
from strava_pipeline.api.ratelimit import DAY_S, Budget, day_start
from strava_pipeline.api.runner import RunOptions, RunSummary, run_import
from strava_pipeline.clock import SystemClock
from strava_pipeline.config import UserError, request_timeout, warehouse_path
from strava_pipeline.progress import Reporter
from strava_pipeline.source import strava as strava_source

# --------------------------------------------------------------------------------------------- partitions

# Monthly partitions start here. Strava opened in 2009, but older activities can be uploaded from files: set
# STRAVA_FIRST_MONTH=YYYY-MM to the month of your first activity (read when the code loads, like every
# partition layout). The demo athlete starts in its own first month.
FIRST_MONTH_ENV = "STRAVA_FIRST_MONTH"
DEFAULT_FIRST_MONTH = "2009-01"


def first_month() -> str:
    raw = os.environ.get(FIRST_MONTH_ENV, "").strip()
    if raw:
        try:
            return datetime.strptime(raw, "%Y-%m").strftime("%Y-%m-01")
        except ValueError:
            raise UserError(f"{FIRST_MONTH_ENV}={raw} is not a month: use YYYY-MM, for example 2015-03.") from None
    if demo_from_env():
        from strava_pipeline.demo import DEMO_ATHLETE

        return DEMO_ATHLETE.first_day.strftime("%Y-%m-01")
    return DEFAULT_FIRST_MONTH + "-01"


# end_offset=1: the month in progress is a partition too (the scheduled incremental runs land in it)
MONTHLY = dg.MonthlyPartitionsDefinition(start_date=first_month(), end_offset=1, timezone="UTC")

# How a run of strava_import loads. "incremental" (the strava_refresh job and its schedule): `uv run strava.py`,
# everything new since the saved cursor, which it moves. Anything else (a backfill or a materialization of some
# months from the asset graph): `--start-date/--end-date` over the run's months, which never moves the cursor.
IMPORT_TAG = "strava/import"
INCREMENTAL = "incremental"
WINDOW = "window"

# ---------------------------------------------------------------------------------------------- asset specs

RAW_GROUP = "raw"
STRAVA_API_KEY = dg.AssetKey("strava_api")
GRAIN = {
    "activities": "One row per activity (the summary Strava lists), merged on id; deleted = true once a "
    "--reconcile run finds it gone.",
    "athlete": "One row per athlete (the authorized one).",
    "athlete_stats": "One row per athlete: the recent, year-to-date and all-time totals Strava computes.",
    "athlete_zones": "One row per athlete: heart-rate and power zone boundaries.",
    "gear": "One row per gear id (shoes g..., bikes b...), fetched once each.",
    "activity_details": "One row per activity: the detail fields the summary lacks (calories, splits, polyline).",
    "activity_laps": "One row per lap.",
    "activity_best_efforts": "One row per best effort (400m ... Marathon) of a run.",
    "activity_zones": "One row per activity and zone type (only fetched with zones: true).",
    "fetch_log": "One row per activity and kind (detail, streams, zones) already fetched: the import's work queue.",
    "activity_streams": "One row per recorded point of an activity (time, lat/lng, altitude, heart rate, ...).",
}

strava_api = dg.AssetSpec(
    STRAVA_API_KEY,
    description="The Strava API v3 (the bundled fake one when STRAVA_DEMO=1): where every raw table comes from.",
    group_name=RAW_GROUP,
    kinds={"api"},
)


class StravaDltTranslator(DagsterDltTranslator):
    """Raw tables keyed like the warehouse relations (strava/<table>), which is also how dagster-dbt names the
    dbt sources `strava.<table>`: the staging models hang off these assets without any mapping."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        name = data.resource.name
        return (
            super()
            .get_asset_spec(data)
            .replace_attributes(
                key=dg.AssetKey([settings.DATASET_NAME, name]),
                deps=[STRAVA_API_KEY],
                description=(GRAIN.get(name) or "")
                + " Loaded by Dagster runs and by `strava.py`; a `strava.py` import is not listed among the"
                " materializations here (it has no month of this monthly partitioning), the models, reports and"
                " maps built after it are.",
                group_name=RAW_GROUP,
                kinds={"dlt", "duckdb"},
                metadata={"dagster/table_name": f"{settings.DATASET_NAME}.{name}"},
                partitions_def=MONTHLY,
            )
        )


def raw_specs() -> list[dg.AssetSpec]:
    # the spec of each resource of the dlt source; no pipeline object: that would read the data dir at load time
    translator = StravaDltTranslator()
    return [
        translator.get_asset_spec(DltResourceTranslatorData(resource=resource, pipeline=None))
        for resource in strava_source().resources.values()
    ]


# only keys at module level: a module-level list of specs would be loaded as a second definition of the tables
RAW_KEYS = [spec.key for spec in raw_specs()]
ACTIVITIES_KEY = dg.AssetKey([settings.DATASET_NAME, "activities"])
FETCH_LOG_KEY = dg.AssetKey([settings.DATASET_NAME, "fetch_log"])


class ImportConfig(dg.Config):
    """The CLI's switches for one import run (launchpad: ops.strava_import.config)."""

    detail: bool = True
    streams: bool = True
    zones: bool = False
    reconcile: bool = False
    wait: bool = True
    max_requests: int | None = None


# ------------------------------------------------------------------------------------------------ the asset


def import_mode(context: dg.AssetExecutionContext) -> str:
    return INCREMENTAL if context.run.tags.get(IMPORT_TAG) == INCREMENTAL else WINDOW


def import_window(context: dg.AssetExecutionContext, today: date) -> tuple[date, date]:
    """The run's months as --start-date/--end-date (a backfill of several months is one run: single_run policy)."""
    window = context.partition_time_window
    return window.start.date(), min(window.end.date() - timedelta(days=1), today)


def next_utc_midnight(epoch: float) -> float:
    return day_start(epoch) + DAY_S


@dg.multi_asset(
    name="strava_import",
    specs=raw_specs(),
    partitions_def=MONTHLY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
    description="One import run (`uv run strava.py`, or `--start-date/--end-date` over the run's months): lists "
    "activities, then works through the queue of detail and streams within the rate-limit budget, "
    "committing in batches under the warehouse lock.",
)
def strava_import(context: dg.AssetExecutionContext, config: ImportConfig, strava: StravaEnv):
    clock = SystemClock()
    today = datetime.fromtimestamp(clock.now(), UTC).date()
    data_dir = strava.resolved_data_dir()
    mode = import_mode(context)
    start, end = (None, None) if mode == INCREMENTAL else import_window(context, today)
    if config.reconcile and mode != INCREMENTAL:
        raise dg.Failure("reconcile lists every activity: run it from the strava_refresh job, not a backfill.")
    if config.max_requests is not None and config.max_requests < 1:
        raise dg.Failure("max_requests must be a positive number of requests.")
    with user_errors():
        timeout = request_timeout()  # [sources.strava] request_timeout, like the CLI
    opts = RunOptions(
        data_dir=data_dir,
        start_date=start,
        end_date=end,
        detail=config.detail,
        streams=config.streams,
        zones=config.zones,
        wait=config.wait,
        max_requests=config.max_requests,
        reconcile=config.reconcile,
        timeout=timeout,
    )
    what = "new activities since the saved cursor" if mode == INCREMENTAL else f"activities of {start} .. {end}"
    context.log.info(f"Importing {what} into {warehouse_path(data_dir)}{' (demo)' if strava.is_demo() else ''}.")
    with user_errors(), ExitStack() as stack:
        cfg = strava.strava_config(stack, data_dir, clock)
        strava.announce_wait(context.log, data_dir)
        summary = run_import(
            opts,
            cfg,
            clock=clock,
            reporter=Reporter(stream=LogStream(context.log), interactive=False, clock=clock),
            lock_wait_s=strava.lock_wait_s,
            holder=f"dagster run {context.run.run_id[:8]}",
        )
    if summary.interrupted:
        raise dg.Failure("The import was interrupted; what it fetched is saved and the next run continues.")
    run_meta = run_metadata(summary, mode, start, end, clock.now())
    if summary.stop is not None and summary.stop.daily:
        context.log.warning(
            f"Daily request limit reached: {summary.remaining_items:,} activities still need detail or streams. "
            f"What was fetched is saved; strava_resume_after_daily_limit runs these months again after "
            f"{run_meta['resume_after']}."
        )
    for failure in summary.failed[:20]:
        context.log.warning(f"Stays queued for the next run: {failure}")
    with strava.writer_lock(context.log, data_dir, holder=f"dagster run {context.run.run_id[:8]} (row counts)"):
        counts = table_counts(warehouse_path(data_dir))
    for key in context.selected_asset_keys:
        table = key.path[-1]
        metadata = {"dagster/row_count": counts.get(table, 0), "import": run_meta["import"]}
        if key in (ACTIVITIES_KEY, FETCH_LOG_KEY):
            metadata.update(run_meta)
        if table == "activity_streams":
            metadata["stream_points_loaded"] = summary.stream_points
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)


def run_metadata(s: RunSummary, mode: str, start: date | None, end: date | None, now: float) -> dict:
    daily = s.stop is not None and s.stop.daily
    meta = {
        "import": INCREMENTAL if mode == INCREMENTAL else f"{start} .. {end}",
        "new_activities": s.new_activities,
        "updated_activities": s.updated_activities,
        "activities_fetched_in_detail": s.items_done,
        "requests": s.requests,
        "token_requests": s.token_requests,
        "remaining_items": s.remaining_items,
        "remaining_requests": s.remaining_requests,
        "days_left": s.days_left,
        "failed_items": len(s.failed),
        "stop": s.stop.reason if s.stop is not None else "finished",
        "stopped_at_daily_limit": daily,
    }
    if daily:
        # Strava's daily window restarts at 00:00 UTC; a few minutes later the budget is surely fresh
        resume = next_utc_midnight(now) + 5 * 60
        meta["resume_after_ts"] = resume
        meta["resume_after"] = datetime.fromtimestamp(resume, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return meta


def table_counts(warehouse: Path) -> dict:
    """Rows per raw table (none when the warehouse does not exist yet)."""
    import duckdb

    from strava_pipeline import warehouses

    if warehouses.is_postgres():
        return warehouses.raw_table_counts()
    if not warehouse.exists():
        return {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        catalog = con.sql("select current_database()").fetchone()[0]
        tables = [
            r[0]
            for r in con.sql(
                "select table_name from information_schema.tables where table_catalog = ? and table_schema = ?",
                params=[catalog, settings.DATASET_NAME],
            ).fetchall()
        ]
        return {
            t: con.sql(f'select count(*) from "{catalog}"."{settings.DATASET_NAME}"."{t}"').fetchone()[0]
            for t in tables
        }


# ------------------------------------------------------------------------------------------------- checks

# the dbt source freshness of strava.activities says the same: a week without an activity is worth a look, a
# month means the import has stopped working
ACTIVITY_WARN_AGE_S = 7 * DAY_S
ACTIVITY_ERROR_AGE_S = 30 * DAY_S
# the refresh runs every 6 hours: a day without a successful load means the schedule is off or failing
LOAD_WARN_AGE_S = DAY_S
# below this share of the daily budget left, imports stop early today
LOW_BUDGET_SHARE = 0.10


def _days(seconds: float) -> str:
    return f"{seconds / DAY_S:.1f} days"


@dg.asset_check(
    asset=ACTIVITIES_KEY,
    name="freshness",
    blocking=False,
    description="The newest activity is at most 7 days old (error after 30) and the last successful "
    "load at most a day old.",
)
def activities_freshness(context: dg.AssetCheckExecutionContext, strava: StravaEnv) -> dg.AssetCheckResult:
    import duckdb

    from strava_pipeline import warehouses

    data_dir = strava.resolved_data_dir()
    warehouse = warehouse_path(data_dir)
    if warehouses.is_postgres():
        newest, loaded = warehouses.raw_freshness()
    elif not warehouse.exists():
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"No warehouse at {warehouse} yet: materialize strava/activities.",
        )
    ds = settings.DATASET_NAME
    if not warehouses.is_postgres():
        with strava.writer_lock(context.log, data_dir, holder=f"dagster run {context.run.run_id[:8]} (freshness)"):
            with duckdb.connect(str(warehouse), read_only=True) as con:
                catalog = con.sql("select current_database()").fetchone()[0]
                newest = con.sql(
                    f'select max(start_date) from "{catalog}"."{ds}".activities where not coalesce(deleted, false)'
                ).fetchone()[0]
                loaded = con.sql(
                    f'select max(inserted_at) from "{catalog}"."{ds}"._dlt_loads where status = 0'
                ).fetchone()[0]
    now = time.time()
    if newest is None:
        return dg.AssetCheckResult(
            passed=False, severity=dg.AssetCheckSeverity.WARN, description="No activity loaded yet."
        )
    activity_age = now - _epoch(newest)
    load_age = now - _epoch(loaded) if loaded is not None else None
    metadata = {
        "newest_activity_utc": _iso(newest),
        "newest_activity_age_days": round(activity_age / DAY_S, 2),
        "last_load_utc": _iso(loaded) if loaded is not None else "never",
        "last_load_age_hours": round(load_age / 3600, 2) if load_age is not None else -1,
    }
    problems = []
    if activity_age > ACTIVITY_WARN_AGE_S:
        problems.append(f"the newest activity is {_days(activity_age)} old")
    if load_age is None or load_age > LOAD_WARN_AGE_S:
        problems.append(
            "no load has succeeded in the last 24 hours" if load_age is not None else "no load has succeeded yet"
        )
    severity = dg.AssetCheckSeverity.ERROR if activity_age > ACTIVITY_ERROR_AGE_S else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        passed=not problems,
        severity=severity,
        metadata=metadata,
        description=("; ".join(problems).capitalize() + ".")
        if problems
        else f"Newest activity {_days(activity_age)} old, last load {load_age / 3600:.1f} h ago.",
    )


@dg.asset_check(
    asset=ACTIVITIES_KEY,
    name="request_budget",
    blocking=False,
    description="Today's Strava request budget (from the rate-limit headers the last run saw) is not "
    "spent; shows the work still queued.",
)
def request_budget(context: dg.AssetCheckExecutionContext, strava: StravaEnv) -> dg.AssetCheckResult:
    data_dir = strava.resolved_data_dir()
    budget = Budget(clock=SystemClock(), state_path=data_dir / settings.BUDGET_FILE)
    queue = _queue_metadata(context.instance)
    if budget.observed_at is None:
        return dg.AssetCheckResult(passed=True, metadata=queue, description="No Strava request recorded yet.")
    left = budget.remaining_today()  # usage of an earlier UTC day no longer counts
    read, overall = budget.counters["read"], budget.counters["overall"]
    daily_limit = min(read.limit_day, overall.limit_day)
    metadata = {
        **queue,
        "read_used_today": read.usage_day,
        "read_limit_daily": read.limit_day,
        "read_used_15min": read.usage_15,
        "read_limit_15min": read.limit_15,
        "overall_used_today": overall.usage_day,
        "overall_limit_daily": overall.limit_day,
        "requests_left_today": left,
        "observed_utc": datetime.fromtimestamp(budget.observed_at, UTC).strftime("%Y-%m-%d %H:%M:%S"),
    }
    resets = datetime.fromtimestamp(next_utc_midnight(time.time()), UTC).strftime("%Y-%m-%d 00:00 UTC")
    if left <= LOW_BUDGET_SHARE * daily_limit:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            metadata=metadata,
            description=f"Only {left:,} of {daily_limit:,} requests left today: imports stop early until the "
            f"budget resets at {resets}.",
        )
    return dg.AssetCheckResult(
        passed=True, metadata=metadata, description=f"{left:,} of {daily_limit:,} requests left today."
    )


def _queue_metadata(instance: dg.DagsterInstance) -> dict:
    """The work still queued, as the last import reported it."""
    event = instance.get_latest_materialization_event(ACTIVITIES_KEY)
    mat = event.asset_materialization if event else None
    if mat is None:
        return {}
    return {
        k: mat.metadata[k].value for k in ("remaining_items", "remaining_requests", "days_left") if k in mat.metadata
    }


def _epoch(value) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return float(value)


def _iso(value) -> str:
    return datetime.fromtimestamp(_epoch(value), UTC).strftime("%Y-%m-%d %H:%M:%S")


defs = dg.Definitions(assets=[strava_api, strava_import], asset_checks=[activities_freshness, request_budget])
