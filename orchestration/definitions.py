"""The Dagster code location of the Strava data stack: one module per integration under defs/, shared resources."""

import dagster as dg

from orchestration.defs import archive, automation, ingest, maps, reports, transform
from orchestration.resources import StravaEnv

defs = dg.Definitions.merge(
    ingest.defs,
    transform.defs,
    reports.defs,
    maps.defs,
    archive.defs,
    automation.defs,
    dg.Definitions(
        resources={"strava": StravaEnv(), "dbt": transform.dbt_resource()},
        # the steps of a run write one DuckDB file one after the other anyway: running them in the run's own
        # process saves a process start (and a code load, 10-20 s on a small machine) per step
        executor=dg.in_process_executor,
    ),
)
