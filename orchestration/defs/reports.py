"""Reports: the Evidence site built from the marts (`strava.py reports build`) as a downstream asset."""

import dagster as dg

from orchestration.defs.transform import strava_dbt
from orchestration.resources import LogStream, StravaEnv, user_errors
from strava_pipeline import reports
from strava_pipeline.config import strava_command

REPORTS_GROUP = "reports"
SITE_KEY = dg.AssetKey(["reports", "site"])
# the relations the build snapshots, keyed like the dbt assets (<schema>/<table>); the build treats the optional
# ones that the dbt project does not have (yet) as empty, so they are no dependency
READS = sorted(
    {
        dg.AssetKey([schema, name])
        for schema, name in [*reports.SNAPSHOT_TABLES.values(), reports.STREAMS_RELATION, reports.ROUTES_RELATION]
    }
    & set(strava_dbt.keys),
    key=lambda key: key.to_user_string(),
)


@dg.asset(
    key=SITE_KEY,
    deps=READS,
    group_name=REPORTS_GROUP,
    kinds={"evidence", "html"},
    description="The Evidence site in <data dir>/reports/site: overview, weekly, monthly, activities and one page "
    "per activity, fitness, power & pace, zones, calendar and year in review per year, gear, map and data quality, "
    "every page filtered by athlete, built offline from a snapshot of the marts. Needs Node 18+ (20 tested).",
)
def evidence_site(context: dg.AssetExecutionContext, strava: StravaEnv) -> dg.MaterializeResult:
    data_dir = strava.resolved_data_dir()
    # Only the snapshot of the marts reads the warehouse: build_site holds the writer lock for that step alone (no
    # pool slot either), so imports need not wait for the Evidence build. Wait here first for a writer that holds
    # the warehouse for long (a CLI import), as build_site itself waits only 30 s.
    with strava.writer_lock(context.log, data_dir, holder=f"dagster run {context.run.run_id[:8]} (reports)"):
        pass
    with user_errors():
        result = reports.build_site(data_dir, out=LogStream(context.log), lock_warehouse=True)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.site_dir)),
            "pages": result.pages,
            "size_mb": round(result.size_bytes / 1e6, 1),
            "build_seconds": round(result.seconds, 1),
            **{f"step_{name.replace(' ', '_')}_seconds": round(seconds, 1) for name, seconds in result.steps.items()},
            "serve": strava_command(data_dir, "reports", "serve", demo=strava.is_demo()),
        }
    )


defs = dg.Definitions(assets=[evidence_site])
