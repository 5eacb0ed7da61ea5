"""The dlt source `strava`: resources for the Strava API v3 raw tables (dataset `strava`)."""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import dlt
from dlt.sources import DltResource

from strava_pipeline import settings
from strava_pipeline.helpers import activity_row, epoch_from_iso
from strava_pipeline.warehouse import REPLACE_KEY_HINT

ACTIVITY_COLUMNS: dict = {
    **{c: {"data_type": "double"} for c in settings.ACTIVITY_DOUBLE_COLUMNS},
    **{c: {"data_type": "bigint"} for c in settings.ACTIVITY_BIGINT_COLUMNS},
    **{c: {"data_type": "text"} for c in settings.ACTIVITY_TEXT_COLUMNS},
    **{c: {"data_type": "bool"} for c in settings.ACTIVITY_BOOL_COLUMNS},
    "start_date": {"data_type": "timestamp"},
    # local wall time with a misleading Z: kept as text, staging reads it as local time
    "start_date_local": {"data_type": "text"},
    "start_latlng": {"data_type": "json"},
    "end_latlng": {"data_type": "json"},
    "deleted_at": {"data_type": "timestamp"},
}

# every raw table besides activities/streams: merge keys and the columns whose type must not depend on the first row
TABLES: dict[str, dict] = {
    "athlete": dict(
        primary_key="athlete_id",
        columns={
            "athlete_id": {"data_type": "bigint"},
            "weight": {"data_type": "double"},
            "ftp": {"data_type": "double"},
            "bikes": {"data_type": "json"},
            "shoes": {"data_type": "json"},
            "fetched_at": {"data_type": "timestamp"},
        },
    ),
    "athlete_stats": dict(primary_key="athlete_id", columns={"fetched_at": {"data_type": "timestamp"}}),
    "athlete_zones": dict(
        primary_key="athlete_id",
        columns={
            "heart_rate": {"data_type": "json"},
            "power": {"data_type": "json"},
            "fetched_at": {"data_type": "timestamp"},
        },
    ),
    "gear": dict(
        primary_key="id",
        columns={
            "id": {"data_type": "text"},
            "distance": {"data_type": "double"},
            "weight": {"data_type": "double"},
            "converted_distance": {"data_type": "double"},
            "fetched_at": {"data_type": "timestamp"},
        },
    ),
    "activity_details": dict(
        primary_key="id",
        columns={
            "id": {"data_type": "bigint"},
            "athlete_id": {"data_type": "bigint"},
            "description": {"data_type": "text"},
            "calories": {"data_type": "double"},
            "device_name": {"data_type": "text"},
            "gear_id": {"data_type": "text"},
            "perceived_exertion": {"data_type": "double"},
            "prefer_perceived_exertion": {"data_type": "bool"},
            "photo_count": {"data_type": "bigint"},
            "splits_metric": {"data_type": "json"},
            "splits_standard": {"data_type": "json"},
            "available_zones": {"data_type": "json"},
            "polyline": {"data_type": "text"},
            "fetched_at": {"data_type": "timestamp"},
        },
    ),
    "activity_laps": dict(
        primary_key="id",
        columns={
            "id": {"data_type": "bigint"},
            "activity_id": {"data_type": "bigint"},
            "athlete_id": {"data_type": "bigint"},
            "start_date": {"data_type": "timestamp"},
            "start_date_local": {"data_type": "text"},
            **{
                c: {"data_type": "double"}
                for c in (
                    "distance",
                    "average_speed",
                    "max_speed",
                    "total_elevation_gain",
                    "average_cadence",
                    "average_watts",
                    "average_heartrate",
                    "max_heartrate",
                )
            },
        },
    ),
    "activity_best_efforts": dict(
        primary_key="id",
        columns={
            "id": {"data_type": "bigint"},
            "activity_id": {"data_type": "bigint"},
            "athlete_id": {"data_type": "bigint"},
            "start_date": {"data_type": "timestamp"},
            "start_date_local": {"data_type": "text"},
            "distance": {"data_type": "double"},
            "pr_rank": {"data_type": "bigint"},
        },
    ),
    "activity_zones": dict(
        primary_key=["activity_id", "type"],
        columns={
            "activity_id": {"data_type": "bigint"},
            "athlete_id": {"data_type": "bigint"},
            "score": {"data_type": "double"},
            "points": {"data_type": "double"},
            "distribution_buckets": {"data_type": "json"},
        },
    ),
    # which (activity, kind) items are done: the persisted work queue, loaded in the same package as their data
    "fetch_log": dict(
        primary_key=["activity_id", "kind"],
        columns={
            "activity_id": {"data_type": "bigint"},
            "kind": {"data_type": "text"},
            "status": {"data_type": "text"},
            "athlete_id": {"data_type": "bigint"},
            "fetched_at": {"data_type": "timestamp"},
        },
    ),
}


