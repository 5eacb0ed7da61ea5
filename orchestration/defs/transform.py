"""Transform: the dbt project's seeds, models and tests as Dagster assets and asset checks (dagster-dbt)."""

import fcntl
import importlib.metadata
import json
import os
import re
import subprocess
import warnings
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from orchestration.defs.ingest import RAW_GROUP
from orchestration.resources import WAREHOUSE_POOL, StravaEnv, environ
from strava_pipeline.config import PROJECT_ROOT
from strava_pipeline.transform import dbt_executable, results_dir

DBT_DIR = PROJECT_ROOT / "dbt_project"
# Dagster keeps its own manifest next to (not over) the target/ that a `dbt` command in a terminal writes
MANIFEST_TARGET = Path("target") / "dagster"
# the files a manifest is parsed from: a newer one means the manifest is stale
DBT_INPUTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests", "snapshots", "analyses")

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR, target_path=MANIFEST_TARGET)


def _newest_input_mtime(project_dir: Path) -> float:
    newest = 0.0
    for name in DBT_INPUTS:
        path = project_dir / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for child in path.rglob("*"):
                if child.is_file():
                    newest = max(newest, child.stat().st_mtime)
    return newest


def prepare_manifest(project: DbtProject) -> Path:
    """`dbt parse` (offline, a few seconds) when the manifest is missing or older than a file of the dbt project.

    Under `dagster dev` this runs on every code reload, so edits to the models show up in the UI; a parse that
    fails keeps the previous manifest (with a warning) so the UI stays usable."""
    manifest = project.manifest_path
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest.parent / ".parse.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the webserver's and the daemon's code servers may load at once
        if manifest.exists() and manifest.stat().st_mtime >= _newest_input_mtime(project.project_dir):
            return manifest
        env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_LOG_PATH": str(manifest.parent)}
        proc = subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--quiet",
                "--project-dir",
                str(project.project_dir),
                "--profiles-dir",
                str(project.profiles_dir),
                "--target-path",
                str(project.target_path),
            ],
            cwd=project.project_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            if manifest.exists():
                warnings.warn(f"dbt parse failed, the dbt assets use the previous manifest:\n{tail}", stacklevel=2)
                return manifest
            raise RuntimeError(f"dbt parse failed, so the dbt assets cannot load:\n{tail}")
    return manifest


def load_manifest(path: Path) -> dict:
    """The manifest as the dbt assets read it: every test named so Dagster accepts it as a check name (letters,
    digits, _), and every singular test that reads several models attached to the first model it refs (unless
    the test names one in `meta: {dagster: {ref: ...}}`), so that it shows up as an asset check too."""
    manifest = json.loads(path.read_text())
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        node["name"] = re.sub(r"[^A-Za-z0-9_]", "_", node["name"])
        if node.get("attached_node"):
            continue
        parents = list(dict.fromkeys(node["depends_on"]["nodes"]))
        models = [p for p in parents if p.startswith("model.")]
        config_meta = node.setdefault("config", {}).setdefault("meta", {}) or {}
        named = (config_meta.get("dagster") or {}).get("ref") or ((node.get("meta") or {}).get("dagster") or {}).get(
            "ref"
        )
        if len(parents) > 1 and models and not named:
            node["config"]["meta"] = {
                **config_meta,
                "dagster": {
                    **(config_meta.get("dagster") or {}),
                    "ref": {"name": manifest["nodes"][models[0]]["name"]},
                },
            }
    return manifest


class StravaDbtTranslator(DagsterDbtTranslator):
    """Models and seeds keyed like their relations (<schema>/<table>: staging/stg_strava__activities,
    marts/fct_activities, seeds/privacy_zones) and grouped by schema; sources keep dagster-dbt's default
    <source>/<table>, which is exactly the key of the raw table asset (strava/activities)."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec.replace_attributes(group_name=RAW_GROUP)
        schema, table = props["schema"], props.get("alias") or props["name"]
        return spec.replace_attributes(key=dg.AssetKey([schema, table]), group_name=schema)


DBT_MANIFEST = load_manifest(prepare_manifest(dbt_project))


@dbt_assets(
    manifest=DBT_MANIFEST,
    project=dbt_project,
    dagster_dbt_translator=StravaDbtTranslator(),
    name="strava_dbt",
    pool=WAREHOUSE_POOL,
)
def strava_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, strava: StravaEnv):
    """`dbt build` of the selected models, seeds and tests, holding the warehouse lock."""
    data_dir = strava.resolved_data_dir()
    with strava.writer_lock(context.log, data_dir, holder=f"dagster run {context.run.run_id[:8]} (dbt build)"):
        # profiles.yml takes the warehouse from STRAVA_DATA_DIR; the run's data dir (the demo's too) goes there;
        # the artifacts of a data dir stay together, so dbt's partial parsing works from one run to the next, and
        # the data-quality page reads the results of the last dbt build from there, whoever ran it
        with environ(STRAVA_DATA_DIR=str(data_dir.resolve())):
            invocation = dbt.cli(["build"], context=context, target_path=results_dir(data_dir))
        yield from invocation.stream()


class StravaDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource without two start-up costs this project does not use (several seconds per run
    on a small machine): `dbt --version` in a subprocess (the installed dbt-core tells the version) and a dbt
    adapter opened in Dagster's process, which only serves column and row-count metadata."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):  # noqa: ANN001 - dagster-dbt's private hook
        return None


def dbt_resource() -> DbtCliResource:
    return StravaDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())


defs = dg.Definitions(assets=[strava_dbt])
