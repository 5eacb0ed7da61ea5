"""The dlt source `strava_archive`: a bulk-export import into the same raw tables the `strava` source feeds."""

from collections.abc import Iterable
from typing import Any

import dlt
from dlt.sources import DltResource

from strava_pipeline.archive.rows import EXTRA_COLUMN
from strava_pipeline.source import ACTIVITY_COLUMNS, streams_resource, table_resource

# the API source's hints, so both sources give every shared column the same type whichever loads first
ARCHIVE_ACTIVITY_COLUMNS: dict = {**ACTIVITY_COLUMNS, EXTRA_COLUMN: {"data_type": "json"}}
RESOURCES = ("activities", "activity_streams", "fetch_log")
# imported_files: one row per device-file content (sha256 of the decompressed bytes) a file import has read, and the
# activity it became or matched; a re-import skips those contents without parsing them
IMPORTED_FILES_COLUMNS: dict = {
    "sha256": {"data_type": "text"},
    "activity_id": {"data_type": "bigint"},
    "athlete_id": {"data_type": "bigint"},
    "file": {"data_type": "text"},
    "result": {"data_type": "text"},
    "imported_at": {"data_type": "timestamp"},
}


def activities_resource(rows: Iterable[Any]) -> DltResource:
    """activities: one row per activity id, merged on id like the API's list (rows from rows.activity_row)."""
    return dlt.resource(
        rows, name="activities", primary_key="id", write_disposition="merge", columns=ARCHIVE_ACTIVITY_COLUMNS
    )


@dlt.source(name="strava_archive", max_table_nesting=1)
def strava_archive(
    activities: list | None = None,
    streams: list | None = None,
    fetch_log: list | None = None,
    imported_files: list | None = None,
):
    """The `strava_archive` source: activities.csv rows, the activity files as streams, and their fetch_log rows.

    The importer (strava_pipeline.archive.importer) reads and parses the archive and commits in batches: it runs
    this source once per batch, so each batch's streams and their fetch_log rows (kind 'streams', status
    'archive') land in one load package and the API's work queue never sees one without the other. Orchestrators
    read the resource list from `strava_archive()` to declare one asset per table.
    """
    resources = [
        activities_resource(activities or []),
        streams_resource(streams or []),
        table_resource("fetch_log", fetch_log or []),
    ]
    if imported_files is not None:  # loose device files only (fileimport): not one of the archive's assets
        resources.append(
            dlt.resource(
                imported_files,
                name="imported_files",
                primary_key="sha256",
                write_disposition="merge",
                columns=IMPORTED_FILES_COLUMNS,
            )
        )
    return resources