def table_resource(name: str, rows: Iterable[Any]) -> DltResource:
    """A merge resource for one raw table over rows that are already fetched."""
    hints = TABLES[name]
    return dlt.resource(
        rows, name=name, write_disposition="merge", primary_key=hints["primary_key"], columns=hints["columns"]
    )


def streams_resource(tables: Iterable[Any]) -> DltResource:
    """activity_streams: Arrow tables, one row per point; an activity's points are replaced as a whole.

    Appended with a replace-by-activity job (warehouse.ReplaceByKeyCopyJob) rather than dlt's delete-insert merge:
    the same guarantee without copying every point twice. Each Arrow table must hold whole activities.
    """
    from strava_pipeline.warehouses import streams_write_hints  # PostgreSQL: dlt's delete-insert merge instead

    hints = streams_write_hints()
    resource = dlt.resource(
        tables,
        name="activity_streams",
        columns={"activity_id": {"data_type": "bigint", "nullable": False}},
        **hints,
    )
    if hints["write_disposition"] == "append":
        resource.apply_hints(additional_table_hints={REPLACE_KEY_HINT: "activity_id"})
    return resource


def activities_resource(
    fetch_page: Callable[[dict], list],
    initial_value: str,
    end_value: str | None = None,
    on_page: Callable[[list], None] | None = None,
    name: str = "activities",
) -> DltResource:
    """activities: the athlete's list, incremental on start_date (sent as `after`); an end_value makes it a backfill
    window (sent as `before`) that dlt runs on a throwaway state, so the incremental state never moves.

    dlt keeps the cursor under the resource's name: each athlete's listing is a resource of its own (`name`, see
    api.athletes.AthleteSlot.resource_name) loading the one table `activities`."""

    @dlt.resource(
        name=name, table_name="activities", primary_key="id", write_disposition="merge", columns=ACTIVITY_COLUMNS
    )
    def activities(
        start_date=dlt.sources.incremental(
            "start_date", initial_value=initial_value, end_value=end_value, range_end="open"
        ),
    ) -> Iterator[list[dict]]:
        params: dict = {"after": epoch_from_iso(start_date.start_value), "per_page": settings.PER_PAGE}
        if start_date.end_value is not None:
            params["before"] = epoch_from_iso(start_date.end_value)
        page = 1
        while True:
            rows = fetch_page({**params, "page": page})
            if on_page:
                on_page(rows)
            if rows:
                yield [activity_row(r) for r in rows]
            # a short page is the last one: the request for the empty page after it is saved
            if len(rows) < settings.PER_PAGE:
                return
            page += 1

    return activities


@dlt.source(name="strava", max_table_nesting=1)
def strava(
    fetch_page: Callable[[dict], list] | None = None,
    initial_value: str | None = None,
    end_value: str | None = None,
    tables: dict | None = None,
    streams: list | None = None,
    activities_name: str = "activities",
):
    """The `strava` source: the `activities` list (incremental on start_date) and every raw table it feeds.

    The import runner (strava_pipeline.api.runner) fetches within the rate-limit budget and commits in batches: it runs
    this source once with `fetch_page` for the listing, then once per batch with the fetched `tables` rows and
    `streams` Arrow tables. Orchestrators read the resource list from `strava()` to declare one asset per table.
    """
    resources = [
        activities_resource(
            fetch_page or (lambda params: []),
            initial_value or "2000-01-01T00:00:00Z",
            end_value,
            name=activities_name,
        )
    ]
    tables = tables or {}
    resources += [table_resource(name, tables.get(name, [])) for name in TABLES]
    resources.append(streams_resource(streams or []))
    return resources
