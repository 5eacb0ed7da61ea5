"""The persisted work queue: which activities still need detail, streams or zones, read from the warehouse itself."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from strava_pipeline.loads import column_exists, table_exists

KINDS = ("detail", "streams", "zones")


@dataclass
class WorkItem:
    activity_id: int
    athlete_id: int | None
    manual: bool
    kinds: list = field(default_factory=list)


def pending(sql, kinds: Iterable[str]) -> list[WorkItem]:
    """Activities the API listed (not deleted) with at least one wanted kind not yet in fetch_log, newest first.

    fetch_log rows are loaded in the same load package as the data they stand for, so after a crash the queue
    and the tables agree: a finished item is never fetched again, an unfinished one is.
    """
    kinds = [k for k in KINDS if k in set(kinds)]
    if not kinds or not table_exists(sql, "activities"):
        return []
    activities, fetch_log = sql.make_qualified_table_name("activities"), sql.make_qualified_table_name("fetch_log")
    manual = "coalesce(a.manual, false)" if column_exists(sql, "activities", "manual") else "false"
    # an imported archive already holds the history: the API only tops up what it lists itself (source 'api')
    source_filter = "coalesce(a.source, 'api') = 'api'" if column_exists(sql, "activities", "source") else "true"
    if table_exists(sql, "fetch_log"):
        # array_agg and array[]: the spelling DuckDB and PostgreSQL share
        done = f"select activity_id, array_agg(kind) as kinds from {fetch_log} group by activity_id"
    else:
        done = "select null::bigint as activity_id, array[]::varchar[] as kinds where false"
    rows = sql.execute_sql(
        f"""
        with done as ({done})
        select a.id, a.athlete_id, {manual} as manual, coalesce(d.kinds, array[]::varchar[]) as done_kinds
        from {activities} a left join done d on d.activity_id = a.id
        where not coalesce(a.deleted, false) and {source_filter}
        order by a.start_date desc, a.id desc
        """
    )
    items = []
    for activity_id, athlete_id, is_manual, done_kinds in rows:
        missing = [k for k in kinds if k not in set(done_kinds or [])]
        if missing:
            items.append(WorkItem(int(activity_id), athlete_id, bool(is_manual), missing))
    return items


def requests_needed(items: Iterable[WorkItem]) -> int:
    """Requests the queue costs: manual activities have no streams, so that one is free."""
    return sum(sum(1 for k in item.kinds if not (k == "streams" and item.manual)) for item in items)
