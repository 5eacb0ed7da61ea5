"""Automation: the 6-hourly refresh (incremental import, dbt build, reports) and the resume after a daily-limit stop."""

import json
import time

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration.defs.archive import INBOX_KEY
from orchestration.defs.ingest import ACTIVITIES_KEY, IMPORT_TAG, INCREMENTAL, MONTHLY, RAW_KEYS, WINDOW
from orchestration.resources import StravaEnv, automation_default_status
from strava_pipeline.api.athletes import authorized
from strava_pipeline.config import UserError, load_strava_config, strava_command

REFRESH_CRON = "0 */6 * * *"
RESUMED_TAG = "strava/resumed"


strava_refresh = dg.define_asset_job(
    "strava_refresh",
    # everything but the archive inbox, which has its own sensor and job
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(INBOX_KEY),
    tags={IMPORT_TAG: INCREMENTAL},
    description="`uv run strava.py` (everything new since the saved cursor, then the queue of detail and streams), "
    "`dbt build`, the reports and maps, with every asset check. Runs of this job are incremental whatever "
    "month they are launched for; backfill months from the asset graph instead.",
)


@dg.schedule(
    job=strava_refresh,
    cron_schedule=REFRESH_CRON,
    execution_timezone="UTC",
    default_status=automation_default_status(),
    description="Every 6 hours: the incremental import, dbt build, reports and maps (off by default in the "
    "demo; skipped until Strava is set up).",
)
def strava_every_6_hours(context: dg.ScheduleEvaluationContext, strava: StravaEnv):
    not_ready = strava_not_set_up(strava)
    if not_ready:
        return dg.SkipReason(not_ready)
    month = MONTHLY.get_partition_key_for_timestamp(context.scheduled_execution_time.timestamp())
    return dg.RunRequest(partition_key=month, tags={IMPORT_TAG: INCREMENTAL})


def strava_not_set_up(strava: StravaEnv) -> str | None:
    """Why an import cannot run yet (no credentials, never authorized), so a new install skips instead of failing."""
    if strava.is_demo():
        return None
    try:
        cfg = load_strava_config(require_refresh_token=False)
    except UserError as exc:
        return str(exc)
    if cfg.refresh_token is None and not authorized(strava.resolved_data_dir()):
        return f"Not authorized with Strava yet: run `{strava_command(strava.resolved_data_dir(), 'auth')}` once."
    return None


def _now() -> float:
    return time.time()


def contiguous(keys: list[str]) -> list[list[str]]:
    """Month keys grouped into runs of consecutive months (each becomes one import window)."""
    order = {key: i for i, key in enumerate(MONTHLY.get_partition_keys())}
    groups: list[list[str]] = []
    for key in sorted((k for k in keys if k in order), key=order.__getitem__):
        if groups and order[key] == order[groups[-1][-1]] + 1:
            groups[-1].append(key)
        else:
            groups.append([key])
    return groups


def resume_requests(due: dict, now: float) -> list[dg.RunRequest]:
    """Run requests that continue imports stopped by the daily limit: the same months, the same kind of import.

    A resumed backfill imports only (the next refresh rebuilds dbt and the rest): Dagster plans every selected
    asset once per month of a range, which for years of months and the whole graph costs minutes."""
    requests = []
    incremental = [k for k, v in due.items() if v["mode"] == INCREMENTAL]
    if incremental:
        requests.append(
            dg.RunRequest(
                run_key=f"resume-incremental-{int(max(due[k]['resume_at'] for k in incremental))}",
                partition_key=MONTHLY.get_last_partition_key(),
                tags={IMPORT_TAG: INCREMENTAL, RESUMED_TAG: "true"},
            )
        )
    for months in contiguous([k for k, v in due.items() if v["mode"] == WINDOW]):
        first, last = months[0], months[-1]
        tags = {IMPORT_TAG: WINDOW, RESUMED_TAG: "true"}
        run_key = f"resume-{first}-{last}-{int(max(due[k]['resume_at'] for k in months))}"
        if first == last:
            requests.append(dg.RunRequest(run_key=run_key, partition_key=first, tags=tags, asset_selection=RAW_KEYS))
        else:  # one run over the range, like a backfill with the single-run policy
            requests.append(
                dg.RunRequest(
                    run_key=run_key,
                    asset_selection=RAW_KEYS,
                    tags={**tags, ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last},
                )
            )
    return requests


def _meta(mat: dg.AssetMaterialization, key: str, default=None):
    value = mat.metadata.get(key)
    return value.value if value is not None else default


def _import_in_progress(instance: dg.DagsterInstance) -> str | None:
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[
                dg.DagsterRunStatus.QUEUED,
                dg.DagsterRunStatus.NOT_STARTED,
                dg.DagsterRunStatus.STARTING,
                dg.DagsterRunStatus.STARTED,
            ]
        ),
        limit=50,
    )
    for run in runs:
        if run.asset_selection is None or ACTIVITIES_KEY in run.asset_selection:
            return run.run_id
    return None


@dg.sensor(
    job=strava_refresh,
    minimum_interval_seconds=15 * 60,
    default_status=dg.DefaultSensorStatus(automation_default_status().value),
    description="Imports that stopped at Strava's daily request limit are run again for the same months "
    "once the limit resets at 00:00 UTC, until their queue is done.",
)
def strava_resume_after_daily_limit(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    state = json.loads(context.cursor) if context.cursor else {}
    after: int | None = state.get("after")
    pending: dict = state.get("pending", {})
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=ACTIVITIES_KEY, after_storage_id=after), limit=1000, ascending=True
    )
    for record in records.records:
        after = record.storage_id
        mat = record.asset_materialization
        if mat is None or mat.partition is None:
            continue
        if _meta(mat, "stopped_at_daily_limit", False):
            pending[mat.partition] = {
                "mode": INCREMENTAL if _meta(mat, "import") == INCREMENTAL else WINDOW,
                "resume_at": float(_meta(mat, "resume_after_ts", 0.0)),
            }
        else:  # a later run of the month finished: nothing to resume for it
            pending.pop(mat.partition, None)
    now = _now()
    due = {k: v for k, v in pending.items() if v["resume_at"] <= now}

    def cursor() -> str:
        return json.dumps({"after": after, "pending": pending}, sort_keys=True)

    if not due:
        waiting = f"; {len(pending)} month(s) wait for the daily limit to reset" if pending else ""
        return dg.SensorResult(skip_reason=f"No import stopped at the daily limit is due{waiting}.", cursor=cursor())
    running = _import_in_progress(context.instance)
    if running:
        return dg.SensorResult(skip_reason=f"Run {running} imports now; resuming after it.", cursor=cursor())
    requests = resume_requests(due, now)
    for key in due:
        pending.pop(key)
    return dg.SensorResult(run_requests=requests, cursor=cursor())


defs = dg.Definitions(
    jobs=[strava_refresh], schedules=[strava_every_6_hours], sensors=[strava_resume_after_daily_limit]
)
