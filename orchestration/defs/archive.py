"""Inbox: Strava exports and device files (FIT/GPX/TCX) dropped into <data dir>/inbox/, imported without the API."""

import hashlib
import time

import dagster as dg

from orchestration.defs.ingest import RAW_GROUP
from orchestration.defs.transform import strava_dbt
from orchestration.resources import WAREHOUSE_POOL, LogStream, StravaEnv, automation_default_status, user_errors
from strava_pipeline.progress import Reporter

INBOX_KEY = dg.AssetKey(["strava_archive", "inbox"])
# strava_pipeline.archive.importer's folders, here so that loading the code does not load the file parsers
INBOX_SUBDIR, INBOX_DONE, INBOX_FAILED = "inbox", "done", "failed"


@dg.asset(
    key=INBOX_KEY,
    group_name=RAW_GROUP,
    kinds={"dlt", "duckdb"},
    pool=WAREHOUSE_POOL,
    description="Every Strava export (.zip or unpacked folder) and every device file (FIT/GPX/TCX, .gz, folders and "
    "zips of them) dropped into <data dir>/inbox/, imported once (`strava.py import --inbox`) into "
    "strava/activities, activity_streams and fetch_log with source 'archive' or 'file'; then moved to "
    "inbox/done/ (or inbox/failed/ beside a .why.txt).",
)
def archive_inbox(context: dg.AssetExecutionContext, strava: StravaEnv) -> dg.MaterializeResult:
    from strava_pipeline.archive.inbox import import_inbox, inbox_dir  # the parsers load only for a run

    data_dir = strava.resolved_data_dir()
    strava.announce_wait(context.log, data_dir)
    with user_errors():
        items = import_inbox(
            data_dir, Reporter(stream=LogStream(context.log), interactive=False), lock_wait_s=strava.lock_wait_s
        )
    for item in items:
        if item.status == "failed":
            context.log.warning(f"{item.name} was not imported: {item.error} (moved to {item.path}).")
        elif item.summary is not None:
            for line in item.summary.lines():
                context.log.info(f"{item.name}: {line}")
    if any(item.status == "interrupted" for item in items):
        raise dg.Failure(
            "The archive import was interrupted; the committed batches are kept and the next run finishes it."
        )
    # device files dropped together share one import summary: count it once
    imported = list({id(item.summary): item.summary for item in items if item.summary is not None}.values())
    count = lambda status: sum(1 for item in items if item.status == status)  # noqa: E731
    return dg.MaterializeResult(
        metadata={
            "inbox": dg.MetadataValue.path(str(inbox_dir(data_dir))),
            "archives_imported": count("imported"),
            "duplicates": count("duplicate"),
            "failed": count("failed"),
            "still_being_copied": count("waiting"),
            "activities_written": sum(getattr(s, "written", 0) + getattr(s, "new", 0) for s in imported),
            "stream_points": sum(s.points for s in imported),
            "api_requests_saved": sum(s.cost.total for s in imported if hasattr(s, "cost")),
        }
    )


strava_archive_import = dg.define_asset_job(
    "strava_archive_import",
    selection=dg.AssetSelection.assets(INBOX_KEY) | dg.AssetSelection.assets(*strava_dbt.keys),
    description="Import the exports and device files waiting in <data dir>/inbox/, then dbt build.",
)


# what changed more recently than this is still being copied: the sensor waits for the next tick (the import's
# own check is strava_pipeline.archive.inbox.MIN_AGE_S, the same)
FRESH_S = 15.0


def inbox_fingerprint(data_dir) -> str:
    """Names, sizes and times of what waits in the inbox: a new or grown file makes a new run key; "" while the
    inbox is empty or something in it is still being copied (so a run never starts before the copy ends)."""
    inbox = data_dir / INBOX_SUBDIR
    if not inbox.is_dir():
        return ""
    entries = sorted(
        (p.name, p.stat().st_size, int(p.stat().st_mtime))
        for p in inbox.iterdir()
        # partial downloads (.part, .crdownload...) wait; the import itself checks a file is no longer growing
        if not p.name.startswith(".")
        and p.name not in (INBOX_DONE, INBOX_FAILED)
        and not p.name.lower().endswith((".part", ".crdownload", ".download", ".tmp", ".partial"))
    )
    if any(time.time() - mtime < FRESH_S for _name, _size, mtime in entries):
        return ""
    return hashlib.sha256(repr(entries).encode()).hexdigest()[:16] if entries else ""


@dg.sensor(
    job=strava_archive_import,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus(automation_default_status().value),
    description="Starts strava_archive_import (import, then dbt build) when an export or a device file appears in "
    "<data dir>/inbox/.",
)
def strava_archive_inbox(context: dg.SensorEvaluationContext, strava: StravaEnv):
    fingerprint = inbox_fingerprint(strava.resolved_data_dir())
    if not fingerprint:
        return dg.SkipReason("The inbox is empty, or a file in it is still being copied.")
    return dg.RunRequest(run_key=f"inbox-{fingerprint}")


defs = dg.Definitions(assets=[archive_inbox], jobs=[strava_archive_import], sensors=[strava_archive_inbox])
