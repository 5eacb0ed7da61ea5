"""What `strava.py` built outside Dagster, reported to the data dir's Dagster instance as asset materializations.

Without this, assets that the CLI keeps up to date say "Never materialized" in the UI. Only called when
<data dir>/dagster/dagster.yaml exists (`strava.py ui` made it); Dagster is imported then and not before. The raw
tables are not reported: they are partitioned by month and a CLI import has no month (their descriptions say so).
"""

import json
from pathlib import Path
from typing import TextIO

# the keys of orchestration/defs: reports.SITE_KEY, maps.TILES_KEY and maps.ROUTE_MAP_KEY (checked by a test;
# importing those modules would parse the dbt project)
STEP_KEYS = {
    "reports": [["reports", "site"]],
    "heatmap tiles": [["tiles", "heatmap"]],
    "route map": [["maps", "route_map"]],
}
DBT_STEP = "dbt build"
DESCRIPTION = "built by `strava.py` outside Dagster"


def dbt_keys(results: Path) -> list[list[str]]:
    """<schema>/<table> of every model and seed the last dbt command built successfully (keys like the dbt assets)."""
    try:
        run_results = json.loads((results / "run_results.json").read_text())
        nodes = json.loads((results / "manifest.json").read_text())["nodes"]
    except (OSError, ValueError, KeyError):
        return []
    keys = []
    for result in run_results.get("results", []):
        node = nodes.get(result.get("unique_id", ""))
        if node and node["resource_type"] in ("model", "seed") and result.get("status") == "success":
            keys.append([node["schema"], node.get("alias") or node["name"]])
    return keys


def keys_of_step(data_dir: Path, step: str) -> list[list[str]]:
    if step == DBT_STEP:
        from strava_pipeline.transform import results_dir

        return dbt_keys(results_dir(data_dir))
    return STEP_KEYS.get(step, [])


def report_step(data_dir: Path, step: str, err: TextIO) -> int:
    """Record one materialization per asset the step built; returns how many. A failure to record is a warning:
    the step itself did its work."""
    keys = keys_of_step(data_dir, step)
    if not keys:
        return 0
    try:
        import dagster as dg

        from strava_pipeline.config import dagster_home
        from strava_pipeline.warehouses import dagster_instance_setup

        dagster_instance_setup(dagster_home(data_dir))  # the storage of the selected warehouse
        instance = dg.DagsterInstance.from_config(str(dagster_home(data_dir)))
        try:
            for key in keys:
                instance.report_runless_asset_event(
                    dg.AssetMaterialization(asset_key=key, description=DESCRIPTION, metadata={"step": step})
                )
        finally:
            instance.dispose()
    except Exception as exc:  # the Dagster instance is optional: say why it was not told, carry on
        print(f"warning: could not tell Dagster about the {step} ({type(exc).__name__}: {exc}).", file=err, flush=True)
        return 0
    return len(keys)
