"""dlt plumbing shared by the API import run and the archive/file importers: the warehouse's own tables, old load
packages, and the exception a dlt step wrapped."""

from collections.abc import Sequence

import dlt

from strava_pipeline import settings
from strava_pipeline.config import UserError


def table_exists(sql, table: str) -> bool:
    rows = sql.execute_sql(
        "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
        settings.DATASET_NAME,
        table,
    )
    return bool(rows)


def column_exists(sql, table: str, column: str) -> bool:
    rows = sql.execute_sql(
        "select 1 from information_schema.columns where table_schema = ? and table_name = ? and column_name = ?",
        settings.DATASET_NAME,
        table,
        column,
    )
    return bool(rows)


# dlt keeps every loaded package's schema and state (~90 KB each, after its data files are dropped): at a load per
# rate-limit window and four runs a day that is hundreds of MB a year. The newest ones stay for `dlt pipeline ...`.
LOADED_PACKAGES_KEPT = 100


def prune_loaded_packages(pipeline: dlt.Pipeline) -> None:
    """Delete all but the newest LOADED_PACKAGES_KEPT loaded packages (their data is in the warehouse)."""
    loaded = sorted(pipeline.list_completed_load_packages(), key=float)
    old = loaded[: max(len(loaded) - LOADED_PACKAGES_KEPT, 0)]
    if old:
        storage = pipeline._get_load_storage()  # dlt's own package storage: no public call deletes a loaded package
        for load_id in old:
            storage.delete_loaded_package(load_id)


def unwrap(exc: BaseException, ours: Sequence[type[BaseException]] = ()) -> BaseException:
    """dlt wraps what a resource raised in PipelineStepFailed/ResourceExtractionError: find our own exception
    (a UserError, a Ctrl-C, or one of `ours`)."""
    kinds = (UserError, KeyboardInterrupt, *ours)
    seen = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, kinds):
            return cur
        cur = cur.__cause__ or cur.__context__
    return exc
